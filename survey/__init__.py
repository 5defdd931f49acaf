"""Tryghed's web app and data model. ``create_app`` is the WSGI app factory (``survey:create_app``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from survey.paths import TEMPLATES_DIR

if TYPE_CHECKING:  # importing any survey module must not import Flask (most `tryghed` commands run without it)
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None, *, web: bool = True) -> Flask:
    """Build the app: defaults, then ``TRYGHED_*`` environment variables, then ``test_config``.

    ``web=False`` builds only what commands and tasks use (configuration, runtime, Celery, the email
    templates): the ``tryghed`` command runs with it, so a cron-run ``tryghed tick`` does not import and
    wire every blueprint, form and login hook it never serves.
    """
    from survey.celery_init import celery_config, celery_init_app
    from survey.flask_app import TryghedFlask
    from survey.runtime import load_runtime

    if not TEMPLATES_DIR.is_dir():
        raise RuntimeError(
            f"templates folder not found at {TEMPLATES_DIR}: run Tryghed from its source tree "
            "(pip install -e . , or PYTHONPATH pointing at the checkout as in the Dockerfile)"
        )
    runtime = load_runtime(test_config)  # the worker built from this app stops here on broken content
    config = runtime.config
    app = TryghedFlask(__name__, instance_path=config["INSTANCE_PATH"], template_folder=str(TEMPLATES_DIR))
    app.config.update(config)
    from survey.web.ids import IdIntegerConverter

    app.url_map.converters["int"] = IdIntegerConverter  # before any blueprint adds a route with <int:…>
    app.config["CELERY"] = celery_config(config)
    app.extensions["tryghed"] = runtime
    celery_init_app(app)

    from survey.web import i18n, logredact

    logredact.install(app)  # before anything can log a request path
    if config["LOG_FORMAT"] == "json":
        import logging

        from flask.logging import default_handler

        from survey.logs import apply_format

        # the root logger (this code's modules, the CLI), Flask's own handler and gunicorn's error log;
        # a Celery worker replaces the root handlers later and is given the format there (celery_init)
        apply_format("json")
        apply_format("json", [default_handler, *logging.getLogger("gunicorn.error").handlers])
    i18n.init_babel(app)
    if web:
        _init_web(app)
    return app


def _init_web(app: Flask) -> None:
    """The pages: CSRF, security headers, the respondent form, the report link and every other blueprint."""
    from flask_wtf.csrf import CSRFProtect

    from survey import web
    from survey.web import report_view, respond, security, upgrade_pending

    csrf = CSRFProtect(app)
    security.init_app(app)
    # The respondent form checks its own CSRF token inside the view, after the link checks, so an unknown
    # or closed link answers 404/410 rather than a CSRF error.
    csrf.exempt(respond.bp)
    app.register_blueprint(respond.bp)
    app.register_blueprint(report_view.bp)
    web.init_app(app, csrf)
    upgrade_pending.init_app(app)  # last, so its hook goes in front of the login guard's
