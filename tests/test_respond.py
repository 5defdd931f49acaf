"""The respondent page's contract: 200 / 400 / 404 / 409 / 410, and nothing stored unless accepted."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import close, hidden_fields, read_outbox, setup_round, stored_answers, submit, token_of


def stored(app: Flask) -> int:
    return stored_answers(app)[0]


def full(value: int = 4) -> dict[str, int]:
    from survey.content import load_content

    return {i.key: value for i in load_content().instrument().items}


def tokens(tmp_path: Path) -> list[str]:
    return [token_of(m) for m in read_outbox(tmp_path / "outbox")]


def test_form_then_thanks_then_409(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    _team, round_id = setup_round(app, 5)
    token = tokens(tmp_path)[0]
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('type="radio"') == 16 * 5 and 'name="ink1"' in html
    # no CSRF token: the only hidden fields name the round and instrument the form was made for
    assert hidden_fields(html) == {"_round": str(round_id), "_instrument": "tryghedsbarometer"}
    assert submit(client, token, full()).status_code == 200
    assert stored(app) == 1
    assert client.get(f"/s/{token}").status_code == 409
    again = client.post(f"/s/{token}", data=full())
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
    assert client.get(f"/s/{second}").status_code == 200  # the form was open when the round closed
    assert submit(client, first, full()).status_code == 200
    close(app, round_id)
    assert client.get(f"/s/{second}").status_code == 410
    posted = client.post(f"/s/{second}", data=full())
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


def test_cached_form_page_is_per_round_and_holds_nothing_per_person(app: Flask, tmp_path: Path) -> None:
    """The form page is rendered once per (instrument, language, k, closing time): each round still shows
    its own threshold, and the page has nothing per person (no token, no cookie), so it is the same bytes
    for every link of a round and every browser."""
    setup_round(app, 2, min_responses=3, team_name="Team A")
    setup_round(app, 2, min_responses=7, team_name="Team B")
    links = tokens(tmp_path)
    pages = [app.test_client().get(f"/s/{link}") for link in links]
    shown = sorted(k for page in pages for k in (3, 7) if f"mindst {k} har svaret" in page.text)
    assert shown == [3, 3, 7, 7]
    by_k = {k: {p.data for p in pages if f"mindst {k} har svaret" in p.text} for k in (3, 7)}
    assert len(by_k[3]) == 1 and len(by_k[7]) == 1  # byte for byte the same page for both links of a round
    assert not any(link in page.text for page in pages for link in links)
    assert all(not page.headers.getlist("Set-Cookie") for page in pages)
    # another browser than the one that loaded the form can send it: the link is the key
    assert app.test_client().post(f"/s/{links[0]}", data=full()).status_code == 200
    assert stored(app) == 1


def test_no_response_of_the_respondent_path_sets_a_cookie(app: Flask, tmp_path: Path) -> None:
    """Fewer cookies, more privacy: no page under /s/ sets one, whatever its status."""
    _, round_id = setup_round(app, 4, min_responses=3)
    first, second, third, fourth = tokens(tmp_path)
    app.config["LINK_GUESS_LIMIT"] = 1
    app.extensions["tryghed"].config["LINK_GUESS_LIMIT"] = 1
    client = app.test_client()
    answers = full()
    del answers["ink1"]
    responses = {
        "form": client.get(f"/s/{first}"),
        "400": client.post(f"/s/{first}", data=answers),
        "415": client.post(f"/s/{first}", json=full()),
        "thanks": client.post(f"/s/{first}", data=full()),
        "409": client.get(f"/s/{first}"),
        "404": client.get("/s/" + "A" * 43),
        "429": client.post("/s/" + "B" * 43, data=full()),
    }
    for token in (second, third):
        assert client.post(f"/s/{token}", data=full()).status_code == 200
    close(app, round_id)
    responses["410"] = client.get(f"/s/{fourth}")
    expected = {"form": 200, "400": 400, "415": 415, "thanks": 200, "409": 409, "404": 404, "429": 429, "410": 410}
    assert {name: r.status_code for name, r in responses.items()} == expected
    assert {name: r.headers.getlist("Set-Cookie") for name, r in responses.items()} == dict.fromkeys(responses, [])
    assert client.get_cookie("session") is None


def test_a_forged_post_cannot_store_an_answer_for_a_link_it_does_not_know(app: Flask, tmp_path: Path) -> None:
    """The CSRF question, answered by test: a page on another site can make a browser post to /s/..., but
    only to a link the attacker knows. Without the link's token, every forged post is refused (404, and 429
    once it keeps guessing) and stores nothing; the owner's link still works afterwards."""
    setup_round(app, 3)
    real = tokens(tmp_path)[0]
    # a browser that has the real form open (and so would hold any cookie the form set) is the victim
    victim = app.test_client()
    assert victim.get(f"/s/{real}").status_code == 200
    cross_site = {"Origin": "https://evil.example", "Referer": "https://evil.example/page"}
    guesses = ["A" * 43, real[:-1] + ("A" if real[-1] != "A" else "B"), real.lower(), real[::-1], real + "x"]
    for guess in guesses:
        forged = victim.post(f"/s/{guess}", data=full(1), headers=cross_site)
        assert forged.status_code in (404, 429), (guess, forged.status_code)
    assert stored_answers(app) == (0, 0)  # no answer set, no invitation marked answered
    assert victim.post(f"/s/{real}", data=full(5)).status_code == 200  # the owner answers as usual
    assert stored(app) == 1
