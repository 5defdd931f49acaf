"""The unit overview in the web app: who may open which unit, the page and PDF it serves, and axe on both
pages. The figures themselves (the cross-team disclosure rule) are checked in tests/test_units.py; here the
page must be exactly that checked document, and nothing more."""

from __future__ import annotations

import html as html_lib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from survey.domain.units import unit_page
from tests.a11y import axe_violations, describe
from tests.conftest import make_app
from tests.helpers import LiveServer
from tests.test_units import TEAMS, UNITS, figures_in_html
from tests.unit_fixtures import Seeded, add_reported_rounds, add_units
from tests.web_helpers import PASSWORD, add_account, login, post_form


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[tuple[Flask, Seeded]]:
    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    seeded = Seeded()
    with rt.db.session() as s:
        add_units(s, UNITS, seeded)
        add_reported_rounds(s, rt.content.instrument(), TEAMS, seeded, k=5, seed=7)
        from survey.data.models import Unit

        unit = s.get(Unit, seeded.units["Afd B"])
        assert unit is not None
        unit.head_email = "hanne@example.org"  # heads Afd B, and so sees Gruppe B1 below it
        s.commit()
    add_account(app, "hanne@example.org", "leader")
    add_account(app, "lis@example.org", "leader")
    add_account(app, "fie@example.org", "facilitator")
    yield app, seeded
    rt.db.dispose()


def test_a_unit_head_opens_the_units_they_head_and_below_and_nothing_else(tree: tuple[Flask, Seeded]) -> None:
    app, seeded = tree
    ids = seeded.units
    client = app.test_client()
    assert client.get(f"/units/{ids['Afd B']}").status_code == 303  # no login: to /login
    assert login(client, "hanne@example.org") == 303
    listing = client.get("/units").get_data(as_text=True)
    assert "Afd B" in listing and "Gruppe B1" in listing
    assert "Afd A" not in listing and "Forvaltning" not in listing
    assert client.get(f"/units/{ids['Afd B']}").status_code == 200
    assert client.get(f"/units/{ids['Gruppe B1']}").status_code == 200
    for other in ("Forvaltning", "Afd A", "Afd C"):
        assert client.get(f"/units/{ids[other]}").status_code == 404, other  # not 403: says nothing
        assert client.get(f"/units/{ids[other]}/overview.pdf").status_code == 404, other
    assert client.get("/units/99999").status_code == 404
    # "Units" is in the menu of a head, and of nobody else who is a leader
    assert 'href="/units"' in client.get("/").get_data(as_text=True)

    leader = app.test_client()
    assert login(leader, "lis@example.org") == 303
    assert 'href="/units"' not in leader.get("/").get_data(as_text=True)
    assert "Afd" not in leader.get("/units").get_data(as_text=True)
    assert leader.get(f"/units/{ids['Afd B']}").status_code == 404


def test_a_unit_heads_start_page_is_their_units(tree: tuple[Flask, Seeded]) -> None:
    """A head who leads no team sees their units, not "no team has you as its leader"; a head who also
    leads a team sees both; a plain leader sees no unit."""
    app, seeded = tree
    head = app.test_client()
    assert login(head, "hanne@example.org") == 303
    start = head.get("/").get_data(as_text=True)
    assert f'href="/units/{seeded.units["Afd B"]}"' in start and "Afd B" in start
    assert "Dine enheder" in start
    assert "leder af et team" not in start and "som leder endnu" not in start and 'class="card"' not in start
    assert "Afd A" not in start and "Forvaltning" not in start  # only the units they head

    rt = app.extensions["tryghed"]
    from survey.data.models import Team

    with rt.db.session() as s:
        team = s.get(Team, seeded.teams["T1"])
        assert team is not None
        team.leader_email = "hanne@example.org"
        s.commit()
    both = head.get("/").get_data(as_text=True)
    assert f'href="/units/{seeded.units["Afd B"]}"' in both
    assert both.count('class="card"') == 1 and "T1" in both

    leader = app.test_client()
    assert login(leader, "lis@example.org") == 303
    plain = leader.get("/").get_data(as_text=True)
    assert "Dine enheder" not in plain and "/units/" not in plain


