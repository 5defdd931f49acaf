"""What the organisation benchmarks share: a seeded app on a fresh database, and the run over backends."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

from survey import create_app
from survey.data.db import upgrade
from tests.helpers import throwaway_database
from tests.unit_fixtures import Seeded, add_units

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
T = TypeVar("T")


def new_org(config: dict[str, Any], units: list[tuple[str, str | None]]) -> tuple[Any, Any, Seeded]:
    """An app on ``config`` with the schema created and ``units`` (name, parent name) written."""
    app = create_app(config)
    rt = app.extensions["tryghed"]
    upgrade(rt.db)
    seeded = Seeded()
    with rt.db.session() as s:
        add_units(s, units, seeded)
    return app, rt, seeded


def each_backend(backends: str, run: Callable[[str, str], T]) -> list[T]:
    """``run(url, label)`` on each named backend: SQLite in a temporary file, PostgreSQL in a throwaway
    database ``tryghed_bench_<hex>`` on 127.0.0.1:5432 (dropped afterwards)."""
    results = []
    for backend in backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results.append(run(f"sqlite:///{tmp}/bench.sqlite", "SQLite"))
        elif backend == "postgres":
            with throwaway_database(PG_ADMIN, "tryghed_bench") as url:
                results.append(run(url, "PostgreSQL"))
    return results
