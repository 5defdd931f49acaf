"""Who answered is nobody's business: link guessing is slowed, the "answered" flag is shown per person
nowhere (CLI, emails, logs), and personal data of a finished round is purged after the retention period."""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from survey.cli import main
from survey.data.models import Invitation, LinkGuess, Message, Participant, Response, RetiredLink, Round, RoundResultRow
from survey.domain.ratelimit import DEFAULT_LIMIT, client_key, note_unknown
from tests.conftest import make_app
from tests.helpers import SMTPSink, close, read_outbox, setup_round, submit, text_part, token_of


def _answers(app: Any) -> dict[str, int]:
    return {item.key: 2 for item in app.extensions["tryghed"].content.instrument().items}


def _unknown() -> str:
    return secrets.token_urlsafe(32)[:43]


# -- link guessing ---------------------------------------------------------------------------------------


def test_unknown_links_are_refused_after_the_limit_but_a_real_link_still_works(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    setup_round(app, 3)
    token = token_of(read_outbox(tmp_path / "outbox")[0])
    client = app.test_client()
    statuses = [client.get(f"/s/{_unknown()}").status_code for _ in range(DEFAULT_LIMIT + 5)]
    assert statuses == [404] * DEFAULT_LIMIT + [429] * 5
    limited = client.post("/s/not-even-a-token")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    # the same client with a real link: not locked out
    assert client.get(f"/s/{token}").status_code == 200
    assert submit(client, token, _answers(app)).status_code == 200
    # another client is counted apart
    other = app.test_client()
    assert other.get(f"/s/{_unknown()}", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 404
    # the table keeps a keyed hash, never the address
    with app.extensions["tryghed"].db.session() as s:
        keys = s.scalars(select(LinkGuess.client)).all()
    assert len(keys) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", k) for k in keys)
    assert not any("127.0.0.1" in k or "10.0.0.9" in k for k in keys)
    app.extensions["tryghed"].db.dispose()


def test_guess_window_runs_out(db_url: str, tmp_path: Path) -> None:
    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    key = client_key("k", "192.0.2.1")
    now = rt.now()
    window = timedelta(minutes=10)
    with rt.db.session() as s:
        counts = [note_unknown(s, key, now, limit=3, window=window) for _ in range(4)]
        assert [v.count for v in counts] == [1, 2, 3, 4] and counts[-1].refused
        assert 1 <= counts[-1].retry_after <= 600
        later = note_unknown(s, key, now + window + timedelta(seconds=1), limit=3, window=window)
    assert later.count == 1 and not later.refused
    rt.db.dispose()


# -- the answered flag -------------------------------------------------------------------------------------


def _cli(args: list[str], db: str, **env: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, [*args, "--json"], env={"TRYGHED_DATABASE_URL": db, **env})
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_nobody_sees_who_answered(tmp_path: Path, smtp: SMTPSink, caplog: pytest.LogCaptureFixture) -> None:
    """CLI output, report/TRIO emails, the PDF's email and the logs name no participant; a failed reminder
    (which would tell that its recipient had not answered) is not listed by recipient."""
    caplog.set_level(logging.DEBUG)
    app = make_app(tmp_path, **smtp.config())
    db = f"sqlite:///{tmp_path / 'tryghed.sqlite'}"
    team_id, round_id = setup_round(app, 6)
    people = [f"p{i}@example.org" for i in range(6)]
    tokens = {p: token_of(smtp.to(p)[0]) for p in people}
    client = app.test_client()
    for p in people[:5]:
        assert submit(client, tokens[p], _answers(app)).status_code == 200
    smtp.reject.add(people[5])  # the one who has not answered has a mailbox that now bounces
    mail_env = {"TRYGHED_SMTP_HOST": "127.0.0.1", "TRYGHED_SMTP_PORT": str(smtp.port)}
    outputs = [_cli(["round", "remind", str(round_id)], db, **mail_env), _cli(["round", "show", str(round_id)], db)]
    assert outputs[0]["reminded"] == 1
    with app.extensions["tryghed"].db.session() as s:
        failed = s.scalars(select(Message).where(Message.status == "failed")).all()
    assert [m.kind for m in failed] == ["reminder"]  # the bounce happened...
    close(app, round_id)
    outputs += [_cli(["round", "show", str(round_id)], db), _cli(["tick"], db)]
    mails = [m for m in smtp.messages if m["To"] not in people]
    texts = [json.dumps(o) for o in outputs] + [text_part(m) for m in mails]
    # our logs (the SMTP server's own log, aiosmtpd's "mail.log", is the mail server's business)
    texts += [r.getMessage() for r in caplog.records if not r.name.startswith("mail.")]
    for blob in texts:
        for p in people:
            assert p not in blob and p.split("@")[0].replace("p", "Person ") not in blob
        for token in tokens.values():
            assert token not in blob
    app.extensions["tryghed"].db.dispose()
    del team_id


# -- retention ---------------------------------------------------------------------------------------------


def test_purge_removes_personal_data_of_finished_rounds(tmp_path: Path) -> None:
    app = make_app(tmp_path)  # the default retention: 90 days
    rt = app.extensions["tryghed"]
    db = f"sqlite:///{tmp_path / 'tryghed.sqlite'}"
    _team, old_id = setup_round(app, 6, team_name="Team Gammel")
    _team2, new_id = setup_round(app, 6, team_name="Team Ny")
    mails = read_outbox(tmp_path / "outbox")
    client = app.test_client()
    old_tokens = [token_of(m) for m in mails if "Gammel" in str(m["Subject"])]
    for token in old_tokens[:5]:
        assert submit(client, token, _answers(app)).status_code == 200
    close(app, old_id)
    close(app, new_id)
    with rt.db.session() as s:
        s.execute(update(Round).where(Round.id == old_id).values(closed_at=rt.now() - timedelta(days=91)))
        s.execute(update(Round).where(Round.id == new_id).values(closed_at=rt.now() - timedelta(days=89)))
        s.commit()

    result = _cli(["purge"], db)
    assert result["purged_rounds"] == [old_id]
    assert result["invitations"] == 6 and result["messages"] >= 7

    with rt.db.session() as s:

        def count(model: Any, round_id: int) -> int:
            return s.scalar(select(func.count()).select_from(model).where(model.round_id == round_id)) or 0

        assert count(Invitation, old_id) == 0 and count(Message, old_id) == 0
        assert count(Invitation, new_id) == 6  # not yet due
        assert count(Response, old_id) == 5 and s.get(RoundResultRow, old_id) is not None  # trends stay
        old = s.get(Round, old_id)
        assert old is not None and old.invited_count == 6 and old.purged_at is not None
        assert s.scalar(select(func.count()).select_from(Participant)) == 12  # still on their teams
    shown = _cli(["round", "show", str(old_id)], db)
    assert shown["invited"] == 6 and shown["responses"] == 5 and shown["pillars"][0]["mean"] is not None
    # the invitation is gone, but the link is still recognised: its owner is told the round is closed
    page = client.get(f"/s/{old_tokens[5]}")
    assert page.status_code == 410 and "ikke åben" in page.get_data(as_text=True)
    with rt.db.session() as s:
        kept = s.scalars(select(RetiredLink).where(RetiredLink.round_id == old_id)).all()
        assert len(kept) == 6 and {k.lang for k in kept} == {"da"}
        assert set(RetiredLink.__table__.columns.keys()) == {"token_hash", "round_id", "lang"}  # nothing personal
    assert _cli(["purge"], db)["purged_rounds"] == []  # idempotent

    # the scheduler purges too, and people who left the team go once no kept round invited them
    with rt.db.session() as s:
        s.execute(update(Round).where(Round.id == new_id).values(closed_at=rt.now() - timedelta(days=91)))
        s.execute(update(Participant).where(Participant.email == "p0@example.org").values(active=False))
        s.commit()
    assert _cli(["tick"], db)["purged"] == [new_id]
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Participant)) == 10
        assert s.scalar(select(func.count()).select_from(Invitation)) == 0
    rt.db.dispose()


def test_threshold_is_fixed_once_the_round_opens(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    _team, round_id = setup_round(app, 3)
    with app.extensions["tryghed"].db.session() as s:
        rnd = s.get(Round, round_id)
        assert rnd is not None and rnd.status == "open"
        with pytest.raises(ValueError, match="fixed"):
            rnd.min_responses = 3
    app.extensions["tryghed"].db.dispose()
