"""A round's life: create, open (invite), remind, close. Each transition is a conditional UPDATE, so
two callers racing (two ticks, a tick and a facilitator) cannot both perform it.

The functions here decide and record (outbox rows in the same transaction); sending and the report
pipeline run afterwards, as tasks (``survey.dispatch``).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from pipeline.scoring import check_min_responses
from survey.data.db import affected
from survey.data.models import Invitation, Participant, Round
from survey.domain import answer_store, round_storage
from survey.domain import cards as answer_cards
from survey.domain.due import (  # noqa: F401  (re-exported: the tick's reads, in Core)
    TICK_BATCH,
    due_rounds,
    reminder_candidates,
    stalled_pipeline,
)
from survey.domain.round_show import iso, show_round  # noqa: F401  (show_round: re-exported)
from survey.domain.teams import get_team
from survey.domain.tokens import hash_token, make_token
from survey.errors import NotFound, Text, UserError
from survey.mail import outbox
from survey.runtime import Runtime

OPENABLE = ("draft", "scheduled")
CLOSED = ("closing", "reported", "failed")


def get_round(session: Session, round_id: int) -> Round:
    rnd = session.get(Round, round_id)
    if rnd is None:
        raise NotFound(Text("round %(round_id)s does not exist", round_id=round_id))
    return rnd


def create_round(
    rt: Runtime,
    session: Session,
    team_id: int,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    min_responses: int | None = None,
    previous_round_id: int | None = None,
    *,
    commit: bool = True,
    channel: str = "email",
    cards: int | None = None,
) -> Round:
    """A new round for the team: a baseline if it is the team's first, else a follow-up.

    ``channel``: "email" (a personal link per participant) or "cards" (answer cards tied to no person,
    ``cards`` of them, by default the active participants plus two spares when the round opens).
    Committed, unless ``commit=False`` (the caller's transaction decides, e.g. the pipeline step that
    schedules a follow-up when a round is reported).
    """
    team = get_team(session, team_id)
    check_channel(channel, cards)
    k = rt.config["MIN_RESPONSES"] if min_responses is None else min_responses
    try:
        check_min_responses(k)
    except ValueError as exc:
        raise UserError(Text("--min-responses: %(exc)s", exc=exc)) from exc
    now = rt.now()
    if opens_at and closes_at and closes_at <= opens_at:
        raise UserError(Text("the round must close after it opens"))
    if closes_at and closes_at <= now:
        raise UserError(Text("the closing time is in the past"))
    last = session.scalars(select(Round).where(Round.team_id == team_id).order_by(Round.number.desc())).first()
    rnd = Round(
        team_id=team.id,
        number=(last.number + 1) if last else 1,
        kind="followup" if last else "baseline",
        previous_round_id=previous_round_id or (last.id if last else None),
        status="scheduled" if opens_at else "draft",
        instrument=team.instrument or rt.content.default_instrument,
        min_responses=k,
        opens_at=opens_at,
        closes_at=closes_at,
        invited_count=0,
        reminders_sent=0,
        pipeline_attempts=0,
        channel=channel,
        cards=cards,
    )
    session.add(rnd)
    if commit:
        session.commit()
    else:
        session.flush()
    return rnd


def open_round(rt: Runtime, session: Session, round_id: int) -> Round:
    """Open the round and queue one invitation per active participant (committed, not yet sent)."""
    rnd = get_round(session, round_id)
    if rnd.status not in OPENABLE:
        raise UserError(
            Text("round %(round_id)s cannot be opened: it is %(status)s", round_id=round_id, status=rnd.status),
            status=rnd.status,
        )
    participants = list(
        session.scalars(
            select(Participant)
            .where(Participant.team_id == rnd.team_id, Participant.active.is_(True))
            .order_by(Participant.id)
        )
    )
    card_round = rnd.channel == answer_cards.CHANNEL
    count = answer_cards.card_count(rnd.cards, len(participants)) if card_round else len(participants)
    if not count:
        raise UserError(
            Text("team %(team_id)s has no participants to invite; import some first", team_id=rnd.team_id)
            if not card_round
            else Text(
                "team %(team_id)s has no participants to invite; import some first, or give the number of cards "
                "(--cards N)",
                team_id=rnd.team_id,
            )
        )
    now = rt.now()
    if rnd.closes_at and rnd.closes_at <= now:
        raise UserError(Text("the closing time has already passed; create a new round"))
    claimed = affected(
        session.execute(
            update(Round)
            .where(Round.id == round_id, Round.status.in_(OPENABLE))
            .values(status="open", opened_at=now, invited_count=count)
        )
    )
    if claimed != 1:
        session.rollback()
        raise UserError(Text("round %(round_id)s was opened by someone else meanwhile", round_id=round_id))
    secret = rt.config["SECRET_KEY"]
    invitation_ids = []
    if card_round:  # no participant, no email, no message: only the cards' hashes
        invitation_ids = answer_cards.make_cards(session, secret, round_id, count, rnd.team.lang)
        participants = []
    for p in participants:
        inv = Invitation(
            round_id=round_id,
            participant_id=p.id,
            email=p.email,
            lang=p.lang,
            nonce=secrets.token_hex(16),
        )
        inv.token_hash = hash_token(make_token(secret, inv.nonce))
        session.add(inv)
        session.flush()
        invitation_ids.append(inv.id)
        outbox.queue(
            session,
            round_id=round_id,
            kind="invitation",
            recipient=p.email,
            lang=p.lang,
            invitation_id=inv.id,
        )
    # the round's own storage for its answers and answered flags, until the seal (survey.domain.round_storage)
    item_keys = [item.key for item in rt.content.instrument(rnd.instrument).items]
    round_storage.create_storage(session, round_id, invitation_ids, item_keys)
    session.commit()
    session.refresh(rnd)
    return rnd


def check_channel(channel: str, count: int | None) -> None:
    """A round's channel and number of cards, or a clear error."""
    if channel not in (answer_cards.EMAIL, answer_cards.CHANNEL):
        raise UserError(Text("--channel must be email or cards, not %(channel)s", channel=repr(channel)))
    if count is not None:
        if channel != answer_cards.CHANNEL:
            raise UserError(Text("--cards goes with --channel cards"))
        if not 1 <= count <= answer_cards.MAX_CARDS:
            raise UserError(Text("--cards must be between 1 and %(most)s", most=answer_cards.MAX_CARDS))


