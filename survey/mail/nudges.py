"""Composing the nudge emails (``survey.domain.nudges`` decides and queues them): text + HTML in the
recipient's language, and for a planned facilitation session an .ics calendar invitation."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import Session

from survey.data.models import Action, FacilitationRequest, Round, Team
from survey.domain.report_links import report_link
from survey.locales import N_, format_when, translate
from survey.runtime import Runtime

NUDGE_KINDS = ("debrief", "no_plan", "action_due", "action_overdue", "request_new", "session_planned")
# the toolkit's sessions take 1.5-4 hours, as needed: the calendar holds the end the facilitator planned,
# and two hours when they gave none (a placeholder in the calendar, not a length the toolkit names)
SESSION_LENGTH = timedelta(hours=2)

# Subject, paragraphs and link label per kind (English msgids; the catalogs translate them); %(placeholders)s
# are filled from the row's data. A paragraph that is only a placeholder is the user's own text, not translated.
TEXTS: dict[str, dict[str, Any]] = {
    "debrief": {
        "subject": N_("Next step for %(team)s: hold the meeting about the results"),
        "body": [
            N_(
                "The report for %(team)s has arrived. The next step is the team meeting where you discuss"
                " the results, choose your focus and agree an action plan."
            ),
            N_("The guide for the meeting gives an agenda with times and questions, built from your own figures."),
        ],
        "link_label": N_("Open the guide for the team meeting"),
    },
    "no_plan": {
        "subject": N_("%(team)s: the focus and action plan are still missing"),
        "body": [
            N_("It is two weeks since the report for %(team)s arrived, and %(missing)s has not been recorded yet."),
            N_("Record the team's choices on the debrief page, so that the next report can follow them up."),
        ],
        "link_label": N_("Open the debrief and the action plan"),
        "missing_focus": N_("your focus"),
        "missing_plan": N_("the action plan"),
        "missing_both": N_("neither your focus nor the action plan"),
    },
    "action_due": {
        "subject": N_("Due soon: %(what_short)s"),
        "body": [
            N_("The action “%(what)s” in the action plan of %(team)s is due %(due)s."),
            N_("If it is done, mark it so."),
        ],
        "link_label": N_("Open the action plan"),
    },
    "action_overdue": {
        "subject": N_("Overdue: %(what_short)s"),
        "body": [
            N_("The action “%(what)s” in the action plan of %(team)s was due %(due)s."),
            N_("Mark it done, ongoing or dropped, or give it a new due date."),
        ],
        "link_label": N_("Open the action plan"),
    },
    "request_new": {
        "subject": N_("%(team)s asks for a facilitator"),
        "body": [
            N_("%(team)s has asked for a facilitator for: %(kind)s."),
            "%(note)s",
        ],
        "link_label": N_("See the requests"),
    },
    "session_planned": {
        "subject": N_("Planned: %(kind)s with %(team)s %(when)s"),
        "body": [
            N_("The facilitator has planned %(kind)s for %(team)s: %(when)s, %(place)s."),
            "%(bring)s",
            N_("The calendar invitation is attached."),
        ],
        "link_label": N_("Open the team's page"),
    },
}

KIND_NAMES = {
    "premeeting": N_("a pre-meeting with the leader"),
    "briefing": N_("a briefing of the staff"),
    "measurement": N_("the screening (the survey round)"),
    "debriefing": N_("the meeting about the results"),
    "sparring": N_("sparring on the work"),
    "followup": N_("a follow-up process"),
}


def _short(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def nudge_parts(rt: Runtime, session: Session, msg: Any) -> tuple[str, str, str, dict[str, Any]]:
    """Subject, greeting, link and values of one nudge row; LookupError when its subject is gone."""
    lang = msg.lang if msg.lang in ("da", "en") else "da"
    base = str(rt.config["BASE_URL"]).rstrip("/")
    values: dict[str, Any] = {}
    if msg.kind in ("request_new", "session_planned"):
        req = session.get(FacilitationRequest, msg.request_id) if msg.request_id else None
        if req is None:
            raise LookupError("the request no longer exists")
        team = session.get(Team, req.team_id)
        assert team is not None
        values.update(
            team=team.name,
            kind=translate(lang, KIND_NAMES[req.kind]) if req.kind in KIND_NAMES else req.kind,
            note=req.note or "",
            when=format_when(req.session_at, lang, rt.tz),
            place=req.place or "",
            bring=translate(lang, "Bring: %(things)s", things=req.bring) if req.bring else "",
        )
        link = f"{base}/requests#request-{req.id}" if msg.kind == "request_new" else f"{base}/teams/{team.id}"
        values["_request"] = req
        return msg.kind, lang, link, values
    rnd = session.get(Round, msg.round_id) if msg.round_id else None
    if rnd is None:
        raise LookupError(f"round {msg.round_id} no longer exists")
    values["team"] = rnd.team.name
    link = f"{base}/rounds/{rnd.id}/debrief"
    if msg.kind == "debrief":
        link = report_link(rt, rnd.id, leader_changed_at=rnd.team.leader_changed_at) + "/debrief"
    elif msg.kind == "no_plan":
        has_plan = session.query(Action.id).filter(Action.round_id == rnd.id).first() is not None
        texts = TEXTS["no_plan"]
        key = (
            "missing_both"
            if rnd.chosen_focus is None and not has_plan
            else ("missing_focus" if rnd.chosen_focus is None else "missing_plan")
        )
        values["missing"] = translate(lang, texts[key])
    else:
        action = session.get(Action, msg.seq)
        if action is None or action.due is None:
            raise LookupError(f"action {msg.seq} no longer exists or has no due date")
        from babel.dates import format_date

        from survey.locales import babel_locale

        values.update(
            what=" ".join(action.what.split()),
            what_short=_short(action.what),
            due=format_date(action.due, "long", locale=babel_locale(lang)),
        )
    return msg.kind, lang, link, values


def compose_nudge(rt: Runtime, session: Session, msg: Any, render_pair: Any, make_message: Any) -> EmailMessage:
    """The email of one nudge row (``render_pair`` and ``make_message`` are ``survey.mail.emails``')."""
    from survey.mail import mailtext

    kind, lang, link, values = nudge_parts(rt, session, msg)
    texts = TEXTS[kind]
    fill = {k: v for k, v in values.items() if not k.startswith("_")}
    subject = translate(lang, texts["subject"], **fill)
    paragraphs = [p for p in (translate(lang, line, **fill) for line in texts["body"]) if p.strip()]
    greeting = translate(lang, "Hello")
    text, html = render_pair(
        "nudge",
        lang,
        subject=subject,
        greeting=greeting,
        paragraphs=paragraphs,
        link=link,
        link_label=translate(lang, texts["link_label"]),
        links=rt.content.links,
        **mailtext.identity(rt.config),
    )
    email = make_message(rt, msg, subject, text, html)
    if kind == "session_planned":
        req = values["_request"]
        # as text with its charset: an .ics is UTF-8 text (a place or a team name with "ø" must survive)
        email.add_attachment(
            session_ics(rt, req, subject, paragraphs).decode("utf-8"),
            subtype="calendar",
            charset="utf-8",
            filename="tryghed-session.ics",
            params={"method": "PUBLISH"},
        )
    return email


def session_ics(rt: Runtime, req: FacilitationRequest, summary: str, paragraphs: list[str]) -> bytes:
    """A one-event calendar (RFC 5545) for a planned session, made with the ``icalendar`` package."""
    from icalendar import Calendar, Event

    assert req.session_at is not None
    cal = Calendar()
    cal.add("prodid", "-//Tryghed//facilitation session//DA")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    host = str(rt.config["BASE_URL"]).split("//", 1)[-1].split("/", 1)[0] or "tryghed.local"
    event.add("uid", f"request-{req.id}@{host}")
    event.add("dtstamp", rt.now())
    start = req.session_at.astimezone(rt.tz)
    event.add("dtstart", start)
    event.add("dtend", req.ends_at.astimezone(rt.tz) if req.ends_at else start + SESSION_LENGTH)
    event.add("summary", summary)
    event.add("location", req.place or "")
    event.add("description", "\n\n".join(paragraphs))
    cal.add_component(event)
    return cal.to_ical()
