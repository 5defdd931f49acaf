"""The PDF lays out any realistic text: a long URL in an action and a long team name stay on the page
and are printed whole (read back with pdftotext's word boxes)."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

from pipeline.render import render_pdf
from pipeline.sample_report import sample_report

URL = ("https://www.example.dk/dokumenter/vejledning?id=" + "Psykologisk" * 12)[:147]
NAME = (
    "Hjemmeplejen Nord "
    + "Socialpsykiatrisk" * 5
    + " og Akutteamet for Borgere med Komplekse Behov i Aften- og Nattevagten"
)[:150]
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>')
PAGE = re.compile(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', re.S)


def words_outside_the_page(pdf: Path) -> list[tuple[int, str]]:
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    outside = []
    for number, (width, body) in enumerate(PAGE.findall(html), start=1):
        for x_min, x_max, word in WORD.findall(body):
            if float(x_min) < 0 or float(x_max) > float(width):
                outside.append((number, word))
    return outside


def test_long_urls_and_names_wrap_inside_the_page(tmp_path: Path) -> None:
    data = sample_report("followup")
    actions = list(data.previous_actions)
    actions[0] = dataclasses.replace(actions[0], what=f"Læs guiden på {URL} før mødet")
    data = dataclasses.replace(data, team_name=NAME, previous_actions=actions)
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(render_pdf(data))
    assert words_outside_the_page(pdf) == []
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    squeezed = re.sub(r"\s+", "", text)
    assert URL in squeezed  # printed whole, only broken across lines
    assert re.sub(r"\s+", "", NAME) in squeezed