def remind_round(
    rt: Runtime,
    session: Session,
    round_id: int,
    *,
    expected_seq: int | None = None,
) -> int:
    """Queue a reminder to everyone who has not answered; returns how many (committed).

    At most ``REMINDER_MAX`` reminders per round, scheduled or by hand; the count is claimed with a
    conditional UPDATE so two concurrent callers cannot both send reminder number n. A scheduled
    caller names the number it means (``expected_seq``): a duplicate of that task then sends nothing,
    instead of sending reminder n + 1 right after n.
    """
    rnd = get_round(session, round_id)
    if rnd.channel == answer_cards.CHANNEL:
        raise UserError(
            Text("round %(round_id)s is a round of answer cards: Tryghed knows no one to remind", round_id=round_id)
        )
    if rnd.status != "open":
        raise UserError(
            Text(
                "round %(round_id)s is not open (it is %(status)s); only open rounds get reminders",
                round_id=round_id,
                status=rnd.status,
            )
        )
    limit = int(rt.config["REMINDER_MAX"])
    if rnd.reminders_sent >= limit:
        raise UserError(
            Text(
                "round %(round_id)s has had its %(limit)s reminder(s) already (TRYGHED_REMINDER_MAX)",
                round_id=round_id,
                limit=limit,
            )
        )
    seq = rnd.reminders_sent + 1
    if expected_seq is not None and expected_seq != seq:
        return 0
    claimed = affected(
        session.execute(
            update(Round)
            .where(Round.id == round_id, Round.status == "open", Round.reminders_sent == seq - 1)
            .values(reminders_sent=seq, last_reminder_at=rt.now())
        )
    )
    if claimed != 1:
        session.rollback()
        return 0
    pending = session.scalars(
        select(Invitation)
        .where(Invitation.round_id == round_id, text(round_storage.not_answered_clause(round_id)))
        .order_by(Invitation.id)
    )
    count = 0
    for inv in pending:
        outbox.queue(
            session,
            round_id=round_id,
            kind="reminder",
            recipient=inv.email,
            lang=inv.lang,
            seq=seq,
            invitation_id=inv.id,
        )
        count += 1
    session.commit()
    return count


