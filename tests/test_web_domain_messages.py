"""The domain's refusals in the page's language: a CSV row error, an invalid email, a closing time in the
past and WTForms' own messages are Danish on a Danish page and English on an English one, while the CLI's
``--json`` keeps the English sentence (PRODUCT.md)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.domain.teams import add_team, parse_participants_csv
from survey.errors import Text, UserError
from tests.conftest import make_app
from tests.web_helpers import add_account, csrf_of, login

CSV = "email,name,lang\nikke-en-email,Ib,da\np@example.org,Per,fr\nq@example.org,Q\n"


def _team(app: Flask) -> int:
    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        return add_team(s, "Team Øst", "leder@example.org", "Lis", "da").id


def _client(tmp_path: Path, lang: str) -> tuple[Flask, FlaskClient, int]:
    app = make_app(tmp_path)
    add_account(app, "fac@example.org", "facilitator", lang=lang)
    client = app.test_client()
    assert login(client, "fac@example.org") == 303
    return app, client, _team(app)


EXPECTED = {
    "da": [
        "e-mail: &#39;ikke-en-email&#39; er ikke en gyldig e-mailadresse",
        "sproget skal være et af da, en, ikke &#39;fr&#39;",
        "forventede 3 kolonner, fik 2",
        "lukketidspunktet ligger i fortiden",
        "Skriv et helt tal.",
    ],
    "en": [
        "email: &#39;ikke-en-email&#39; is not a valid email address",
        "language must be one of da, en, got &#39;fr&#39;",
        "expected 3 columns, got 2",
        "the closing time is in the past",
        "Not a valid integer value.",
    ],
}


@pytest.mark.parametrize("lang", ["da", "en"])
def test_csv_row_errors_and_round_errors_speak_the_page_language(tmp_path: Path, lang: str) -> None:
    app, client, team_id = _client(tmp_path, lang)
    token = csrf_of(client.get(f"/teams/{team_id}").get_data(as_text=True))
    page = client.post(
        f"/teams/{team_id}/participants/import",
        data={"csrf_token": token, "csv-file": (io.BytesIO(CSV.encode()), "people.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    past = client.post(
        f"/teams/{team_id}/rounds",
        data={"csrf_token": token, "round-closes": "2020-01-01T12:00", "round-channel": "email"},
    ).get_data(as_text=True)
    not_a_number = client.post(
        f"/teams/{team_id}/rounds",
        data={"csrf_token": token, "round-min_responses": "fem", "round-channel": "email"},
    ).get_data(as_text=True)
    shown = page + past + not_a_number
    for text in EXPECTED[lang]:
        assert text in shown, text
    other = EXPECTED["en" if lang == "da" else "da"]
    assert not [text for text in other if text in shown]


def test_the_domain_message_stays_english_for_the_cli() -> None:
    with pytest.raises(UserError) as caught:
        parse_participants_csv(CSV)
    errors = caught.value.details["errors"]
    # the JSON the CLI prints (a Text is a str): English, as PRODUCT.md's contract says
    printed = json.loads(json.dumps({"error": caught.value.message, "errors": errors}))
    assert printed["error"] == "3 invalid row(s); nothing was imported"
    assert printed["errors"][0] == {"line": 2, "error": "email: 'ikke-en-email' is not a valid email address"}
    assert isinstance(errors[0]["error"], Text)
    assert errors[0]["error"].in_lang("da") == "e-mail: 'ikke-en-email' er ikke en gyldig e-mailadresse"
