"""Issue 17: the unit overview PDF is made by a Celery worker. Asking for it answers at once with a page
that shows the step it is at (reloading itself, no JavaScript); a real worker makes it; then the same page
offers the file. Real Redis, PostgreSQL and ``celery -A celery_app worker``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from tests.integration.conftest import Stack, wait_for
from tests.test_units import TEAMS, UNITS
from tests.unit_fixtures import Seeded, add_reported_rounds, add_units
from tests.web_helpers import add_account, login, post_form


def test_the_unit_pdf_is_made_by_a_worker_and_offered_when_ready(stack: Stack, tmp_path: Path) -> None:
    seeded = Seeded()
    with stack.session() as s:
        add_units(s, UNITS, seeded)
        add_reported_rounds(s, stack.rt.content.instrument(), TEAMS, seeded, k=5, seed=7)
    add_account(stack.app, "fie@example.org", "facilitator")
    unit_id = seeded.units["Forvaltning"]
    client = stack.app.test_client()
    assert login(client, "fie@example.org") == 303

    page_url = f"/units/{unit_id}/report"
    asked: Any = post_form(client, page_url, page_url, {})
    assert asked.status_code == 303
    progress = asked.headers["Location"]
    # no worker yet: the request answered without rendering, and the page says it waits, reloading itself
    waiting = client.get(progress).get_data(as_text=True)
    assert "Trin 1 af 3" in waiting and 'http-equiv="refresh"' in waiting and "report.pdf" not in waiting
    # asking again while it waits reuses the same request
    again: Any = post_form(client, page_url, page_url, {})
    assert again.headers["Location"] == progress

    stack.start_worker()

    def offered() -> str | None:
        html = client.get(progress).get_data(as_text=True)
        found = re.search(r'href="(/units/\d+/report\.pdf\?job=\w+)"', html)
        return found.group(1) if found else None

    link = wait_for(offered, 120, "the worker to make the unit PDF")
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    (tmp_path / "unit.pdf").write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(tmp_path / "unit.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Forvaltning" in text and "T1" in text
