"""``tryghed mail retry [ROUND_ID]`` and the team page's button send again what failed for good (issue 17,
acceptance 4): with the same Message-ID, only where a resend still means something, and a round whose
report email failed ends up ``reported``. Real SMTP (aiosmtpd) that bounces a mailbox, then takes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from survey.cli import main
from survey.data.models import Message, Round
from tests.conftest import make_app
from tests.helpers import SMTPSink, close, setup_round
from tests.web_helpers import add_account, csrf_of, login


def _cli(app: Any, *args: str) -> tuple[int, dict[str, Any]]:
    config = app.config
    env = {
        "TRYGHED_DATABASE_URL": config["DATABASE_URL"],
        "TRYGHED_SECRET_KEY": config["SECRET_KEY"],
        "TRYGHED_SMTP_HOST": config["SMTP_HOST"],
        "TRYGHED_SMTP_PORT": str(config["SMTP_PORT"]),
    }
    result = CliRunner().invoke(main, [*args, "--json"], env=env)
    return result.exit_code, json.loads(result.output.strip().splitlines()[-1])


def _messages(app: Any, round_id: int) -> list[Message]:
    with app.extensions["tryghed"].db.session() as s:
        return list(s.scalars(select(Message).where(Message.round_id == round_id).order_by(Message.id)))


def test_cli_resends_failed_invitations_with_their_message_id(tmp_path: Path, db_url: str, smtp: SMTPSink) -> None:
    smtp.reject.add("p1@example.org")
    app = make_app(tmp_path, db_url, **smtp.config())
    _team, round_id = setup_round(app, 3)
    failed = [m for m in _messages(app, round_id) if m.status == "failed"]
    assert [m.recipient for m in failed] == ["p1@example.org"]

    smtp.reject.clear()  # the facilitator fixed the mailbox (or the server is back)
    code, out = _cli(app, "mail", "retry", str(round_id))
    assert code == 0, out
    assert out["requeued"] == 1 and out["rounds"] == [round_id]
    got = smtp.to("p1@example.org")
    assert len(got) == 1 and got[0]["Message-ID"] == failed[0].message_id  # a resend is recognisable
    assert all(m.status == "sent" for m in _messages(app, round_id))
    assert len(smtp.messages) == 3  # nobody else got a second invitation

    code, out = _cli(app, "mail", "retry")  # nothing left: all rounds, nothing to do
    assert code == 0 and out["requeued"] == 0
    code, out = _cli(app, "mail", "retry", "999")
    assert code != 0 and "999" in out["error"]


def test_no_invitation_is_resent_after_close(tmp_path: Path, smtp: SMTPSink) -> None:
    smtp.reject.add("p2@example.org")
    app = make_app(tmp_path, **smtp.config())
    _team, round_id = setup_round(app, 3)
    close(app, round_id)
    smtp.reject.clear()
    code, out = _cli(app, "mail", "retry", str(round_id))
    assert code == 0 and out["requeued"] == 0  # the link would only say "round closed"
    assert not smtp.to("p2@example.org")


def test_team_page_resends_a_failed_report_and_the_round_is_reported(
    tmp_path: Path, db_url: str, smtp: SMTPSink
) -> None:
    smtp.reject.add("leder@example.org")
    app = make_app(tmp_path, db_url, **smtp.config())
    team_id, round_id = setup_round(app, 3)
    assert close(app, round_id)["status"] == "failed"
    report = next(m for m in _messages(app, round_id) if m.kind == "report")
    assert report.status == "failed"

    add_account(app, "fac@example.org", "facilitator")
    add_account(app, "leder@example.org", "leader")
    leader = app.test_client()
    assert login(leader, "leder@example.org") == 303
    page = leader.get(f"/teams/{team_id}").get_data(as_text=True)
    assert f"/rounds/{round_id}/mail/retry" not in page  # the button is for facilitators
    assert leader.post(f"/rounds/{round_id}/mail/retry", data={"csrf_token": csrf_of(page)}).status_code == 403

    client = app.test_client()
    assert login(client, "fac@example.org") == 303
    page = client.get(f"/teams/{team_id}").get_data(as_text=True)
    assert f'href="/rounds/{round_id}/mail/retry"' in page and "leder@example.org (report)" in page
    assert client.post(f"/rounds/{round_id}/mail/retry").status_code == 400  # no CSRF token: nothing done
    assert _messages(app, round_id)[-1].status == "failed"

    smtp.reject.clear()
    done = client.post(f"/rounds/{round_id}/mail/retry", data={"csrf_token": csrf_of(page)})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/teams/{team_id}#delivery")
    reports = smtp.to("leder@example.org")
    assert len(reports) == 1 and reports[0]["Message-ID"] == report.message_id
    with app.extensions["tryghed"].db.session() as s:
        rnd = s.get(Round, round_id)
        assert rnd is not None and rnd.status == "reported" and rnd.status_reason is None
    after = client.get(f"/teams/{team_id}").get_data(as_text=True)
    assert f"/rounds/{round_id}/mail/retry" not in after  # nothing failed any more
    # a second press resends nothing
    assert client.post(f"/rounds/{round_id}/mail/retry", data={"csrf_token": csrf_of(after)}).status_code == 303
    assert len(smtp.to("leder@example.org")) == 1


def test_closing_on_the_web_with_the_broker_down_is_no_500(tmp_path: Path) -> None:
    """The round closes, the page says the work waits, and the round is flagged for the first tick."""
    from datetime import timedelta

    from pipeline import heartbeat
    from survey.domain.rounds import due_rounds

    app = make_app(tmp_path)
    team_id, round_id = setup_round(app, 3)
    down = make_app(tmp_path / "down", app.config["DATABASE_URL"], BROKER_URL="redis://127.0.0.1:1/0")
    down.config["SECRET_KEY"] = app.config["SECRET_KEY"]
    add_account(down, "fac@example.org", "facilitator")
    client = down.test_client()
    assert login(client, "fac@example.org") == 303
    page = client.get(f"/teams/{team_id}").get_data(as_text=True)
    done = client.post(f"/rounds/{round_id}/close", data={"csrf_token": csrf_of(page)})
    assert done.status_code == 303
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "ikke at nå lige nu" in after or "not reachable right now" in after
    rt = down.extensions["tryghed"]
    with rt.db.session() as s:
        stalled = due_rounds(s, rt.now(), timedelta(seconds=600), heartbeat.beat_timeout(rt.config))["stalled"]
    assert stalled == [round_id]  # the first tick that reaches the broker re-drives it
