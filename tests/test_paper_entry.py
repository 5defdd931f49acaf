"""Typing in a collected paper form (issue 21, point 4): a facilitator uses up a spare card's code, and the
answers go through the same check and storage as an answer on a phone."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from survey.domain.tokens import group_card_code
from tests.helpers import expected_means, stored_answers
from tests.test_present import card_round
from tests.web_helpers import add_account, csrf_of, login


def _codes(app: Flask, round_id: int) -> list[str]:
    from survey.domain.cards import round_cards

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        return [c.url.rsplit("/", 1)[1] for c in round_cards(rt, s, round_id)[1]]


def _post(web: FlaskClient, round_id: int, data: dict[str, object]) -> tuple[int, str]:
    page = f"/rounds/{round_id}/paper"
    token = csrf_of(web.get(page).get_data(as_text=True))
    answer = web.post(page, data={"csrf_token": token, **data})
    return answer.status_code, answer.get_data(as_text=True)


def _unused(phone: FlaskClient, codes: list[str]) -> list[str]:
    return [c for c in codes if phone.get(f"/k/{c}").status_code == 200]


def test_a_paper_form_uses_up_a_spare_card(app: Flask) -> None:
    from pipeline.tasks import run_pipeline
    from survey.domain.rounds import close_round

    rt = app.extensions["tryghed"]
    ids = card_round(app, 0, cards=6, close=False)
    rid = ids["round"]
    codes = _codes(app, rid)
    phone = app.test_client()
    keys = [i.key for i in rt.content.instrument().items]
    sets = [{k: 1 + (j + n) % 5 for j, k in enumerate(keys)} for n in range(5)]
    for code, answers in zip(codes[:4], sets[:4], strict=True):  # four people answer on their phones
        assert phone.post(f"/k/{code}", data=answers).status_code == 200
    spare = _unused(phone, codes)[0]

    add_account(app, "fie@example.org", "facilitator")
    web = app.test_client()
    assert login(web, "fie@example.org") == 303
    page = web.get(f"/rounds/{rid}/paper").get_data(as_text=True)
    assert "ser det ene skema" in page and "4 af 6 kort brugt" in page
    assert f"/rounds/{rid}/paper" in web.get(f"/rounds/{rid}").get_data(as_text=True)

    # something left out: the errors, the answers kept, nothing stored, the card still unused
    partial = {k: v for k, v in sets[4].items() if k != keys[3]}
    status, html = _post(web, rid, {"code": spare, **partial})
    assert status == 400 and 'class="error-summary"' in html and f'href="#p-{keys[3]}"' in html
    assert phone.get(f"/k/{spare}").status_code == 200 and stored_answers(app, rid)[0] == 4
    # codes that are no card of this round, or no code at all: refused, nothing stored
    other = card_round(app, 0, cards=3, close=False)
    for code in ("not a code", "ZZZZ-ZZZZ-ZZZZ", _codes(app, other["round"])[0], ""):
        status, html = _post(web, rid, {"code": code, **sets[4]})
        assert status == 400 and 'id="code-error"' in html, code
    assert stored_answers(app, rid)[0] == 4

    # the spare card's code as read off the card (lower case, spaces): stored, and the card is used up
    typed = " ".join(group_card_code(spare).lower().split("-"))
    status, _html = _post(web, rid, {"code": typed, **sets[4]})
    assert status == 303
    assert phone.get(f"/k/{spare}").status_code == 409
    assert "5 af 6 kort brugt" in web.get(f"/rounds/{rid}/paper").get_data(as_text=True)
    status, html = _post(web, rid, {"code": spare, **sets[4]})
    assert status == 409 and "brugt" in html  # one card, one form
    assert stored_answers(app, rid)[0] == 5

    # the report counts the typed form like any answer
    with app.app_context(), rt.db.session() as s:
        close_round(rt, s, rid)
    run_pipeline.delay(rid)
    from survey.domain.rounds import show_round

    with app.app_context(), rt.db.session() as s:
        shown = show_round(rt, s, rid)
    assert shown["responses"] == 5
    assert {p["key"]: p["mean"] for p in shown["pillars"]} == expected_means(sets, rt.content.instrument().items)
    last = _unused(phone, codes)
    assert last == []  # after close every card answers 410, none is "unused"
    status, html = _post(web, rid, {"code": codes[5], **sets[0]})
    assert status == 410


def test_only_facilitators_type_in_and_only_on_card_rounds(app: Flask) -> None:
    from survey.domain.rounds import create_round, open_round
    from survey.domain.teams import add_team, import_participants

    ids = card_round(app, 0, cards=3, close=False)
    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, "Team Mail", "lis@example.org")
        import_participants(s, team.id, "email,name\na@example.org,A\n")
        email_round = create_round(rt, s, team.id).id
        open_round(rt, s, email_round)
    add_account(app, "lis@example.org", "leader")
    add_account(app, "fie@example.org", "facilitator")
    leader = app.test_client()
    assert login(leader, "lis@example.org") == 303
    assert leader.get(f"/rounds/{ids['round']}/paper").status_code == 403
    assert app.test_client().get(f"/rounds/{ids['round']}/paper").status_code == 303  # to the login
    web = app.test_client()
    assert login(web, "fie@example.org") == 303
    assert web.get(f"/rounds/{email_round}/paper").status_code == 404
