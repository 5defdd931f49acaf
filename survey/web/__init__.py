"""The web app: blueprints for the health check, login and accounts, and the facilitators' and leaders'
pages. ``init_app`` wires them into the app made by ``survey.create_app``.

Access is decided in one place, ``access.guard`` (a ``before_request`` hook): every endpoint needs a login
unless it is on the short public list, so a new page cannot be left open by forgetting a decorator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask
from markupsafe import Markup

if TYPE_CHECKING:  # the CLI imports survey.web.logredact and must not pay for the forms package
    from flask_wtf import FlaskForm
    from flask_wtf.csrf import CSRFProtect


def init_app(app: Flask, csrf: CSRFProtect) -> None:
    """Register the web blueprints, sessions (Flask-Login), the access guard and the gettext catalogs."""
    from survey.web import (
        access,
        admin,
        attention,
        audit_log,
        auth,
        errors,
        health,
        i18n,
        labels,
        manage,
        oidc,
        organisation,
        pages,
        paper_entry,
        plan,
        present,
        request_db,
        topbar,
        tracks,
        units,
    )

    i18n.init_app(app)
    labels.init_app(app)
    topbar.init_app(app)
    auth.init_login(app)
    # First of all hooks, before Flask-WTF's CSRF check: a request without a login gets 401/403 (the
    # contract), not a CSRF error that would tell a stranger about the form.
    app.before_request_funcs.setdefault(None, []).insert(0, access.guard)
    request_db.init_app(app)  # the guard's session is handed back before a view that does not share it
    # The error pages: the staff's in the app's layout, the respondent's own on /s/ and /k/; a domain
    # refusal a view did not turn into a form error is 404 (missing) or 400, not a 500.
    errors.init_app(app)
    audit_log.init_app(app)
    for module in (
        health,
        auth,
        oidc,
        admin,
        audit_log,
        pages,
        attention,
        plan,
        present,
        manage,
        paper_entry,
        tracks,
        units,
        organisation,
    ):
        app.register_blueprint(module.bp)
    csrf.exempt(health.bp)
    app.jinja_env.globals["hidden_csrf"] = hidden_csrf


def hidden_csrf(form: FlaskForm) -> Markup:
    """The form's CSRF token as a hidden field without an id (a page with many small forms would
    otherwise repeat the id ``csrf_token``)."""
    field = form.csrf_token
    return Markup('<input type="hidden" name="{}" value="{}">').format(field.name, field.current_token)
