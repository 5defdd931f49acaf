"""What an upgrade (or a rollback and upgrade) must keep, checked on a database that holds real data.

- ``snapshot``: every row of every table, as plain values; ``assert_rows_kept`` compares two snapshots on
  the columns both have (what a migration adds starts empty; nothing that was there may change or go).
- ``assert_product_works``: the figures, actions and links through today's interfaces: ``round show``
  equals what was shown before, the actions are there, an answered link answers 409 and a link not yet
  used takes an answer that is counted.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from tests.migration_data.populate import Hidden

ROOT = Path(__file__).resolve().parents[2]
POPULATE = Path(__file__).with_name("populate.py")
SECRET = "upgrade-test-secret"
# A migration that must rewrite how a column is stored (not what it means) names it here, with the
# reason; the product checks (figures, links) still vouch for it. Nothing else may change in a row.
REWRITTEN: dict[str, set[str]] = {}
# Round show keys every release has shown with the same meaning: the counts and the figures.
STABLE_SHOW_KEYS = (
    "id",
    "team_id",
    "status",
    "invited",
    "responses",
    "min_responses",
    "suppressed",
    "pillars",
    "items",
)


def environment(url: str, work: Path) -> dict[str, str]:
    """The ``TRYGHED_*`` settings of the installation under test (old and new code share them)."""
    return {
        "TRYGHED_DATABASE_URL": url,
        "TRYGHED_INSTANCE_PATH": str(work / "instance"),
        "TRYGHED_OUTBOX_DIR": str(work / "outbox"),
        "TRYGHED_SECRET_KEY": SECRET,
        "TRYGHED_BASE_URL": "http://tryghed.test",
    }


def populate(code: Path, url: str, work: Path) -> dict[str, Any]:
    """Fill the database at ``url`` with the code in folder ``code`` (an old release or today's)."""
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_") and k != "PYTHONPATH"}
    env.update(environment(url, work), PYTHONPATH=str(code))
    out = work / "populated.json"
    proc = subprocess.run(
        [sys.executable, str(POPULATE), str(out)], cwd=work, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"populating with {code} failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(out.read_text(encoding="utf-8"))


def checkout(commit: str, into: Path) -> Path:
    """The tree of ``commit`` written to ``into`` (``git archive``): an old release's code to run."""
    if not (into / "survey").is_dir():
        into.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, timeout=120)
        assert archive.returncode == 0, (
            f"git archive {commit} failed ({archive.stderr.decode().strip()}): the upgrade tests need the "
            "repository's history (git fetch --unshallow)"
        )
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)  # JSON kept as text on one revision and as json on another
        except ValueError:
            return value
    return value


