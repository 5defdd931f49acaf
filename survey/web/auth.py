"""Logging in and out, the password change and the language switch.

The session cookie holds a random session token; the session itself lives in the database
(``survey.domain.sessions``), so logging out, an admin, disabling the account or a password change ends
it for good, and the account's role is read afresh on every request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.data.models import User
from survey.domain import sessions, users
from survey.domain.passwords import WeakPassword
from survey.domain.teams import LANGS
from survey.domain.throttle import throttle_of
from survey.errors import UserError
from survey.runtime import get_runtime
from survey.web import audit_log
from survey.web.forms import PASSWORD_HINT, LanguageForm, LoginForm, PasswordForm, password_advice
from survey.web.request_db import request_session

bp = Blueprint("auth", __name__)


@dataclass
class Account(UserMixin):
    """The logged-in account as the pages need it (a plain copy, not a database row)."""

    user_id: int
    email: str
    role: str
    name: str | None
    lang: str
    token: str  # the session's token (what the cookie carries)

    def get_id(self) -> str:
        return self.token

    @property
    def manages(self) -> bool:
        """Facilitators and admins change teams and rounds; leaders work on their own team's plan."""
        return self.role in ("admin", "facilitator")

    @classmethod
    def of(cls, user: User, token: str) -> Account:
        return cls(user.id, user.email, user.role, user.name, user.lang, token)


def _load(token: str) -> Account | None:
    """The account of a live session (Flask-Login's user loader, once per request)."""
    rt = get_runtime()
    live = sessions.resume(request_session(), token, rt.now(), sessions.lifetimes_of(rt.config))
    return Account(live.id, live.email, live.role, live.name, live.lang, token) if live is not None else None


def sign_in(session: Session, user: User) -> None:
    """Start a server-side session for ``user`` and put its token in the cookie (login and single sign-on)."""
    token = sessions.start(session, user.id, get_runtime().now())
    login_user(Account.of(user, token))


def init_login(app: Flask) -> None:
    manager = LoginManager(app)
    manager.user_loader(_load)
    manager.session_protection = "basic"
    users.warm_up()  # argon2 is loaded lazily; a web process pays for it at start, not in its first login


def _client_lang() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGS:
        return chosen
    return request.accept_languages.best_match(["da", "en"]) or "da"


def safe_next(target: str | None) -> str:
    """Only a path on this site: ``next`` must never send someone to another host after logging in.

    Anything else is ignored (the start page instead): another host, a scheme, a backslash (browsers
    read ``/\\host`` as ``//host``), and control characters (CR/LF would split the Location header).
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
        and not urlsplit(target).netloc
        and not urlsplit(target).scheme
    ):
        return target
    return url_for("pages.start")


def _login_page(form: LoginForm, **state: bool) -> str:
    """The login page, offering the ways in this installation has: passwords, the organisation's provider."""
    from survey.web.oidc import enabled

    config = get_runtime().config
    return render_template(
        "web/login.html", form=form, local_login=bool(config["LOCAL_LOGIN"]), sso=enabled(config), **state
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> tuple[str, int] | WerkzeugResponse:
    """GET: the form. POST: 303 to the start page, the form again (401) or 429 when throttled."""
    g.lang = _client_lang()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("pages.start"), 303)
    form = LoginForm()
    if request.method == "GET":
        return _login_page(form), 200
    if not form.validate_on_submit():
        return _login_page(form), 400
    rt = get_runtime()
    if not rt.config["LOCAL_LOGIN"]:  # passwords are switched off: single sign-on only
        return _login_page(form), 403
    throttle = throttle_of(rt.config)
    email, client = form.email.data or "", request.remote_addr
    with rt.db.session() as session:
        wait = throttle.blocked(session, email, client, rt.now())
        if wait:
            body = _login_page(form, throttled=True)
            return Response(body, status=429, headers={"Retry-After": str(wait)})
        user = users.verify(session, email, form.password.data or "")
        if user is None:
            delay = throttle.failed(session, email, client, rt.now())
            # the email only when it is an account's: a password typed into the email field is never kept
            audit_log.write("login_failed", email if users.exists(session, email) else None)
        else:
            throttle.succeeded(session, email, client)
            sign_in(session, user)
            audit_log.write("login", user.email)
    if user is None:
        time.sleep(delay)  # outside the database session: a slowed answer holds no connection
        return _login_page(form, failed=True), 401
    return redirect(safe_next(request.args.get("next")), 303)


@bp.post("/logout")
def logout() -> WerkzeugResponse:
    with get_runtime().db.session() as session:
        sessions.end(session, current_user.token)
    audit_log.write("logout", current_user.email)
    logout_user()
    return redirect(url_for("auth.login"), 303)


@bp.route("/account", methods=["GET", "POST"])
def account() -> tuple[str, int] | WerkzeugResponse:
    """The password change."""
    form = PasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        rt = get_runtime()
        with rt.db.session() as session:
            try:
                users.change_password(
                    session, current_user.user_id, form.current.data, form.new.data, keep=current_user.token
                )
            except WeakPassword as exc:
                form.new.errors = [password_advice(exc)]
                return render_template("web/account.html", form=form, password_hint=PASSWORD_HINT), 400
            except UserError:
                form.current.errors = [_("The current password is wrong")]
                return render_template("web/account.html", form=form, password_hint=PASSWORD_HINT), 400
        audit_log.note("password_changed", f"user {current_user.email}")
        flash(_("Your password has been changed."))
        return redirect(url_for("auth.account"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("web/account.html", form=form, password_hint=PASSWORD_HINT), status


@bp.post("/account/language")
def language() -> WerkzeugResponse:
    form = LanguageForm()
    if form.validate_on_submit():
        with get_runtime().db.session() as session:
            users.set_language(session, current_user.user_id, form.lang.data)
    return redirect(safe_next(request.form.get("back")), 303)
