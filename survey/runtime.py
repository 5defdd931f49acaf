"""The running installation: configuration, database, content and clock, shared by web, CLI and workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from survey.content import Content, load_content
from survey.data.db import Database
from survey.data.schema_gate import SchemaGate


@dataclass
class Runtime:
    config: dict[str, Any]
    db: Database = field(init=False)

    def __post_init__(self) -> None:
        self.db = Database(self.config["DATABASE_URL"])

    @cached_property
    def content(self) -> Content:
        return load_content(self.config.get("CONTENT_DIR"))

    @cached_property
    def schema_gate(self) -> SchemaGate:
        """Whether this code may serve the database (checked once per interval, not per request)."""
        return SchemaGate(self.db)

    def load_content(self) -> Content:
        """Load and validate the content now (raises ``ContentError`` naming file, key and problem)."""
        return self.content

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config["TIMEZONE"])

    @property
    def eager(self) -> bool:
        """True when tasks run in-process (no broker configured)."""
        return not self.config.get("BROKER_URL")

    def now(self) -> datetime:
        return datetime.now(UTC)

    def link(self, token: str) -> str:
        return f"{str(self.config['BASE_URL']).rstrip('/')}/s/{token}"


def load_runtime(test_config: dict[str, Any] | None = None) -> Runtime:
    """The runtime from the configuration (defaults, ``TRYGHED_*``, then ``test_config``), content loaded.

    Broken content stops here, with the file, key and problem, instead of failing for the first respondent.
    """
    from survey.config import load_config

    runtime = Runtime(load_config(test_config))
    runtime.load_content()
    return runtime


def get_runtime() -> Runtime:
    """The runtime of the current Flask app (web request, CLI command or Celery task)."""
    from flask import current_app

    return current_app.extensions["tryghed"]