def close_round(rt: Runtime, session: Session, round_id: int, *, followup_after_days: int | None = None) -> Round:
    """Stop taking answers and hand the round to the report pipeline (committed).

    ``followup_after_days``: schedule a follow-up round that many days after the report is delivered
    (stored with the close, acted on by the pipeline when the round becomes ``reported``).
    """
    rnd = get_round(session, round_id)
    if rnd.status in OPENABLE:
        raise UserError(
            Text(
                "round %(round_id)s has never been opened (it is %(status)s); open it first",
                round_id=round_id,
                status=rnd.status,
            ),
            status=rnd.status,
        )
    if rnd.status in CLOSED:
        raise UserError(
            Text("round %(round_id)s is already closed (it is %(status)s)", round_id=round_id, status=rnd.status),
            status=rnd.status,
        )
    now = rt.now()
    extra = {} if followup_after_days is None else {"followup_after_days": followup_after_days}
    round_storage.hold_answers(session, round_id)  # answers in flight finish first; later ones see "closing"
    claimed = affected(
        session.execute(
            update(Round)
            .where(Round.id == round_id, Round.status == "open")
            .values(status="closing", closed_at=now, pipeline_step="aggregate", pipeline_touched_at=now, **extra)
        )
    )
    if claimed == 1:
        # the plan still being worked on moves into this round's plan, in the transaction only one closer
        # claims (a local import: the action plan builds on rounds, not the other way round)
        from survey.domain.actions import carry_over

        carry_over(session, round_id)
    session.commit()
    if claimed != 1:
        raise UserError(Text("round %(round_id)s was closed by someone else meanwhile", round_id=round_id))
    session.refresh(rnd)
    return rnd


LIST_LIMIT = 200  # rounds per `round list` page when no team is named (a municipality has 100,000+)


def list_rounds(
    rt: Runtime, session: Session, team_id: int | None = None, *, limit: int | None = None, before: int | None = None
) -> list[dict[str, Any]]:
    """Rounds with status and response rate ("n of N"), newest first; figures are in ``show_round``.

    ``limit`` (default ``LIST_LIMIT`` for all teams, none for one team) and ``before`` (a round id: only
    older rounds) page through them (``find_rounds``), described by ``round_rows``.
    """
    return round_rows(rt, session, find_rounds(session, team_id, limit=limit, before=before))


def find_rounds(
    session: Session, team_id: int | None = None, *, limit: int | None = None, before: int | None = None
) -> list[Round]:
    """The rounds ``list_rounds`` lists, as objects, newest first (NotFound for an unknown team)."""
    query = select(Round).order_by(Round.id.desc())
    if team_id is not None:
        get_team(session, team_id)
        query = query.where(Round.team_id == team_id)
    elif limit is None:
        limit = LIST_LIMIT
    if before is not None:
        query = query.where(Round.id < before)
    return list(session.scalars(query.limit(limit)))


def round_rows(rt: Runtime, session: Session, found: list[Round]) -> list[dict[str, Any]]:
    """``list_rounds``'s row of each round. The answers are counted for these rounds only (in an open
    round's own storage, or through the round's index on ``responses``), never over the whole table."""
    counts = answer_store.answer_counts(session, [r.id for r in found])
    return [
        {
            "id": r.id,
            "team_id": r.team_id,
            "number": r.number,
            "kind": r.kind,
            "status": r.status,
            "opens_at": iso(rt, r.opens_at),
            "closes_at": iso(rt, r.closes_at),
            "opened_at": iso(rt, r.opened_at),
            "closed_at": iso(rt, r.closed_at),
            "invited": r.invited_count,
            "responses": counts.get(r.id, 0),
        }
        for r in found
    ]
