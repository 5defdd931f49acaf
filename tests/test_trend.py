"""Change over time with its uncertainty, and the focus the team chose (issue 9, acceptance 1).

Rounds are fresh measurements: a follow-up is compared with every earlier round of the team that reached
k, whatever the two counts are, and every change carries a 95 % interval. The end-to-end test runs a real
baseline (7 answers) and follow-up (9 answers) through the form, the pipeline, the PDF, the web page and
``tryghed round show --json``.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from pipeline.report_text import format_delta, format_interval, section_labels
from pipeline.scoring import ItemResult, PillarResult, RoundResult
from pipeline.trend import changes_since, difference_interval, round_change, t_quantile
from survey.content.model import Item
from tests.conftest import make_app
from tests.helpers import (
    expected_means,
    pdf_attachment,
    pdf_text,
    read_outbox,
    setup_round,
    submit,
    text_part,
    token_of,
)

HACK = "lae_maanedens_laering"  # a hack of Lære in the shipped content


# -- the statistics, against published table values ----------------------------------------------------


@pytest.mark.parametrize(("df", "table"), [(3, 3.182), (5, 2.571), (8, 2.306), (14, 2.145), (30, 2.042), (1e9, 1.960)])
def test_t_quantile_matches_the_table(df: float, table: float) -> None:
    assert t_quantile(df) == pytest.approx(table, abs=0.01)


def test_difference_interval_is_welchs() -> None:
    # equal spreads and counts: df = 2n - 2 = 14, half width = t(14) * sd * sqrt(2/n)
    low, high = difference_interval(3.0, 3.5, 0.8, 0.8, 8, 8)
    half = 2.1448 * 0.8 * (2 / 8) ** 0.5
    assert (low, high) == pytest.approx((0.5 - half, 0.5 + half), abs=0.002)


def _result(n: int, answers: dict[str, tuple[int, ...]], k: int = 5) -> RoundResult:
    """A stored-style result from per-item answer counts (scale 1-5)."""
    suppressed = n < k
    items = tuple(
        ItemResult(key, "p", None if suppressed else 0.0, None if suppressed else dist) for key, dist in answers.items()
    )
    scores = [v + 1 for dist in answers.values() for v, c in enumerate(dist) for _ in range(c)]
    mean = None if suppressed else round(sum(scores) / len(scores), 2)
    return RoundResult(n, k, suppressed, (PillarResult("p", mean, None, n),), items)


ITEMS = (Item("a", "p", False, None), Item("b", "p", False, None))  # type: ignore[arg-type]


def test_any_two_counts_that_reach_k_are_compared_and_small_rounds_never() -> None:
    """5 then 6 (one answer apart: withheld by the old rule) is compared now; a round of 4 is not."""
    before = _result(5, {"a": (0, 1, 2, 2, 0), "b": (0, 1, 2, 2, 0)})
    after = _result(6, {"a": (0, 0, 1, 3, 2), "b": (0, 0, 1, 3, 2)})
    small = _result(4, {"a": (0, 0, 4, 0, 0), "b": (0, 0, 4, 0, 0)})
    change = round_change(before, after, ITEMS, ["p"], 1, 5, since_round_id=1, since_number=1)
    assert change is not None
    pillar = change.pillar("p")
    assert pillar is not None and pillar.change == pytest.approx(after.pillars[0].mean - before.pillars[0].mean)
    assert pillar.low < pillar.change < pillar.high
    assert round_change(small, after, ITEMS, ["p"], 1, 5, since_round_id=2, since_number=2) is None
    assert round_change(before, small, ITEMS, ["p"], 1, 5, since_round_id=1, since_number=1) is None
    both = changes_since([(1, 1, before), (2, 2, small), (3, 3, after)], after, ITEMS, ["p"], 1, 5)
    assert [c.since_number for c in both] == [3, 1]  # newest first; the round below k is left out


def test_a_change_within_the_interval_reads_as_unchanged() -> None:
    wide = round_change(
        _result(5, {"a": (1, 1, 1, 1, 1), "b": (1, 1, 1, 1, 1)}),
        _result(5, {"a": (1, 1, 0, 2, 1), "b": (1, 1, 0, 2, 1)}),
        ITEMS, ["p"], 1, 5, since_round_id=1, since_number=1,
    )  # fmt: skip
    clear = round_change(
        _result(9, {"a": (0, 6, 3, 0, 0), "b": (0, 6, 3, 0, 0)}),
        _result(9, {"a": (0, 0, 0, 5, 4), "b": (0, 0, 0, 5, 4)}),
        ITEMS, ["p"], 1, 5, since_round_id=1, since_number=1,
    )  # fmt: skip
    assert wide is not None and clear is not None
    assert wide.pillars[0].unchanged and wide.pillars[0].low < 0 < wide.pillars[0].high
    assert not clear.pillars[0].unchanged and clear.pillars[0].low > 0


def test_reverse_items_are_scored_before_the_spread_is_taken() -> None:
    """Two items answered 'the same way' in meaning (4 and reversed 2) have no spread between them."""
    from pipeline.trend import pillar_spread

    items = (Item("a", "p", False, None), Item("b", "p", True, None))  # type: ignore[arg-type]
    result = _result(5, {"a": (0, 0, 0, 5, 0), "b": (0, 5, 0, 0, 0)})
    assert pillar_spread(result, items, "p", 1, 5) == 0.0


# -- acceptance 1, end to end ------------------------------------------------------------------------------


def _cli(app: Flask, *args: str, ok: bool = True) -> dict[str, Any]:
    """``tryghed ... --json`` in its own process on the app's database."""
    rt = app.extensions["tryghed"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    env["TRYGHED_DATABASE_URL"] = str(rt.config["DATABASE_URL"])
    env["TRYGHED_SECRET_KEY"] = str(rt.config["SECRET_KEY"])
    proc = subprocess.run(
        [sys.executable, "-m", "survey.cli", *args, "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _answer(app: Flask, outbox: Path, levels: list[dict[str, int]]) -> list[dict[str, int]]:
    """One answer set per person: ``levels[i]`` is person i's answer (in meaning) per pillar."""
    instrument = app.extensions["tryghed"].content.instrument()
    client = app.test_client()
    given = []
    for msg, level in zip(read_outbox(outbox), levels, strict=False):
        answers = {i.key: 6 - level[i.pillar] if i.reverse else level[i.pillar] for i in instrument.items}
        assert submit(client, token_of(msg), answers).status_code == 200
        given.append(answers)
    return given


def _close(app: Flask, round_id: int) -> None:
    from pipeline.tasks import run_pipeline
    from survey.domain.rounds import close_round

    rt = app.extensions["tryghed"]
    with app.app_context():
        with rt.db.session() as s:
            close_round(rt, s, round_id)
        run_pipeline.delay(round_id)


def _people(rng: random.Random, count: int, laere: list[int]) -> list[dict[str, int]]:
    return [
        {"inkludere": rng.randint(3, 5), "laere": laere[i], "bidrage": rng.randint(2, 5), "udfordre": rng.randint(2, 4)}
        for i in range(count)
    ]


@pytest.mark.parametrize("lang", ["da", "en"])
def test_followup_with_7_then_9_answers_shows_every_change_and_follows_the_chosen_focus(
    tmp_path: Path, lang: str
) -> None:
    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    outbox = tmp_path / "outbox"
    rng = random.Random(9)
    items = rt.content.instrument().items
    team_id, first = setup_round(app, 10, team_name="Team Udvikling", lang=lang)
    base = _answer(app, outbox, _people(rng, 7, [2, 3, 2, 2, 3, 2, 3]))
    _close(app, first)

    # The debrief: the team chooses Lære and puts one of its hacks into the plan.
    assert _cli(app, "round", "show", str(first))["chosen_focus"] is None
    assert _cli(app, "round", "focus", str(first), "laere")["chosen_focus"] == "laere"
    _cli(app, "actions", "add", str(first), "--level", "gruppe", "--what", "Månedens læring", "--who", "Alle",
         "--hack", HACK)  # fmt: skip

    for p in outbox.glob("*.eml"):
        p.unlink()
    from pipeline.tasks import send_pending
    from survey.domain.rounds import create_round, open_round

    with app.app_context(), rt.db.session() as s:
        second = create_round(rt, s, team_id).id
        open_round(rt, s, second)
        send_pending.delay(second)
    after = _answer(app, outbox, _people(rng, 9, [4, 5, 4, 4, 5, 4, 4, 5, 4]))
    _close(app, second)

    # round show --json: one comparison (the baseline), every pillar with its change and interval
    shown = _cli(app, "round", "show", str(second))
    assert shown["status"] == "reported" and shown["responses"] == 9
    assert [c["since_round_id"] for c in shown["changes"]] == [first]
    change = shown["changes"][0]
    assert change["since_responses"] == 7 and change["confidence"] == 0.95
    then, now = expected_means(base, items), expected_means(after, items)
    assert [p["key"] for p in change["pillars"]] == list(then)
    for p in change["pillars"]:
        assert (p["before"], p["after"]) == (then[p["key"]], now[p["key"]])
        assert p["change"] == pytest.approx(now[p["key"]] - then[p["key"]], abs=0.006)
        assert p["low"] <= p["change"] <= p["high"]
        assert p["unchanged"] is (p["low"] <= 0 <= p["high"])
    laere = next(p for p in change["pillars"] if p["key"] == "laere")
    assert not laere["unchanged"] and laere["low"] > 0  # it clearly rose
    # the hack already in the plan is not recommended again
    assert HACK not in [h["key"] for h in shown["recommended_hacks"]]

    # the PDF and the web page print every change with its interval
    mail = next(m for m in read_outbox(outbox) if m["To"] == "leder@example.org")
    pdf = " ".join(pdf_text(pdf_attachment(mail), tmp_path).split())
    link = re.search(r"http://tryghed\.test(/r/\S+)", text_part(mail))
    assert link
    page = app.test_client().get(link.group(1))
    assert page.status_code == 200
    web = " ".join(re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)).split())
    ui = section_labels(lang)
    for p in change["pillars"]:
        delta, interval = format_delta(p["change"], lang), format_interval(p["low"], p["high"], lang)
        assert f"{delta} {interval}" in pdf, p
        assert f"{delta} {interval}" in web, p
    assert ui["reading_up"] in pdf

    # the focus page follows the team's choice: Lære, how it moved, its hack listed as in the plan
    name = rt.content.instrument().pillar("laere").name.get(lang)
    hack = next(h for h in rt.content.hacks if h.key == HACK).title.get(lang)
    for text in (pdf, web):
        section = text[text.index(ui["followed_heading"].format(pillar=name)) :]
        plan, _, rest = section.partition(ui["new_hacks_heading"])
        assert ui["plan_heading"] in plan and hack in plan
        assert hack not in rest.split(ui["dilemmas"])[0]  # not re-recommended as new
        assert format_delta(laere["change"], lang) in plan.split(ui["plan_heading"])[0]
    rt.db.dispose()


def test_focus_is_refused_without_figures_or_for_an_unknown_pillar(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    outbox = tmp_path / "outbox"
    _team, open_id = setup_round(app, 6, team_name="Team Lille")
    refused = _cli(app, "round", "focus", str(open_id), "laere", ok=False)
    assert "after its results are out" in refused["error"]
    _answer(app, outbox, [dict.fromkeys(("inkludere", "laere", "bidrage", "udfordre"), 4)] * 2)
    _close(app, open_id)
    refused = _cli(app, "round", "focus", str(open_id), "laere", ok=False)
    assert "too few answers" in refused["error"]
    assert _cli(app, "round", "show", str(open_id))["chosen_focus"] is None
    assert "does not exist" in _cli(app, "round", "focus", "999", "laere", ok=False)["error"]
    app.extensions["tryghed"].db.dispose()


def test_unknown_pillar_and_unknown_hack_are_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    outbox = tmp_path / "outbox"
    _team, round_id = setup_round(app, 6, team_name="Team Valg")
    _answer(app, outbox, [dict.fromkeys(("inkludere", "laere", "bidrage", "udfordre"), 4)] * 5)
    _close(app, round_id)
    refused = _cli(app, "round", "focus", str(round_id), "mod", ok=False)
    assert "unknown pillar" in refused["error"] and refused["pillars"] == ["inkludere", "laere", "bidrage", "udfordre"]
    refused = _cli(app, "actions", "add", str(round_id), "--level", "gruppe", "--what", "x", "--who", "y",
                   "--hack", "nope", ok=False)  # fmt: skip
    assert "unknown hack" in refused["error"]
    assert _cli(app, "round", "focus", str(round_id), "Udfordre")["chosen_focus"] == "udfordre"
    app.extensions["tryghed"].db.dispose()
