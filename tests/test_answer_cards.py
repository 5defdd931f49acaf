"""Answer cards (issue 21): a whole card round, from the printed PDF to the report.

The cards are read back from the PDF the way a person does: the text with pdftotext (what is typed), and
the QR codes from a rendered page with a real decoder (zbar's ``zbarimg``, as a phone camera would). The
answers go through the real form (the scanned link, and a code typed into ``/k/``); the facilitator sees
the live count and closes with the confirmation page; the report has the figures of exactly those answers.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pikepdf
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, select

from survey.data.models import Invitation, Round
from survey.domain.tokens import CARD_LENGTH, card_code_of, group_card_code, make_card_code
from tests.conftest import make_app
from tests.helpers import expected_means, hidden_fields, read_outbox
from tests.test_report_a11y import _structure
from tests.web_helpers import add_account, login, post_form

BASE = "http://tryghed.test"
LINK = re.compile(r"tryghed\.test/k/([0-9A-Z]{12})")
GROUPED = re.compile(r"\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\b")


def cli(app: Flask, db_url: str, tmp: Path, *args: str, ok: bool = True) -> dict[str, Any]:
    """``tryghed ... --json`` in its own process, on the app's database and secret key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    env.update(
        TRYGHED_INSTANCE_PATH=str(tmp / "instance"),
        TRYGHED_DATABASE_URL=db_url,
        TRYGHED_SECRET_KEY=app.config["SECRET_KEY"],
        TRYGHED_BASE_URL=BASE,
    )
    proc = subprocess.run(
        [sys.executable, "-m", "survey.cli", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        timeout=180,
    )
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def decoded_qr_codes(pdf: Path, tmp: Path) -> list[str]:
    """Every QR code on every page, decoded by zbar from a 150 dpi rendering (as a phone would see it)."""
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp / "page")], check=True, timeout=120)
    found: list[str] = []
    for png in sorted(tmp.glob("page-*.png")):
        proc = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, timeout=60)
        found += [line for line in proc.stdout.splitlines() if line]
    return found


def answer_card(client: FlaskClient, path: str, answers: dict[str, int]) -> int:
    page = client.get(path)
    if page.status_code != 200:
        return page.status_code
    return client.post(path, data={**hidden_fields(page.get_data(as_text=True)), **answers}).status_code


def test_card_codes_are_60_bits_typeable_and_forgiving() -> None:
    codes = {make_card_code("key", f"nonce-{i}") for i in range(2000)}
    assert len(codes) == 2000 and all(len(c) == CARD_LENGTH for c in codes)
    assert len(set("".join(codes))) == 32  # every symbol of the 32-letter alphabet is used: 5 bits each
    code = make_card_code("key", "n")
    grouped = group_card_code(code)
    assert grouped.count("-") == 2 and grouped.replace("-", "") == code
    typed = " ".join(grouped.split("-")).lower().replace("0", "o").replace("1", "l")
    assert card_code_of(typed) == code  # lower case, spaces, O for 0 and l for 1 all read back
    assert card_code_of(code[:-1]) is None and card_code_of(code + "Z") is None and card_code_of("!" * 12) is None


