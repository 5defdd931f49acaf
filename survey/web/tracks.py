"""Facilitators' side of the two tracks: open requests, taking one, planning its session, and planning
the sessions of a facilitated team's process from the team's page."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.data.models import FacilitationRequest, Team
from survey.domain import tracks
from survey.domain.teams import get_team
from survey.errors import UserError
from survey.runtime import get_runtime
from survey.web import forms
from survey.web.i18n import said
from survey.web.pages import team_context

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
    if form.validate_on_submit() and _ends_ok(form):
        with rt.db.session() as session:
            starts, ends = _times(form)
            try:
                tracks.plan_session(session, request_id, starts, form.place.data, form.bring.data or "", ends)
            except UserError as exc:
                form.place.errors = [said(exc.message)]
            else:
                flash(_("The session has been planned."))
                return redirect(url_for("tracks.requests") + f"#request-{request_id}", 303)
    return _page(400, {request_id: form})


def _ends_ok(form: forms.PlanForm) -> bool:
    """The end, if given, is after the start and the same day (the domain checks it too, in English)."""
    starts, ends = _times(form)
    if ends is None or starts < ends <= starts + tracks.MAX_SESSION:
        return True
    form.ends.errors = [_("The session must end after it starts, and on the same day.")]
    return False


def _times(form: forms.PlanForm) -> tuple[datetime, datetime | None]:
    """Start and (optional) end of a planned session, in the installation's time zone."""
    tz = get_runtime().tz
    starts = form.when.data.replace(tzinfo=tz)
    ends = datetime.combine(starts.date(), form.ends.data, tz) if form.ends.data else None
    return starts, ends


@bp.post("/teams/<int:team_id>/sessions/<session_kind>")
def plan_team_session(team_id: int, session_kind: str) -> tuple[str, int] | WerkzeugResponse:
    """Plan (or move) one session of a facilitated team's process, straight from the team's page."""
    rt, kind = get_runtime(), session_kind
    form = forms.PlanForm(prefix=f"s-{kind}")
    with rt.db.session() as session:
        track = rt.content.track(get_team(session, team_id).track)
        if track is None or kind not in {m.key for m in track.sessions}:
            abort(404)  # only the sessions of the team's own process are planned here
        if form.validate_on_submit() and _ends_ok(form):
            starts, ends = _times(form)
            try:
                tracks.plan_team_session(
                    session, team_id, kind, current_user.user_id, starts, form.place.data, form.bring.data or "", ends
                )
            except UserError as exc:
                form.place.errors = [said(exc.message)]
            else:
                flash(_("The session has been planned."))
                return redirect(url_for("pages.team", team_id=team_id) + f"#session-{kind}", 303)
        forms_by_kind = {kind: form}
        return render_template("web/team.html", **team_context(rt, session, team_id, process_forms=forms_by_kind)), 400