def test_the_page_is_the_checked_overview_and_the_pdf_downloads(tree: tuple[Flask, Seeded], tmp_path: Path) -> None:
    app, seeded = tree
    rt = app.extensions["tryghed"]
    unit_id = seeded.units["Forvaltning"]
    client = app.test_client()
    assert login(client, "fie@example.org") == 303
    page = client.get(f"/units/{unit_id}")
    assert page.status_code == 200
    with rt.db.session() as s:
        checked = str(unit_page(rt, s, unit_id, "da").body)
    # the same figures as the document the brute-force leak test checks (pools may be listed in any order)
    served = page.get_data(as_text=True)
    assert figures_in_html(served) == figures_in_html(checked) and figures_in_html(served)
    assert page.headers["Cache-Control"] == "no-store"
    # the old PDF address leads to the page that makes it; asking answers at once with that page, and
    # without a broker the task has run in-process by then, so the page offers the file
    assert client.get(f"/units/{unit_id}/overview.pdf").headers["Location"] == f"/units/{unit_id}/report"
    status = client.get(f"/units/{unit_id}/report").get_data(as_text=True)
    asked: Any = post_form(client, f"/units/{unit_id}/report", f"/units/{unit_id}/report", {})
    assert "No PDF has been made yet" in status or "Der er ikke lavet" in status
    assert asked.status_code == 303
    ready = client.get(asked.headers["Location"])
    link = re.search(r'href="(/units/\d+/report\.pdf\?job=\w+)"', ready.get_data(as_text=True))
    assert ready.status_code == 200 and link, ready.get_data(as_text=True)
    assert "refresh" not in ready.get_data(as_text=True)  # done: no reloading
    pdf = client.get(html_lib.unescape(link.group(1)))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    (tmp_path / "unit.pdf").write_bytes(pdf.data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "unit.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Forvaltning" in text and "T1" in text


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["da", "en"])
def test_unit_pages_have_no_axe_violations(tree: tuple[Flask, Seeded], browser: Any, lang: str) -> None:
    app, seeded = tree
    from survey.data.models import User

    with app.extensions["tryghed"].db.session() as s:
        for user in s.query(User):
            user.lang = lang
        s.commit()
    failures: list[str] = []
    with LiveServer(app) as live:
        for email in ("fie@example.org", "hanne@example.org"):
            context = browser.new_context(locale="da-DK" if lang == "da" else "en-GB")
            page = context.new_page()
            page.goto(f"{live.url}/login")
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            with page.expect_navigation():
                page.click("button[type=submit]")
            for url in ("/", "/units", f"/units/{seeded.units['Afd B']}", f"/units/{seeded.units['Afd B']}/report"):
                response = page.goto(live.url + url)
                assert response is not None and response.status == 200, url
                for width in (390, 1280):
                    page.set_viewport_size({"width": width, "height": 900})
                    found = axe_violations(page)
                    if found:
                        failures.append(f"{email} {url} at {width}px:\n{describe(found)}")
            context.close()
    assert not failures, "\n".join(failures)


def test_the_pdf_page_shows_progress_and_offers_nothing_before_it_is_done(tree: tuple[Flask, Seeded]) -> None:
    from datetime import UTC, datetime, timedelta

    from survey.data.models import UnitReport

    app, seeded = tree
    rt = app.extensions["tryghed"]
    unit_id = seeded.units["Afd B"]
    started = datetime.now(UTC) - timedelta(seconds=40)
    with rt.db.session() as s:
        s.add(UnitReport(id="a" * 32, unit_id=unit_id, lang="da", status="layout", started_at=started))
        s.add(UnitReport(id="b" * 32, unit_id=seeded.units["Afd A"], lang="da", status="done", pdf=b"%PDF-1.7"))
        s.commit()
    client = app.test_client()
    assert login(client, "hanne@example.org") == 303  # heads Afd B only
    page = client.get(f"/units/{unit_id}/report?job={'a' * 32}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="3">' in html  # reloads itself: no JavaScript needed
    assert "3 af 3" in html and "report.pdf" not in html
    assert client.get(f"/units/{unit_id}/report.pdf?job={'a' * 32}").status_code == 404  # not ready yet
    # another unit's file, through a unit the head may see: not found
    assert client.get(f"/units/{unit_id}/report.pdf?job={'b' * 32}").status_code == 404
    assert client.get(f"/units/{unit_id}/report?job={'b' * 32}").status_code == 404
    # and the unit itself is out of reach
    assert client.get(f"/units/{seeded.units['Afd A']}/report.pdf?job={'b' * 32}").status_code == 404


def test_the_overview_page_comes_in_pages_that_together_are_the_document(
    tree: tuple[Flask, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import unit_render
    from survey.domain.units import build_overview

    app, seeded = tree
    rt = app.extensions["tryghed"]
    unit_id = seeded.units["Forvaltning"]
    with rt.db.session() as s:
        whole = unit_render.overview_html(build_overview(rt.content, s, unit_id, 5), rt.content, "da", rt.tz)
    monkeypatch.setattr(unit_render, "ROWS_PER_PAGE", 3)
    client = app.test_client()
    assert login(client, "fie@example.org") == 303
    pages, seen = [], set()
    for n in range(1, 20):
        html = client.get(f"/units/{unit_id}?page={n}").get_data(as_text=True)
        if pages and html == pages[-1]:
            break  # past the end: the last page again
        pages.append(html)
        seen |= figures_in_html(html)
    assert len(pages) > 2
    assert 'rel="next"' in pages[0] and 'rel="next"' not in pages[-1]
    assert seen == figures_in_html(whole)


def test_a_pdf_whose_worker_died_is_queued_again_once_per_period(tree: tuple[Flask, Seeded]) -> None:
    from datetime import UTC, datetime, timedelta

    from survey.data.models import UnitReport
    from survey.domain.unit_reports import make_report, stalled_reports

    app, seeded = tree
    rt = app.extensions["tryghed"]
    now = datetime.now(UTC)
    period = timedelta(minutes=26)
    with rt.db.session() as s:
        # killed mid-layout an hour ago; and one still within its period, left alone
        s.add(UnitReport(id="c" * 32, unit_id=seeded.units["Afd A"], status="layout", created_at=now - 2 * period))
        s.add(UnitReport(id="d" * 32, unit_id=seeded.units["Afd B"], status="layout", created_at=now))
        s.commit()
        assert stalled_reports(s, now, period, 500) == ["c" * 32]
        assert stalled_reports(s, now, period, 500) == []  # not again before another period
        with app.app_context():
            assert make_report(rt, s, "c" * 32) == "done"
            assert make_report(rt, s, "c" * 32) == "skipped"  # a duplicate task makes nothing twice
        s.expire_all()
        job = s.get(UnitReport, "c" * 32)
        assert job is not None and job.status == "done" and job.pdf is not None and job.pdf.startswith(b"%PDF")
