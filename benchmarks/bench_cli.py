"""How fast ``tryghed tick`` and ``tryghed round show`` start and finish, against a floor, in fresh processes.

    .venv/bin/python benchmarks/bench_cli.py [--runs 15] [--teams 300] [--history 6]

The instance is the embedded default (SQLite in a temporary instance folder, tasks in-process). It holds
``--teams`` teams with reported rounds (one team with ``--history`` of them, whose newest round is the
one ``round show`` reads, so the report's history and changes are computed) and nothing due, which is what
the cron-run tick meets almost every minute.

The floor is a fresh Python process that imports SQLAlchemy, opens the same database and runs the very
statements the command ran, with the same parameters, fetching every row: they are recorded once from the
command itself (``before_cursor_execute`` on every engine). So the floor is Python's start, SQLAlchemy's
import and the SQL, and the ratio is what the command adds: Flask, Celery, the ORM, the content files and
our own code. A second floor also imports ``sqlalchemy.orm`` (as any ORM application must), so the
second ratio is what our code adds on top of the ORM: Flask, Celery, click, our models and content.
Each run starts the floors and both commands one after another (interleaved), so they see the same
background load; the table gives medians and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without install

FLOOR = """
import json, sys
import sqlalchemy as sa
if sys.argv[3:] == ["orm"]:
    import sqlalchemy.orm  # the second floor: an ORM application's import, without our models

url, path = sys.argv[1], sys.argv[2]
with open(path) as f:
    statements = json.load(f)
engine = sa.create_engine(url)
with engine.connect() as conn:
    for sql, params in statements:
        result = conn.exec_driver_sql(sql, tuple(params) if isinstance(params, list) else params)
        if result.returns_rows:
            result.all()
    conn.commit()
"""


def seed(instance: Path, teams: int, history: int) -> int:
    """Teams with reported rounds; returns the newest round of the team with ``history`` rounds."""
    from sample_org import new_org

    from tests.unit_fixtures import add_reported_rounds

    config = {"INSTANCE_PATH": str(instance), "DATABASE_URL": f"sqlite:///{instance / 'tryghed.sqlite'}"}
    _app, rt, seeded = new_org(config, [("Forvaltning", None)])
    rng = random.Random(7)
    with rt.db.session() as s:
        rows = [("Team with history", "Forvaltning", [rng.randint(5, 12) for _ in range(history)])]
        rows += [(f"Team {i}", "Forvaltning", [rng.randint(2, 12)]) for i in range(teams - 1)]
        add_reported_rounds(s, rt.content.instrument(), rows, seeded)
    rt.db.dispose()
    return seeded.rounds["Team with history"]


def record(env: dict[str, str], args: list[str]) -> list[tuple[str, Any]]:
    """The statements (and parameters) the command runs, from one in-process run of it."""
    from click.testing import CliRunner
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from survey.cli import main

    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, list(parameters) if isinstance(parameters, tuple) else parameters))

    event.listen(Engine, "before_cursor_execute", keep)
    try:
        result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    finally:
        event.remove(Engine, "before_cursor_execute", keep)
    assert result.exit_code == 0, result.output
    return seen


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time, and the CPU time of the process (user + system: steadier than wall on a loaded machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--teams", type=int, default=300)
    parser.add_argument("--history", type=int, default=6)
    args = parser.parse_args()
    tryghed = str(Path(sys.executable).parent / "tryghed")
    # the bytecode of our own modules, as an installation has it (the Dockerfile compiles it; pip does for
    # site-packages): without it each run would time Python compiling survey/ and pipeline/
    compile_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "survey", "pipeline"], cwd=ROOT, env=compile_env, check=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        env = {**os.environ, "TRYGHED_INSTANCE_PATH": str(instance)}
        for key in [k for k in env if k.startswith("TRYGHED_") and k != "TRYGHED_INSTANCE_PATH"]:
            del env[key]  # the embedded default, whatever this shell has set
        round_id = seed(instance, args.teams, args.history)
        url = f"sqlite:///{instance / 'tryghed.sqlite'}"
        floor_py = Path(tmp) / "floor.py"
        floor_py.write_text(FLOOR)
        commands = {"tick": ["tick", "--json"], "round show": ["round", "show", str(round_id), "--json"]}
        plans: dict[str, tuple[list[str], list[str], list[str]]] = {}
        counts: dict[str, int] = {}
        for name, cli_args in commands.items():
            # the second run's statements: the first tick purges the rounds past retention once, and every
            # timed run meets the steady state after it
            record(env, cli_args)
            statements = record(env, cli_args)
            path = Path(tmp) / f"{name.replace(' ', '_')}.json"
            path.write_text(json.dumps(statements))
            floor = [sys.executable, str(floor_py), url, str(path)]
            plans[name] = ([tryghed, *cli_args], floor, [*floor, "orm"])
            counts[name] = len(statements)
        load_before = os.getloadavg()
        times: dict[str, list[tuple[float, float]]] = {
            f"{n} {w}": [] for n in commands for w in ("command", "floor", "orm")
        }
        for cmd, floor, orm in plans.values():  # one warm-up each: the page cache, .pyc files
            for run in (cmd, floor, orm):
                timed(run, env, Path(tmp))
        for _ in range(args.runs):
            for name, (cmd, floor, orm) in plans.items():
                times[f"{name} floor"].append(timed(floor, env, Path(tmp)))
                times[f"{name} command"].append(timed(cmd, env, Path(tmp)))
                times[f"{name} orm"].append(timed(orm, env, Path(tmp)))
        load_after = os.getloadavg()
    print(
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, {args.runs} runs, "
        f"{args.teams} teams, round show of a round with {args.history - 1} earlier rounds; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n"
    )
    print(
        "| command | statements | command (s) | floor: SQLAlchemy + the SQL (s) | ratio "
        "| floor with sqlalchemy.orm imported (s) | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    heads = ["command (s)", "floor (s)", "ratio", "floor with sqlalchemy.orm (s)", "ratio"]
    for column in (0, 1):  # wall, then CPU
        if column:
            print(f"\nCPU time of each process (user + system), medians:\n\n| command | {' | '.join(heads)} |")
            print("|---|---:|---:|---:|---:|---:|")
        for name in commands:
            cmd_s, floor_s, orm_s = (
                statistics.median(t[column] for t in times[f"{name} {w}"]) for w in ("command", "floor", "orm")
            )
            print(
                f"| tryghed {name} |{f' {counts[name]} |' if not column else ''} {cmd_s:.3f} | {floor_s:.3f} "
                f"| {cmd_s / floor_s:.2f} | {orm_s:.3f} | {cmd_s / orm_s:.2f} |"
            )


if __name__ == "__main__":
    main()
