"""Units and the unit overview end to end: the CLI contract, the figures shown on every page of a tree (JSON,
web page HTML, PDF text) checked by brute force for differencing leaks, the PDF read back and looked at,
axe-core on the page, and a bounded number of SQL statements whatever the number of teams."""

from __future__ import annotations

import html as html_lib
import io
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from pipeline.scoring import band_of
from pipeline.unit_render import overview_page
from survey.domain.units import build_overview, show_unit, unit_page, units_headed_by, visible_units
from tests.a11y import axe_violations, describe
from tests.conftest import make_app
from tests.leak_check import compositions, leaks, vector
from tests.test_cli import run
from tests.unit_fixtures import Seeded, add_reported_rounds, add_units

K = 5
UNITS = [
    ("Forvaltning", None),
    ("Afd A", "Forvaltning"),
    ("Afd B", "Forvaltning"),
    ("Gruppe B1", "Afd B"),
    ("Afd C", "Forvaltning"),
]
# (team, unit, respondents per round): T2+T3 pool at Afd A; T5+T7 pool at Afd B (T7 handed up from B1);
# T8 is alone below k all the way up and counts in no figure; T6 measured twice.
TEAMS = [
    ("T1", "Afd A", [8]),
    ("T2", "Afd A", [3]),
    ("T3", "Afd A", [2]),
    ("T4", "Afd B", [6]),
    ("T5", "Afd B", [4]),
    ("T7", "Gruppe B1", [2]),
    ("T8", "Afd C", [2]),
    ("T9", "Afd C", [9]),
    ("T6", "Forvaltning", [9, 7]),
]

Figure = tuple[int, tuple[float, ...]]  # respondents, pillar means in instrument order


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[tuple[Flask, Seeded]]:
    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    seeded = Seeded()
    with rt.db.session() as s:
        add_units(s, UNITS, seeded)
        add_reported_rounds(s, rt.content.instrument(), TEAMS, seeded, k=K, seed=7)
    yield app, seeded
    rt.db.dispose()


# -- reading the figures back out of what is shown ---------------------------------------------------

N_RE = re.compile(r"(\d+) (?:af \d+|of \d+|svar|answers)\b")


def figures_in_rows(rows: list[str], decimal: str) -> set[Figure]:
    """Every (n, means) a heatmap row shows; rows without four means (suppressed teams) show none."""
    mean_re = re.compile(r"(?<![\d,.+−])(\d)" + re.escape(decimal) + r"(\d\d)\b")
    out = set()
    for row in rows:
        means = [float(f"{a}.{b}") for a, b in mean_re.findall(row)]
        found = N_RE.search(row)
        if found and len(means) == 4:
            out.add((int(found.group(1)), tuple(means)))
        else:
            assert len(means) == 0 or not found, f"a row with a partial figure: {row!r}"
    return out


def figures_in_html(page: str, decimal: str = ",") -> set[Figure]:
    table = re.search(r'<table class="heatmap">(.*?)</table>', page, re.S)
    assert table
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)
    texts = [" ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", r)).split()) for r in rows]
    return figures_in_rows(texts, decimal)


def pdf_layout_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode("utf-8")


def figures_in_json(shown: dict[str, Any]) -> set[Figure]:
    out = set()
    for team in shown["teams"]:
        if team["pillars"] is not None:
            out.add((team["responses"], tuple(p["mean"] for p in team["pillars"])))
    for pool in shown["pools"]:
        out.add((pool["respondents"], tuple(p["mean"] for p in pool["pillars"])))
    if shown["pillars"] is not None:
        out.add((shown["respondents"], tuple(p["mean"] for p in shown["pillars"])))
    return out


def assert_no_leak(
    figures: set[Figure], sums: dict[str, dict[str, tuple[int, int]]], n: dict[str, int], keys: list[str]
) -> None:
    """Find what each shown figure is made of (brute force over the true answers), then try every way of
    combining the figures to isolate fewer than k respondents."""
    order = sorted(n)
    vectors = set()
    for count, means in figures:
        made_of = compositions(count, dict(zip(keys, means, strict=True)), sums, n, order)
        assert len(made_of) == 1, f"figure {count}, {means} matches {made_of}"
        vectors.add(vector(made_of[0], order))
    assert leaks(vectors, n, order, K) == []


