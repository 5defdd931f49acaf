"""Issue 20, point 1: after a change of leader the old leader's emailed report links are refused, and mail
still waiting for the old leader goes to the new one (the report, with a fresh link that works; the kick-off;
a planned session's invitation) or is cancelled (nudges about steps the old leader can no longer take),
each noted in the audit log and said where the change is confirmed. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from pipeline.steps import run_pipeline
from survey.content import load_content
from survey.data.models import AuditEvent, Message, Round, Team
from survey.domain.kickoff import queue_kickoff
from survey.domain.organisation import set_leader
from survey.domain.report_links import read_link, report_link, signed_before_change
from survey.domain.rounds import close_round
from survey.mail import outbox
from tests.conftest import make_app
from tests.helpers import read_outbox, setup_round, submit, text_part, token_of
from tests.test_cli import run
from tests.web_helpers import add_account, login, post_form

OLD, NEW = "leder@example.org", "nina@example.org"
REPORT_LINK = re.compile(r"http://tryghed\.test(/r/[A-Za-z0-9_.-]+)")


def _reported_but_not_sent(app: Flask, tmp_path: Path) -> tuple[int, int]:
    """A team whose round is closed and rendered, with the report email to the old leader still queued."""
    team_id, round_id = setup_round(app, 5, min_responses=3)
    client = app.test_client()
    items = load_content().instrument().items
    for msg in read_outbox(tmp_path / "outbox")[:3]:
        assert submit(client, token_of(msg), {i.key: 4 for i in items}).status_code == 200
    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        close_round(rt, s, round_id)
        # a sender that sends nothing: the pipeline stops at "sending" with the report queued
        assert run_pipeline(rt, s, round_id, lambda _rid: {}) == "sending"
        queue_kickoff(s, round_id)
        outbox.queue(s, round_id=round_id, kind="debrief", recipient=OLD, lang="da")
        s.commit()
    return team_id, round_id


def _rows(app: Flask, round_id: int) -> list[tuple[str, str, str]]:
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        rows = s.execute(
            select(Message.kind, Message.recipient, Message.status)
            .where(Message.round_id == round_id, Message.kind.not_in(("invitation", "reminder")))
            .order_by(Message.id)
        ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_the_old_leaders_link_is_refused_and_the_queued_report_reaches_the_new_leader(
    tmp_path: Path, db_url: str
) -> None:
    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    team_id, round_id = _reported_but_not_sent(app, tmp_path)
    with app.app_context():
        old_link = report_link(rt, round_id).removeprefix("http://tryghed.test")  # what the old leader holds
    client = app.test_client()
    assert client.get(old_link).status_code == 200
    add_account(app, "fie@example.org", "admin")
    fie = app.test_client()
    assert login(fie, "fie@example.org") == 303

    done: Any = post_form(
        fie,
        f"/teams/{team_id}",
        f"/teams/{team_id}/leader",
        {"leader-leader_email": NEW, "leader-leader_name": "Nina", "leader-unit": ""},
    )
    assert done.status_code == 303
    # where the change is confirmed: what became of the waiting mail, and that the old links are dead
    page = fie.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Rapportlinks sendt til {OLD} åbner ikke længere rapporterne." in page
    assert f"Rapportmailen fra runde 1, som endnu ikke var sendt til {OLD}, går i stedet til {NEW}" in page
    assert f"Kick-off-mailen, som endnu ikke var sendt til {OLD}, går i stedet til {NEW}." in page
    assert f"En påmindelse til {OLD} om runde 1 er annulleret" in page

    # the old leader's link: refused, a styled page that names nothing of the team
    for path in (old_link, old_link + "/debrief"):
        refused = client.get(path)
        assert refused.status_code == 410
        html = refused.get_data(as_text=True)
        assert "Linket åbner ikke længere rapporten" in html and "Æblegården" not in html and OLD not in html
    # the queued mail: report and kick-off go to the new leader, the old leader's nudge is cancelled
    assert _rows(app, round_id) == [
        ("report", OLD, "cancelled"),
        ("kickoff", OLD, "cancelled"),
        ("debrief", OLD, "cancelled"),
        ("report", NEW, "pending"),
        ("kickoff", NEW, "pending"),
    ]
    with rt.db.session() as s:
        events = [(e.action, e.subject) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert ("leader_changed", f"team {team_id}: {OLD} -> {NEW}") in events
    assert ("mail_readdressed", f"team {team_id}: round {round_id} report -> {NEW}") in events
    assert ("mail_readdressed", f"team {team_id}: round {round_id} kickoff -> {NEW}") in events
    assert ("mail_cancelled", f"team {team_id}: round {round_id} debrief") in events

    # the pipeline goes on: the report reaches the new leader, with a fresh link that works
    before = {p.name for p in (tmp_path / "outbox").glob("*.eml")}
    from pipeline.tasks import send_pending

    with app.app_context(), rt.db.session() as s:
        assert run_pipeline(rt, s, round_id, send_pending) == "done"
        assert s.get(Round, round_id).status == "reported"  # type: ignore[union-attr]
    sent = [m for m in read_outbox(tmp_path / "outbox")]
    new_mail = [m for m in sent if m["To"] and NEW in m["To"]]
    assert {m["To"] for m in sent if m["To"] and OLD in m["To"]} == set()  # nothing to the old leader
    assert len(new_mail) == 2 and len({p.name for p in (tmp_path / "outbox").glob("*.eml")} - before) == 2
    report_mail = next(m for m in new_mail if any(True for _ in m.iter_attachments()))
    fresh = REPORT_LINK.search(text_part(report_mail))
    assert fresh is not None
    assert client.get(fresh.group(1)).status_code == 200
    assert client.get(old_link).status_code == 410
    assert _rows(app, round_id)[-2:] == [("report", NEW, "sent"), ("kickoff", NEW, "sent")]
    app.extensions["tryghed"].db.dispose()


def test_a_report_that_failed_for_good_goes_to_the_new_leader_and_the_round_finishes(
    tmp_path: Path, db_url: str
) -> None:
    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    team_id, round_id = _reported_but_not_sent(app, tmp_path)
    with rt.db.session() as s:  # the report could not be delivered: the round ended failed
        msg = s.scalars(select(Message).where(Message.round_id == round_id, Message.kind == "report")).one()
        msg.status, msg.last_error = "failed", "SMTPRecipientsRefused: no such mailbox"
        rnd = s.get(Round, round_id)
        assert rnd is not None
        rnd.status, rnd.pipeline_step = "failed", "done"
        s.commit()
    with rt.db.session() as s:
        change = set_leader(s, team_id, NEW.upper(), actor="cli", now=rt.now())
        assert change.changed and change.old_email == OLD
        assert [(h.kind, h.outcome) for h in change.mail] == [
            ("report", "readdressed"),
            ("kickoff", "readdressed"),
            ("debrief", "cancelled"),
        ]
        rnd = s.get(Round, round_id)
        assert rnd is not None and (rnd.status, rnd.pipeline_step) == ("closing", "sending")
    from pipeline.tasks import send_pending

    with app.app_context(), rt.db.session() as s:
        assert run_pipeline(rt, s, round_id, send_pending) == "done"
        assert s.get(Round, round_id).status == "reported"  # type: ignore[union-attr]
    assert ("report", NEW, "sent") in _rows(app, round_id)

    # the same email again (any case) changes nothing: no new refusal moment, no mail moved
    with rt.db.session() as s:
        at = s.get(Team, team_id).leader_changed_at  # type: ignore[union-attr]
        again = set_leader(s, team_id, "Nina@Example.org", "Nina N.", now=rt.now())
        assert not again.changed and again.mail == []
        assert s.get(Team, team_id).leader_changed_at == at  # type: ignore[union-attr]
    app.extensions["tryghed"].db.dispose()


def test_links_signed_in_the_second_of_the_change_are_refused_and_new_ones_wait(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    _, round_id = setup_round(app, 3, min_responses=3)
    with app.app_context():
        token = report_link(rt, round_id).rsplit("/", 1)[1]
        link = read_link(rt, token)
        assert link is not None and link.round_id == round_id
        assert not signed_before_change(link, None)
        # the change later in the same second as signing: refused (the timestamp has whole seconds)
        assert signed_before_change(link, link.signed_at.replace(microsecond=999_999))
        changed = rt.now()
        fresh = read_link(rt, report_link(rt, round_id, leader_changed_at=changed).rsplit("/", 1)[1])
        assert fresh is not None and not signed_before_change(fresh, changed)
    app.extensions["tryghed"].db.dispose()


def test_team_set_on_the_command_line_hands_the_mail_over(tmp_path: Path) -> None:
    run(tmp_path, "init")
    team = run(tmp_path, "team", "add", "Bo Nord", "--leader-email", OLD)["id"]
    rnd = run(tmp_path, "round", "create", str(team))["id"]
    run(tmp_path, "round", "kickoff", str(rnd))  # sent at once without a broker: nothing waits
    renamed = run(tmp_path, "team", "set", str(team), "--leader-name", "Lis")
    assert renamed["mail"] == [] and renamed["leader_email"] == OLD
    moved = run(tmp_path, "team", "set", str(team), "--leader-email", NEW)
    assert moved["leader_email"] == NEW and moved["mail"] == []
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'tryghed.sqlite'}")
    with engine.connect() as c:
        changed = c.execute(select(Team.leader_changed_at).where(Team.id == team)).scalar()
        actions = c.execute(select(AuditEvent.action, AuditEvent.subject).order_by(AuditEvent.id)).all()
    engine.dispose()
    assert changed is not None
    assert ("leader_changed", f"team {team}: {OLD} -> {NEW}") in actions
    assert [a for a, _ in actions].count("leader_changed") == 1  # a new name alone is no change of leader


def test_a_sender_that_held_the_old_leaders_email_cannot_revive_it(tmp_path: Path, db_url: str) -> None:
    """A sender claimed the report for the old leader, then the leader changed, then the send failed: its
    retry mark leaves the row cancelled (it would otherwise go to the old leader at the next attempt)."""
    from survey.mail.transport import TransientFailure

    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    team_id, round_id = _reported_but_not_sent(app, tmp_path)
    with rt.db.session() as s:
        claimed = outbox.claim_batch(s, rt.now(), outbox.lease_of(rt.config), 10, round_id)
        held = [c for c in claimed if c.kind == "report"]
        assert len(held) == 1
    with rt.db.session() as s:
        set_leader(s, team_id, NEW, now=rt.now())
    with rt.db.session() as s:
        results = outbox._Results(s, outbox.BACKOFF)
        results.fail(held[0], TransientFailure("421 try again later"))
        results.flush(rt.now())
    assert ("report", OLD, "cancelled") in _rows(app, round_id)
    assert ("report", NEW, "pending") in _rows(app, round_id)
    app.extensions["tryghed"].db.dispose()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_confirmation_of_a_change_of_leader_has_no_axe_violations(tmp_path: Path, browser: Any, lang: str) -> None:
    """The team page as it comes back after a change of leader in a real browser, with the lines that say
    what became of each waiting email (re-addressed, cancelled), at 390 and 1280 px, Danish and English."""
    from tests.helpers import LiveServer
    from tests.test_web_a11y import _check, _login

    app = make_app(tmp_path)
    team_id, _round_id = _reported_but_not_sent(app, tmp_path)
    add_account(app, "fie@example.org", "admin", lang=lang)
    failures: list[str] = []
    with LiveServer(app) as live:
        context = browser.new_context(locale="da-DK" if lang == "da" else "en-GB")
        page = context.new_page()
        _login(page, live.url, "fie@example.org")
        page.goto(f"{live.url}/teams/{team_id}")
        page.fill("#leader-leader_email", NEW)
        with page.expect_navigation():
            page.locator("#organisation button[type=submit]").click()
        assert page.url.endswith(f"/teams/{team_id}#organisation")
        flashes = page.locator(".flashes .flash").all_inner_texts()
        assert len(flashes) == 6 and sum(OLD in text for text in flashes) == 4, flashes  # 3 mails + dead links
        _check(page, "after the change", failures)  # axe at 390 and 1280 px, nothing wider than the screen
        context.close()
    app.extensions["tryghed"].db.dispose()
    assert not failures, "\n\n".join(failures)
