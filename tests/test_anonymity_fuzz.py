"""Property-based: malformed tokens, answers, encodings and oversized bodies at ``/s/<token>``.

Whatever arrives, the server answers without a 500, and a request it rejects stores nothing: no answer
set, no "answered" flag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_app
from tests.helpers import read_outbox, setup_round, stored_answers, token_of

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


def test_respondent_endpoint_survives_malformed_input(tmp_path: Path) -> None:
    """Acceptance 5: no 500, and nothing stored for any rejected request (150 examples)."""
    app = make_app(tmp_path, LINK_GUESS_LIMIT=10_000)  # the rate limit has its own tests
    _team, _round = setup_round(app, 3)
    tokens = [token_of(m) for m in read_outbox(tmp_path / "outbox")]
    items = [i.key for i in app.extensions["tryghed"].content.instrument().items]
    client = app.test_client()
    stray = {"csrf_token": "from-an-old-page"}  # a field the form does not have: ignored, like any other
    db = app.extensions["tryghed"].db

    def stored() -> tuple[int, int]:
        return stored_answers(app)

    token_st = st.one_of(
        st.sampled_from(tokens),
        TEXT.map(lambda t: quote(t, safe="")).filter(bool),
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=43, max_size=43),
        st.sampled_from(["%ff%fe", "%00", "..%2f..%2fetc", "a" * 5000, tokens[0] + "x", tokens[0][:-1]]),
    )
    value_st = st.one_of(st.integers(-3, 9).map(str), TEXT, st.sampled_from(["", "3.0", " 3", "٣", "1e1"]))
    answers_st = st.dictionaries(st.one_of(st.sampled_from(items), TEXT), value_st, max_size=20)
    body_st = st.one_of(
        answers_st.map(lambda a: ("form", a)),
        st.just(("form", dict.fromkeys(items, "3"))),  # a complete answer: accepted once per link
        st.binary(max_size=300).map(lambda b: ("raw", b)),
        st.integers(64 * 1024, 200 * 1024).map(lambda n: ("raw", b"a=" + b"1" * n)),
    )

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        token=token_st,
        method=st.sampled_from(["GET", "POST"]),
        body=body_st,
        with_stray=st.booleans(),
        content_type=st.sampled_from(
            ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", "application/json"]
        ),
    )
    def one_request(token: str, method: str, body: tuple[str, Any], with_stray: bool, content_type: str) -> None:
        before = stored()
        kind, payload = body
        if method == "GET":
            resp = client.get(f"/s/{token}")
        elif kind == "form":
            data = {**payload, **(stray if with_stray else {})}
            resp = client.post(f"/s/{token}", data=data)
        else:
            resp = client.post(f"/s/{token}", data=payload, content_type=content_type)
        assert resp.status_code < 500, resp.get_data(as_text=True)[:500]
        after = stored()
        accepted = method == "POST" and resp.status_code == 200
        assert after == ((before[0] + 1, before[1] + 1) if accepted else before), (resp.status_code, token)

    one_request()
    db.dispose()
