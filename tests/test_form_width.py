"""The respondent form fits the narrowest phones in real Chromium: 5- and 7-point scales, Danish and English.

"Fits" means what a person on a 320 px screen needs: the page does not scroll sideways and no element
reaches past the right edge of the viewport.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from pipeline.tasks import send_pending
from survey.domain.rounds import create_round, open_round
from survey.domain.teams import add_team, import_participants
from tests.conftest import make_app
from tests.helpers import LiveServer, read_outbox, token_of

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures" / "content"
# Every element whose right edge passes the viewport, with its size: empty when the page fits.
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && (box.right > width + 0.5 || box.left < -0.5)) {
      wide.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(box.left)}-${Math.round(box.right)}`);
    }
  }
  return {width, scroll: document.documentElement.scrollWidth, wide};
}"""


def _open_round(app: Flask, instrument: str | None, lang: str) -> str:
    """A team on ``instrument`` with one participant in ``lang`` and an open round; the personal token."""
    rt = app.extensions["tryghed"]
    with app.app_context():
        with rt.db.session() as s:
            team = add_team(s, "Team Smalle Skærm", "leder@example.org", "Lis", lang, instrument=instrument)
            import_participants(s, team.id, f"email,name,lang\np@example.org,Per,{lang}\n")
            round_id = create_round(rt, s, team.id, min_responses=3).id
            open_round(rt, s, round_id)
        send_pending.delay(round_id)
    return token_of(read_outbox(Path(rt.config["OUTBOX_DIR"]))[0])


@pytest.mark.parametrize("instrument", [None, "edmondson7"], ids=["5-point", "7-point"])
@pytest.mark.parametrize("lang", ["da", "en"])
def test_form_fits_320_px(tmp_path: Path, browser: Any, instrument: str | None, lang: str) -> None:
    app = make_app(tmp_path, CONTENT_DIR=str(FIXTURES))
    with LiveServer(app) as live:
        app.extensions["tryghed"].config["BASE_URL"] = live.url
        token = _open_round(app, instrument, lang)
        context = browser.new_context(viewport={"width": 320, "height": 640}, device_scale_factor=1)
        try:
            page = context.new_page()
            page.goto(f"{live.url}/s/{token}")
            points = 7 if instrument else 5
            assert page.locator("fieldset").first.locator("input[type=radio]").count() == points
            for width in (320, 390):
                page.set_viewport_size({"width": width, "height": 640})
                measured = page.evaluate(OVERFLOW_JS)
                assert measured["scroll"] <= width, measured
                assert measured["wide"] == [], measured
            # every answer is still a target a thumb can hit
            page.set_viewport_size({"width": 320, "height": 640})
            box = page.locator("fieldset").first.locator("label").first.bounding_box()
            assert box is not None and box["width"] >= 24 and box["height"] >= 24
        finally:
            context.close()
    app.extensions["tryghed"].db.dispose()
