"""The survey page in a real browser (Chromium via Playwright), on a phone-sized screen, no JavaScript."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import make_app
from tests.helpers import LiveServer, read_outbox, setup_round, token_of

pytestmark = pytest.mark.browser


def test_answer_on_a_phone_without_javascript(tmp_path: Path, browser) -> None:
    app = make_app(tmp_path)
    with LiveServer(app) as live:
        app.extensions["tryghed"].config["BASE_URL"] = live.url
        _, round_id = setup_round(app, 5)
        token = token_of(read_outbox(tmp_path / "outbox")[0])
        context = browser.new_context(
            viewport={"width": 375, "height": 740},
            java_script_enabled=False,
            device_scale_factor=1,
            locale="da-DK",
        )
        page = context.new_page()
        page.goto(f"{live.url}/s/{token}")
        assert page.locator("fieldset").count() == 16
        # the page fits a phone: no element reaches past the right edge of a 375 px screen
        for box in (
            page.locator("fieldset").nth(0).bounding_box(),
            page.get_by_role("button").bounding_box(),
        ):
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
        page.screenshot(path=str(tmp_path / "form-phone.png"), full_page=False)
        shots = os.environ.get("SCREENSHOT_DIR")
        if shots:  # for a person to look at: SCREENSHOT_DIR=docs/img pytest tests/test_browser.py
            page.screenshot(path=str(Path(shots) / "survey-phone.png"), full_page=False)

        # send with one statement unanswered: the form comes back with the error, nothing stored
        fieldsets = page.locator("fieldset")
        for i in range(15):
            fieldsets.nth(i).locator("label").nth(3).click()
        with page.expect_navigation() as resp:  # returns once the page that shows the answer has loaded
            page.get_by_role("button").click()
        assert resp.value is not None and resp.value.status == 400
        expect(page.locator(".errors")).to_be_visible()
        assert page.locator("fieldset.invalid").count() == 1

        for i in range(16):
            fieldsets = page.locator("fieldset")
            fieldsets.nth(i).locator("label").nth(4).click()
        with page.expect_response(lambda r: r.request.method == "POST") as resp:
            page.get_by_role("button").click()
        assert resp.value.status == 200
        expect(page.get_by_text("Tak for dine svar")).to_be_visible()
        page.screenshot(path=str(tmp_path / "thanks-phone.png"))

        # the same link again: already answered
        response = page.goto(f"{live.url}/s/{token}")
        assert response is not None and response.status == 409
        context.close()
