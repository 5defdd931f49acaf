"""Upgrades never lose data (issue 17): databases that hold real data are upgraded to today's head, and
today's data is rolled back to every earlier revision and upgraded again, on SQLite and PostgreSQL.

- Releases: each state of ``main`` whose head was one of the earlier migrations, populated by *that
  release's own code* (``git archive`` into a folder, its ``tryghed`` commands and its form), then
  upgraded by today's ``tryghed init``.
- The chain: today's code populates a database, which is taken down to every earlier revision Alembic
  knows and back up. The revisions are read from the migration scripts, so a migration added tomorrow is
  covered without touching this file.

After each: no row of a table that both sides have is lost or changed (``checks.assert_rows_kept``), the
figures of ``round show`` are the same, the actions are there, and the open round goes on: answered
links 409, an unused link takes an answer that is counted.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from survey.data import migrate
from tests.conftest import PG_ADMIN_URL, _pg_available
from tests.helpers import throwaway_database
from tests.migration_data.checks import (
    POPULATE,
    ROOT,
    assert_product_works,
    assert_rows_kept,
    checkout,
    installation,
    populate,
    snapshot,
    tryghed,
)

# The states of main whose newest migration was each earlier revision: what an installation may be
# running today. The first is the first landing (before 0002); 4b2ef0d is the release issue 17 upgraded.
RELEASES = {
    "0001": "db08b95",
    "0002": "4b2ef0d",
    "0003": "d64b83a",
    "0004": "63355fc",
    "0005": "bd6ba46",
    "0006": "9917976",
    "0007": "2c9bfba",
}
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _require_pg() -> None:
    if not _pg_available():
        pytest.skip("PostgreSQL is not reachable")


def _populate_hash() -> str:
    return hashlib.sha256(POPULATE.read_bytes()).hexdigest()[:12]


def _built(request: pytest.FixtureRequest, commit: str, backend: str) -> Path:
    """The cache folder of one release's database (kept by pytest between runs: built once), or a folder
    of this run's when pytest's cache is switched off (``-p no:cacheprovider``)."""
    name = f"tryghed-release-{commit}-{backend}-{_populate_hash()}"
    cache = getattr(request.config, "cache", None)
    if cache is None:
        folder = request.getfixturevalue("tmp_path_factory").getbasetemp() / name
        folder.mkdir(exist_ok=True)
        return Path(folder)
    return Path(cache.mkdir(name))


def _release_sqlite(request: pytest.FixtureRequest, commit: str, code: Path, into: Path) -> dict[str, Any]:
    """A SQLite database populated by ``commit``'s code, copied to ``into``."""
    cached = _built(request, commit, "sqlite")
    db, done = cached / "tryghed.sqlite", cached / "populated.json"
    if not done.exists():
        db.unlink(missing_ok=True)
        done.write_text(json.dumps(populate(code, f"sqlite:///{db}", cached / "work")), encoding="utf-8")
    shutil.copy(db, into)
    into.chmod(0o600)
    return dict(json.loads(done.read_text(encoding="utf-8")))


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _release_pg(request: pytest.FixtureRequest, commit: str, code: Path, into: str) -> dict[str, Any]:
    """A PostgreSQL database populated by ``commit``'s code (kept as a pg_dump), restored into ``into``."""
    if not (shutil.which("pg_dump") and shutil.which("psql")):  # no client tools: build it every run
        return populate(code, into, Path(request.getfixturevalue("tmp_path")) / "old")
    cached = _built(request, commit, "postgres")
    dump, done = cached / "dump.sql", cached / "populated.json"
    if not done.exists():
        with throwaway_database(PG_ADMIN_URL, "tryghed_release_build") as url:
            populated = populate(code, url, cached / "work")
            subprocess.run(["pg_dump", "--no-owner", "--no-privileges", "-f", str(dump), _libpq(url)], check=True)
        done.write_text(json.dumps(populated), encoding="utf-8")
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(dump), _libpq(into)], check=True, capture_output=True
    )
    return dict(json.loads(done.read_text(encoding="utf-8")))


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("revision", sorted(RELEASES))
def test_release_database_upgrades_without_loss(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    revision: str,
    backend: str,
) -> None:
    commit = RELEASES[revision]
    code = checkout(commit, tmp_path_factory.getbasetemp() / f"release-{commit}")
    if backend == "sqlite":
        db = tmp_path / "tryghed.sqlite"
        populated = _release_sqlite(request, commit, code, db)
        _upgrade_release(f"sqlite:///{db}", tmp_path, revision, populated)
        return
    _require_pg()
    with throwaway_database(PG_ADMIN_URL, "tryghed_release") as url:
        _upgrade_release(url, tmp_path, revision, _release_pg(request, commit, code, url))


def _upgrade_release(url: str, work: Path, revision: str, populated: dict[str, Any]) -> None:
    before = snapshot(url)
    assert sum(len(rows) for _, rows in before.values()) > 50, "the release database holds too little to prove much"
    assert _revision(url) == revision
    with installation(url, work):
        done = tryghed("init")
    assert done["status"] == "ready" and done["from"] == revision and done["to"] == migrate.revisions()[-1]
    assert_rows_kept(before, snapshot(url), f"upgrade from {revision}")
    assert_product_works(url, work, populated, close_open_round=True)


def _revision(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
    finally:
        engine.dispose()


# ---- the chain: today's data down to every earlier revision and back up --------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def populated_today(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """(backend, template url, populated) for a database filled by today's code, kept for the module."""
    work = tmp_path_factory.mktemp(f"today-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{work / 'template.sqlite'}"
        yield request.param, url, populate(ROOT, url, work)
        return
    _require_pg()
    with throwaway_database(PG_ADMIN_URL, "tryghed_chain_template") as url:
        yield request.param, url, populate(ROOT, url, work)


@contextmanager
def _copy(backend: str, template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the template database (a file copy; PostgreSQL's CREATE DATABASE ... TEMPLATE)."""
    if backend == "sqlite":
        db = tmp_path / "tryghed.sqlite"
        shutil.copy(template.split(":///", 1)[1], db)
        db.chmod(0o600)
        yield f"sqlite:///{db}"
        return
    with throwaway_database(PG_ADMIN_URL, "tryghed_chain", template=template.rsplit("/", 1)[1]) as url:
        yield url


def test_the_chain_is_every_migration() -> None:
    """The cheap reading of the revision chain agrees with Alembic's own (the tests below walk it)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    walked = [s.revision for s in script.walk_revisions()][::-1]
    assert list(migrate.revisions()) == walked and len(walked) >= 7


@pytest.mark.slow
@pytest.mark.parametrize("target", migrate.revisions()[:-1])
def test_rollback_to_each_revision_and_upgrade_again(populated_today: Any, tmp_path: Path, target: str) -> None:
    backend, template, populated = populated_today
    with _copy(backend, template, tmp_path) as url:
        head = snapshot(url)
        down = migrate.downgrade(url, target)
        assert (down.before, down.after, down.backup) == (migrate.revisions()[-1], target, None)
        rolled_back = snapshot(url)
        assert_rows_kept(head, rolled_back, f"rollback to {target}")
        up = migrate.upgrade(url)
        assert (up.before, up.after) == (target, migrate.revisions()[-1])
        assert_rows_kept(rolled_back, snapshot(url), f"upgrade from {target}")
        assert_product_works(url, tmp_path, populated, close_open_round=False)
