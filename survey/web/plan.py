"""The debrief of a round: the focus the team chose and its IGLO action plan (add, edit, delete with a
confirmation, status). Leaders and facilitators alike; ``access.guard`` keeps a leader to their own teams.
Each view calls the same domain function as the ``tryghed`` command (``survey.domain.actions``,
``survey.domain.focus``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.data.models import RoundResultRow
from survey.domain import actions as plan
from survey.domain.focus import last_chosen_focus, record_focus
from survey.domain.rounds import get_round
from survey.errors import UserError
from survey.runtime import Runtime, get_runtime
from survey.web import forms
from survey.web.i18n import said

bp = Blueprint("plan", __name__)


@bp.app_template_filter("day")
def day(value: str | date | None) -> str:
    """A due date ("2027-03-31" or a date) in the page's language: '31. mar. 2027'."""
    if not value:
        return ""
    return format_date(date.fromisoformat(value) if isinstance(value, str) else value, "medium")


def _hack_choices(rt: Runtime, instrument_name: str) -> list[tuple[str, str]]:
    """The hacks of the round's instrument, grouped by pillar in the label, after a "none" choice."""
    instrument = rt.content.instrument(instrument_name)
    names = {p.key: p.name.get(g.lang) for p in instrument.pillars}
    return [("", _("No hack"))] + [
        (h.key, f"{h.title.get(g.lang)} ({names[h.pillar]})") for h in rt.content.hacks if h.pillar in names
    ]


def action_form(rt: Runtime, instrument_name: str, **kwargs: Any) -> forms.ActionForm:
    form = forms.ActionForm(**kwargs)
    form.hack.choices = forms.options(_hack_choices(rt, instrument_name))
    return form


def debrief_context(rt: Runtime, session: Session, round_id: int, **overrides: Any) -> dict[str, Any]:
    rnd = get_round(session, round_id)
    instrument = rt.content.instrument(rnd.instrument)
    stored = session.get(RoundResultRow, round_id)
    focus_form = forms.FocusForm()
    focus_form.pillar.choices = forms.options([(p.key, p.name.get(g.lang)) for p in instrument.pillars])
    pillar_keys = [p.key for p in instrument.pillars]
    # pre-selected: this round's choice, else the team's last choice (it keeps its focus unless it changes
    # it), else the report's suggestion
    last = last_chosen_focus(session, rnd.team_id, rnd.number)
    if last in pillar_keys:
        focus_form.pillar.data = last
    elif stored and stored.focus_pillars:
        focus_form.pillar.data = stored.focus_pillars[0]
    hack_titles = dict(_hack_choices(rt, rnd.instrument))
    context: dict[str, Any] = {
        "round": rnd,
        "team": rnd.team,
        "suggested": [instrument.pillar(k).name.get(g.lang) for k in (stored.focus_pillars if stored else [])],
        "chosen": instrument.pillar(rnd.chosen_focus).name.get(g.lang) if rnd.chosen_focus else None,
        "focus_form": focus_form,
        # a round without figures (not aggregated, or below k) has no focus to choose (survey.domain.focus)
        "can_record_focus": stored is not None and not stored.suppressed,
        "actions": plan.list_actions(session, round_id),
        "action_form": action_form(rt, rnd.instrument),
        "status_form": forms.ActionStatusForm,
        "levels": dict(forms.level_choices()),
        "statuses": dict(forms.status_choices()),
        "hack_titles": hack_titles,
        # a round that could never reach its threshold says so, with the options, instead of "few answered"
        "small_team": {"participants": rnd.invited_count, "k": rnd.min_responses}
        if stored is not None and stored.suppressed and rnd.invited_count < rnd.min_responses
        else None,
    }
    context.update(overrides)
    return context


def save_action(rt: Runtime, session: Session, round_id: int, form: forms.ActionForm) -> bool:
    """Add the posted action to the round's plan (``survey.domain.actions.add_action``, as ``tryghed actions
    add``); False with the errors on ``form`` when it is refused. The debrief page and the presentation
    view (``survey.web.present``) both record through here."""
    if not form.validate_on_submit():
        return False
    try:
        plan.add_action(
            session,
            round_id,
            form.level.data,
            form.what.data,
            form.who.data,
            hack_key=form.hack.data or None,
            content=rt.content,
            due=form.due.data,
            owner_email=form.owner_email.data or None,
        )
    except UserError as exc:
        form.what.errors = [said(exc.message)]
        return False
    flash(_("The action has been added to the plan."))
    return True


