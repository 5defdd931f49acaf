"""Commands start fast: heavy libraries load only where they are used.

Each command runs in a fresh process with ``-X importtime`` (``PYTHONPROFILEIMPORTTIME``), which lists
every module the process imported. WeasyPrint (about 0.6 s) belongs to the PDF render alone and argon2
(which hashed a dummy password at import) to logins and ``user add``; a command that only reads the
database does not build the Flask app or Celery either (docs/benchmarks.md, "Starting a command").
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TRYGHED = str(Path(sys.executable).parent / "tryghed")
HEAVY = ("weasyprint", "argon2", "fontTools", "pydyf")
APP = ("flask", "celery", "flask_babel", "flask_wtf", "babel")


def imported(tmp_path: Path, *args: str, code: str | None = None) -> tuple[set[str], str]:
    """The top-level packages a fresh ``tryghed *args`` (or ``python -c code``) imports, and its stdout."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "TRYGHED_INSTANCE_PATH": str(tmp_path / "instance")}
    cmd = [sys.executable, "-c", code] if code else [TRYGHED, *args]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", proc.stderr, re.MULTILINE)
    assert names, "no -X importtime listing"
    return {n.split(".")[0] for n in names}, proc.stdout


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """An initialised embedded instance with one unit, one team and one round."""
    env = {**os.environ, "TRYGHED_INSTANCE_PATH": str(tmp_path / "instance")}
    team = ["team", "add", "Team A", "--leader-email", "leder@example.org", "--unit", "1"]
    for args in (["init"], ["unit", "add", "Forvaltning"], team, ["round", "create", "1"]):
        subprocess.run([TRYGHED, *args, "--json"], env=env, cwd=tmp_path, check=True, capture_output=True)
    return tmp_path


def test_help_loads_no_heavy_library(tmp_path: Path) -> None:
    modules, out = imported(tmp_path, "--help")
    assert "Usage" in out
    assert not modules & {*HEAVY, *APP}, modules & {*HEAVY, *APP}


@pytest.mark.parametrize("args", [["round", "show", "1"], ["team", "list"], ["round", "list"], ["unit", "show", "1"]])
def test_reading_commands_load_neither_pdf_nor_app(instance: Path, args: list[str]) -> None:
    modules, out = imported(instance, *args, "--json")
    assert "error" not in json.loads(out)
    assert not modules & {*HEAVY, *APP}, modules & {*HEAVY, *APP}


def _orm(listing: str) -> set[str]:
    """The modules of the ORM (and of the mapped classes) in a ``-X importtime`` listing."""
    names = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", listing, re.MULTILINE))
    assert "sqlalchemy.engine" in names  # the listing is there
    return {n for n in names if n.startswith(("sqlalchemy.orm", "survey.data.models"))}


def test_tick_with_nothing_due_builds_no_app(instance: Path) -> None:
    """The cron-run tick finds nothing due almost every minute: it plans on the bare runtime (pipeline.tick)."""
    modules, out = imported(instance, "tick", "--json")
    assert json.loads(out)["opened"] == []
    assert not modules & {*HEAVY, *APP}, modules & {*HEAVY, *APP}


