"""Logging in and out, the password change and the language switch.

The session cookie holds ``"<user id>:<epoch>"``; the epoch goes up when the password changes or the
account is disabled, which ends every other session of that account.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.data.models import User
from survey.domain import users
from survey.domain.teams import LANGS
from survey.errors import UserError
from survey.runtime import get_runtime
from survey.web.forms import EmptyForm, LanguageForm, LoginForm, PasswordForm

bp = Blueprint("auth", __name__)


@dataclass
class Account(UserMixin):
    """The logged-in account as the pages need it (a plain copy, not a database row)."""

    user_id: int
    email: str
    role: str
    name: str | None
    lang: str
    epoch: int

    def get_id(self) -> str:
        return f"{self.user_id}:{self.epoch}"

    @property
    def manages(self) -> bool:
        """Facilitators and admins change teams and rounds; leaders work on their own team's plan."""
        return self.role in ("admin", "facilitator")

    @classmethod
    def of(cls, user: User) -> Account:
        return cls(user.id, user.email, user.role, user.name, user.lang, user.session_epoch)


def _load(ident: str) -> Account | None:
    try:
        user_id, epoch = (int(x) for x in ident.split(":"))
    except ValueError:
        return None
    with get_runtime().db.session() as session:
        user = session.get(User, user_id)
        if user is None or not user.active or user.session_epoch != epoch:
            return None
        return Account.of(user)


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


def _safe_next(target: str | None) -> str:
    """Only a path on this site: ``next`` must never send someone to another host after logging in."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("pages.start")


@bp.route("/login", methods=["GET", "POST"])
def login() -> tuple[str, int] | WerkzeugResponse:
    """GET: the form. POST: 303 to the start page, the form again (401) or 429 when throttled."""
    g.lang = _client_lang()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("pages.start"), 303)
    form = LoginForm()
    if request.method == "GET":
        return render_template("web/login.html", form=form), 200
    if not form.validate_on_submit():
        return render_template("web/login.html", form=form), 400
    rt = get_runtime()
    throttle = users.throttle_of(rt.config)
    email, client = form.email.data or "", request.remote_addr
    with rt.db.session() as session:
        wait = throttle.blocked(session, email, client, rt.now())
        if wait:
            body = render_template("web/login.html", form=form, throttled=True)
            return Response(body, status=429, headers={"Retry-After": str(wait)})
        user = users.verify(session, email, form.password.data or "")
        if user is None:
            throttle.failed(session, email, client, rt.now())
            return render_template("web/login.html", form=form, failed=True), 401
        throttle.succeeded(session, email)
        account = Account.of(user)
    login_user(account)
    return redirect(_safe_next(request.args.get("next")), 303)


@bp.post("/logout")
def logout() -> WerkzeugResponse:
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
                user = users.change_password(session, current_user.user_id, form.current.data, form.new.data)
            except UserError:
                form.current.errors = [_("The current password is wrong")]
                return render_template("web/account.html", form=form), 400
            login_user(Account.of(user))  # this session goes on with the new epoch; others end
        flash(_("Your password has been changed."))
        return redirect(url_for("auth.account"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("web/account.html", form=form), status


@bp.post("/account/language")
def language() -> WerkzeugResponse:
    form = LanguageForm()
    if form.validate_on_submit():
        with get_runtime().db.session() as session:
            users.set_language(session, current_user.user_id, form.lang.data)
    return redirect(_safe_next(request.form.get("back")), 303)


@bp.app_context_processor
def _forms() -> dict[str, object]:
    """The header's language switch and logout button need their forms (and CSRF tokens) on every page."""
    # emails and reports are rendered outside requests too (workers, the CLI): no account there
    if not has_request_context() or not current_user.is_authenticated:
        return {}
    return {
        "language_form": LanguageForm(lang=current_user.lang),
        "logout_form": EmptyForm(),
        # the menu shows "Units" to an account that heads one (facilitators and admins always see it)
        "heads_units": (not current_user.manages) and _heads_a_unit(current_user.email),
    }


def _heads_a_unit(email: str) -> bool:
    from survey.domain.units import units_headed_by

    with get_runtime().db.session() as session:
        return bool(units_headed_by(session, email))