def test_a_whole_card_round(db_url: str, tmp_path: Path) -> None:
    from survey.domain.teams import add_team, import_participants

    app = make_app(tmp_path, db_url, BASE_URL=BASE)
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        team = add_team(s, "Team Æblegården", "lis@example.org", "Lis")
        import_participants(s, team.id, "email,name\n" + "".join(f"p{i}@example.org,P{i}\n" for i in range(4)))
        team_id = team.id

    created = cli(
        app, db_url, tmp_path, "round", "create", str(team_id), "--channel", "cards", "--closes", "2099-01-01T16:00"
    )
    rid = created["id"]
    assert created["channel"] == "cards" and created["status"] == "draft"
    assert "open round" in cli(app, db_url, tmp_path, "round", "cards", str(rid), ok=False)["error"]
    opened = cli(app, db_url, tmp_path, "round", "open", str(rid))
    assert opened["invited"] == 6  # 4 active participants + 2 spares
    assert read_outbox(tmp_path / "instance" / "outbox") == []  # a card round sends nothing
    assert "no one to remind" in cli(app, db_url, tmp_path, "round", "remind", str(rid), ok=False)["error"]
    out = cli(app, db_url, tmp_path, "round", "cards", str(rid), "--out", str(tmp_path / "cards.pdf"))
    assert out == {"path": str(tmp_path / "cards.pdf"), "cards": 6, "round_id": rid}
    pdf = Path(out["path"])

    # what is printed: 6 links as text, the same 6 as QR codes, each code also grouped for reading aloud
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    typed = LINK.findall(text)
    assert len(typed) == 6 == len(set(typed))
    assert sorted(g.replace("-", "") for g in GROUPED.findall(text)) == sorted(typed)
    flat = " ".join(text.split())
    assert "Team Æblegården" in flat and "1. januar 2099 kl. 16.00" in flat
    assert "Tryghed ved ikke, hvem der har hvilket kort" in flat and "tryghed.test/k" in flat
    scanned = decoded_qr_codes(pdf, tmp_path)
    assert sorted(scanned) == sorted(f"{BASE}/k/{c}" for c in typed)
    with pikepdf.open(pdf) as doc:
        assert len(doc.pages) == 1  # 8 cards to a sheet
    _doc, elements = _structure(pdf.read_bytes())
    figures = [e for e in elements if e.get("/S") == "/Figure"]
    assert len(figures) == 6 and all("QR" in str(f.get("/Alt", "")) for f in figures)

    # the database holds no participant, no email and no code of a card: only keyed hashes
    with rt.db.session() as s:
        cards = s.scalars(select(Invitation).where(Invitation.round_id == rid)).all()
        assert len(cards) == 6 and {(c.participant_id, c.email) for c in cards} == {(None, "")}
        assert not {c.token_hash for c in cards} & set(typed)

    # answers through the real form: 4 scanned links, one code typed into /k/ (lower case, spaces)
    instrument = rt.content.instrument(rt.content.default_instrument)
    keys = [i.key for i in instrument.items]
    sets = [{k: 1 + (j + n) % 5 for j, k in enumerate(keys)} for n in range(5)]
    phone = app.test_client()
    for code, answers in zip(typed[:4], sets[:4], strict=True):
        assert answer_card(phone, f"/k/{code}", answers) == 200
    assert answer_card(phone, f"/k/{typed[0]}", sets[0]) == 409  # single use
    spoken = " ".join(group_card_code(typed[4]).lower().split("-"))
    entry = phone.post("/k/", data={"code": spoken})
    assert entry.status_code == 303 and entry.headers["Location"] == f"/k/{typed[4]}"
    assert phone.post("/k/", data={"code": "not a code"}).status_code == 400
    assert answer_card(phone, entry.headers["Location"], sets[4]) == 200
    assert phone.get("/k/ZZZZZZZZZZZZ").status_code == 404
    assert phone.get(f"/k/{typed[5]}").headers["Referrer-Policy"] == "no-referrer"

    # the facilitator's round page: the live count, no figure; close with the confirmation page
    add_account(app, "fie@example.org", "facilitator")
    web = app.test_client()
    assert login(web, "fie@example.org") == 303
    page = web.get(f"/rounds/{rid}").get_data(as_text=True)
    assert "5 af 6 kort brugt" in page and "<script" not in page
    assert "aldrig, hvem der har hvilket kort" in page
    assert "5 af 6 kort brugt" in web.get(f"/teams/{team_id}").get_data(as_text=True)
    cards_pdf = web.get(f"/rounds/{rid}/cards.pdf")
    assert cards_pdf.status_code == 200 and cards_pdf.data.startswith(b"%PDF")
    confirm = web.get(f"/rounds/{rid}/close")
    assert confirm.status_code == 200 and "<script" not in confirm.get_data(as_text=True)
    with rt.db.session() as s:
        assert s.get(Round, rid).status == "open"  # the confirmation page alone closes nothing
    closed = post_form(web, f"/rounds/{rid}/close", f"/rounds/{rid}/close", {})
    assert closed.status_code == 303 and closed.headers["Location"].endswith(f"/rounds/{rid}")  # type: ignore[attr-defined]
    done = web.get(f"/rounds/{rid}").get_data(as_text=True)
    assert f"/rounds/{rid}/report" in done
    assert web.get(f"/rounds/{rid}/report").status_code == 200

    shown = cli(app, db_url, tmp_path, "round", "show", str(rid))
    assert shown["status"] == "reported" and shown["responses"] == 5 and not shown["suppressed"]
    means = expected_means(sets, instrument.items)
    assert {p["key"]: p["mean"] for p in shown["pillars"]} == means
    assert phone.get(f"/k/{typed[5]}").status_code == 410  # the spare card after close: round closed
    assert "closed" in cli(app, db_url, tmp_path, "round", "cards", str(rid), ok=False)["error"]

    # after the seal nothing links an answer to a card: the round's own tables (the flags) are gone
    with rt.db.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert not {f"round_{rid}_claims", f"round_{rid}_answers"} & tables
    app.extensions["tryghed"].db.dispose()


