"""The Celery app for workers and beat: ``celery -A celery_app worker`` / ``celery -A celery_app beat``.

Built from the Flask app (Flask's ``celery_init_app`` pattern), so tasks run in the app context with the
same ``TRYGHED_*`` configuration as the web app and the CLI.
"""

from __future__ import annotations

from celery.signals import worker_process_init

from survey import create_app

flask_app = create_app()
app = flask_app.extensions["celery"]


@worker_process_init.connect
def _fresh_engine_per_process(**_kwargs: object) -> None:
    # A forked worker must not share the parent's pooled database connections.
    flask_app.extensions["tryghed"].db.engine.dispose(close=False)
