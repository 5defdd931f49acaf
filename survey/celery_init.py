"""Celery wired the way Flask's documentation describes (``celery_init_app``).

Tasks are declared with ``@shared_task`` in ``pipeline.tasks`` and run inside the Flask app context.
Without a broker, ``task_always_eager`` runs the very same tasks in-process (the embedded default).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from flask import Flask

# Longer than any countdown we schedule (mail backoff caps at 1 hour); Redis redelivers an unacked
# task after this, so a shorter value would duplicate long-waiting tasks. Recovery does not wait for it:
# a task lost with its worker is found again in the database (the tick re-enqueues due opens, closes,
# reminders and mail every minute; a dead pipeline is re-driven after missed heartbeats, pipeline.heartbeat).
VISIBILITY_TIMEOUT = 2 * 24 * 3600
# A task that meets a schema it does not know (upgrade pending) is sent again after this many seconds.
SCHEMA_RETRY_S = 60
logger = logging.getLogger(__name__)


def celery_config(config: dict[str, Any]) -> dict[str, Any]:
    broker = config.get("BROKER_URL")
    return {
        "broker_url": broker or "memory://",
        "result_backend": config.get("RESULT_BACKEND") or None,
        "task_always_eager": not broker,
        "task_eager_propagates": True,
        "task_ignore_result": True,
        # A task is acknowledged only when done; a worker killed mid-task leaves it to be redelivered.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # A running task carries on when Redis goes away (a pipeline needs only the database); what its
        # lost acknowledgement leaves behind, the claims make harmless. Said here, not left to the default
        # that Celery announces will change.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # Pool children are replaced after a number of tasks or past a resident size: WeasyPrint (and the
        # renders around it) grows a process by about 0.3 MB per report and never gives it back (141 ->
        # 223 MB over 300 renders), so a long-lived child would grow without bound. A fresh child costs
        # a fork and the imports, once per this many tasks. TRYGHED_WORKER_MAX_TASKS_PER_CHILD and
        # TRYGHED_WORKER_MAX_MEMORY_MB (0: no limit); Celery takes the memory in KiB.
        "worker_max_tasks_per_child": int(config.get("WORKER_MAX_TASKS_PER_CHILD", 100)) or None,
        "worker_max_memory_per_child": int(config.get("WORKER_MAX_MEMORY_MB", 350)) * 1024 or None,
        "broker_transport_options": {"visibility_timeout": VISIBILITY_TIMEOUT},
        "broker_connection_retry_on_startup": True,
        "timezone": config.get("TIMEZONE", "Europe/Copenhagen"),
        "enable_utc": True,
        "beat_schedule": {
            "tick-every-minute": {"task": "pipeline.tasks.tick", "schedule": 60.0},
        },
        "imports": ("pipeline.tasks",),
    }


def schema_refuses(app: Flask, task: Task, args: tuple[object, ...], kwargs: dict[str, object]) -> bool:
    """True (and the task put back for later) when the database's schema is not this code's.

    A worker started before ``tryghed init`` (or after a rollback) must not run its steps against a schema
    it does not know. The task is sent again in ``SCHEMA_RETRY_S`` (once each time, so nothing piles up);
    the tick is not, beat sends the next one. In-process (eager) tasks are not checked here: the command or
    page that ran them already was.
    """
    gate = app.extensions["tryghed"].schema_gate
    if not gate.blocks():
        return False
    again = task.name != "pipeline.tasks.tick"
    logger.error("%s not run: %s%s", task.name, gate.problem(), f"; sent again in {SCHEMA_RETRY_S} s" if again else "")
    if again:
        task.apply_async(args=args, kwargs=kwargs, countdown=SCHEMA_RETRY_S)
    return True


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app bound to ``app`` and make it the default for ``@shared_task``."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                if not self.request.is_eager and schema_refuses(app, self, args, kwargs):
                    return None
                return self.run(*args, **kwargs)

    if app.config.get("LOG_FORMAT") == "json":
        from celery.signals import after_setup_logger, after_setup_task_logger

        def _json_logs(logger: Any, **_kwargs: Any) -> None:
            from survey.logs import apply_format

            apply_format("json", list(logger.handlers))

        # the worker sets up its loggers after the app is built; weak=False: the closure must live on
        after_setup_logger.connect(_json_logs, weak=False)
        after_setup_task_logger.connect(_json_logs, weak=False)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object(app.config["CELERY"])
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def broker_problem(url: str, timeout: float = 2.0) -> str | None:
    """None when the broker at ``url`` answers now; else what failed, in one line (for ``/healthz``).

    A fresh connection with short timeouts, so a broker that is down or unreachable costs the health check
    at most ``timeout`` seconds, and never a pooled connection left in a bad state.
    """
    from kombu import Connection

    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout, "max_retries": 0}
    try:
        with Connection(url, connect_timeout=timeout, transport_options=options) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
            conn.default_channel  # noqa: B018 - Redis is only asked (PING) when a channel is made
    except Exception as exc:  # any failure is the answer, not an error of the health check
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        return f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
    return None
