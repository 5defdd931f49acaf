"""Log format for the web app, the CLI and the workers: ``TRYGHED_LOG_FORMAT=text`` (default) or ``json``.

JSON is one object per line (``time``, ``level``, ``logger``, ``message``, ``exc`` when there is a
traceback, ``task_id``/``task`` inside a Celery task), for a log collector that indexes fields. It only
changes the shape: the filters on the loggers (``survey.web.logredact``) still run first, and a traceback
they redacted (``record.exc_text``) is used as they left it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        task = _current_task()
        if task is not None:
            entry["task_id"], entry["task"] = task
        return json.dumps(entry, ensure_ascii=False, default=str)


def _current_task() -> tuple[str, str] | None:
    """The running Celery task's id and name, if this record comes from inside one."""
    import sys

    if "celery" not in sys.modules:  # the web app and the CLI never import Celery's worker side for this
        return None
    from celery import current_task

    task = current_task._get_current_object() if current_task else None
    if task is None or task.request.id is None:
        return None
    return str(task.request.id), str(task.name)


def apply_format(fmt: str, handlers: list[logging.Handler] | None = None) -> None:
    """Give ``handlers`` (default: the root logger's; one on standard error if it has none) the format."""
    if fmt != "json":
        return
    root = logging.getLogger()
    if handlers is None:
        if not root.handlers:
            root.addHandler(logging.StreamHandler())
        handlers = root.handlers
    formatter = JsonFormatter()
    for handler in handlers:
        handler.setFormatter(formatter)
