"""The report as a web page: reached through the signed link in the leader's email, same content."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from pipeline.report_text import format_mean
from tests.helpers import close, read_outbox, setup_round, submit, text_part, token_of


def _answer(client: FlaskClient, tmp_path: Path, count: int, value: int) -> None:
    from survey.content import load_content

    items = load_content().instrument().items
    for msg in read_outbox(tmp_path / "outbox")[:count]:
        assert submit(client, token_of(msg), {i.key: value for i in items}).status_code == 200


def _report_link(tmp_path: Path) -> str:
    mail = next(m for m in read_outbox(tmp_path / "outbox") if any(True for _ in m.iter_attachments()))
    found = re.search(r"http://tryghed\.test(/r/\S+)", text_part(mail))
    assert found, "no web link in the report email"
    return found.group(1)


def test_report_page_shows_the_same_figures(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    _, round_id = setup_round(app, 6)
    _answer(client, tmp_path, 5, 4)
    shown = close(app, round_id)
    page = client.get(_report_link(tmp_path))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Team Æblegården" in html and "<script" not in html
    for pillar in shown["pillars"]:
        assert format_mean(pillar["mean"], "da") in html
    assert client.get("/r/not-a-signed-link").status_code == 404
    tampered = _report_link(tmp_path)[:-2] + "xx"
    assert client.get(tampered).status_code == 404


def test_suppressed_report_page_has_no_figures(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    _, round_id = setup_round(app, 6)
    _answer(client, tmp_path, 4, 2)  # 4 < k = 5
    assert close(app, round_id)["suppressed"] is True
    html = client.get(_report_link(tmp_path)).get_data(as_text=True)
    assert "4 af 6" in html
    assert format_mean(2.0, "da") not in html and format_mean(4.0, "da") not in html
