"""Issue 19, one coherent report: one focus rule said once (traps, focus page and pillar pages agree),
strongest and weakest statements worded in the direction of safety with the reverse marker, one number
per share of a count, bars that add up to 100, and plurals through ngettext."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

from flask import Flask

from pipeline import charts
from pipeline.recommend import focus_pillars
from pipeline.render import render_pdf
from pipeline.report_context import report_context
from pipeline.report_text import percent
from pipeline.sample_report import sample_report
from pipeline.scoring import aggregate
from tests.helpers import pdf_text, setup_round
from tests.web_helpers import add_account, login, post_form


def _report(people: list[dict[str, int]]):  # type: ignore[no-untyped-def]
    data = sample_report("baseline", "da")
    ins = data.instrument
    keys = [p.key for p in ins.pillars]
    result = aggregate(people, ins.items, keys, ins.bands, 5, ins.scale_min, ins.scale_max)
    return dataclasses.replace(
        data, result=result, responses=result.responses, focus_pillars=focus_pillars(result, keys), invited=7
    )


def _answers(levels: dict[str, int], n: int, reverse_answer: int | None = None) -> list[dict[str, int]]:
    """``n`` people answering every statement of a pillar at its level (scored; reverse ones given turned)."""
    ins = sample_report().instrument
    rows = []
    for person in range(n):
        row = {}
        for item in ins.items:
            score = levels[item.pillar] if person % 2 else min(5, levels[item.pillar] + 1)
            row[item.key] = 6 - score if item.reverse else score
            if item.reverse and reverse_answer is not None:
                row[item.key] = reverse_answer
        rows.append(row)
    return rows


def test_one_focus_rule_said_the_same_way_everywhere(tmp_path: Path) -> None:
    # Lære is the first red pillar in stage order; Udfordre is red too and lower
    data = _report(_answers({"inkludere": 4, "laere": 2, "bidrage": 4, "udfordre": 1}, 7))
    assert data.focus_pillars == ["laere"]
    ctx = report_context(data)
    sentences = {p["key"]: p["sentence"] for p in ctx["pillars"]}
    # exactly one pillar is called the place to start, and it is the suggested focus
    assert "foreslår vi som fokus" in sentences["laere"]
    assert all("fokus" not in s and "begynde" not in s for k, s in sentences.items() if k != "laere")
    reason = ctx["focus"]["suggestion"]["reason"]
    assert "Lære" in reason and "første i rækken i rød zone" in reason and "Lavest ligger Udfordre" in reason
    trap = next(t for t in data.traps if t.key == "springe_over").text.da
    assert "første søjle i rækken" in trap and "svagest" not in trap
    text = " ".join(pdf_text(render_pdf(data), tmp_path).split())
    assert "Her er mest at hente" not in text and "godt sted at begynde" not in text


def test_strongest_and_weakest_are_worded_in_the_direction_of_safety(tmp_path: Path) -> None:
    # everyone fully disagrees with every reverse-worded (negative) statement: the safest answers there are
    data = _report(_answers({"inkludere": 3, "laere": 3, "bidrage": 3, "udfordre": 3}, 7, reverse_answer=1))
    ctx = report_context(data)
    strongest = ctx["extremes"]["strongest"]
    assert strongest[0]["reverse"] and strongest[0]["safe"] == "100 % svarer trygt"
    assert all(s["safe"] != "0 % svarer trygt" for s in strongest)
    pdf = render_pdf(data)
    text = " ".join(pdf_text(pdf, tmp_path).split())
    summary = text[text.index("Stærkeste og svageste udsagn") :][:900]
    assert "↺ omvendt udsagn" in summary and "100 % svarer trygt" in summary and "er enige" not in summary
    # look at the summary page as a picture once (pdftoppm): it renders, and is not blank
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "2", "-l", "2", str(tmp_path / "r.pdf"), str(tmp_path / "p")],
                   check=True, timeout=60)  # fmt: skip
    [png] = list(tmp_path.glob("p*.png"))
    assert png.stat().st_size > 2000


def test_one_number_per_count_and_bars_that_add_up() -> None:
    assert (percent(5, 7), percent(1, 8), percent(1, 6), percent(0, 4), percent(3, 4)) == (71, 13, 17, 0, 75)
    for counts in [(1, 1, 0, 1, 4), (5, 0, 1, 0, 1), (1, 1, 1, 0, 0), (0, 2, 0, 3, 2)]:
        g = charts.group_answers(counts)
        assert g.disagree + g.neutral + g.agree == 100
    # equal groups in one bar get equal shares when the remainder allows it
    g = charts.group_answers((1, 0, 1, 0, 4))
    assert g.disagree == g.neutral == 17 and g.agree == 66


def test_the_start_page_and_the_unit_overview_round_a_share_the_same_way() -> None:
    from pipeline.unit_render import _rate
    from survey.domain.overview import TeamStatus

    status = TeamStatus(team=None, step="", latest=None, invited=8, responses=1)  # type: ignore[arg-type]
    assert status.rate == 0.13 and _rate(1, 8, "da") == "13 %" and _rate(1, 8, "en") == "13%"


def test_reminder_flash_uses_the_singular_for_one(app: Flask) -> None:
    _team, rid = setup_round(app, 1, min_responses=3)
    add_account(app, "f@example.org", "facilitator")
    web = app.test_client()
    login(web, "f@example.org")
    page = web.post(
        f"/rounds/{rid}/remind",
        data={"csrf_token": post_form.__globals__["csrf_of"](web.get(f"/teams/{_team}").get_data(as_text=True))},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "1 påmindelse er på vej." in page
    assert "1 aktiv deltager." in page
