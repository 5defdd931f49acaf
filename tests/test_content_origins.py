"""Issue 20, point 4: every hack, dilemma and piece of advice says whose it is, like the traps. Checked against
what PRODUCT.md knows of the toolkit: four themes of its advice for holding on (evaluation in the calendar,
everyday language, time for it, the leader as role model) are the toolkit's; the fifth piece of advice,
every hack and every dilemma are the product's own wording (the toolkit's own live in PDFs the project
does not have), and so are labelled ours. The loader validates the origin; the web report, the PDF and the
debrief deck show the label in both languages."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from pipeline.render import render_pdf
from pipeline.report_html import report_html
from pipeline.sample_report import sample_report
from survey.content import load_content
from survey.content.loader import ContentError
from tests.helpers import pdf_text

LABELS = {
    "da": ("Et tema fra værktøjskassen", "Tryghed-programmets egen tilføjelse"),
    "en": ("A theme from the toolkit", "The Tryghed programme's own addition"),
}


def test_the_shipped_content_says_whose_each_text_is() -> None:
    content = load_content()
    advice = {a.key: a.origin for a in content.advice}
    assert advice == {
        "kalender": "toolkit",
        "hverdagssprog": "toolkit",
        "tid": "toolkit",
        "rollemodel": "toolkit",
        "forandringer": "tryghed",
    }
    assert len(content.hacks) == 12 and {h.origin for h in content.hacks} == {"tryghed"}
    assert content.dilemmas and {d.origin for d in content.dilemmas} == {"tryghed"}


@pytest.mark.parametrize("table", ["hacks", "dilemmas", "advice"])
def test_an_unknown_origin_is_a_clear_error(tmp_path: Path, table: str) -> None:
    entry = {
        "hacks": 'key = "h"\npillar = "inkludere"\ntitle = { da = "T", en = "T" }\nsummary = { da = "S", en = "S" }\n'
        'how_to_start = { da = "H", en = "H" }\n',
        "dilemmas": 'key = "d"\npillar = "inkludere"\ntitle = { da = "T", en = "T" }\n'
        'situation = { da = "S", en = "S" }\nquestions = [{ da = "Q", en = "Q" }]\n',
        "advice": 'key = "a"\ntitle = { da = "T", en = "T" }\ntext = { da = "T", en = "T" }\n',
    }[table]
    (tmp_path / "extra.toml").write_text(f'[[{table}]]\n{entry}origin = "book"\n', encoding="utf-8")
    with pytest.raises(ContentError, match=rf"{table}\[0\]\.origin: unknown origin 'book' \(known: toolkit, tryghed\)"):
        load_content(tmp_path)
    (tmp_path / "extra.toml").write_text(f'[[{table}]]\n{entry}origin = "toolkit"\n', encoding="utf-8")
    added = getattr(load_content(tmp_path), table)[-1]
    assert added.origin == "toolkit"


def _flat(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_web_report_and_the_pdf_label_hacks_dilemmas_and_advice(tmp_path: Path, lang: str) -> None:
    toolkit, ours = LABELS[lang]
    data = sample_report("followup", lang)
    assert data.hacks and data.dilemmas and data.advice
    web = report_html(data, for_web=True)
    for section in ("hack", "dilemma"):  # each article carries its label
        articles = re.findall(rf'<article class="{section}">(.*?)</article>', web, re.S)
        assert articles and all(f'<p class="origin">{escape(ours)}</p>' in a for a in articles), section
    advice = re.search(r'<ol class="advice">(.*?)</ol>', web, re.S)
    assert advice is not None
    items = re.findall(r"<li>(.*?)</li>", advice.group(1), re.S)
    assert [toolkit in _flat(i) for i in items] == [a.origin == "toolkit" for a in data.advice]
    assert [ours in _flat(i) for i in items] == [a.origin == "tryghed" for a in data.advice]
    # the PDF: every label once per labelled text (traps, hacks, dilemmas, advice, the plan's hacks)
    text = " ".join(pdf_text(render_pdf(data), tmp_path).split())
    labelled: list[Any] = [*data.traps, *data.hacks, *data.plan_hacks, *data.dilemmas, *data.advice]
    assert text.count(toolkit) == sum(x.origin == "toolkit" for x in labelled)
    assert text.count(ours) == sum(x.origin == "tryghed" for x in labelled)
