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


def test_tick_loads_no_pdf_and_no_password_hashing(instance: Path) -> None:
    modules, out = imported(instance, "tick", "--json")
    assert "opened" in json.loads(out)
    assert "flask" in modules  # tasks run in the app's context: the check above is not vacuous
    assert not modules & set(HEAVY), modules & set(HEAVY)


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
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and any(isinstance(n, ast.ImportFrom) and n.module == "pipeline.tasks" for n in ast.walk(node))
    }
    assert with_tasks == cli.RUN_TASKS
