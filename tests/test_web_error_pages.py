"""The staff's error pages: 403, 404, 405, 413 and 500 in the app's layout with its navigation, in the
account's language; the respondent's links keep their own pages; a GET to an address that only takes a
form's POST (the reload after a form error) lands on the page above it, not on a 405. axe-core at 390 and
1280 px, Danish and English."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.domain.teams import add_team
from tests.a11y import axe_violations, describe
from tests.conftest import make_app
from tests.helpers import LiveServer
from tests.web_helpers import PASSWORD, add_account, csrf_of, login

HEADINGS = {
    "da": {
        403: "Du har ikke adgang til siden",
        404: "Siden findes ikke",
        405: "Adressen kan ikke bruges sådan",
        413: "Der blev sendt for meget",
        500: "Der skete en fejl hos os",
    },
    "en": {
        403: "You do not have access to this page",
        404: "The page does not exist",
        405: "This address cannot be used like that",
        413: "Too much was sent",
        500: "Something went wrong on our side",
    },
}
RESPONDENT_TEXT = ("Åbn linket fra e-mailen igen", "Open the link from the email again")


def _app(tmp_path: Path) -> tuple[Flask, int]:
    app = make_app(tmp_path, TESTING=False, MAX_CONTENT_LENGTH=64 * 1024)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("a bug")

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        team_id = add_team(s, "Team Øst", "leder@example.org", "Lis", "da").id
    return app, team_id


def _pages(client: FlaskClient, team_id: int) -> dict[int, str]:
    token = csrf_of(client.get("/").get_data(as_text=True))
    responses = {
        403: client.get("/admin/users"),
        404: client.get("/teams/999999"),
        405: client.post("/knowledge", data={"csrf_token": token}),
        413: client.post(
            f"/teams/{team_id}/participants/import",
            data={"csrf_token": token, "csv-file": (io.BytesIO(b"x" * 100_000), "big.csv")},
            content_type="multipart/form-data",
        ),
        500: client.get("/boom"),
    }
    pages = {}
    for status, response in responses.items():
        assert response.status_code == status, (status, response.status_code)
        pages[status] = response.get_data(as_text=True)
    return pages


@pytest.mark.parametrize("lang", ["da", "en"])
def test_staff_error_pages_are_styled_translated_and_have_the_navigation(tmp_path: Path, lang: str) -> None:
    app, team_id = _app(tmp_path)
    add_account(app, "fac@example.org", "facilitator", lang=lang)
    client = app.test_client()
    assert login(client, "fac@example.org") == 303
    for status, html in _pages(client, team_id).items():
        assert f"<h1>{HEADINGS[lang][status]}</h1>" in html, status
        assert f'<html lang="{lang}">' in html
        assert 'href="/knowledge"' in html, f"{status}: no navigation"
        assert not any(text in html for text in RESPONDENT_TEXT), status


def test_respondent_links_keep_their_own_pages(tmp_path: Path) -> None:
    app, _team_id = _app(tmp_path)
    client = app.test_client()
    html = client.get("/s/not-a-token", headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert "Linket findes ikke" in html and 'href="/knowledge"' not in html
    response = client.put("/k/", headers={"Accept-Language": "en"})
    assert response.status_code == 405 and RESPONDENT_TEXT[1] in response.get_data(as_text=True)


def test_a_reload_after_a_form_error_is_not_a_405(tmp_path: Path) -> None:
    app, team_id = _app(tmp_path)
    add_account(app, "fac@example.org", "facilitator")
    client = app.test_client()
    login(client, "fac@example.org")
    for path in (f"/teams/{team_id}/participants/import", f"/teams/{team_id}/rounds", f"/teams/{team_id}/settings"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["Location"].endswith(f"/teams/{team_id}"), path
        assert client.get(response.headers["Location"]).status_code == 200


def test_no_form_address_answers_a_get_with_a_405(tmp_path: Path) -> None:
    """Every staff address that takes a form's POST, reloaded or bookmarked (a GET), lands on a page: its own
    GET (a confirmation page) or the nearest page above it, never the 405 page. Checked over the whole URL
    map, so a form added later is held to the same."""
    app, team_id = _app(tmp_path)
    add_account(app, "fac@example.org", "admin")
    client = app.test_client()
    login(client, "fac@example.org")
    checked = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.rule.startswith(("/s/", "/k/", "/login")):
            continue
        path = re.sub(r"<int:\w+>", str(team_id), rule.rule)
        path = re.sub(r"<(?:\w+:)?\w+>", "x", path)
        response = client.get(path)
        assert response.status_code != 405, path
        if response.status_code == 303:
            assert client.get(response.headers["Location"]).status_code in (200, 404), path
        checked.append(path)
    assert f"/teams/{team_id}/leader" in checked and len(checked) > 20


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["da", "en"])
def test_error_pages_have_no_axe_violations(tmp_path: Path, browser: Any, lang: str) -> None:
    app, team_id = _app(tmp_path)
    add_account(app, "fac@example.org", "facilitator", lang=lang)
    failures: list[str] = []
    with LiveServer(app) as live:
        context = browser.new_context(locale="da-DK" if lang == "da" else "en-GB")
        page = context.new_page()
        page.goto(f"{live.url}/login")
        page.fill("#email", "fac@example.org")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        for path, status in (("/admin/users", 403), ("/teams/999999", 404), ("/boom", 500)):
            response = page.goto(live.url + path)
            assert response is not None and response.status == status, path
            for width in (390, 1280):
                page.set_viewport_size({"width": width, "height": 900})
                if found := axe_violations(page):
                    failures.append(f"{path} at {width}px:\n{describe(found)}")
        # 405 and 413 are answers to a POST: the browser's page after posting, through a real form
        posts = (
            ("405", "/knowledge", ""),
            ("413", f"/teams/{team_id}/participants/import", "x" * 100_000),
            ("400", f"/teams/{team_id}/participants", "x"),  # a form without its CSRF token
        )
        for label, path, value in posts:
            page.set_content(_form(live.url + path, value))
            with page.expect_navigation() as answered:
                page.click("button")
            assert answered.value is not None and answered.value.status == int(label), label
            for width in (390, 1280):
                page.set_viewport_size({"width": width, "height": 900})
                if found := axe_violations(page):
                    failures.append(f"{label} at {width}px:\n{describe(found)}")
    assert not failures, "\n".join(failures)


def _form(action: str, value: str) -> str:
    return f'<form method="post" action="{action}"><input name="v" value="{value}"><button>go</button></form>'


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["da", "en"])
def test_respondent_pages_have_no_axe_violations(tmp_path: Path, browser: Any, lang: str) -> None:
    """The respondent's own pages, whose texts moved to the catalogs (issue 20): the thank-you page, and the
    refusals of a link that is unknown (404), already used (409) or of a closed round (410), each in the
    participant's language, at 390 and 1280 px."""
    from tests.helpers import close, read_outbox, setup_round, token_of

    app = make_app(tmp_path)
    _team_id, round_id = setup_round(app, 6, lang=lang)
    tokens = [token_of(m) for m in read_outbox(tmp_path / "outbox")]
    failures: list[str] = []

    def check(label: str) -> None:
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            if found := axe_violations(page):
                failures.append(f"{label} at {width}px:\n{describe(found)}")

    with LiveServer(app) as live:
        context = browser.new_context(locale="da-DK" if lang == "da" else "en-GB")
        page = context.new_page()
        page.goto(f"{live.url}/s/{tokens[0]}")
        for i in range(page.locator("fieldset").count()):
            page.locator("fieldset").nth(i).locator("label").nth(3).click()
        with page.expect_navigation() as posted:  # returns once the page after the POST has loaded
            page.locator("main button[type=submit]").click()
        assert posted.value is not None and posted.value.status == 200
        assert page.locator("html").get_attribute("lang") == lang
        check("thank-you page")
        for label, path, status in (("already answered", tokens[0], 409), ("unknown link", "x" * 43, 404)):
            response = page.goto(f"{live.url}/s/{path}")
            assert response is not None and response.status == status, label
            check(label)
        close(app, round_id)
        response = page.goto(f"{live.url}/s/{tokens[1]}")
        assert response is not None and response.status == 410
        assert page.locator("html").get_attribute("lang") == lang
        check("round closed")
        context.close()
    app.extensions["tryghed"].db.dispose()
    assert not failures, "\n".join(failures)