def test_round_form_on_the_web_makes_a_card_round(app: Flask, tmp_path: Path) -> None:
    from survey.domain.teams import add_team

    add_account(app, "fie@example.org", "facilitator")
    web = app.test_client()
    assert login(web, "fie@example.org") == 303
    with app.extensions["tryghed"].db.session() as s:
        team_id = add_team(s, "Team Syd", "lis@example.org", "Lis").id
    page = f"/teams/{team_id}"
    wrong = post_form(web, page, f"{page}/rounds", {"round-channel": "email", "round-cards": "3"})
    assert wrong.status_code == 400  # type: ignore[attr-defined]
    made = post_form(web, page, f"{page}/rounds", {"round-channel": "cards", "round-cards": "3"})
    assert made.status_code == 303  # type: ignore[attr-defined]
    with app.extensions["tryghed"].db.session() as s:
        rnd = s.scalars(select(Round).where(Round.team_id == team_id)).one()
        assert (rnd.channel, rnd.cards) == ("cards", 3)
        rid = rnd.id
    opened = post_form(web, page, f"/rounds/{rid}/open", {})
    assert opened.headers["Location"].endswith(f"/rounds/{rid}")  # type: ignore[attr-defined]
    sheet = web.get(f"/rounds/{rid}/cards.pdf")
    assert sheet.status_code == 200
    _doc, elements = _structure(sheet.data)
    assert len([e for e in elements if e.get("/S") == "/Figure"]) == 3
    with pikepdf.open(io.BytesIO(sheet.data)) as doc:
        assert len(doc.pages) == 1
    assert "0 af 3 kort brugt" in web.get(f"/rounds/{rid}").get_data(as_text=True)

    # the paper barometer: every statement and every scale point, a tagged table with scoped headers
    paper = web.get(f"/rounds/{rid}/paper.pdf")
    assert paper.status_code == 200 and paper.headers["Content-Type"] == "application/pdf"
    (tmp_path / "paper.pdf").write_bytes(paper.data)
    text = " ".join(
        subprocess.run(["pdftotext", str(tmp_path / "paper.pdf"), "-"], capture_output=True, text=True).stdout.split()
    )
    instrument = app.extensions["tryghed"].content.instrument()
    for item in instrument.items:
        assert " ".join(item.text.get("da").split()) in text, item.key
    for label in instrument.scale_labels:
        assert label.get("da") in text
    assert "ser dette ene skema" in text
    _doc, elements = _structure(paper.data)
    headers = [e for e in elements if e.get("/S") == "/TH"]
    assert len(headers) == len(instrument.items) + len(instrument.scale_labels) + 1  # + "Udsagn"
    assert all(str(h.get("/A", {}).get("/Scope", "")) in ("/Row", "/Column") for h in headers)