# -- acceptance 1: nothing recoverable, on one page, across the tree, across the three outputs, in time --


def test_no_suppressed_team_recoverable_from_pages_pdf_and_json(tree: tuple[Flask, Seeded], tmp_path: Path) -> None:
    app, seeded = tree
    rt = app.extensions["tryghed"]
    ins = rt.content.instrument()
    keys = [p.key for p in ins.pillars]
    env = {"TRYGHED_DATABASE_URL": rt.config["DATABASE_URL"]}

    def everything_shown() -> tuple[set[Figure], dict[str, Any]]:
        figures: set[Figure] = set()
        with rt.db.session() as s:
            for unit in seeded.units.values():
                shown = show_unit(rt.content, s, unit, K)
                figures |= figures_in_json(shown)
                ov = build_overview(rt.content, s, unit, K)
                figures |= figures_in_html(overview_page(ov, rt.content, "da", rt.tz).body)
                figures |= figures_in_html(overview_page(ov, rt.content, "en", rt.tz).body, ".")
        root = run(tmp_path, "unit", "show", str(seeded.units["Forvaltning"]), env=env)
        assert figures_in_json(root) <= figures
        report = run(
            tmp_path, "unit", "report", str(seeded.units["Forvaltning"]), "--out", str(tmp_path / "u.pdf"), env=env
        )
        from_pdf = figures_in_rows(pdf_layout_text(Path(report["path"])).splitlines(), ",")
        assert from_pdf == figures_in_json(root)  # the PDF shows exactly the root's figures
        return figures | from_pdf, root

    first, root = everything_shown()
    by_name = {t["name"]: t for t in root["teams"]}
    for small in ("T2", "T3", "T5", "T7", "T8"):
        assert by_name[small]["suppressed"] is True and by_name[small]["pillars"] is None
    assert by_name["T2"]["pool_id"] and by_name["T2"]["pool_id"] == by_name["T3"]["pool_id"]
    assert by_name["T8"]["pool_id"] is None
    assert root["teams_suppressed"] == 5
    assert root["respondents"] == 8 + 3 + 2 + 6 + 4 + 2 + 9 + 7  # all but T8
    assert len(root["pools"]) == 2 and root["excluded_respondents"] == 2
    # the pools really are shown (on the pages of their units and above), so the check has cells to try
    assert {f[0] for f in first} >= {5, 6}

    sums, n = dict(seeded.sums), dict(seeded.n)
    assert_no_leak(first, sums, n, keys)

    # Later, T2 measures again with enough answers; the pool it was in must not be re-cut to isolate it.
    old = {"T2@1": seeded.sums["T2"]}
    with rt.db.session() as s:
        add_reported_rounds(s, ins, [("T2", "Afd A", [7])], seeded, k=K, seed=8)
    second, root = everything_shown()
    by_name = {t["name"]: t for t in root["teams"]}
    assert by_name["T2"]["pillars"] is not None and by_name["T3"]["pool_id"] is None  # T3 waits, uncounted
    sums_all = {**seeded.sums, **old}
    n_all = {**seeded.n, "T2@1": 3}
    assert_no_leak(first | second, sums_all, n_all, keys)


# -- acceptance 2: the PDF read back and looked at, axe on the page ------------------------------------


