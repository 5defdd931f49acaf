"""Accounts, for admins only (the access guard checks the role for the whole blueprint)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.domain import users
from survey.errors import UserError
from survey.runtime import get_runtime
from survey.web.forms import EmptyForm, UserForm

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
                except UserError as exc:
                    form.email.errors = [exc.message]
                else:
                    flash(_("The account for %(email)s has been created.", email=user.email))
                    return redirect(url_for("admin.accounts"), 303)
        return render_template(
            "web/admin_users.html", form=form, accounts=users.list_users(session), toggle=EmptyForm()
        ), status


@bp.post("/users/<int:user_id>/active")
def toggle(user_id: int) -> WerkzeugResponse:
    """Disable or re-enable an account; an admin cannot disable their own."""
    if EmptyForm().validate_on_submit() and user_id != current_user.user_id:
        with get_runtime().db.session() as session:
            user = users.get_user(session, user_id)
            users.set_active(session, user_id, not user.active)
    return redirect(url_for("admin.accounts"), 303)
