"""Composing the emails of the outbox (text + HTML, UTF-8), rebuilt from the database at send time."""

from __future__ import annotations

from email.message import EmailMessage
from functools import lru_cache
from typing import Any, Protocol

import jinja2

from survey.data.models import Invitation, Report, Round, RoundResultRow
from survey.domain.report_links import report_link
from survey.domain.tokens import make_token
from survey.locales import LANGS, N_, format_when, translate, translations
from survey.mail import mailtext
from survey.mail.nudges import NUDGE_KINDS, compose_nudge
from survey.paths import TEMPLATES_DIR
from survey.runtime import Runtime

# The subject of each kind of email (the catalogs translate them; every subject names the team)
_SUBJECTS = {
    "invitation": N_("What is it like to be in %(team)s? (%(duration)s, anonymous)"),
    "reminder": N_("Reminder: the safety survey for %(team)s closes %(closes)s"),
    "reminder_open": N_("Reminder: the safety survey for %(team)s – your link still works"),
    "report": N_("Report: psychological safety in %(team)s"),
    "trio": N_("For information: the safety round in %(team)s has closed"),
    "kickoff": N_("Before you start: psychological safety in %(team)s"),
}


class Addressed(Protocol):
    """What composing needs of an outbox row (a ``Message`` or a row claimed by ``survey.mail.outbox``)."""

    @property
    def round_id(self) -> int | None: ...
    @property
    def request_id(self) -> int | None: ...
    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def lang(self) -> str: ...
    @property
    def invitation_id(self) -> int | None: ...
    @property
    def message_id(self) -> str: ...


@lru_cache(maxsize=len(LANGS))
def _environment(lang: str) -> jinja2.Environment:
    """The email templates with the catalog of ``lang`` installed: one set of templates for every language,
    its texts in ``{% trans %}`` blocks and ``_()``, and each language's own compiled copy (a worker renders
    without a request, so the language cannot come from Flask-Babel's per-request locale)."""
    from pipeline.report_text import format_mean

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = lang
    env.filters["mean"] = lambda value: format_mean(value, lang)  # the PDF's style: "3,25" / "3.25"
    return env


def render_email(kind: str, lang: str, ext: str, /, **context: object) -> str:
    """The body of ``kind`` ("txt" or "html") in ``lang`` (Danish when unknown)."""
    return _environment(lang if lang in LANGS else "da").get_template(f"email/{kind}.{ext}").render(**context)


def _render_pair(kind: str, lang: str, **context: object) -> tuple[str, str]:
    """The text and HTML bodies of ``kind`` in ``lang``."""
    return render_email(kind, lang, "txt", **context), render_email(kind, lang, "html", **context)


def _message(rt: Runtime, msg: Addressed, subject: str, text: str, html: str) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = mailtext.sender(rt.config)
    email["To"] = msg.recipient
    if reply_to := mailtext.reply_to(rt.config):
        email["Reply-To"] = reply_to
    email["Message-ID"] = msg.message_id
    email["Date"] = mailtext.mail_date(rt.now(), rt.tz)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(text, charset="utf-8")
    email.add_alternative(html, subtype="html", charset="utf-8")
    return email


def _common(rt: Runtime, rnd: Round, lang: str) -> dict[str, Any]:
    """The template values every email of a round shares, in ``lang``."""
    team = rnd.team
    instrument = rt.content.instrument(rnd.instrument)
    minutes = mailtext.answer_minutes(len(instrument.items))
    return {
        "team": team.name,
        "closes": format_when(rnd.closes_at, lang, rt.tz),
        "links": rt.content.links,
        "k": rnd.min_responses,
        "leader_name": team.leader_name,
        "survey_title": instrument.title.get(lang),
        "n_items": len(instrument.items),
        "duration": mailtext.duration_text(minutes, lang),
        "scale_min": instrument.scale_min,
        "scale_max": instrument.scale_max,
        **mailtext.identity(rt.config),
    }


