"""The unit overview in the web app: who may open which unit, the page and PDF it serves, and axe on both
pages. The figures themselves (the cross-team disclosure rule) are checked in tests/test_units.py; here the
page must be exactly that checked document, and nothing more."""

from __future__ import annotations

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
from tests.web_helpers import PASSWORD, add_account, login


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


def test_the_page_is_the_checked_overview_and_the_pdf_downloads(tree: tuple[Flask, Seeded], tmp_path: Path) -> None:
    app, seeded = tree
    rt = app.extensions["tryghed"]
    unit_id = seeded.units["Forvaltning"]
    client = app.test_client()
    assert login(client, "fie@example.org") == 303
    page = client.get(f"/units/{unit_id}")
    assert page.status_code == 200
    with rt.db.session() as s:
        checked = unit_page(rt, s, unit_id, "da")
    # the same figures as the document the brute-force leak test checks (pools may be listed in any order)
    served = page.get_data(as_text=True)
    assert figures_in_html(served) == figures_in_html(checked) and figures_in_html(served)
    assert page.headers["Cache-Control"] == "no-store"
    pdf = client.get(f"/units/{unit_id}/overview.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    (tmp_path / "unit.pdf").write_bytes(pdf.data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "unit.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Forvaltning" in text and "T1" in text


@pytest.mark.browser
def test_unit_pages_have_no_axe_violations(tree: tuple[Flask, Seeded], browser: Any) -> None:
    app, seeded = tree
    failures: list[str] = []
    with LiveServer(app) as live:
        for email in ("fie@example.org", "hanne@example.org"):
            context = browser.new_context(locale="da-DK")
            page = context.new_page()
            page.goto(f"{live.url}/login")
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            with page.expect_navigation():
                page.click("button[type=submit]")
            for url in ("/units", f"/units/{seeded.units['Afd B']}"):
                response = page.goto(live.url + url)
                assert response is not None and response.status == 200, url
                for width in (390, 1280):
                    page.set_viewport_size({"width": width, "height": 900})
                    found = axe_violations(page)
                    if found:
                        failures.append(f"{email} {url} at {width}px:\n{describe(found)}")
            context.close()
    assert not failures, "\n".join(failures)
