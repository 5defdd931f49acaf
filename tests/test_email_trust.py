"""Emails a cautious reader can trust: every kind (invitation, reminder, report, TRIO notice, kick-off) in
both languages, as written to the outbox and parsed strictly (``email.policy.strict``).

- every HTML part has a ``<title>``;
- ``Date`` carries the Europe/Copenhagen offset, never "-0000";
- no sentence has an empty value (a round without a close date, a leader without a name);
- the organisation and a named contact person are in the sender and in the body;
- the reminder does not suggest monitoring, and the report email's meeting advice appears only when
  there are results to discuss.
"""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from pipeline.tasks import run_pipeline, send_pending
from survey.config import ConfigError, load_config
from survey.domain.kickoff import queue_kickoff
from survey.domain.rounds import close_round, create_round, open_round, remind_round
from survey.domain.teams import add_team, import_participants
from tests.conftest import make_app
from tests.helpers import submit, token_of

SENDER = {
    "MAIL_FROM": "tryghed@kommune.example",
    "ORG_NAME": "Socialforvaltningen, Eksempel Kommune",
    "CONTACT_NAME": "Mette Sørensen",
    "CONTACT_EMAIL": "mette.soerensen@kommune.example",
}
KINDS = ("invitation", "reminder", "report", "trio", "kickoff")
# A value left empty shows up as a space before punctuation ("Runden lukker ."), empty brackets, a
# doubled space, a literal None, or a template marker that was never filled in.
EMPTY_VALUE = re.compile(r"\w \.|\s,|:\s*[.,]|\(\s*\)|»\s*«|‘\s*’|\bNone\b|\{\{|\}\}|(?<=\S)[^\S\n]{2,}\S")
MEETING_ADVICE = ("Gode råd til mødet", "Advice for the meeting")


def _strict(path: Path) -> EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.strict)
    assert isinstance(msg, EmailMessage)
    return msg


def _body(msg: EmailMessage, kind: str) -> str:
    part = msg.get_body(preferencelist=(kind,))
    assert part is not None, f"no {kind} part"
    return str(part.get_content())


def _run_every_kind(app: Flask, lang: str, *, answers: int, team_name: str, leader_name: str | None) -> int:
    """A team with a round without a close date: kick-off, invitations, a reminder, answers, close
    (report to the leader, notice to the TRIO). Returns the round id."""
    rt = app.extensions["tryghed"]
    with app.app_context():
        with rt.db.session() as s:
            team = add_team(
                s, team_name, "leder@kommune.example", leader_name, lang, trio_emails=["tr@kommune.example"]
            )
            rows = "\n".join(f"p{i}@kommune.example,Person {i},{lang}" for i in range(6))
            import_participants(s, team.id, f"email,name,lang\n{rows}\n")
            round_id = create_round(rt, s, team.id, min_responses=3).id
            queue_kickoff(s, round_id)
            open_round(rt, s, round_id)
        send_pending.delay(round_id)
        with rt.db.session() as s:
            remind_round(rt, s, round_id)
        send_pending.delay(round_id)
    outbox = Path(rt.config["OUTBOX_DIR"])
    invitations = [m for m in map(_strict, outbox.glob("*.eml")) if team_name in str(m["Subject"])]
    tokens = sorted(
        {token_of(m) for m in invitations if "kommune.example" in str(m["To"]) and "/s/" in _body(m, "plain")}
    )
    client = app.test_client()
    items = rt.content.instrument().items
    for token in tokens[:answers]:
        assert submit(client, token, {i.key: 4 for i in items}).status_code == 200
    with app.app_context():
        with rt.db.session() as s:
            close_round(rt, s, round_id)
        run_pipeline.delay(round_id)
    return round_id


def _kind(msg: EmailMessage) -> str:
    subject = str(msg["Subject"])
    for kind, words in {
        "reminder": ("Påmindelse", "Reminder"),
        "report": ("Rapport:", "Report:"),
        "trio": ("Til orientering", "For information"),
        "kickoff": ("Før I går i gang", "Before you start"),
        "invitation": ("Hvordan er det", "What is it like"),
    }.items():
        if subject.startswith(words):
            return kind
    raise AssertionError(f"unknown email: {subject}")


@pytest.fixture(scope="module", params=["da", "en"])
def every_kind(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[EmailMessage], list[EmailMessage]]:
    """All five kinds for a reported round and the report of a suppressed one, with the sender settings.

    Built once per language for the module (a round through the pipeline takes seconds)."""
    lang = request.param
    tmp_path = tmp_path_factory.mktemp(f"mail-{lang}")
    app = make_app(tmp_path, INSTANCE_PATH=str(tmp_path / "instance"), **SENDER)
    _run_every_kind(app, lang, answers=4, team_name="Team Havblik", leader_name=None)
    first = {p.name for p in (tmp_path / "outbox").glob("*.eml")}
    _run_every_kind(app, lang, answers=1, team_name="Team Lyngbakken", leader_name="Lis Leder")
    app.extensions["tryghed"].db.dispose()
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    reported = [_strict(p) for p in files if p.name in first]
    suppressed = [_strict(p) for p in files if p.name not in first]
    return lang, reported, suppressed


