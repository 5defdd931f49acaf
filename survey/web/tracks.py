"""Facilitators' side of the two tracks: open requests, taking one, planning its session."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.data.models import FacilitationRequest, Team
from survey.domain import tracks
from survey.errors import UserError
from survey.runtime import get_runtime
from survey.web import forms
from survey.web.i18n import said

bp = Blueprint("tracks", __name__)


def _page(status: int = 200, plan_forms: dict[int, forms.PlanForm] | None = None) -> tuple[str, int]:
    with get_runtime().db.session() as session:
        rows = session.execute(
            select(FacilitationRequest, Team)
            .join(Team, Team.id == FacilitationRequest.team_id)
            .order_by(FacilitationRequest.status, FacilitationRequest.id)
        ).all()
        plan_forms = plan_forms or {}
        return render_template(
            "web/requests.html",
            rows=rows,
            kinds=dict(forms.request_choices()),
            take_form=forms.EmptyForm(),
            plan_forms={r.id: plan_forms.get(r.id) or forms.PlanForm(prefix=f"r{r.id}") for r, _t in rows},
        ), status


@bp.get("/requests")
def requests() -> tuple[str, int]:
    """Every request for a facilitator: open ones to take, taken ones to plan, planned sessions."""
    return _page()


@bp.post("/requests/<int:request_id>/take")
def take(request_id: int) -> WerkzeugResponse:
    with get_runtime().db.session() as session:
        if forms.EmptyForm().validate_on_submit():
            try:
                tracks.take_request(session, request_id, current_user.user_id)
                flash(_("You have taken the request. Plan the session next."))
            except UserError as exc:
                flash(said(exc.message), "error")
    return redirect(url_for("tracks.requests") + f"#request-{request_id}", 303)


@bp.post("/requests/<int:request_id>/plan")
def plan(request_id: int) -> tuple[str, int] | WerkzeugResponse:
    rt = get_runtime()
    form = forms.PlanForm(prefix=f"r{request_id}")
    if form.validate_on_submit():
        with rt.db.session() as session:
            try:
                tracks.plan_session(
                    session, request_id, form.when.data.replace(tzinfo=rt.tz), form.place.data, form.bring.data or ""
                )
            except UserError as exc:
                form.place.errors = [said(exc.message)]
            else:
                flash(_("The session has been planned."))
                return redirect(url_for("tracks.requests") + f"#request-{request_id}", 303)
    return _page(400, {request_id: form})