def personal_parts(rt: Runtime, rnd: Round, kind: str, lang: str, link: str) -> tuple[str, str, str]:
    """Subject, text and HTML of an invitation or reminder: the same for the whole round but the link."""
    common = _common(rt, rnd, lang)
    closes = common["closes"]
    # a round without a close date gets a subject that does not end mid-sentence
    key = kind if closes or kind != "reminder" else "reminder_open"
    subject = translate(lang, _SUBJECTS[key], team=rnd.team.name, closes=closes, duration=common["duration"])
    text, html = _render_pair(kind, lang, link=link, subject=subject, **common)
    return subject, text, html


def compose(rt: Runtime, session: object, msg: Addressed) -> EmailMessage:
    """The email for one outbox row. Raises LookupError when what it needs no longer exists."""
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    if msg.kind in NUDGE_KINDS:
        return compose_nudge(rt, session, msg, _render_pair, _message)
    rnd = session.get(Round, msg.round_id)
    if rnd is None:
        raise LookupError(f"round {msg.round_id} no longer exists")
    team = rnd.team
    lang = msg.lang
    common = _common(rt, rnd, lang)
    instrument = rt.content.instrument(rnd.instrument)

    if msg.kind in ("invitation", "reminder"):
        inv = session.get(Invitation, msg.invitation_id) if msg.invitation_id else None
        if inv is None:
            raise LookupError("the invitation was purged")
        link = rt.link(make_token(rt.config["SECRET_KEY"], inv.nonce))
        subject, text, html = personal_parts(rt, rnd, msg.kind, lang, link)
        return _message(rt, msg, subject, text, html)

    if msg.kind == "report":
        report = session.get(Report, rnd.id)
        result = session.get(RoundResultRow, rnd.id)
        if report is None or result is None:
            raise LookupError(f"round {rnd.id} has no report yet")
        focus = [instrument.pillar(k).name.get(lang) for k in result.focus_pillars]
        hacks = [h for h in rt.content.hacks if h.key in result.hack_keys]
        subject = translate(lang, _SUBJECTS["report"], team=team.name)
        text, html = _render_pair(
            "report",
            lang,
            subject=subject,
            responses=result.responses,
            invited=rnd.invited_count,
            suppressed=result.suppressed,
            focus=focus,
            hacks=hacks,
            followup=rnd.kind == "followup",
            report_url=report_link(rt, rnd.id, leader_changed_at=team.leader_changed_at),
            **common,
        )
        email = _message(rt, msg, subject, text, html)
        filename = f"tryghed-{_slug(team.name)}-runde-{rnd.number}.pdf"
        email.add_attachment(report.pdf, maintype="application", subtype="pdf", filename=filename)
        return email

    if msg.kind == "trio":
        result = session.get(RoundResultRow, rnd.id)
        if result is None:
            raise LookupError(f"round {rnd.id} is not aggregated")
        pillars = (
            []
            if result.suppressed
            else [
                {"name": instrument.pillar(p["key"]).name.get(lang), "mean": p["mean"]}
                for p in result.result["pillars"]
            ]
        )
        subject = translate(lang, _SUBJECTS["trio"], team=team.name)
        text, html = _render_pair(
            "trio",
            lang,
            subject=subject,
            responses=result.responses,
            invited=rnd.invited_count,
            suppressed=result.suppressed,
            pillars=pillars,
            **common,
        )
        return _message(rt, msg, subject, text, html)

    if msg.kind == "kickoff":
        content = rt.content
        subject = translate(lang, _SUBJECTS["kickoff"], team=team.name)
        text, html = _render_pair(
            "kickoff",
            lang,
            subject=subject,
            steps=content.steps,
            pillars=instrument.pillars,
            roles=content.roles,
            traps=content.traps,
            tracks=content.tracks,
            about=content.about,
            instrument_about=instrument.about,
            official_url=instrument.official_url,
            measures=content.measures,
            **common,
        )
        return _message(rt, msg, subject, text, html)

    raise LookupError(f"unknown message kind {msg.kind!r}")


def _slug(name: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
    cleaned = "".join(c if c.isalnum() else "-" for c in name.translate(table).lower())
    return "-".join(part for part in cleaned.split("-") if part)[:40] or "team"