def test_overview_pdf_read_back_tagged_and_rendered(tree: tuple[Flask, Seeded], tmp_path: Path) -> None:
    from pypdf import PdfReader

    app, seeded = tree
    env = {"TRYGHED_DATABASE_URL": app.extensions["tryghed"].config["DATABASE_URL"]}
    unit = str(seeded.units["Forvaltning"])
    da = run(tmp_path, "unit", "report", unit, "--out", str(tmp_path / "da.pdf"), env=env)
    en = run(tmp_path, "unit", "report", unit, "--out", str(tmp_path / "en.pdf"), "--lang", "en", env=env)
    text = " ".join(pdf_layout_text(Path(da["path"])).split())
    for expected in ("Overblik – Forvaltning", "Øvrige teams under Afd A (2 teams)", "Forvaltning samlet", "T8"):
        assert expected in text
    assert "for få svar; indgår ikke" in text  # T8, in no figure
    # T6 measured twice: the unit's change is T6's own, against its previous measurement, in both PDFs
    assert "egen forrige måling" in text and "(1 i alt)" in text and "+0," in text
    text_en = " ".join(pdf_layout_text(Path(en["path"])).split())
    assert "Other teams in Afd B (2 teams)" in text_en and "Forvaltning as a whole" in text_en
    assert "its own previous measurement" in text_en and "(1 in all)" in text_en
    assert "±0.00" not in text_en  # making the first PDF stored no baseline for the second

    reader = PdfReader(io.BytesIO(Path(da["path"]).read_bytes()))
    assert len(reader.pages) == da["pages"]
    catalog = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog and catalog["/MarkInfo"]["/Marked"]  # tagged for screen readers
    assert catalog["/Lang"] == "da"

    subprocess.run(["pdftoppm", "-r", "50", "-png", da["path"], str(tmp_path / "page")], check=True, timeout=60)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == da["pages"] and all(p.stat().st_size > 5000 for p in pngs)


