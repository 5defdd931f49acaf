"""Thresholds wherever a figure can appear (JSON, PDF, emails, web pages), and differencing across rounds."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from pipeline.disclosure import cell_allowed
from pipeline.report_builder import build_report_data
from survey.cli import main
from survey.data.models import Team
from survey.domain.rounds import create_round, open_round
from tests.conftest import make_app
from tests.helpers import (
    close,
    expected_means,
    html_part,
    pdf_attachment,
    pdf_text,
    read_outbox,
    setup_round,
    submit,
    text_part,
    token_of,
)

K = 5
DA_FIGURE = re.compile(r"(?<![\d,])[1-5],\d\d(?!\d)")  # a mean as the Danish report writes it: "3,25"
TRIO = "amr@example.org"


def fmt(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _answer(app: Flask, outbox: Path, team: str, count: int, rng: random.Random) -> list[dict[str, int]]:
    items = app.extensions["tryghed"].content.instrument().items
    client = app.test_client()
    given = []
    invitations = [m for m in read_outbox(outbox) if team in str(m["Subject"])]
    for msg in invitations[:count]:
        answers = {item.key: rng.randint(1, 5) for item in items}
        page = submit(client, token_of(msg), answers)
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert not DA_FIGURE.search(body), "the thank-you page shows a figure"
        given.append(answers)
    # the form of someone who has not answered yet, while the round is open: no figure either
    rest = invitations[count:]
    if rest:
        form = client.get(f"/s/{token_of(rest[0])}").get_data(as_text=True)
        assert not DA_FIGURE.search(form)
    return given


def _set_trio(app: Flask, team_id: int) -> None:
    with app.extensions["tryghed"].db.session() as s:
        team = s.get(Team, team_id)
        assert team is not None
        team.trio_emails = [TRIO]
        s.commit()


def _show_json(tmp_path: Path, round_id: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("TRYGHED_DATABASE_URL", f"sqlite:///{tmp_path / 'tryghed.sqlite'}")
    result = CliRunner().invoke(main, ["round", "show", str(round_id), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("responses", [K - 1, K, K + 1])
def test_threshold_in_json_pdf_emails_and_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, responses: int
) -> None:
    """Acceptance 4: k-1 answers show no figure anywhere; k and k+1 show the right ones."""
    app = make_app(tmp_path)
    team_id, round_id = setup_round(app, 7, team_name="Team Tærskel")
    _set_trio(app, team_id)
    given = _answer(app, tmp_path / "outbox", "Tærskel", responses, random.Random(responses))
    close(app, round_id)
    items = app.extensions["tryghed"].content.instrument().items
    expected = expected_means(given, items)

    shown = _show_json(tmp_path, round_id, monkeypatch)
    mails = read_outbox(tmp_path / "outbox")
    report = next(m for m in mails if m["To"] == "leder@example.org")
    trio = next(m for m in mails if m["To"] == TRIO)
    pdf = pdf_text(pdf_attachment(report), tmp_path)
    emails = text_part(report) + html_part(report) + text_part(trio) + html_part(trio)
    # after close the link answers "round closed", with no figure
    invitation = next(m for m in mails if m["To"] == "p0@example.org")
    closed_page = app.test_client().get(f"/s/{token_of(invitation)}")
    assert closed_page.status_code == 410

    assert shown["responses"] == responses and shown["invited"] == 7
    assert f"{responses} af 7" in text_part(report) and f"{responses} af 7" in text_part(trio)
    if responses < K:
        assert shown["suppressed"] is True
        assert all(p["mean"] is None and p["band"] is None for p in shown["pillars"])
        assert all(i["mean"] is None for i in shown["items"])
        assert shown["focus_pillars"] == [] and shown["recommended_hacks"] == []
        assert not DA_FIGURE.search(pdf), DA_FIGURE.findall(pdf)
        assert not DA_FIGURE.search(emails), DA_FIGURE.findall(emails)
        assert "Fokus" not in text_part(report)
    else:
        assert shown["suppressed"] is False
        assert {p["key"]: p["mean"] for p in shown["pillars"]} == expected
        assert shown["focus_pillars"] and len(shown["recommended_hacks"]) == 3
        for mean in expected.values():
            assert fmt(mean) in pdf
            assert fmt(mean) in text_part(trio)
    assert not DA_FIGURE.search(closed_page.get_data(as_text=True))
    app.extensions["tryghed"].db.dispose()


# -- pure rules ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "total", "allowed"),
    [(4, 4, False), (5, 5, True), (5, 6, False), (5, 9, False), (5, 10, True), (6, 5 + 6, True), (0, 7, False)],
)
def test_cell_and_complement_rule(cell: int, total: int, allowed: bool) -> None:
    assert cell_allowed(cell, total, K) is allowed


def test_threshold_never_below_three() -> None:
    with pytest.raises(ValueError):
        cell_allowed(5, 5, 2)


# -- comparisons over time across two real rounds -------------------------------------------------------------------


def _followup(app: Flask, team_id: int) -> int:
    from pipeline.tasks import send_pending

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        rnd = create_round(rt, s, team_id)
        open_round(rt, s, rnd.id)
        round_id = rnd.id
    with app.app_context():
        send_pending.delay(round_id)
    return round_id


@pytest.mark.parametrize(("first", "second", "shown"), [(4, 6, False), (5, 6, True)])
def test_followup_compares_only_with_rounds_that_reached_k(
    tmp_path: Path, first: int, second: int, shown: bool
) -> None:
    """Rounds are fresh measurements (docs/privacy.md): a follow-up is compared with an earlier round
    whatever the two counts are (5 then 6 included), but never with a round below k: a baseline of 4
    answers gets no mean in the follow-up's history, no change and no figure in its PDF.
    """
    app = make_app(tmp_path)
    rng = random.Random(11)
    team_id, first_id = setup_round(app, 8, team_name="Team Forskel")
    base_given = _answer(app, tmp_path / "outbox", "Forskel", first, rng)
    close(app, first_id)
    outbox = tmp_path / "outbox"
    for p in outbox.glob("*.eml"):  # keep the follow-up's mails apart from the baseline's
        p.unlink()
    second_id = _followup(app, team_id)
    _answer(app, outbox, "Forskel", second, rng)
    shown_json = close(app, second_id)
    assert shown_json["status"] == "reported" and not shown_json["suppressed"]

    rt = app.extensions["tryghed"]
    items = rt.content.instrument().items
    baseline_means = expected_means(base_given, items)
    with rt.db.session() as s:
        data = build_report_data(s, second_id, rt.content, rt.tz)
    assert [h.round_id for h in data.history] == [first_id]
    report = next(m for m in read_outbox(outbox) if m["To"] == "leder@example.org")
    pdf = pdf_text(pdf_attachment(report), tmp_path)
    current = {p["key"]: p["mean"] for p in shown_json["pillars"]}
    if shown:
        assert data.history[0].pillar_means == baseline_means
        assert [c.since_round_id for c in data.changes] == [first_id]
        assert all(fmt(v) in pdf for v in baseline_means.values())
    else:
        assert all(v is None for v in data.history[0].pillar_means.values())
        assert data.changes == []
        # no baseline mean in the PDF (unless it happens to equal a figure of this round)
        leaked = [v for k, v in baseline_means.items() if fmt(v) in pdf and v not in current.values()]
        assert not leaked, leaked
        assert not re.search(r"[+−]\d,\d\d", pdf), "a change figure is printed"
    rt.db.dispose()
