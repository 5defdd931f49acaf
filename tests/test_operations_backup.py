"""docs/operations.md's backup and restore commands, run exactly as written (issue 17, acceptance 4), on
SQLite and PostgreSQL: after a restore the rounds show the same, a used link is still used (409), an unused
one still opens its form, and a reminder's link is the same only with the backed-up secret key (why the key
is backed up too)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from survey.data.models import Invitation
from survey.domain.tokens import make_token
from tests.conftest import PG_ADMIN_URL, make_app
from tests.helpers import close, read_outbox, setup_round, submit, throwaway_database, token_of

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "operations.md"


def doc_block(name: str) -> str:
    """The shell block of docs/operations.md marked ``<!-- ops-test: NAME -->``."""
    found = re.search(rf"<!-- ops-test: {name} -->\n```sh\n(.*?)```", DOC.read_text(), re.S)
    assert found, f"no block {name!r} in {DOC}"
    return found.group(1)


def run_block(name: str, env: dict[str, str]) -> str:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", doc_block(name)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"
    return done.stdout


def _environment(app: Any, instance: Path, backup: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "INSTANCE": str(instance),
            "BACKUP": str(backup),
            "TRYGHED_INSTANCE_PATH": str(instance),
            "TRYGHED_DATABASE_URL": database_url,
            "TRYGHED_SECRET_KEY": app.config["SECRET_KEY"],
            "TRYGHED_OUTBOX_DIR": app.config["OUTBOX_DIR"],
        }
    )
    return env


def _show(env: dict[str, str], round_id: int) -> dict[str, Any]:
    done = subprocess.run(
        [str(VENV_BIN / "tryghed"), "round", "show", str(round_id), "--json"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(done.stdout))


def _links(app: Any) -> list[str]:
    """The survey links of every invitation in the outbox folder, in order."""
    mails = sorted(read_outbox(app.config["OUTBOX_DIR"]), key=lambda m: str(m["To"]))
    return [token_of(m) for m in mails if str(m["To"]).startswith("p")]


def _installation(app: Any) -> dict[str, Any]:
    """A reported round, and an open one with one link used and the others not."""
    items = app.extensions["tryghed"].content.instrument().items
    client = app.test_client()
    _team, reported = setup_round(app, 6, team_name="Team Arkiv")
    tokens = _links(app)
    for i, token in enumerate(tokens[:5]):
        assert submit(client, token, {it.key: 1 + (i + n) % 5 for n, it in enumerate(items)}).status_code == 200
    assert close(app, reported)["status"] == "reported"
    seen = set(tokens)
    _team, open_round = setup_round(app, 3, team_name="Team Gendannet")
    fresh = [t for t in _links(app) if t not in seen]
    assert submit(client, fresh[0], {it.key: 3 for it in items}).status_code == 200
    return {"reported": reported, "open": open_round, "used": fresh[0], "unused": fresh[1]}


def _check_restored(tmp_path: Path, database_url: str, key: str, state: dict[str, Any], before: dict[int, Any]) -> None:
    env = {**state["env"], "TRYGHED_DATABASE_URL": database_url}
    for round_id, shown in before.items():
        assert _show(env, round_id) == shown
    restored = make_app(tmp_path / "after", database_url, SECRET_KEY=key)
    client = restored.test_client()
    assert client.get(f"/s/{state['unused']}").status_code == 200  # an unused link still opens its form
    assert client.get(f"/s/{state['used']}").status_code == 409  # a used one stays used
    # A reminder rebuilds the link from the invitation's nonce and the key: with the backed-up key it is the
    # link the person already has; with another key it is a link that opens nothing.
    with restored.extensions["tryghed"].db.session() as s:
        nonces = s.scalars(select(Invitation.nonce).where(Invitation.round_id == state["open"])).all()
    assert state["unused"] in {make_token(key, n) for n in nonces}
    assert state["unused"] not in {make_token("another-key", n) for n in nonces}
    assert client.get(f"/s/{make_token('another-key', nonces[0])}").status_code == 404
    restored.extensions["tryghed"].db.dispose()


def test_sqlite_backup_and_restore_as_documented(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    url = f"sqlite:///{instance / 'tryghed.sqlite'}"
    app = make_app(tmp_path, url)
    state = _installation(app)
    backup = tmp_path / "backups" / "tryghed-backup.sqlite"
    backup.parent.mkdir()
    state["env"] = env = _environment(app, instance, backup, url)
    before = {rid: _show(env, rid) for rid in (state["reported"], state["open"])}
    run_block("sqlite-backup", env)  # with the app running (its engine holds connections)
    assert backup.stat().st_mode & 0o077 == 0
    app.extensions["tryghed"].db.dispose()
    (instance / "tryghed.sqlite").unlink()  # the disaster
    run_block("sqlite-restore", env)
    _check_restored(tmp_path, url, app.config["SECRET_KEY"], state, before)


@pytest.mark.postgres
def test_postgres_backup_and_restore_as_documented(tmp_path: Path, pg_url: str) -> None:
    instance = tmp_path / "instance"
    app = make_app(tmp_path, pg_url)
    state = _installation(app)
    backup = tmp_path / "tryghed.dump"
    state["env"] = env = _environment(app, instance, backup, pg_url)
    before = {rid: _show(env, rid) for rid in (state["reported"], state["open"])}
    run_block("pg-backup", env)
    app.extensions["tryghed"].db.dispose()
    with throwaway_database(PG_ADMIN_URL, "tryghed_restore") as restore_url:  # a new, empty database
        run_block("pg-restore", {**env, "TRYGHED_DATABASE_URL": restore_url})
        _check_restored(tmp_path, restore_url, app.config["SECRET_KEY"], state, before)