def snapshot(url: str) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    """table -> (columns, rows as plain dicts), for every table but Alembic's own."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            result = {}
            for table in inspect(conn).get_table_names():
                if table == "alembic_version":
                    continue
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
                columns = [c["name"] for c in inspect(conn).get_columns(table)]
                result[table] = (columns, [{k: _plain(v) for k, v in row.items()} for row in rows])
            return result
    finally:
        engine.dispose()


# Where the answers of a round not yet sealed live is the answer store's business (slots in ``responses``,
# or tables of the round's own): a migration may move them. The product checks vouch for those answers
# (counted in ``round show``, their links 409); every other row is checked here, one by one.
UNSEALED = ("open", "closing")


def _answer_set(row: dict[str, Any]) -> dict[str, Any]:
    answers = row.get("answers")
    if answers is not None:
        return dict(json.loads(answers) if isinstance(answers, str) else answers)
    return {k[2:]: v for k, v in row.items() if k.startswith("i_") and v is not None}


def _kept(table: str, rows: list[dict[str, Any]], columns: list[str], unsealed: set[Any]) -> Counter[str]:
    """The rows that are data (an empty answer slot is not), projected on ``columns``."""
    skip = REWRITTEN.get(table, set())
    if re.fullmatch(r"round_\d+_answers", table):  # an answer set as JSON or in item columns (0016): the set
        return Counter(json.dumps(_answer_set(row), sort_keys=True) for row in rows if row.get("filled"))
    return Counter(
        json.dumps({c: row.get(c) for c in columns if c not in skip}, sort_keys=True, default=str)
        for row in rows
        if not (table == "responses" and (row.get("filled") in (False, 0) or row.get("round_id") in unsealed))
    )


def assert_rows_kept(before: dict[str, Any], after: dict[str, Any], what: str) -> None:
    """Every row of ``before`` is in ``after`` unchanged, on the columns both have, in every table both have.

    A migration may add rows (a backfill) and columns (they start empty or at a default); it may not
    lose or alter one. A table the rollback dropped is not compared: its rows are the backup's to keep.
    """
    unsealed = {row["id"] for row in before.get("rounds", ([], []))[1] if row.get("status") in UNSEALED}
    lost = []
    for table, (columns, rows) in before.items():
        if table not in after:
            continue
        after_columns, after_rows = after[table]
        common = [c for c in columns if c in after_columns]
        missing = _kept(table, rows, common, unsealed) - _kept(table, after_rows, common, unsealed)
        if missing:
            lost.append(
                f"{table}: {sum(missing.values())} of {len(rows)} rows lost or changed, e.g. {next(iter(missing))}"
            )
    assert lost == [], f"{what}: {lost}"


@contextmanager
def installation(url: str, work: Path) -> Iterator[None]:
    """Today's code pointed at the installation (its settings in the environment, as the CLI reads them)."""
    saved = {k: os.environ.get(k) for k in environment(url, work)}
    os.environ.update(environment(url, work))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def tryghed(*args: str, ok: bool = True) -> dict[str, Any]:
    """Today's ``tryghed ... --json`` in this process (inside ``installation``)."""
    from survey.cli import main

    result = CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def stable(show: dict[str, Any]) -> dict[str, Any]:
    return {k: show.get(k) for k in STABLE_SHOW_KEYS}


def assert_product_works(url: str, work: Path, populated: dict[str, Any], *, close_open_round: bool) -> None:
    """Figures, actions and links after the upgrade, through today's CLI and form."""
    from survey import create_app

    with installation(url, work):
        for round_id, shown in populated["rounds"].items():
            assert stable(tryghed("round", "show", round_id)) == stable(shown), f"round {round_id} changed"
        if populated["actions"]:
            keep = ("id", "level", "what", "who")
            listed = tryghed("actions", "list", str(populated["reported"]))["actions"]
            assert [{k: a[k] for k in keep} for a in listed] == [{k: a[k] for k in keep} for a in populated["actions"]]
        app = create_app()
        try:
            client = app.test_client()
            for token in populated["answered_tokens"]:
                assert client.get(f"/s/{token}").status_code == 409
                assert client.post(f"/s/{token}", data={}).status_code == 409
            token = populated["unanswered_tokens"][0]
            page = client.get(f"/s/{token}")
            assert page.status_code == 200
            parser = Hidden()
            parser.feed(page.get_data(as_text=True))
            answers = {key: "4" for key in populated["items"]}
            assert client.post(f"/s/{token}", data={**parser.fields, **answers}).status_code in (200, 303)
            assert client.get(f"/s/{token}").status_code == 409
            for other in populated["unanswered_tokens"][1:]:
                assert client.get(f"/s/{other}").status_code == 200
        finally:
            app.extensions["tryghed"].db.dispose()
        open_round = str(populated["open"])
        shown = tryghed("round", "show", open_round)
        assert shown["status"] == "open" and shown["responses"] == len(populated["answered_tokens"]) + 1
        if close_open_round:
            tryghed("round", "close", open_round)
            closed = tryghed("round", "show", open_round)
            assert closed["status"] == "reported", closed
            assert closed["responses"] == 4 and closed["suppressed"] is False
            assert all(p["mean"] is not None and p["n"] == 4 for p in closed["pillars"])
