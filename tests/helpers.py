"""Test helpers that act like the people around a round: participants reading their email and
answering the form, a facilitator setting a round up. Plus a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import re
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask
from flask.testing import FlaskClient

TOKEN_RE = re.compile(r"/s/([A-Za-z0-9_-]{43})")
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@contextmanager
def throwaway_database(admin_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """A fresh PostgreSQL database on the server of ``admin_url``, dropped afterwards: empty, or a copy
    of the database named ``template`` (which nobody may be connected to)."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, sink: SMTPSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.sink.reject:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        msg = email.message_from_bytes(raw, policy=policy.default)
        with self.sink.lock:
            self.sink.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted"


class SMTPSink:
    """aiosmtpd on a free localhost port; ``messages`` holds parsed messages as received."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.reject: set[str] = set()
        self.lock = threading.Lock()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def config(self) -> dict[str, Any]:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port}

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def reports_to(self, address: str) -> list[EmailMessage]:
        """The report emails (a PDF attached) to ``address``: a leader also gets nudges, which are not reports."""
        with self.lock:
            return [
                m
                for m in self.messages
                if m["To"] == address and any(p.get_content_type() == "application/pdf" for p in m.iter_attachments())
            ]

    def by_subject(self, fragment: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if fragment in str(m["Subject"])]


def read_outbox(folder: str | Path) -> list[EmailMessage]:
    """The .eml files of the outbox folder, parsed."""
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for p in sorted(Path(folder).glob("*.eml"))
    ]


def text_part(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_part(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def token_of(msg: EmailMessage) -> str:
    found = TOKEN_RE.search(text_part(msg))
    assert found, "no survey link in the email"
    return found.group(1)


def pdf_attachment(msg: EmailMessage) -> bytes:
    for part in msg.iter_attachments():
        if part.get_content_type() == "application/pdf":
            return bytes(part.get_content())
    raise AssertionError("no PDF attached")


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def hidden_fields(html: str) -> dict[str, str]:
    """The form's hidden fields, which a browser sends back as they are (the respondent's form has none)."""
    from survey.demo import hidden_fields as fields

    return fields(html)


def submit(client: FlaskClient, token: str, answers: dict[str, Any]) -> Any:
    """Open the form like a browser (GET), then post the answers with whatever hidden fields it carries."""
    page = client.get(f"/s/{token}")
    if page.status_code != 200:
        return page
    return client.post(f"/s/{token}", data={**hidden_fields(page.get_data(as_text=True)), **answers})


def setup_round(
    app: Flask,
    people: int,
    *,
    min_responses: int | None = None,
    lang: str = "da",
    team_name: str = "Team Æblegården",
) -> tuple[int, int]:
    """A team with ``people`` participants and an open round (invitations sent); (team_id, round_id)."""
    from pipeline.tasks import send_pending
    from survey.domain.rounds import create_round, open_round
    from survey.domain.teams import add_team, import_participants

    rt = app.extensions["tryghed"]
    with app.app_context():
        with rt.db.session() as s:
            team = add_team(s, team_name, "leder@example.org", "Lis Leder", lang)
            rows = "\n".join(f"p{i}@example.org,Person {i}" for i in range(people))
            import_participants(s, team.id, f"email,name\n{rows}\n")
            rnd = create_round(rt, s, team.id, min_responses=min_responses)
            open_round(rt, s, rnd.id)
            ids = (team.id, rnd.id)
        send_pending.delay(ids[1])
    return ids


def close(app: Flask, round_id: int) -> dict[str, Any]:
    from pipeline.tasks import run_pipeline
    from survey.domain.rounds import close_round, show_round

    rt = app.extensions["tryghed"]
    with app.app_context():
        with rt.db.session() as s:
            close_round(rt, s, round_id)
        run_pipeline.delay(round_id)
        with rt.db.session() as s:
            return show_round(rt, s, round_id)


def expected_means(answer_sets: list[dict[str, int]], items: Any) -> dict[str, float]:
    """Pillar means computed independently of the product code: reverse = 6 - answer, half-up rounding."""
    from decimal import ROUND_HALF_UP, Decimal

    sums: dict[str, list[int]] = {}
    for answers in answer_sets:
        for item in items:
            value = answers[item.key]
            sums.setdefault(item.pillar, []).append(6 - value if item.reverse else value)
    return {
        p: float((Decimal(sum(v)) / len(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) for p, v in sums.items()
    }


class LiveServer:
    """The WSGI app on a real localhost HTTP port (werkzeug), for tests that go over the network."""

    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


class Browser:
    """A minimal HTTP client with cookies (urllib), as a browser keeps them (the respondent's pages set none)."""

    def __init__(self) -> None:
        import http.cookiejar
        import urllib.request

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, url: str, data: dict[str, Any] | None = None) -> tuple[int, str]:
        import urllib.error
        import urllib.parse

        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, data=body, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def answer(self, url: str, answers: dict[str, Any]) -> tuple[int, str]:
        status, page = self.request(url)
        if status != 200:
            return status, page
        return self.request(url, {**hidden_fields(page), **answers})


def pdf_text(pdf: bytes, tmp: Path) -> str:
    """The PDF's text as pdftotext reads it (layout kept)."""
    import subprocess

    path = tmp / "read.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def stored_answers(app: Flask, round_id: int | None = None) -> tuple[int, int]:
    """(answer sets stored, invitations marked answered) over every round, or one round, wherever they are
    kept: in an open round's own tables (survey.domain.round_storage) or, once sealed, in ``responses``."""
    from sqlalchemy import func, select, text

    from survey.data.models import Response, Round
    from survey.domain.round_storage import OWN, answers_table, claims_table

    with app.extensions["tryghed"].db.session() as s:
        query = select(Round.id, Round.answer_storage)
        rounds = s.execute(query if round_id is None else query.where(Round.id == round_id)).all()
        sets = flags = 0
        for rid, state in rounds:
            if state == OWN:
                sets += s.scalar(text(f"SELECT count(*) FROM {answers_table(rid)} WHERE filled")) or 0
                flags += s.scalar(text(f"SELECT count(*) FROM {claims_table(rid)} WHERE answered")) or 0
            else:
                sets += s.scalar(select(func.count()).select_from(Response).where(Response.round_id == rid)) or 0
        return sets, flags


def migrate_to(db: Any, target: str, down: bool = False) -> None:
    """Alembic up (or down) to ``target`` on ``db``'s engine, in one transaction."""
    from alembic import command
    from alembic.config import Config

    from survey.data.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)
