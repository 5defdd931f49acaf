"""The debrief on the meeting room's screen: the web report as a presentation (issue 21, point 3).

One section per screen, in the order of the debrief guide: the results, the strongest and weakest
statements, the change since last time, the suggested focus, one dilemma a screen, then the team's choice
of focus and its first IGLO actions. Every screen is its own URL (``?slide=N``), so the next and previous
are plain links; ``present.js`` (a static file: the policy allows no inline script) only maps the arrow and
page keys to them. The whole deck is in every page, so printing gives one section per sheet.

The same people who see the web report see this, and only once the round is reported: the figures are the
report's own (``pipeline.report_context``, thresholded and suppressed there). What the team agrees is
recorded through the debrief page's own helpers (``plan.save_focus``, ``plan.save_action``): the same
focus and plan.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.domain.rounds import get_round
from survey.runtime import Runtime, get_runtime
from survey.web import audit_log, forms, plan

bp = Blueprint("present", __name__)


def slides(ctx: dict[str, Any], *, can_record_focus: bool) -> list[dict[str, Any]]:
    """The screens of the deck in order, each ``{"kind", "title"}`` (a dilemma's also ``"dilemma"``).

    A suppressed round has no screen with a figure, a focus or a weakest statement: it goes from why there
    are no figures to the pillars, a dilemma of each, and the actions (the report's own rule).
    """
    ui = ctx["ui"]
    deck = [{"kind": "start", "title": ui["debrief_heading"]}]
    if ctx["suppressed"]:
        deck += [
            {"kind": "suppressed", "title": ui["suppressed_heading"]},
            {"kind": "pillars", "title": ui["suppressed_pillars_heading"]},
        ]
    else:
        deck.append({"kind": "results", "title": ui["summary"]})
        if ctx["extremes"]["strongest"]:
            deck.append({"kind": "extremes", "title": ui["extremes_heading"]})
        if ctx["followup"] and ctx["changes"]:
            deck.append({"kind": "change", "title": ui["change_heading"]})
        focus = ctx["focus"]["followed"] or ctx["focus"]["suggestion"]
        if focus:
            heading = ui["followed_heading"] if ctx["focus"]["followed"] else ui["suggestion_heading"]
            deck.append({"kind": "focus", "title": heading.format(pillar=focus["name"])})
    lang = ctx["lang"]
    deck += [{"kind": "dilemma", "title": d.title.get(lang), "dilemma": d} for d in ctx["dilemmas"]]
    if can_record_focus:
        deck.append({"kind": "choose", "title": _("Your focus")})
    deck.append({"kind": "actions", "title": _("Your first IGLO actions")})
    return deck


def _render(
    rt: Runtime, session: Session, round_id: int, status: int = 200, at: str | None = None, **overrides: Any
) -> tuple[str, int]:
    """The deck at the screen asked for: ``at`` (a kind of screen: where a form was just posted), else
    ``?at=KIND``, else ``?slide=N`` (kept within the deck)."""
    from pipeline.report_builder import build_report_data
    from pipeline.report_context import report_context

    rnd = get_round(session, round_id)
    if rnd.status != "reported":  # nothing before close: the figures exist only in the stored report
        abort(404)
    ctx = report_context(build_report_data(session, round_id, rt.content, rt.tz))
    g.lang = ctx["lang"]  # the meeting's language, the report's: the room reads it together
    refresh()  # Flask-Babel keeps the locale it read first in a request
    debrief = plan.debrief_context(rt, session, round_id, **overrides)
    deck = slides(ctx, can_record_focus=debrief["can_record_focus"])
    kinds = [s["kind"] for s in deck]
    at = at or request.args.get("at")
    if at in kinds:
        current = kinds.index(at) + 1
    else:
        current = min(max(1, request.args.get("slide", 1, type=int) or 1), len(deck))
    return render_template(
        "web/present.html", **ctx, debrief=debrief, deck=deck, current=current, rnd=rnd, team=rnd.team
    ), status


@bp.get("/rounds/<int:round_id>/present")
def present(round_id: int) -> tuple[str, int]:
    """One screen of the debrief deck."""
    rt = get_runtime()
    with rt.db.session() as session:
        page = _render(rt, session, round_id)
    if not request.args:  # entering the deck is viewing the report; moving through it is not a new view
        audit_log.note("report_viewed", f"round {round_id} (presentation)")
    return page


def _reported(session: Session, round_id: int) -> str:
    """The round's instrument; 404 unless it is reported (no deck, so nothing to record from one). The
    request speaks the room's language from here on, so that what is said back (saved, refused) does too."""
    rnd = get_round(session, round_id)
    if rnd.status != "reported":
        abort(404)
    g.lang = rnd.team.lang
    refresh()
    return rnd.instrument


def _back(round_id: int, kind: str) -> WerkzeugResponse:
    """Back to the screen where it was recorded (after a POST: a reload does not post it again)."""
    return redirect(url_for("present.present", round_id=round_id, at=kind) + "#slide-title", 303)


@bp.post("/rounds/<int:round_id>/present/focus")
def focus(round_id: int) -> tuple[str, int] | WerkzeugResponse:
    """The focus the team chose, recorded as on the debrief page (the same ``record_focus``)."""
    rt = get_runtime()
    form = forms.FocusForm()
    with rt.db.session() as session:
        _reported(session, round_id)
        choices = plan.debrief_context(rt, session, round_id)["focus_form"].pillar.choices
        if plan.save_focus(rt, session, round_id, form, choices):
            return _back(round_id, "choose")
        return _render(rt, session, round_id, 400, at="choose", focus_form=form)


@bp.post("/rounds/<int:round_id>/present/actions")
def add_action(round_id: int) -> tuple[str, int] | WerkzeugResponse:
    """An agreed action, added to the same IGLO plan as on the debrief page."""
    rt = get_runtime()
    with rt.db.session() as session:
        form = plan.action_form(rt, _reported(session, round_id))
        if plan.save_action(rt, session, round_id, form):
            return _back(round_id, "actions")
        return _render(rt, session, round_id, 400, at="actions", action_form=form)
