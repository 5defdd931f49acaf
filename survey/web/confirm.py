"""Asking first: the confirmation page shown (a GET) before an action that cannot be undone is done (the POST
of the same address), without JavaScript. It says what will happen, or why the action cannot be done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.errors import UserError
from survey.runtime import get_runtime
from survey.web.forms import EmptyForm
from survey.web.i18n import said


def confirm_page(
    title: str,
    consequences: list[str],
    *,
    action: str,
    yes: str,
    back: str,
    no: str,
    refusal: str | None = None,
    danger: bool = True,
) -> tuple[str, int]:
    """The page: ``consequences`` and a button ``yes`` posting to ``action``; with a ``refusal``, only that
    and the way ``back``."""
    return render_template(
        "web/confirm.html",
        title=title,
        consequences=consequences,
        action=action,
        yes=yes,
        back=back,
        no=no,
        refusal=refusal,
        danger=danger,
        button=EmptyForm(),
    ), 200


def confirmed_delete(delete: Callable[[Any], dict[str, Any]], refused_to: str) -> dict[str, Any] | WerkzeugResponse:
    """Run ``delete(session)`` for a POST from a confirmation page; a domain refusal goes back to
    ``refused_to`` with its reason. A POST without the form's token changes nothing (400)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    with get_runtime().db.session() as session:
        try:
            return delete(session)
        except UserError as exc:
            flash(said(exc.message), "error")
            return redirect(refused_to, 303)