def test_card_links_are_redacted_from_logs() -> None:
    from survey.web.logredact import redact

    assert redact('"GET /k/K7M2Q8XR4TWN HTTP/1.1" 200') == '"GET /k/[redacted] HTTP/1.1" 200'


def test_the_tick_reminds_email_rounds_but_never_a_card_round(tmp_path: Path) -> None:
    """Two rounds opened ten days ago with a reminder due at any hour: the email round gets its reminder
    from the tick, the card round none (Tryghed knows nobody to remind)."""
    from datetime import timedelta

    from sqlalchemy import update

    from pipeline.tasks import tick
    from survey.domain.rounds import create_round, open_round
    from survey.domain.teams import add_team, import_participants

    app = make_app(
        tmp_path, REMINDER_HOURS="0-24", REMINDER_DAYS="1-7", REMINDER_SKIP_HOLIDAYS=False, REMINDER_INTERVAL_DAYS=1
    )
    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        rounds = {}
        for channel in ("email", "cards"):
            team = add_team(s, f"Team {channel}", "lis@example.org", "Lis")
            import_participants(s, team.id, "email,name\n" + "".join(f"{channel}{i}@example.org,P\n" for i in range(4)))
            rounds[channel] = create_round(rt, s, team.id, channel=channel).id
            open_round(rt, s, rounds[channel])
        s.execute(update(Round).values(opened_at=rt.now() - timedelta(days=10)))
        s.commit()
        tick.run()
        sent = {c: s.get(Round, rid).reminders_sent for c, rid in rounds.items()}
    assert sent == {"email": 1, "cards": 0}


def test_a_follow_up_of_a_card_round_is_a_card_round(app: Flask) -> None:
    from datetime import timedelta

    from survey.domain.followup import create_followup
    from survey.domain.rounds import close_round, create_round, open_round
    from survey.domain.teams import add_team

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, "Team Kort", "lis@example.org", "Lis")
        first = create_round(rt, s, team.id, channel="cards", cards=7).id
        open_round(rt, s, first)
        close_round(rt, s, first)
        follow = create_followup(rt, s, first, timedelta(days=90), timedelta(days=14))
        assert (follow.channel, follow.cards, follow.previous_round_id) == ("cards", 7, first)


def test_the_cards_pdf_is_a_tagged_a4_document_of_vector_codes(tmp_path: Path) -> None:
    """pikepdf on the cards PDF itself: 8 cards to an A4 page (10 cards: 2 pages), a tagged document in the
    team's language with a title, one figure with alt text per card naming that card's own link, and the
    QR codes drawn as vectors (no raster image to blur when printed)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pipeline.cards_render import cards_pdf
    from survey.domain.cards import Card

    codes = [make_card_code("key", f"n{i}") for i in range(10)]
    cards = [Card(url=f"{BASE}/k/{c}", code=group_card_code(c)) for c in codes]
    closes = datetime(2099, 1, 1, 16, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
    for lang, title in (("da", "Svarkort – Team Syd"), ("en", "Answer cards – Team Syd")):
        pdf = cards_pdf(cards, team="Team Syd", closes=closes, lang=lang, entry_url=f"{BASE}/k/")
        doc, elements = _structure(pdf)
        assert len(doc.pages) == 2
        for page in doc.pages:
            box = [float(v) for v in page.MediaBox]
            assert abs(box[2] - 595.3) < 1 and abs(box[3] - 841.9) < 1  # A4 portrait, in points
            xobjects = page.Resources.get("/XObject", {})
            assert not [x for x in xobjects.values() if x.get("/Subtype") == "/Image"]
        assert bool(doc.Root.MarkInfo.Marked) and str(doc.Root.Lang) == lang
        assert str(doc.open_metadata().get("dc:title")) == title
        alts = sorted(str(e.get("/Alt", "")) for e in elements if e.get("/S") == "/Figure")
        assert len(alts) == 10 and all(any(c in alt for alt in alts) for c in codes)
        doc.close()