@pytest.mark.browser
def test_overview_page_has_no_axe_violations(tree: tuple[Flask, Seeded], browser: Any) -> None:
    app, seeded = tree
    rt = app.extensions["tryghed"]
    for lang in ("da", "en"):
        with rt.db.session() as s:
            view = unit_page(rt, s, seeded.units["Forvaltning"], lang)  # what the web route places in its page
        html = (
            f'<!doctype html><html lang="{lang}"><head><title>{view.title}</title><style>{view.css}</style></head>'
            f"<body><main>{view.body}</main></body></html>"
        )
        context = browser.new_context(java_script_enabled=True, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_content(html)
        found = axe_violations(page)
        context.close()
        assert found == [], describe(found)


# -- efficiency: statements do not grow with the number of teams ---------------------------------------


def count_statements(app: Flask, unit_id: int) -> int:
    rt = app.extensions["tryghed"]
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    event.listen(rt.db.engine, "before_cursor_execute", listener)
    try:
        with rt.db.session() as s:
            build_overview(rt.content, s, unit_id, K)
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_sql_statements_do_not_grow_with_teams(tmp_path: Path, db_url: str) -> None:
    """Two trees in one database (SQLite and PostgreSQL): 6 teams under one unit, 48 under eight."""
    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    seeded = Seeded()
    units: list[tuple[str, str | None]] = [("Small", None), ("S0", "Small"), ("Large", None)]
    units += [(f"L{i}", "Large") for i in range(8)]
    teams = [(f"S-{j}", "S0", [3 if j % 2 else 7]) for j in range(6)]
    teams += [(f"L{i}-{j}", f"L{i}", [3 if j % 2 else 7]) for i in range(8) for j in range(6)]
    with rt.db.session() as s:
        add_units(s, units, seeded)
        add_reported_rounds(s, rt.content.instrument(), teams, seeded, k=K)
    counts = []
    for top in ("Small", "Large"):
        cold = count_statements(app, seeded.units[top])  # forms and stores the pools
        warm = count_statements(app, seeded.units[top])
        counts.append((cold, warm))
    rt.db.dispose()
    assert counts[0] == counts[1], counts
    assert counts[0][1] <= 6


# -- the CLI contract and the unit-head scope ----------------------------------------------------------


def test_unit_commands_and_errors(tmp_path: Path) -> None:
    run(tmp_path, "init")
    top = run(tmp_path, "unit", "add", "Socialforvaltningen", "--head-email", "Chef@Example.org")
    assert top == {"id": top["id"], "name": "Socialforvaltningen", "parent_id": None, "head_email": "chef@example.org"}
    dept = run(tmp_path, "unit", "add", "Handicap", "--parent", str(top["id"]))
    assert dept["parent_id"] == top["id"]
    assert "does not exist" in run(tmp_path, "unit", "add", "X", "--parent", "999", ok=False)["error"]
    assert "valid email" in run(tmp_path, "unit", "add", "X", "--head-email", "nope", ok=False)["error"]
    assert "unit name" in run(tmp_path, "unit", "add", " ", ok=False)["error"]
    assert "unit name" in run(tmp_path, "unit", "add", "Afd\u202eling", ok=False)["error"]  # bidi override refused
    team = run(tmp_path, "team", "add", "Bo 1", "--leader-email", "l@example.org", "--unit", str(dept["id"]))
    assert team["unit_id"] == dept["id"]
    assert (
        "does not exist"
        in run(tmp_path, "team", "add", "Y", "--leader-email", "l@example.org", "--unit", "999", ok=False)["error"]
    )
    shown = run(tmp_path, "unit", "show", str(top["id"]))
    assert shown["teams"] == [
        {
            "id": team["id"],
            "name": "Bo 1",
            "unit_id": dept["id"],
            "round_id": None,
            "invited": 0,
            "responses": 0,
            "suppressed": False,
            "pillars": None,
            "pool_id": None,
            "change": None,
        }
    ]
    assert shown["pillars"] is None and shown["respondents"] == 0 and shown["teams_suppressed"] == 0
    assert "does not exist" in run(tmp_path, "unit", "show", "999", ok=False)["error"]
    report = run(tmp_path, "unit", "report", str(top["id"]), "--out", str(tmp_path / "empty.pdf"))
    assert report["pages"] >= 1 and Path(report["path"]).read_bytes().startswith(b"%PDF")


def test_unit_head_sees_the_units_they_head_and_below(tree: tuple[Flask, Seeded]) -> None:
    from survey.domain.units import add_unit

    app, seeded = tree
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        add_unit(s, "Afd D", seeded.units["Forvaltning"], head_email="Head@Example.org")
        headed = units_headed_by(s, "head@example.org")
        assert [u.name for u in headed] == ["Afd D"]
        b = s.get(type(headed[0]), seeded.units["Afd B"])
        assert b is not None
        b.head_email = "b@example.org"
        s.commit()
        assert visible_units(s, "B@example.org") == {seeded.units["Afd B"], seeded.units["Gruppe B1"]}
        assert visible_units(s, "nobody@example.org") == set()


def test_a_team_on_another_instrument_keeps_its_own_scale_and_adds_to_nothing(tmp_path: Path) -> None:
    """A 7-point instrument is neither pooled with nor added to the default 5-point figures, and its
    figures are banded by its own bands, not written into the default instrument's columns."""
    fixtures = Path(__file__).resolve().parent / "fixtures" / "content"
    app = make_app(tmp_path, CONTENT_DIR=str(fixtures))
    rt = app.extensions["tryghed"]
    seeded = Seeded()
    with rt.db.session() as s:
        add_units(s, [("Afd", None)], seeded)
        add_reported_rounds(s, rt.content.instrument(), [("D1", "Afd", [6]), ("D2", "Afd", [3])], seeded, k=K)
        seven = rt.content.instrument("edmondson7")
        add_reported_rounds(s, seven, [("E1", "Afd", [6]), ("E2", "Afd", [2])], seeded, k=K, seed=3)
        shown = show_unit(rt.content, s, seeded.units["Afd"], K)
        page = str(unit_page(rt, s, seeded.units["Afd"], "da").body)
    by_name = {t["name"]: t for t in shown["teams"]}
    e1 = by_name["E1"]["pillars"]
    assert e1 is not None and {p["key"] for p in e1} == {p.key for p in seven.pillars}
    assert all(p["band"] == band_of(p["mean"], seven.bands) for p in e1)
    assert shown["respondents"] == 6 and shown["pools"] == []  # D1 only: D2 + E2 would be 5, but never pooled
    assert by_name["E2"]["suppressed"] is True and by_name["E2"]["pool_id"] is None
    assert "målt med Teamets tryghed (7 udsagn)" in page
    rt.db.dispose()
