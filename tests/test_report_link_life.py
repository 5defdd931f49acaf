"""The leader's report link lives TRYGHED_REPORT_LINK_DAYS, whatever the retention period, and dies with
the round's purge (410)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from survey.config import ConfigError, load_config
from survey.domain.purge import purge_expired
from survey.domain.report_links import SALT, report_link
from tests.conftest import make_app
from tests.helpers import close, read_outbox, setup_round, submit, token_of


def closed_round(app: Flask, tmp_path: Path) -> int:
    from survey.content import load_content

    _, round_id = setup_round(app, 5, min_responses=3)
    client = app.test_client()
    for msg in read_outbox(tmp_path / "outbox")[:3]:
        assert submit(client, token_of(msg), {i.key: 4 for i in load_content().instrument().items}).status_code == 200
    close(app, round_id)
    return round_id


def signed_days_ago(app: Flask, round_id: int, days: float) -> str:
    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days * 86400)

    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT, signer=PastSigner)
    return "/r/" + serializer.dumps({"round": round_id})


def test_links_expire_after_their_own_lifetime_even_with_retention_zero(tmp_path: Path) -> None:
    app = make_app(tmp_path, RETENTION_DAYS=0, REPORT_LINK_DAYS=7)
    round_id = closed_round(app, tmp_path)
    client = app.test_client()
    assert client.get(signed_days_ago(app, round_id, 6.9)).status_code == 200
    expired = client.get(signed_days_ago(app, round_id, 7.1))
    assert expired.status_code == 410 and "Runden er ikke åben" in expired.text


def test_a_purged_rounds_link_answers_410(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    round_id = closed_round(app, tmp_path)
    rt = app.extensions["tryghed"]
    with app.app_context():
        path = report_link(rt, round_id).removeprefix("http://tryghed.test")
    client = app.test_client()
    assert client.get(path).status_code == 200
    with rt.db.session() as s:
        assert purge_expired(s, rt.now() + timedelta(days=91), 90, timedelta(minutes=10))["purged_rounds"] == [round_id]
    assert client.get(path).status_code == 410


@pytest.mark.parametrize("bad", [0, -1, "abc", True, 4000])
def test_the_setting_is_validated(bad: object) -> None:
    with pytest.raises(ConfigError, match="TRYGHED_REPORT_LINK_DAYS"):
        load_config({"REPORT_LINK_DAYS": bad, "SECRET_KEY": "x"})
