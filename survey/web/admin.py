"""Accounts, for admins only (the access guard checks the role for the whole blueprint)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.data.models import User
from survey.domain import users
from survey.domain.passwords import WeakPassword
from survey.errors import UserError
from survey.runtime import get_runtime
from survey.web import audit_log
from survey.web.forms import PASSWORD_HINT, EmptyForm, RoleForm, UserForm, password_advice, role_choices
from survey.web.i18n import said

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
def accounts() -> tuple[str, int] | WerkzeugResponse:
    """The list of accounts and the form to add one (the same ``add_user`` as ``tryghed user add``)."""
    form = UserForm()
    status = 200
    rt = get_runtime()
    with rt.db.session() as session:
        if request.method == "POST":
            status = 400
            if form.validate_on_submit():
                try:
                    user = users.add_user(session, form.email.data, form.role.data, form.password.data, form.name.data)
                except WeakPassword as exc:
                    form.password.errors = [password_advice(exc)]
                except UserError as exc:
                    form.email.errors = [said(exc.message)]
                else:
                    audit_log.note("account_created", f"user {user.email}")
                    flash(_("The account for %(email)s has been created.", email=user.email))
                    return redirect(url_for("admin.accounts"), 303)
        return render_template(
            "web/admin_users.html",
            form=form,
            accounts=users.list_users(session),
            toggle=EmptyForm(),
            role_form=RoleForm,
            password_hint=PASSWORD_HINT,
        ), status


@bp.post("/users/<int:user_id>/active")
def toggle(user_id: int) -> WerkzeugResponse:
    """Disable or re-enable an account (disabling ends its sessions); an admin cannot disable their own."""
    if EmptyForm().validate_on_submit() and user_id != current_user.user_id:
        with get_runtime().db.session() as session:
            user = _user_or_404(session, user_id)
            users.set_active(session, user_id, not user.active)
            audit_log.note("account_enabled" if user.active else "account_disabled", f"user {user.email}")
    return redirect(url_for("admin.accounts"), 303)


@bp.post("/users/<int:user_id>/role")
def role(user_id: int) -> WerkzeugResponse:
    """Give an account another role, effective at its next request; an admin cannot change their own."""
    form = RoleForm()
    if form.validate_on_submit() and user_id != current_user.user_id:
        with get_runtime().db.session() as session:
            user = _user_or_404(session, user_id)
            users.set_role(session, user_id, form.role.data)
            audit_log.note("role_changed", f"user {user.email}: {user.role}")
            flash(_("%(email)s now has the role %(role)s.", email=user.email, role=dict(role_choices())[user.role]))
    return redirect(url_for("admin.accounts"), 303)


@bp.post("/users/<int:user_id>/sessions")
def end_sessions(user_id: int) -> WerkzeugResponse:
    """End every session of an account (a lost laptop, a shared computer): it must sign in again."""
    if EmptyForm().validate_on_submit():
        with get_runtime().db.session() as session:
            user = _user_or_404(session, user_id)
            ended = users.end_sessions(session, user_id)
            audit_log.note("sessions_ended", f"user {user.email}")
            flash(_("Sessions ended for %(email)s: %(count)d.", count=ended, email=user.email))
    return redirect(url_for("admin.accounts"), 303)


def _user_or_404(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    return user
