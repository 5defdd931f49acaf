"""``tryghed demo``: one whole round on the embedded default, through the real parts.

A demo team is created, invitations are written to the outbox as emails, the personal links are read
back out of those emails and answered through the real form (GET, CSRF token, POST), the round is
closed, and the report PDF is written to the output folder. Answers are random but seeded, so the demo
gives the same figures every time. ``--instrument`` runs it on another instrument (any pillars, any scale
length); without sender settings the emails come from a demo organisation and contact person.
"""

from __future__ import annotations

import email
import random
import re
import time
from email import policy
from pathlib import Path
from typing import Any

from survey.content import Instrument
from survey.errors import UserError

DEMO_PEOPLE = [
    ("anne@demo.tryghed.dk", "Anne Holm"),
    ("bilal@demo.tryghed.dk", "Bilal Aziz"),
    ("camilla@demo.tryghed.dk", "Camilla Berg"),
    ("dennis@demo.tryghed.dk", "Dennis Lund"),
    ("eva@demo.tryghed.dk", "Eva Kjær"),
    ("frederik@demo.tryghed.dk", "Frederik Ø. Madsen"),
    ("gitte@demo.tryghed.dk", "Gitte Søndergaard"),
    ("hamid@demo.tryghed.dk", "Hamid Rahimi"),
]
DEMO_SENDER = {
    "ORG_NAME": "Demo Kommune, Børne- og Familieafdelingen",
    "CONTACT_NAME": "Freja Facilitator",
    "CONTACT_EMAIL": "facilitator@demo.tryghed.dk",
}
ANSWERING = 7  # of 8: one person does not answer, as in real life
LINK_RE = re.compile(r"https?://\S+/s/([A-Za-z0-9_-]{43})")
_HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def hidden_fields(html: str) -> dict[str, str]:
    """The form's hidden fields, sent back as they are (the respondent's form carries none today)."""
    return dict(_HIDDEN_RE.findall(html))


def _links_from_outbox(outbox: Path, message_ids: list[str]) -> list[str]:
    """The personal tokens, read out of the invitation emails as a participant would see them."""
    from survey.mail.transport import eml_name

    tokens = []
    for mid in message_ids:
        msg = email.message_from_bytes((outbox / eml_name(mid)).read_bytes(), policy=policy.default)
        body = msg.get_body(preferencelist=("plain",))
        assert body is not None
        found = LINK_RE.search(body.get_content())
        if found is None:
            raise UserError(f"no survey link in invitation {mid}")
        tokens.append(found.group(1))
    return tokens


# Where each pillar typically sits, as a share of the way up the scale (0 = lowest point, 1 = highest),
# by the pillar's position in the instrument: the first pillar strongest, later ones weaker, as in a team
# whose challenging is the hardest part. Relative, so that any instrument (any pillars, any scale
# length) gets plausible answers.
LEANS = (0.8, 0.65, 0.6, 0.45)


def _answers(rng: random.Random, instrument: Instrument) -> dict[str, int]:
    """A plausible answer set on ``instrument``'s own scale: each pillar has a typical level, reverse
    items are answered mirrored, and one answer in five lands a point above or below."""
    low, high = instrument.scale_min, instrument.scale_max
    lean = {p.key: LEANS[i % len(LEANS)] for i, p in enumerate(instrument.pillars)}
    out = {}
    for item in instrument.items:
        level = low + lean[item.pillar] * (high - low) + rng.choice((-1, 0, 0, 0, 1))
        value = min(high, max(low, round(level)))
        out[item.key] = low + high - value if item.reverse else value
    return out


def run_demo(out_dir: Path, instrument_name: str | None = None) -> dict[str, Any]:
    """Run the demo; returns paths and the figures of ``round show``.

    ``instrument_name`` measures the demo team with another instrument (from ``TRYGHED_CONTENT_DIR``);
    by default the default instrument is used.
    """
    from sqlalchemy import select

    from pipeline.tasks import run_pipeline, send_pending
    from survey import create_app
    from survey.data.db import upgrade
    from survey.data.models import Message, Report, Round
    from survey.domain.rounds import close_round, create_round, open_round, show_round
    from survey.domain.teams import add_team, check_instrument, import_participants
    from survey.mail.transport import eml_name

    started = time.perf_counter()
    # The embedded default whatever the environment says: in-process tasks, mail to the outbox folder
    app = create_app({"BROKER_URL": None, "SMTP_HOST": None, "TESTING": False})
    rt = app.extensions["tryghed"]
    if not rt.config.get("ORG_NAME") and not rt.config.get("CONTACT_NAME"):
        # show the emails as an installation should send them: from a named organisation and person
        rt.config.update(DEMO_SENDER)
    outbox = Path(rt.config["OUTBOX_DIR"])
    out_dir.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        instrument = rt.content.instrument(check_instrument(instrument_name, rt.content.instruments))
        upgrade(rt.db)
        with rt.db.session() as s:
            team = add_team(
                s,
                "Demo: Team Nord, Børne- og Familieafdelingen",
                "leder@demo.tryghed.dk",
                "Lene Leder",
                "da",
                instrument=instrument_name,
                known_instruments=rt.content.instruments,
            )
            csv_text = "email,name\n" + "\n".join(f"{e},{n}" for e, n in DEMO_PEOPLE) + "\n"
            import_participants(s, team.id, csv_text)
            rnd = create_round(rt, s, team.id)
            round_id = rnd.id
            open_round(rt, s, round_id)
        send_pending.delay(round_id)
        with rt.db.session() as s:
            invitation_ids = list(
                s.scalars(
                    select(Message.message_id)
                    .where(Message.round_id == round_id, Message.kind == "invitation")
                    .order_by(Message.id)
                )
            )
        tokens = _links_from_outbox(outbox, invitation_ids)

    rng = random.Random(2026)
    client = app.test_client()
    for token in tokens[:ANSWERING]:
        page = client.get(f"/s/{token}")
        if page.status_code != 200:
            raise UserError(f"the survey page answered {page.status_code}")
        fields = hidden_fields(page.get_data(as_text=True))
        posted = client.post(f"/s/{token}", data={**fields, **_answers(rng, instrument)})
        if posted.status_code != 200:
            raise UserError(f"submitting the form answered {posted.status_code}")

    with app.app_context():
        with rt.db.session() as s:
            close_round(rt, s, round_id)
        run_pipeline.delay(round_id)
        with rt.db.session() as s:
            shown = show_round(rt, s, round_id)
            report = s.get(Report, round_id)
            rnd = s.get(Round, round_id)
            report_mid = s.scalar(
                select(Message.message_id).where(Message.round_id == round_id, Message.kind == "report")
            )
            if report is None or report_mid is None or rnd is None or shown["status"] != "reported":
                raise UserError(f"the round ended as {shown['status']}: {shown['status_reason']}")
            pdf_path = out_dir / f"tryghed-demo-runde-{round_id}.pdf"
            pdf_path.write_bytes(report.pdf)
    return {
        "team": team.name,
        "team_id": team.id,
        "round_id": round_id,
        "status": shown["status"],
        "invited": shown["invited"],
        "responses": shown["responses"],
        "pillars": shown["pillars"],
        "focus_pillars": shown["focus_pillars"],
        "recommended_hacks": shown["recommended_hacks"],
        "pdf": str(pdf_path.resolve()),
        "report_email": str((outbox / eml_name(report_mid)).resolve()),
        "seconds": round(time.perf_counter() - started, 2),
    }