def test_every_kind_is_sent(every_kind: tuple[str, list[EmailMessage], list[EmailMessage]]) -> None:
    _, reported, suppressed = every_kind
    assert {_kind(m) for m in reported} == set(KINDS)
    assert "report" in {_kind(m) for m in suppressed}


def test_html_parts_have_a_title(every_kind: tuple[str, list[EmailMessage], list[EmailMessage]]) -> None:
    _, reported, suppressed = every_kind
    for msg in reported + suppressed:
        found = re.search(r"<title>([^<]*)</title>", _body(msg, "html"))
        assert found and found.group(1).strip(), f"{_kind(msg)}: no <title>"
        assert found.group(1) == str(msg["Subject"])


def test_date_has_the_copenhagen_offset(every_kind: tuple[str, list[EmailMessage], list[EmailMessage]]) -> None:
    _, reported, _ = every_kind
    for msg in reported:
        raw = msg.get("Date")
        assert "-0000" not in str(raw)
        sent = msg["Date"].datetime
        assert sent.utcoffset() == sent.astimezone(ZoneInfo("Europe/Copenhagen")).utcoffset()
        assert sent.utcoffset() in (timedelta(hours=1), timedelta(hours=2))


def test_no_sentence_with_an_empty_value(every_kind: tuple[str, list[EmailMessage], list[EmailMessage]]) -> None:
    _, reported, suppressed = every_kind
    for msg in reported + suppressed:
        subject = str(msg["Subject"])
        assert not re.search(r"(lukker|closes)\s*$", subject), subject
        for kind in ("plain", "html"):
            text = _body(msg, kind)
            if kind == "html":
                text = re.sub(r"<[^>]+>", "", text)
            bad = EMPTY_VALUE.search(text)
            assert bad is None, f"{_kind(msg)} ({kind}): {text[max(0, bad.start() - 60) : bad.end() + 20]!r}"
            assert "lukker ." not in text and "closes ." not in text


def test_sender_and_body_name_the_organisation_and_contact(
    every_kind: tuple[str, list[EmailMessage], list[EmailMessage]],
) -> None:
    _, reported, _ = every_kind
    for msg in reported:
        sender = msg["From"]
        assert sender.addresses[0].addr_spec == "tryghed@kommune.example"
        assert SENDER["CONTACT_NAME"] in sender.addresses[0].display_name
        assert SENDER["ORG_NAME"] in sender.addresses[0].display_name
        assert msg["Reply-To"].addresses[0].addr_spec == SENDER["CONTACT_EMAIL"]
        for kind in ("plain", "html"):
            body = _body(msg, kind)
            for value in (SENDER["ORG_NAME"], SENDER["CONTACT_NAME"], SENDER["CONTACT_EMAIL"]):
                assert value in body, f"{_kind(msg)} ({kind}) lacks {value}"


def test_reminder_does_not_suggest_monitoring(every_kind: tuple[str, list[EmailMessage], list[EmailMessage]]) -> None:
    _, reported, _ = every_kind
    reminders = [m for m in reported if _kind(m) == "reminder"]
    assert reminders
    for msg in reminders:
        text = _body(msg, "plain").lower()
        # the old sentence told people their answers were being "registered" per person
        assert "registreret" not in text and "registered" not in text
        assert "ikke er brugt" in text or "not been used" in text


def test_meeting_advice_only_when_there_is_something_to_discuss(
    every_kind: tuple[str, list[EmailMessage], list[EmailMessage]],
) -> None:
    _, reported, suppressed = every_kind
    (report,) = [m for m in reported if _kind(m) == "report"]
    (empty,) = [m for m in suppressed if _kind(m) == "report"]
    for kind in ("plain", "html"):
        assert any(a in _body(report, kind) for a in MEETING_ADVICE)
        assert not any(a in _body(empty, kind) for a in MEETING_ADVICE)


def test_without_sender_settings_nothing_is_left_blank(tmp_path: Path) -> None:
    """An installation that has not set the organisation yet still sends whole sentences."""
    app = make_app(tmp_path)
    _run_every_kind(app, "da", answers=4, team_name="Team Engen", leader_name=None)
    app.extensions["tryghed"].db.dispose()
    for path in sorted((tmp_path / "outbox").glob("*.eml")):
        msg = _strict(path)
        assert str(msg["From"]) == "Tryghed <tryghed@localhost>"
        for kind in ("plain", "html"):
            text = re.sub(r"<[^>]+>", "", _body(msg, kind))
            assert EMPTY_VALUE.search(text) is None, (_kind(msg), text)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"CONTACT_NAME": "Mette"}, "set both"),
        ({"CONTACT_NAME": "Mette", "CONTACT_EMAIL": "not-an-address"}, "TRYGHED_CONTACT_EMAIL"),
        ({"ORG_NAME": "Kommune\nBcc: x@example.org"}, "TRYGHED_ORG_NAME"),
        ({"ORG_NAME": 42}, "TRYGHED_ORG_NAME"),
    ],
)
def test_sender_settings_are_validated(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({**settings, "SECRET_KEY": "x"})
