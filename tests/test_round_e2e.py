"""A whole round through the real parts: SMTP server, HTTP, the form, the pipeline, the PDF."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from survey.cli import main
from tests.conftest import make_app
from tests.helpers import (
    Browser,
    LiveServer,
    SMTPSink,
    close,
    expected_means,
    pdf_attachment,
    pdf_text,
    setup_round,
    text_part,
    token_of,
)


def fmt(value: float, lang: str) -> str:
    s = f"{value:.2f}"
    return s.replace(".", ",") if lang == "da" else s


@pytest.mark.parametrize("lang", ["da", "en"])
def test_full_round_over_smtp_and_http(tmp_path: Path, smtp: SMTPSink, lang: str, db_url: str) -> None:
    app = make_app(tmp_path, db_url, **smtp.config())
    rng = random.Random(7)
    with LiveServer(app) as live:
        app.extensions["tryghed"].config["BASE_URL"] = live.url
        team_id, round_id = setup_round(app, 7, lang=lang, team_name="Team Ørkenvind")
        invitations = smtp.by_subject("Ørkenvind")
        assert len(invitations) == 7
        for msg in invitations:
            assert msg.is_multipart() and msg.get_content_type() == "multipart/alternative"
            token = token_of(msg)
            assert token in text_part(msg)
            html = msg.get_body(preferencelist=("html",)).get_content()
            assert token in html

        items = app.extensions["tryghed"].content.instrument().items
        given: list[dict[str, int]] = []
        for msg in invitations[:6]:
            link = re.search(r"http://\S+/s/\S{43}", text_part(msg)).group(0)
            answers = {item.key: rng.randint(1, 5) for item in items}
            status, page = Browser().answer(link, answers)
            assert status == 200, page
            given.append(answers)

    shown = close(app, round_id)
    assert shown["status"] == "reported"
    expected = expected_means(given, items)
    assert {p["key"]: p["mean"] for p in shown["pillars"]} == expected
    # the contract's `tryghed round show --json` on the same database gives the same figures
    config = app.extensions["tryghed"].config
    cli = CliRunner().invoke(
        main,
        ["round", "show", str(round_id), "--json"],
        env={"TRYGHED_DATABASE_URL": config["DATABASE_URL"], "TRYGHED_SECRET_KEY": config["SECRET_KEY"]},
    )
    assert cli.exit_code == 0, cli.output
    as_json = json.loads(cli.output)
    assert {p["key"]: p["mean"] for p in as_json["pillars"]} == expected
    assert as_json["responses"] == 6 and as_json["invited"] == 7 and as_json["suppressed"] is False

    reports = smtp.to("leder@example.org")
    assert len(reports) == 1
    pdf = pdf_attachment(reports[0])
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    assert "Team Ørkenvind" in text
    for mean in expected.values():
        assert fmt(mean, lang) in text