def test_tick_with_nothing_due_runs_on_core_alone(tmp_path: Path, db_url: str) -> None:
    """Plan, nudges and purge read and claim with Core on a connection: no ``sqlalchemy.orm``, on both
    databases (docs/benchmarks.md, "Starting a command"), and the JSON is the tick's usual one."""
    env = {**os.environ, "TRYGHED_INSTANCE_PATH": str(tmp_path / "instance"), "TRYGHED_DATABASE_URL": db_url}
    team = ["team", "add", "Team A", "--leader-email", "leder@example.org"]
    for args in (["init"], team, ["round", "create", "1"]):
        subprocess.run([TRYGHED, *args, "--json"], env=env, cwd=tmp_path, check=True, capture_output=True)
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    proc = subprocess.run([TRYGHED, "tick", "--json"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    nudged = dict.fromkeys(("debrief", "no_plan", "action_due", "action_overdue", "request_new", "session_planned"), 0)
    empty = {k: [] for k in ("opened", "reminded", "closed", "redriven", "mail_rounds", "purged", "trails")}
    assert proc.stdout == json.dumps({**empty, "unit_reports": [], "nudged": nudged}) + "\n"
    assert not _orm(proc.stderr), _orm(proc.stderr)
    names = {n.split(".")[0] for n in re.findall(r"^import time:.*\|\s*(\S+)$", proc.stderr, re.MULTILINE)}
    assert not names & {*HEAVY, *APP}, names & {*HEAVY, *APP}


def test_tick_with_work_due_runs_its_tasks_in_the_app(instance: Path) -> None:
    env = {**os.environ, "TRYGHED_INSTANCE_PATH": str(instance / "instance")}
    add = [TRYGHED, "participants", "add", "1", "a@example.org", "--json"]
    subprocess.run(add, env=env, cwd=instance, check=True, capture_output=True)
    create = [TRYGHED, "round", "create", "1", "--opens", "2020-01-01T08:00", "--closes", "2099-01-01", "--json"]
    due = json.loads(subprocess.run(create, env=env, cwd=instance, check=True, capture_output=True).stdout)["id"]
    modules, out = imported(instance, "tick", "--json")
    assert json.loads(out)["opened"] == [due]
    assert "flask" in modules and "celery" in modules  # the tasks ran in the app's context
    assert not modules & set(HEAVY), modules & set(HEAVY)
    show = [TRYGHED, "round", "show", str(due), "--json"]
    shown = json.loads(subprocess.run(show, env=env, cwd=instance, check=True, capture_output=True).stdout)
    assert (shown["status"], shown["invited"]) == ("open", 1)


def test_the_web_app_starts_without_weasyprint(tmp_path: Path) -> None:
    """A web worker renders no PDF until one is asked for; argon2 is loaded on purpose (``warm_up``)."""
    code = "from survey import create_app; create_app({'SECRET_KEY': 'x'})"
    modules, _ = imported(tmp_path, code=code)
    assert "flask_wtf" in modules
    assert not modules & {"weasyprint", "fontTools", "pydyf"}


def test_every_command_that_runs_a_task_builds_the_app() -> None:
    """Tasks run in the Flask app's context, so a command that imports one must be in ``RUN_TASKS``;
    any other command runs on the bare runtime (a new command forgotten here would fail outside the app)."""
    import ast
    import inspect

    from survey import cli

    tree = ast.parse(inspect.getsource(cli))
    with_tasks = {
        node.name
        for node in tree.body  # the commands (a helper nested in one counts for it)
        if isinstance(node, ast.FunctionDef)
        and any(isinstance(n, ast.ImportFrom) and n.module == "pipeline.tasks" for n in ast.walk(node))
    }
    assert with_tasks == cli.RUN_TASKS | cli.TASKS_WHEN_DUE
    assert not cli.RUN_TASKS & cli.TASKS_WHEN_DUE


def test_sqlite_commands_load_no_postgresql_dialect(instance: Path) -> None:
    """SQLAlchemy's PostgreSQL dialect (its drivers, asyncio) is a fifth of a short command's start."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "TRYGHED_INSTANCE_PATH": str(instance / "instance")}
    for args in (["round", "show", "1"], ["tick"]):
        proc = subprocess.run([TRYGHED, *args, "--json"], env=env, cwd=instance, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "sqlalchemy.dialects.sqlite" in proc.stderr  # the listing is there
        assert "sqlalchemy.dialects.postgresql" not in proc.stderr


@pytest.mark.postgres
def test_partial_indexes_keep_their_condition_on_postgresql(pg_url: str) -> None:
    from sqlalchemy import inspect

    from survey.data.db import Database, upgrade
    from survey.data.models import Message, Round

    db = Database(pg_url)
    upgrade(db)
    try:
        from sqlalchemy.schema import CreateIndex

        for table, name in ((Round.__table__, "ix_rounds_unpurged"), (Message.__table__, "ix_messages_pending")):
            (index,) = [i for i in table.indexes if i.name == name]
            assert " WHERE " in str(CreateIndex(index).compile(db.engine))  # as the migrations made it
        names = {i["name"] for i in inspect(db.engine).get_indexes("rounds")}
        assert "ix_rounds_unpurged" in names
    finally:
        db.dispose()


def test_round_show_reads_with_core_alone(tmp_path: Path, db_url: str) -> None:
    """``round show`` of a reported round with history, a plan and failed mail, in a fresh process: no
    ``sqlalchemy.orm`` (nor Babel, the PDF or the app) is imported, and the JSON is byte for byte what the
    same round shows in an ORM session (the web app's and the pipeline's way in), on SQLite and PostgreSQL."""
    from survey.data.models import Action, Message
    from survey.domain.rounds import show_round
    from tests.conftest import make_app
    from tests.unit_fixtures import Seeded, add_reported_rounds, add_units

    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    seeded = Seeded()
    hacks = [h.key for h in rt.content.hacks]
    with rt.db.session() as s:
        add_units(s, [("Forvaltning", None)], seeded)
        add_reported_rounds(s, rt.content.instrument(), [("Hold", "Forvaltning", [7, 3, 9, 8])], seeded)
        newest = seeded.rounds["Hold"]
        earlier = newest - 3  # the team's rounds were written one after the other
        s.add_all(
            [
                Action(round_id=earlier, level="gruppe", what="a", who="b", by_when="c", hack_key=hacks[0]),
                Action(round_id=earlier, level="gruppe", what="d", who="e", by_when="f", hack_key=hacks[1]),
                Action(round_id=earlier + 1, level="gruppe", what="g", who="h", by_when="i", hack_key=hacks[2]),
            ]
        )
        s.flush()
        s.add_all(
            [
                Message(
                    round_id=newest,
                    kind=kind,
                    recipient=f"{kind}@example.org",
                    message_id=f"<{kind}@x>",
                    status="failed",
                    last_error="550 no such user",
                )
                for kind in ("invitation", "reminder")
            ]
        )
        s.commit()
    with app.app_context(), rt.db.session() as s:
        expected = show_round(rt, s, newest)
    rt.db.dispose()
    assert expected["changes"] and expected["recommended_hacks"] is not None
    assert {h["key"] for h in expected["hacks_in_plan"]} == set(hacks[:3])
    assert expected["failed_messages"] == [
        {"kind": "invitation", "recipient": "invitation@example.org", "error": "550 no such user"}
    ]
    env = {
        **os.environ,
        "PYTHONPROFILEIMPORTTIME": "1",
        "TRYGHED_INSTANCE_PATH": str(tmp_path / "instance"),
        "TRYGHED_DATABASE_URL": db_url,
    }
    show = [TRYGHED, "round", "show", str(newest), "--json"]
    proc = subprocess.run(show, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == json.dumps(expected, ensure_ascii=False, default=str) + "\n"
    modules = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", proc.stderr, re.MULTILINE))
    assert "sqlalchemy.engine" in modules  # the listing is there
    assert not {m for m in modules if m == "sqlalchemy.orm" or m.startswith("sqlalchemy.orm.")}
    assert not {m.split(".")[0] for m in modules} & {*HEAVY, *APP}
