"""No 500 on any input (issue 18 point 6): every form of the web app and every route, logged in, with
hostile values, on SQLite and PostgreSQL. The forms are found by reading the pages (not listed by hand),
so a new form is walked without changing this test. Afterwards no text in the database holds a NUL, a
control character or a bidi control, on either database."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, Text, inspect, select

from survey.data.models import Base
from survey.domain.validation import BIDI_CONTROLS
from tests.conftest import make_app
from tests.helpers import setup_round
from tests.web_helpers import PASSWORD, add_account, csrf_of, login

HOSTILE = [
    "\x00",
    "Bo\x00Nord",
    "\x1b[31mrød",
    "før\u202eefter",
    "a\u2066b",
    "én\r\nlinje",
    "x\u2028y",
    "\t",
    "x" * 5000,
    "99999999999999999999",
    "-1",
    "",
    " ",
    "1e999",
    "2026-13-45T25:61",
    "<script>alert(1)</script>",
    "'; DROP TABLE teams; --",
    "%00",
    "ø@æ.dk",
]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300))


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values seen (select options)
    files: list[str] = field(default_factory=list)


class FormReader(HTMLParser):
    """Every <form> of a page with its fields (inputs, selects with their options, textareas)."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action") or self.page_url, (a.get("method") or "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") == "file":
                self.forms[-1].files.append(a["name"])
            else:
                self.forms[-1].fields.setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self.forms[-1].fields.setdefault(a["name"], [])
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.forms[-1].fields.setdefault(a["name"], [])
        elif tag == "option" and self._select:
            self.forms[-1].fields[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def prepare(app: Flask) -> dict[str, int]:
    """An admin, a team with an open round, an action, a taken request and a unit: something for every form."""
    from survey.domain.actions import add_action
    from survey.domain.rounds import close_round, create_round
    from survey.domain.tracks import request_facilitator, take_request
    from survey.domain.units import add_unit

    admin = add_account(app, "ada@example.org", "admin")
    leader = add_account(app, "leder@example.org", "leader")  # the leader of the teams setup_round makes
    team_id, round_id = setup_round(app, 3)
    other_team, open_round = setup_round(app, 3, team_name="Team Syd")  # stays open: remind and close
    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        close_round(rt, s, round_id)  # reported: debrief, focus, actions, report pages
        draft = create_round(rt, s, team_id).id
        action = add_action(s, round_id, "gruppe", "Tal sammen", "Alle", "marts").id
        req = request_facilitator(s, team_id, "briefing", "")
        take_request(s, req.id, admin)
        unit = add_unit(s, "Enhed").id
    return {
        "admin": admin,
        "leader": leader,
        "team_id": team_id,
        "round_id": round_id,
        "action_id": action,
        "unit_id": unit,
        "draft": draft,
        "other_team": other_team,
        "open_round": open_round,
    }


def pages(app: Flask, ids: dict[str, int]) -> list[str]:
    """Every GET route of the app, with the prepared ids filled in."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in ("static", "auth.login"):
            continue
        if rule.endpoint.startswith(("respond.", "report_view.")):
            continue
        values = {arg: ids.get(arg, 1) for arg in rule.arguments}
        urls.append(rule.build(values, append_unknown=False)[1])
        if "team_id" in rule.arguments:  # the team with the open round shows its own buttons
            urls.append(rule.build({**values, "team_id": ids["other_team"]}, append_unknown=False)[1])
    return urls


def collect_forms(client: FlaskClient, urls: list[str]) -> list[Form]:
    found: dict[tuple[str, tuple[str, ...]], Form] = {}
    for url in urls:
        page = client.get(url)
        body = page.get_data()  # a streamed answer (the CSV export) runs to its end
        page.close()
        assert page.status_code < 500, (url, page.status_code)
        if page.mimetype != "text/html":
            continue
        reader = FormReader(url)
        reader.feed(body.decode())
        for form in reader.forms:
            if form.method == "post" and not form.action.endswith("/logout"):
                found.setdefault((form.action, tuple(sorted(form.fields))), form)
    return list(found.values())


def post(client: FlaskClient, form: Form, value: str, draw: Any = None) -> int:
    """POST the form with ``value`` in every text field (a drawn value when ``draw`` is given); selects get
    one of their options or the value; the CSRF token is kept."""
    data: dict[str, Any] = {}
    for name, seen in form.fields.items():
        if name.endswith("csrf_token"):
            data[name] = seen[0]
        elif seen and len(seen) > 1:  # a select: sometimes a real option, sometimes the hostile value
            data[name] = draw(st.sampled_from([*seen, value])) if draw else seen[0]
        else:
            data[name] = draw(hostile_text) if draw else value
    for name in form.files:
        data[name] = (
            io.BytesIO(("email,name\n" + f"p@example.org,{value}\n").encode("utf-8", "surrogatepass")),
            "x.csv",
        )
    response = client.post(form.action, data=data, content_type="multipart/form-data" if form.files else None)
    return response.status_code


def stored_texts(app: Flask) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text value in the database that holds a character we refuse."""
    bad = []
    engine = app.extensions["tryghed"].db.engine
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if not inspect(conn).has_table(table.name):
                continue
            columns = [c for c in table.columns if isinstance(c.type, String | Text) and c.name != "answers"]
            for column in columns:
                for (value,) in conn.execute(select(column).where(column.is_not(None))):
                    if any(
                        ch in BIDI_CONTROLS or (unicodedata.category(ch) == "Cc" and ch not in "\n\t")
                        for ch in str(value)
                    ):
                        bad.append((table.name, column.name, repr(value)[:80]))
    return bad


def test_every_form_and_route_with_hostile_values(db_url: str, tmp_path: Path) -> None:
    app = make_app(tmp_path, db_url, MAIL_RATE_PER_MINUTE=100000)
    ids = prepare(app)
    client = app.test_client()
    assert login(client, "ada@example.org") == 303
    urls = pages(app, ids)
    # every form but logging out and ending the walker's own sessions (a walk that logs itself out walks no more)
    own = f"/admin/users/{ids['admin']}/sessions"
    forms = [f for f in collect_forms(client, urls) if f.action != own]
    actions = {f.action.split("/")[-1] for f in forms}
    # the walk reaches the forms the issue names (participant, user, request note, session place) and more
    assert {"participants", "users", "requests", "plan", "actions", "new", "import"} <= actions, actions
    assert len(forms) >= 15, [f.action for f in forms]

    # every page with hostile query parameters (the ones pages read, and any other)
    for url in [*urls, "/login"]:
        for value in ("\x00", "é\r\nx", "99999999999999999999", "-5", "//evil.example", "\u202e"):
            query = {"next": value, "lang": value, "before": value, "after": value, "back": value, "x": value}
            answer = client.get(url, query_string=query)
            answer.get_data()  # a streamed answer (the CSV export) runs to its end
            answer.close()
            assert answer.status_code < 500, (url, value, answer.status_code)
    # every form, every hostile value in every text field
    for form in forms:
        for value in HOSTILE:
            status = post(client, form, value)
            assert status < 500 and status != 401, (form.action, value, status)
            if status in (302, 303) and form.action.endswith("/active"):
                post(client, form, value)  # re-enable what the walk disabled

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def walk(data: st.DataObject) -> None:
        form = data.draw(st.sampled_from(forms))
        status = post(client, form, "", draw=data.draw)
        assert status < 500 and status != 401, (form.action, status)

    walk()
    # the admin's own session still works
    assert client.get("/").status_code == 200

    # a leader's forms (the request for a facilitator, the debrief, the plan) with every hostile value
    from survey.domain.organisation import set_leader
    from survey.domain.users import set_active, set_role

    with app.extensions["tryghed"].db.session() as s:  # the admin's walk may have disabled or promoted them
        set_active(s, ids["leader"], True)
        set_role(s, ids["leader"], "leader")
        for team in (ids["team_id"], ids["other_team"]):  # and given their teams to another leader
            set_leader(s, team, "leder@example.org")
    leader = app.test_client()
    assert login(leader, "leder@example.org") == 303
    leader_forms = collect_forms(leader, [u for u in urls if leader.get(u).status_code == 200])
    assert any(f.action.endswith("/requests") for f in leader_forms), [f.action for f in leader_forms]
    for form in leader_forms:
        for value in HOSTILE:
            status = post(leader, form, value)
            assert status < 500 and status != 401, (form.action, value, status)
    # nothing the walks sent was stored with a refused character
    assert stored_texts(app) == []
    app.extensions["tryghed"].db.dispose()


@pytest.mark.parametrize("missing", [0, 2147483647, 99999999999999999999])
def test_a_missing_or_impossible_id_is_404(app: Flask, missing: int) -> None:
    add_account(app, "ada@example.org", "admin")
    client = app.test_client()
    assert login(client, "ada@example.org") == 303
    token = csrf_of(client.get("/admin/users").get_data(as_text=True))
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint.startswith(("static", "respond.", "report_view.")):
            continue
        url = re.sub(r"<[^>]+>", str(missing), rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token, "role": "leader"})
            # an id past 2^31 matches no route at all; werkzeug may then answer 405 where GET and POST share
            # a path (its matcher saw the path, not the number); never a 500 either way
            allowed = (404,) if missing <= 2**31 else (404, 405)
            assert response.status_code in allowed, (method, url, response.status_code)


@pytest.mark.parametrize(
    "target",
    [
        "/\r\nSet-Cookie: x=1",
        "/teams\t/1",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "/\x00",
        "javascript:alert(1)",
    ],
)
def test_a_bad_next_is_ignored(app: Flask, target: str) -> None:
    add_account(app, "ada@example.org", "admin")
    client = app.test_client()
    page = client.get("/login")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "ada@example.org", "password": PASSWORD, "csrf_token": csrf_of(page.get_data(as_text=True))},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_an_oversized_body_is_a_413_page_when_logged_in(app: Flask) -> None:
    add_account(app, "ada@example.org", "admin")
    client = app.test_client()
    assert login(client, "ada@example.org") == 303
    big = "email,name\n" + "".join(f"person{i}@example.org,Person {i}\n" for i in range(3000))
    response = client.post(
        "/teams/new",
        data={"name": "x", "file": (io.BytesIO(big.encode()), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "<html" in response.get_data(as_text=True)
