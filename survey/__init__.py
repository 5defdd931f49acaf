"""Tryghed's web app and data model. ``create_app`` is the WSGI app factory (``survey:create_app``)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from survey.paths import TEMPLATES_DIR


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``TRYGHED_*`` environment variables, then ``test_config``."""
    from flask_wtf.csrf import CSRFProtect

    from survey.celery_init import celery_config, celery_init_app
    from survey.config import load_config
    from survey.runtime import Runtime

    config = load_config(test_config)
    if not TEMPLATES_DIR.is_dir():
        raise RuntimeError(
            f"templates folder not found at {TEMPLATES_DIR}: run Tryghed from its source tree "
            "(pip install -e . , or PYTHONPATH pointing at the checkout as in the Dockerfile)"
        )
    app = Flask(__name__, instance_path=config["INSTANCE_PATH"], template_folder=str(TEMPLATES_DIR))
    app.config.update(config)
    app.config["CELERY"] = celery_config(config)
    runtime = Runtime(config)
    # Broken content stops the app, and the worker built from it, at start with the file, key and problem,
    # instead of failing for the first respondent.
    runtime.load_content()
    app.extensions["tryghed"] = runtime
    csrf = CSRFProtect(app)
    celery_init_app(app)

    from survey import i18n, web
    from survey.web import logredact, report_view, respond, security

    logredact.install(app)  # before anything can log a request path
    if config["LOG_FORMAT"] == "json":
        import logging

        from flask.logging import default_handler

        from survey.logs import apply_format

        # the root logger (this code's modules, the CLI), Flask's own handler and gunicorn's error log;
        # a Celery worker replaces the root handlers later and is given the format there (celery_init)
        apply_format("json")
        apply_format("json", [default_handler, *logging.getLogger("gunicorn.error").handlers])
    i18n.init_app(app)
    security.init_app(app)
    # The respondent form checks its own CSRF token inside the view, after the link checks, so an unknown
    # or closed link answers 404/410 rather than a CSRF error.
    csrf.exempt(respond.bp)
    app.register_blueprint(respond.bp)
    app.register_blueprint(report_view.bp)
    web.init_app(app, csrf)
    return app
