"""The debrief on the meeting room's screen (issue 21, point 3): the web report as a presentation.

Walked with plain links from the first screen to the last (what a browser without JavaScript does); the
focus and the actions agreed there land in the same focus and plan as the debrief page; the same rules as
the web report: nothing before close, nothing a suppressed round would not show, the report's readers only.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from survey.data.models import Round
from tests.web_helpers import add_account, csrf_of, login, post_form

NEXT = re.compile(r'<a rel="next" href="([^"#]+)')
TITLE = re.compile(r'<h1 id="slide-title"[^>]*>([^<]+)</h1>')


def card_round(app: Flask, answers: int, *, cards: int = 8, close: bool = True, lang: str = "da") -> dict[str, int]:
    """A team's card round with ``answers`` cards answered through ``/k/`` (varied answers), closed and
    reported when ``close``; the ids."""
    from pipeline.tasks import run_pipeline
    from survey.domain.cards import round_cards
    from survey.domain.rounds import close_round, create_round, open_round
    from survey.domain.teams import add_team

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, "Team Æblegården", "lis@example.org", "Lis Leder", lang)
        rid = create_round(rt, s, team.id, channel="cards", cards=cards, closes_at=rt.now() + timedelta(hours=2)).id
        open_round(rt, s, rid)
        codes = [c.url.rsplit("/", 1)[1] for c in round_cards(rt, s, rid)[1]]
        team_id = team.id
    phone = app.test_client()
    keys = [i.key for i in rt.content.instrument().items]
    for n, code in enumerate(codes[:answers]):
        assert phone.post(f"/k/{code}", data={k: 1 + (j * 3 + n) % 5 for j, k in enumerate(keys)}).status_code == 200
    if close:
        with app.app_context(), rt.db.session() as s:
            close_round(rt, s, rid)
        run_pipeline.delay(rid)
    return {"team": team_id, "round": rid}


def walk(client: FlaskClient, start: str) -> list[str]:
    """Follow the "next" links from ``start`` to the last screen; each screen's title."""
    titles, url = [], start
    while url:
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        found = TITLE.search(html)
        assert found, url
        titles.append(found.group(1))
        nxt = NEXT.search(html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
        assert len(titles) < 40
    return titles


def test_the_deck_walks_the_debrief_and_records_to_the_same_plan(app: Flask) -> None:
    ids = card_round(app, 6)
    rid = ids["round"]
    add_account(app, "fie@example.org", "facilitator")
    web = app.test_client()
    assert login(web, "fie@example.org") == 303
    deck = f"/rounds/{rid}/present"

    first = web.get(deck)
    html = first.get_data(as_text=True)
    policy = first.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert '<script src="/static/present.js" defer></script>' in html and "<script>" not in html
    assert 'rel="prev"' not in html  # the first screen has no previous one
    titles = walk(web, deck)
    assert titles[0] == "Guide til teammødet"
    assert titles[1:4] == ["Overblik", "Stærkeste og svageste udsagn", titles[3]]
    assert titles[3].startswith("Forslag til fokus: ")
    assert titles[-2:] == ["Jeres fokus", "Jeres første IGLO-handlinger"]
    dilemmas = titles[4:-2]
    assert dilemmas, titles  # the dilemmas of the focus, one a screen
    # every screen is in every page (print: one a sheet), exactly one of them shown
    assert html.count('<section class="slide') == len(titles) and html.count(" current") == 1
    last = web.get(f"{deck}?slide={len(titles)}").get_data(as_text=True)
    assert 'rel="next"' not in last and f'href="{deck}?slide={len(titles) - 1}#slide-title"' in last
    assert web.get(f"{deck}?slide=999").status_code == 200  # past the end: the last screen

    # the focus and an action, agreed on the screen, are the debrief page's focus and plan
    choose = f"{deck}?at=choose"
    chosen = post_form(web, choose, f"{deck}/focus", {"focus-pillar": "bidrage"})
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith(f"{deck}?at=choose#slide-title")  # type: ignore[attr-defined]
    assert "Teamet valgte: Bidrage" in web.get(choose).get_data(as_text=True)
    action = {
        "action-level": "gruppe",
        "action-what": "Fem minutter om fejl på mødet",
        "action-who": "Teamet",
        "action-hack": "",
    }
    added = post_form(web, f"{deck}?at=actions", f"{deck}/actions", action)
    assert added.status_code == 303  # type: ignore[attr-defined]
    with app.extensions["tryghed"].db.session() as s:
        assert s.get(Round, rid).chosen_focus == "bidrage"
    debrief = web.get(f"/rounds/{rid}/debrief").get_data(as_text=True)
    assert "Teamet valgte: Bidrage" in debrief and "Fem minutter om fejl på mødet" in debrief
    assert "Fem minutter om fejl på mødet" in web.get(f"{deck}?at=actions").get_data(as_text=True)

    # a refused action stays on its screen with the error, and nothing is added
    bad = post_form(web, f"{deck}?at=actions", f"{deck}/actions", {**action, "action-what": ""})
    assert bad.status_code == 400  # type: ignore[attr-defined]
    page = bad.get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'class="error-summary"' in page and TITLE.search(page).group(1) == "Jeres første IGLO-handlinger"  # type: ignore[union-attr]
    from survey.domain.actions import list_actions

    with app.extensions["tryghed"].db.session() as s:
        assert len(list_actions(s, rid)) == 1
    no_token = web.post(f"{deck}/actions", data=action)
    assert no_token.status_code == 400


def test_the_deck_speaks_the_teams_language(app: Flask) -> None:
    ids = card_round(app, 5, lang="en")
    add_account(app, "fie@example.org", "facilitator")  # a Danish account: the room reads the team's language
    web = app.test_client()
    assert login(web, "fie@example.org") == 303
    titles = walk(web, f"/rounds/{ids['round']}/present")
    assert titles[:2] == ["Guide for the team meeting", "Summary"]
    assert titles[-2:] == ["Your focus", "Your first IGLO actions"]
    assert '<html lang="en">' in web.get(f"/rounds/{ids['round']}/present").get_data(as_text=True)
    deck = f"/rounds/{ids['round']}/present"
    chosen = post_form(web, f"{deck}?at=choose", f"{deck}/focus", {"focus-pillar": "laere"})
    assert chosen.status_code == 303  # type: ignore[attr-defined]
    back = web.get(chosen.headers["Location"]).get_data(as_text=True)  # type: ignore[attr-defined]
    assert "The team&#39;s focus has been recorded." in back and "The team chose: Learning." in back


def test_nothing_before_close_and_only_for_the_reports_readers(app: Flask) -> None:
    from survey.domain.teams import add_team

    open_ids = card_round(app, 5, close=False)
    with app.extensions["tryghed"].db.session() as s:
        other = add_team(s, "Naboteamet", "anden@example.org").id
    add_account(app, "fie@example.org", "facilitator")
    add_account(app, "lis@example.org", "leader")
    add_account(app, "anden@example.org", "leader")
    stranger = app.test_client()
    assert stranger.get(f"/rounds/{open_ids['round']}/present").status_code == 303  # to the login
    assert stranger.post(f"/rounds/{open_ids['round']}/present/focus").status_code in (401, 403)
    web = app.test_client()
    assert login(web, "fie@example.org") == 303
    assert web.get(f"/rounds/{open_ids['round']}/present").status_code == 404  # open: no deck, no figure
    page = web.get(f"/rounds/{open_ids['round']}").get_data(as_text=True)
    token = csrf_of(page)
    posted = web.post(f"/rounds/{open_ids['round']}/present/focus", data={"csrf_token": token, "focus-pillar": "laere"})
    assert posted.status_code == 404

    from pipeline.tasks import run_pipeline
    from survey.domain.rounds import close_round

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        close_round(rt, s, open_ids["round"])
    run_pipeline.delay(open_ids["round"])
    leader = app.test_client()
    assert login(leader, "lis@example.org") == 303
    assert leader.get(f"/rounds/{open_ids['round']}/present").status_code == 200  # the report's reader
    outsider = app.test_client()
    assert login(outsider, "anden@example.org") == 303
    assert outsider.get(f"/rounds/{open_ids['round']}/present").status_code == 404
    assert outsider.get(f"/teams/{other}").status_code == 200


def test_a_suppressed_round_shows_no_figure_focus_or_weakest(app: Flask) -> None:
    ids = card_round(app, 3)  # below k = 5
    add_account(app, "fie@example.org", "facilitator")
    web = app.test_client()
    assert login(web, "fie@example.org") == 303
    deck = f"/rounds/{ids['round']}/present"
    titles = walk(web, deck)
    assert titles[:3] == ["Guide til teammødet", "For få svar til at vise tal", "Søjlerne i målingen"]
    assert "Jeres fokus" not in titles and titles[-1] == "Jeres første IGLO-handlinger"
    everything: list[Any] = [web.get(f"{deck}?slide={n}").get_data(as_text=True) for n in range(1, len(titles) + 1)]
    for html in everything:
        assert 'class="chip"' not in html and "Stærkest" not in html and "Forslag til fokus" not in html
        assert not re.search(r"\b[1-5],\d\d\b", html)  # no mean anywhere
    refused = post_form(web, deck, f"{deck}/focus", {"focus-pillar": "laere"})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    with app.extensions["tryghed"].db.session() as s:
        assert s.get(Round, ids["round"]).chosen_focus is None
