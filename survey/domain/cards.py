"""Answer cards: a round whose single-use links are printed on cards tied to no person.

The facilitator prints the cards (``card_sheet``), shuffles them and hands them out in the meeting. The
database holds one invitation row per card with no participant and no email, and only a keyed hash of the
card's code (``survey.domain.tokens``), exactly as for the email links. So Tryghed never knows who holds
which card: not while the round is open (the answered flags name a card, not a person), and not after the
seal either. What it cannot protect: a person who shows their card to someone, or a facilitator who notes
who got which card (docs/privacy.md).
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.data.models import Invitation, Round
from survey.domain.tokens import group_card_code, hash_card_code, make_card_code
from survey.errors import NotFound, Text, UserError
from survey.runtime import Runtime

CHANNEL = "cards"
EMAIL = "email"
SPARES = 2  # by default: one card per active participant, plus two for a newcomer or a spoilt card
MAX_CARDS = 400  # 50 sheets; also the bound of every query of a round's cards
CARD_PATH = "/k/"  # the respondent's page of a card: ``{BASE_URL}/k/{code}``
_RANDOM = random.SystemRandom()


@dataclass(frozen=True)
class Card:
    """One printed card: its link (in the QR code) and its code grouped for reading aloud."""

    url: str
    code: str


def card_count(asked: int | None, active_participants: int) -> int:
    """How many cards a round gets: as many as asked for, else the active participants plus spares."""
    if asked is not None:
        return asked
    return active_participants + SPARES if active_participants else 0


def make_cards(session: Session, secret_key: str, round_id: int, count: int, lang: str) -> list[int]:
    """``count`` card invitations for the round (no participant, no email); their ids. No commit."""
    rows = []
    for _ in range(count):
        nonce = secrets.token_hex(16)
        rows.append(
            Invitation(
                round_id=round_id,
                participant_id=None,
                email="",
                lang=lang,
                nonce=nonce,
                token_hash=hash_card_code(secret_key, make_card_code(secret_key, nonce)),
            )
        )
    session.add_all(rows)
    session.flush()
    return [inv.id for inv in rows]


def round_cards(rt: Runtime, session: Session, round_id: int) -> tuple[Round, list[Card]]:
    """The round and its cards (codes rebuilt from the nonces), in a random order; clear errors otherwise."""
    rnd = session.get(Round, round_id)
    if rnd is None:
        raise NotFound(Text("round %(round_id)s does not exist", round_id=round_id))
    if rnd.channel != CHANNEL:
        raise UserError(
            Text("round %(round_id)s is an email round; it has no answer cards", round_id=round_id), status=rnd.status
        )
    if rnd.status in ("draft", "scheduled"):
        raise UserError(
            Text("the cards are made when the round opens; open round %(round_id)s first", round_id=round_id),
            status=rnd.status,
        )
    if rnd.status != "open":
        raise UserError(
            Text("round %(round_id)s is closed; its cards take no more answers", round_id=round_id), status=rnd.status
        )
    secret = rt.config["SECRET_KEY"]
    base = str(rt.config["BASE_URL"]).rstrip("/")
    nonces = session.scalars(
        select(Invitation.nonce).where(Invitation.round_id == round_id).order_by(Invitation.id).limit(MAX_CARDS)
    ).all()
    codes = [make_card_code(secret, n) for n in nonces]
    _RANDOM.shuffle(codes)  # the place on the sheet says nothing about the card's row
    return rnd, [Card(url=f"{base}{CARD_PATH}{c}", code=group_card_code(c)) for c in codes]


def card_sheet(rt: Runtime, session: Session, round_id: int) -> tuple[bytes, int]:
    """The round's answer cards as a tagged PDF (8 to an A4 sheet) and how many cards it holds."""
    from pipeline.cards_render import cards_pdf

    rnd, found = round_cards(rt, session, round_id)
    closes: datetime | None = rnd.closes_at.astimezone(rt.tz) if rnd.closes_at else None
    base = str(rt.config["BASE_URL"]).rstrip("/")
    pdf = cards_pdf(found, team=rnd.team.name, closes=closes, lang=rnd.team.lang, entry_url=base + CARD_PATH)
    return pdf, len(found)


def paper_form(rt: Runtime, session: Session, round_id: int) -> bytes:
    """The card round's paper barometer as a tagged PDF: the instrument's statements and scale, to fill in
    by hand and type in with a spare card (the same form, validation and storage as any answer)."""
    from pipeline.paper_render import paper_pdf

    rnd, _found = round_cards(rt, session, round_id)
    return paper_pdf(rt.content.instrument(rnd.instrument), team=rnd.team.name, lang=rnd.team.lang)