def save_focus(rt: Runtime, session: Session, round_id: int, form: forms.FocusForm, choices: Any) -> bool:
    """Record the posted focus (``survey.domain.focus.record_focus``, as ``tryghed round focus``); False with
    the errors on ``form`` when it is refused. Shared by the debrief page and the presentation view."""
    form.pillar.choices = choices
    if not form.validate_on_submit():
        return False
    try:
        record_focus(session, rt.content, round_id, form.pillar.data)
    except UserError as exc:
        form.pillar.errors = [said(exc.message)]
        return False
    flash(_("The team's focus has been recorded."))
    return True


@bp.get("/rounds/<int:round_id>/debrief")
def debrief(round_id: int) -> tuple[str, int]:
    """The debrief: the focus the team chose and its IGLO plan, then each action's status over time."""
    rt = get_runtime()
    with rt.db.session() as session:
        if get_round(session, round_id).status not in ("closing", "reported"):
            abort(404)
        return render_template("web/debrief.html", **debrief_context(rt, session, round_id)), 200


def _to_debrief(round_id: int, anchor: str = "plan-title") -> WerkzeugResponse:
    return redirect(url_for("plan.debrief", round_id=round_id) + f"#{anchor}", 303)


@bp.post("/rounds/<int:round_id>/actions")
def add_action(round_id: int) -> tuple[str, int] | WerkzeugResponse:
    rt = get_runtime()
    with rt.db.session() as session:
        form = action_form(rt, get_round(session, round_id).instrument)
        if save_action(rt, session, round_id, form):
            return _to_debrief(round_id)
        return render_template("web/debrief.html", **debrief_context(rt, session, round_id, action_form=form)), 400


@bp.post("/actions/<int:action_id>/status")
def action_status(action_id: int) -> WerkzeugResponse:
    rt = get_runtime()
    form = forms.ActionStatusForm(prefix=f"a{action_id}")
    with rt.db.session() as session:
        action = plan.get_action(session, action_id)
        if not form.validate_on_submit():
            abort(400)
        plan.set_action_status(session, action_id, form.status.data)
        flash(_("The status has been saved."))
        return _to_debrief(action.round_id)


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
def edit_action(action_id: int) -> tuple[str, int] | WerkzeugResponse:
    """Change what was agreed: level, what, who, due date, owner, hack and status."""
    rt = get_runtime()
    with rt.db.session() as session:
        action = plan.get_action(session, action_id)
        rnd = get_round(session, action.round_id)
        form = action_form(
            rt,
            rnd.instrument,
            data={
                "level": action.level,
                "what": action.what,
                "who": action.who,
                "due": action.due,
                "owner_email": action.owner_email or "",
                "hack": action.hack_key or "",
                "status": action.status,
            },
        )
        if form.validate_on_submit():
            try:
                plan.edit_action(
                    session,
                    action_id,
                    level=form.level.data,
                    what=form.what.data,
                    who=form.who.data,
                    due=form.due.data,
                    owner_email=form.owner_email.data or None,
                    hack_key=form.hack.data or None,
                    status=form.status.data,
                    content=rt.content,
                )
            except UserError as exc:
                form.what.errors = [said(exc.message)]
            else:
                flash(_("The action has been changed."))
                return _to_debrief(rnd.id)
        status = 400 if form.is_submitted() else 200
        return render_template("web/action_edit.html", form=form, action=action, round=rnd, team=rnd.team), status


@bp.route("/actions/<int:action_id>/delete", methods=["GET", "POST"])
def delete_action(action_id: int) -> tuple[str, int] | WerkzeugResponse:
    """GET asks for confirmation (a page that names the action); POST removes it from the plan."""
    rt = get_runtime()
    form = forms.EmptyForm()
    with rt.db.session() as session:
        action = plan.get_action(session, action_id)
        rnd = get_round(session, action.round_id)
        if form.validate_on_submit():
            plan.delete_action(session, action_id)
            flash(_("The action has been removed from the plan."))
            return _to_debrief(rnd.id)
        status = 400 if form.is_submitted() else 200
        return render_template("web/action_delete.html", form=form, action=action, round=rnd, team=rnd.team), status


@bp.post("/rounds/<int:round_id>/focus")
def focus(round_id: int) -> tuple[str, int] | WerkzeugResponse:
    """The focus the team chose: the same ``record_focus`` as ``tryghed round focus``."""
    rt = get_runtime()
    form = forms.FocusForm()
    with rt.db.session() as session:
        ctx = debrief_context(rt, session, round_id)
        if save_focus(rt, session, round_id, form, ctx["focus_form"].pillar.choices):
            return _to_debrief(round_id, "focus-title")
        ctx["focus_form"] = form
        return render_template("web/debrief.html", **ctx), 400
