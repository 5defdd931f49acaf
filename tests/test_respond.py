"""The respondent page's contract: 200 / 400 / 404 / 409 / 410, and nothing stored unless accepted."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import close, csrf_of, read_outbox, setup_round, stored_answers, submit, token_of


def stored(app: Flask) -> int:
    return stored_answers(app)[0]


def full(value: int = 4) -> dict[str, int]:
    from survey.content import load_content

    return {i.key: value for i in load_content().instrument().items}


def tokens(tmp_path: Path) -> list[str]:
    return [token_of(m) for m in read_outbox(tmp_path / "outbox")]


def test_form_then_thanks_then_409(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    setup_round(app, 5)
    token = tokens(tmp_path)[0]
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('type="radio"') == 16 * 5 and 'name="ink1"' in html and "csrf_token" in html
    assert submit(client, token, full()).status_code == 200
    assert stored(app) == 1
    assert client.get(f"/s/{token}").status_code == 409
    again = client.post(f"/s/{token}", data={"csrf_token": "x", **full()})
    assert again.status_code == 409
    assert stored(app) == 1


def test_missing_or_out_of_range_answer_is_400_and_stores_nothing(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    setup_round(app, 5)
    token = tokens(tmp_path)[0]
    answers = full()
    del answers["udf4"]
    response = submit(client, token, answers)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Vælg et svar" in html
    # what was answered stays chosen, so only the missing statement needs a tap
    assert html.count(" checked") == 15 and 'name="ink1" value="4" required checked' in html
    for bad in ("6", "0", "abc", ""):
        assert submit(client, token, {**full(), "lae2": bad}).status_code == 400
    page = client.get(f"/s/{token}")
    no_csrf = client.post(f"/s/{token}", data=full())
    assert no_csrf.status_code == 400
    assert csrf_of(page.get_data(as_text=True))
    assert stored(app) == 0
    assert submit(client, token, full()).status_code == 200  # the link still works after the errors


def test_unknown_link_is_404_in_danish(client: FlaskClient, app: Flask) -> None:
    setup_round(app, 5)
    for token in ("A" * 43, "short", "x" * 300):
        response = client.get(f"/s/{token}")
        assert response.status_code == 404
        assert "Linket findes ikke" in response.get_data(as_text=True)
    assert client.post("/s/" + "B" * 43, data=full()).status_code == 404


def test_closed_round_is_410_even_for_unused_links(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    _, round_id = setup_round(app, 5, min_responses=3)
    first, second = tokens(tmp_path)[:2]
    page = client.get(f"/s/{second}")
    assert submit(client, first, full()).status_code == 200
    close(app, round_id)
    assert client.get(f"/s/{second}").status_code == 410
    posted = client.post(f"/s/{second}", data={"csrf_token": csrf_of(page.get_data(as_text=True)), **full()})
    assert posted.status_code == 410 and "ikke åben" in posted.get_data(as_text=True)
    assert client.get(f"/s/{first}").status_code == 410  # recognised, and told the round is closed
    assert stored(app) == 1


def test_english_participant_gets_english_pages(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    setup_round(app, 5, lang="en")
    token = tokens(tmp_path)[0]
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Send my answers" in page
    assert "Thank you" in submit(client, token, full()).get_data(as_text=True)


def test_healthz(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200


def test_cached_form_page_is_per_round_and_never_shares_a_csrf_token(app: Flask, tmp_path: Path) -> None:
    """The form page is rendered once per (instrument, language, k, closing time): each round still shows
    its own threshold, and each browser gets its own CSRF token, which it can answer with."""
    setup_round(app, 2, min_responses=3, team_name="Team A")
    setup_round(app, 2, min_responses=7, team_name="Team B")
    links = tokens(tmp_path)
    pages = [app.test_client().get(f"/s/{link}").get_data(as_text=True) for link in links]
    shown = sorted(k for page in pages for k in (3, 7) if f"mindst {k} har svaret" in page)
    assert shown == [3, 3, 7, 7]
    first, second = app.test_client(), app.test_client()
    one = csrf_of(first.get(f"/s/{links[0]}").get_data(as_text=True))
    other = csrf_of(second.get(f"/s/{links[0]}").get_data(as_text=True))
    assert one and other and one != other
    assert second.post(f"/s/{links[0]}", data={"csrf_token": one, **full()}).status_code == 400  # not its token
    assert first.post(f"/s/{links[0]}", data={"csrf_token": one, **full()}).status_code == 200
    assert stored(app) == 1
