"""Composing the nudge emails (``survey.domain.nudges`` decides and queues them): text + HTML in the
recipient's language, and for a planned facilitation session an .ics calendar invitation."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import Session

from survey.data.models import Action, FacilitationRequest, Round, Team
from survey.domain.report_links import report_link
from survey.i18n import format_when
from survey.runtime import Runtime

NUDGE_KINDS = ("debrief", "no_plan", "action_due", "action_overdue", "request_new", "session_planned")
# the toolkit's sessions take 1.5-4 hours, as needed: the calendar holds the end the facilitator planned,
# and two hours when they gave none (a placeholder in the calendar, not a length the toolkit names)
SESSION_LENGTH = timedelta(hours=2)

# Subject, greeting and paragraphs per kind and language; {placeholders} are filled from the row's data.
TEXTS: dict[str, dict[str, dict[str, Any]]] = {
    "debrief": {
        "da": {
            "subject": "Næste skridt for {team}: hold mødet om resultaterne",
            "body": [
                "Rapporten for {team} er kommet. Næste skridt er teammødet, hvor I taler om resultaterne, "
                "vælger jeres fokus og aftaler en handleplan.",
                "Guiden til mødet giver en dagsorden med tider og spørgsmål, bygget på jeres egne tal.",
            ],
            "link_label": "Åbn guiden til teammødet",
        },
        "en": {
            "subject": "Next step for {team}: hold the meeting about the results",
            "body": [
                "The report for {team} has arrived. The next step is the team meeting where you discuss the "
                "results, choose your focus and agree an action plan.",
                "The guide for the meeting gives an agenda with times and questions, built from your own figures.",
            ],
            "link_label": "Open the guide for the team meeting",
        },
    },
    "no_plan": {
        "da": {
            "subject": "{team}: fokus og handleplan mangler stadig",
            "body": [
                "Det er to uger siden, rapporten for {team} kom, og {missing} er endnu ikke registreret.",
                "Registrér teamets valg på siden for teammødet, så næste rapport kan følge op på det.",
            ],
            "link_label": "Åbn teammødet og handleplanen",
            "missing_focus": "jeres fokus",
            "missing_plan": "handleplanen",
            "missing_both": "hverken jeres fokus eller handleplanen",
        },
        "en": {
            "subject": "{team}: the focus and action plan are still missing",
            "body": [
                "It is two weeks since the report for {team} arrived, and {missing} has not been recorded yet.",
                "Record the team's choices on the debrief page, so that the next report can follow them up.",
            ],
            "link_label": "Open the debrief and the action plan",
            "missing_focus": "your focus",
            "missing_plan": "the action plan",
            "missing_both": "neither your focus nor the action plan",
        },
    },
    "action_due": {
        "da": {
            "subject": "Snart frist: {what_short}",
            "body": ["Handlingen »{what}« i {team}s handleplan har frist {due}.", "Er den gjort, så markér den."],
            "link_label": "Åbn handleplanen",
        },
        "en": {
            "subject": "Due soon: {what_short}",
            "body": ["The action “{what}” in the action plan of {team} is due {due}.", "If it is done, mark it so."],
            "link_label": "Open the action plan",
        },
    },
    "action_overdue": {
        "da": {
            "subject": "Fristen er overskredet: {what_short}",
            "body": [
                "Handlingen »{what}« i {team}s handleplan havde frist {due}.",
                "Markér, om den er gjort, i gang eller droppet, eller giv den en ny frist.",
            ],
            "link_label": "Åbn handleplanen",
        },
        "en": {
            "subject": "Overdue: {what_short}",
            "body": [
                "The action “{what}” in the action plan of {team} was due {due}.",
                "Mark it done, ongoing or dropped, or give it a new due date.",
            ],
            "link_label": "Open the action plan",
        },
    },
    "request_new": {
        "da": {
            "subject": "{team} ønsker en facilitator",
            "body": ["{team} har bedt om en facilitator til: {kind}.", "{note}"],
            "link_label": "Se forespørgslerne",
        },
        "en": {
            "subject": "{team} asks for a facilitator",
            "body": ["{team} has asked for a facilitator for: {kind}.", "{note}"],
            "link_label": "See the requests",
        },
    },
    "session_planned": {
        "da": {
            "subject": "Planlagt: {kind} med {team} {when}",
            "body": [
                "Facilitatoren har planlagt {kind} for {team}: {when}, {place}.",
                "{bring}",
                "Kalenderinvitationen er vedhæftet.",
            ],
            "link_label": "Åbn teamets side",
        },
        "en": {
            "subject": "Planned: {kind} with {team} {when}",
            "body": [
                "The facilitator has planned {kind} for {team}: {when}, {place}.",
                "{bring}",
                "The calendar invitation is attached.",
            ],
            "link_label": "Open the team's page",
        },
    },
}

KIND_NAMES = {
    "da": {
        "premeeting": "formøde med lederen",
        "briefing": "orientering af medarbejderne",
        "measurement": "screeningen (målingen)",
        "debriefing": "mødet om resultaterne",
        "sparring": "sparring på arbejdet",
        "followup": "et opfølgningsforløb",
    },
    "en": {
        "premeeting": "a pre-meeting with the leader",
        "briefing": "a briefing of the staff",
        "measurement": "the screening (the survey round)",
        "debriefing": "the meeting about the results",
        "sparring": "sparring on the work",
        "followup": "a follow-up process",
    },
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
            kind=KIND_NAMES[lang].get(req.kind, req.kind),
            note=req.note or "",
            when=format_when(req.session_at, lang, rt.tz),
            place=req.place or "",
            bring=(("Medbring: " if lang == "da" else "Bring: ") + req.bring) if req.bring else "",
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
        link = report_link(rt, rnd.id) + "/debrief"
    elif msg.kind == "no_plan":
        has_plan = session.query(Action.id).filter(Action.round_id == rnd.id).first() is not None
        texts = TEXTS["no_plan"][lang]
        key = (
            "missing_both"
            if rnd.chosen_focus is None and not has_plan
            else ("missing_focus" if rnd.chosen_focus is None else "missing_plan")
        )
        values["missing"] = texts[key]
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
    texts = TEXTS[kind][lang]
    fill = {k: v for k, v in values.items() if not k.startswith("_")}
    subject = texts["subject"].format(**fill)
    paragraphs = [p for p in (line.format(**fill) for line in texts["body"]) if p.strip()]
    greeting = "Hej" if lang == "da" else "Hello"
    text, html = render_pair(
        "nudge",
        lang,
        subject=subject,
        greeting=greeting,
        paragraphs=paragraphs,
        link=link,
        link_label=texts["link_label"],
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
