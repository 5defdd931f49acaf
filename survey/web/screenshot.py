"""``python -m survey.web.screenshot [DIR]``: pictures of the facilitator's start page for the README.

Builds a throwaway installation (SQLite in a temporary folder) with a few teams in different steps,
made with the same domain functions as the CLI and answered through the real survey form, serves the app
on a local port, logs in as a facilitator in headless Chromium (Playwright, the system browser) and saves
``facilitator-start.png`` (1280 px) and ``facilitator-start-phone.png`` (390 px) in DIR (default
``docs/img``). Needs the dev extras (``pip install -e '.[dev]'``) and Chromium.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FACILITATOR = ("fie.facilitator@kommune.example", "Fie Facilitator")
LINK_RE = re.compile(r"/s/([A-Za-z0-9_-]{43})")
TEAMS = (
    # name, leader, participants, what happens
    ("Hjemmeplejen Nord", "lis.leder@kommune.example", 8, "reported"),
    ("Bostedet Lærkevang", "bo.leder@kommune.example", 9, "closing_soon"),
    ("Rusmiddelcentret", "rie.leder@kommune.example", 7, "followup"),
    ("Familieafdelingen", "finn.leder@kommune.example", 0, "new"),
)


def _answer_all(app: Flask, outbox: Path, used: set[str], count: int, rng: random.Random) -> None:
    """Answer ``count`` new invitations through the survey form, like the demo does."""
    from survey.demo import _answers, hidden_fields

    tokens = []
    for eml in sorted(outbox.glob("*.eml")):
        found = LINK_RE.search(eml.read_text(encoding="utf-8", errors="replace"))
        if found and found.group(1) not in used and found.group(1) not in tokens:
            tokens.append(found.group(1))
    client = app.test_client()
    instrument = app.extensions["tryghed"].content.instrument()
    for token in tokens[:count]:
        page = client.get(f"/s/{token}")
        fields = hidden_fields(page.get_data(as_text=True))
        posted = client.post(f"/s/{token}", data={**fields, **_answers(rng, instrument)})
        if posted.status_code != 200:
            raise RuntimeError(f"the survey form answered {posted.status_code}")
    used.update(tokens)


def build_sample(app: Flask, password: str) -> None:
    """Teams in each step of the toolkit, and the facilitator's account."""
    from pipeline.tasks import run_pipeline, send_pending
    from survey.domain.actions import add_action
    from survey.domain.followup import create_followup
    from survey.domain.rounds import close_round, create_round, open_round
    from survey.domain.teams import add_team, import_participants
    from survey.domain.tracks import request_facilitator
    from survey.domain.users import add_user

    rt = app.extensions["tryghed"]
    outbox = Path(rt.config["OUTBOX_DIR"])
    used: set[str] = set()
    rng = random.Random(13)
    # No app context around the answering: requests of the test client would share its `g` (and with it
    # Flask-WTF's cached CSRF token); the tasks get one each, as in the demo.
    with rt.db.session() as s:
        add_user(s, FACILITATOR[0], "facilitator", password, FACILITATOR[1])
        for n, (name, leader, people, story) in enumerate(TEAMS):
            team = add_team(s, name, leader, track="facilitated" if n % 2 else "selfguided")
            if not people:
                continue
            rows = "".join(f"person{n}{i}@kommune.example,Person {i}\n" for i in range(people))
            import_participants(s, team.id, "email,name\n" + rows)
            closes = rt.now() + (timedelta(hours=30) if story == "closing_soon" else timedelta(days=10))
            rnd = create_round(rt, s, team.id, closes_at=closes)
            open_round(rt, s, rnd.id)
            with app.app_context():
                send_pending.delay(rnd.id)
            if story == "closing_soon":
                _answer_all(app, outbox, used, 2, rng)
                request_facilitator(s, team.id, "measurement", "Vi vil gerne have hjælp til at præsentere målingen.")
                continue
            _answer_all(app, outbox, used, people - 1, rng)
            close_round(rt, s, rnd.id)
            with app.app_context():
                run_pipeline.delay(rnd.id)
            add_action(
                s, rnd.id, "gruppe", "Fem minutter om en fejl, vi lærte af, på hvert personalemøde", "Teamet", "Marts"
            )
            add_action(s, rnd.id, "ledelse", "Lederen spørger først og taler sidst", "Lederen", "Løbende")
            if story == "followup":
                create_followup(rt, s, rnd.id, timedelta(days=90))


def take_screenshots(url: str, out_dir: Path, password: str) -> list[Path]:
    """Log in as the facilitator and photograph the start page at desktop and phone width."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        for width, name in ((1280, "facilitator-start.png"), (390, "facilitator-start-phone.png")):
            context = browser.new_context(
                viewport={"width": width, "height": 900}, locale="da-DK", java_script_enabled=False
            )
            page = context.new_page()
            page.goto(f"{url}/login")
            page.fill("#email", FACILITATOR[0])
            page.fill("#password", password)
            with page.expect_navigation():
                page.click("button[type=submit]")
            path = out_dir / name
            page.screenshot(path=str(path), full_page=True)
            shots.append(path)
            context.close()
        browser.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    """Build the sample, serve it, take the pictures; prints the files written."""
    from werkzeug.serving import make_server

    from survey import create_app
    from survey.data.db import upgrade

    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0] if args else "docs/img").resolve()
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="tryghed-shot-") as tmp:
        app = create_app(
            {
                "INSTANCE_PATH": tmp,
                "DATABASE_URL": f"sqlite:///{tmp}/tryghed.sqlite",
                "OUTBOX_DIR": f"{tmp}/outbox",
                "SECRET_KEY": secrets.token_hex(32),
                "BROKER_URL": None,
            }
        )
        rt: Any = app.extensions["tryghed"]
        upgrade(rt.db)
        build_sample(app, password)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            shots = take_screenshots(f"http://127.0.0.1:{server.server_port}", out_dir, password)
        finally:
            server.shutdown()
            rt.db.dispose()
    for shot in shots:
        print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
