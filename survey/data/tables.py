"""The tables that the commands read without the ORM, as SQLAlchemy Core ``Table`` objects: their one definition.

``survey.data.models`` maps its classes onto these (``__table__``) in the same ``metadata``, so Alembic and
every ORM user see the same schema as before. A short command (``tryghed round show``) reads them with Core
alone: importing ``sqlalchemy.orm`` and mapping the classes is a third of such a command's start
(docs/benchmarks.md, "Starting a command"). The column types and helpers shared with the other tables live
here too, so this module imports no ORM.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as naive UTC, so SQLite and PostgreSQL behave alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def encode_answers(answers: dict[str, int]) -> str:
    """Answers as JSON whose length depends on the item keys only (each value padded to two places).

    An empty slot (all zeros) and a filled one then have the same size, which is what lets SQLite
    overwrite the slot's cell where it is instead of moving it to a place that tells the order.
    """
    if any(not 0 <= v <= 99 for v in answers.values()):
        raise ValueError("answer values must be between 0 and 99")
    return "{" + ",".join(f"{json.dumps(k)}:{v:>2}" for k, v in sorted(answers.items())) + "}"


class FixedWidthAnswers(TypeDecorator[dict[str, int]]):
    """A dict of item key -> answer, stored as fixed-width JSON text (``encode_answers``)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, int] | None, dialect: Any) -> str | None:
        return None if value is None else encode_answers(value)

    def process_result_value(self, value: str | None, dialect: Any) -> dict[str, int] | None:
        return None if value is None else json.loads(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


def random_id() -> str:
    """128 random bits as hex: an identifier that reveals no order."""
    return secrets.token_hex(16)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


# Partial indexes carry their PostgreSQL condition only once PostgreSQL is in use (``postgresql_conditions``,
# called for a PostgreSQL engine and by the migrations): naming ``postgresql_where`` here imports SQLAlchemy's
# whole PostgreSQL dialect, its drivers and asyncio, into every command on the embedded SQLite default, a
# fifth of a short command's start (docs/benchmarks.md, "Starting a command").
_PARTIAL: list[Index] = []


def _partial(name: str, *columns: str, sqlite_where: Any) -> Index:
    index = Index(name, *columns, sqlite_where=sqlite_where)
    _PARTIAL.append(index)
    return index


def postgresql_conditions() -> None:
    """Give the partial indexes their condition on PostgreSQL too (the same as on SQLite)."""
    for index in _PARTIAL:  # idempotent
        index.dialect_kwargs["postgresql_where"] = index.dialect_kwargs["sqlite_where"]


# ``rounds.answer_storage``: where a round's answers are (survey.domain.round_storage)
OWN = "own"
DROPPING = "dropping"

teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("leader_email", String(320), index=True),  # a leader's teams
    Column("leader_name", String(200)),
    # when the leader email last changed (0018; None: never, as far as anyone knows): a report link signed
    # before it no longer opens the report (``survey.domain.report_links``)
    Column("leader_changed_at", UTCDateTime),
    Column("lang", String(2), nullable=False, default="da"),
    Column("instrument", String(100)),  # None: the default instrument
    # TRIO notice (optional): TR and AMR addresses that get aggregate pillar figures only
    Column("trio_emails", JSON, nullable=False, default=list),
    # the toolkit's two tracks: "selfguided" (the leader runs the steps) or "facilitated"
    Column("track", String(16), nullable=False, default="selfguided"),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    # the organisational unit the team belongs to (None: not placed in the tree)
    Column("unit_id", Integer, ForeignKey("units.id"), index=True),
    # the start page lists teams by name, a page at a time
    Index("ix_teams_name", "name", "id"),
)

rounds = Table(
    "rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("number", Integer, nullable=False),  # 1 = the team's baseline
    Column("kind", String(16), nullable=False, default="baseline"),  # baseline | followup
    Column("previous_round_id", Integer, ForeignKey("rounds.id")),
    # draft | scheduled | open | closing | reported | failed
    Column("status", String(16), nullable=False, default="draft", index=True),
    Column("status_reason", Text),
    # pipeline position while closing: aggregate -> render -> deliver -> done
    Column("pipeline_step", String(16)),
    Column("pipeline_touched_at", UTCDateTime),
    Column("pipeline_attempts", Integer, nullable=False, default=0),
    # a running pipeline task's last sign of life (pipeline.heartbeat); None when none is running
    Column("pipeline_beat_at", UTCDateTime),
    Column("instrument", String(100), nullable=False),
    Column("min_responses", Integer, nullable=False),
    Column("opens_at", UTCDateTime),
    Column("closes_at", UTCDateTime),
    Column("opened_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("reported_at", UTCDateTime),
    Column("invited_count", Integer, nullable=False, default=0),  # kept after personal data is purged
    Column("reminders_sent", Integer, nullable=False, default=0),
    Column("last_reminder_at", UTCDateTime),
    Column("followup_after_days", Integer),  # schedule a follow-up at close
    Column("purged_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    # the pillar the team chose at the debrief of this round (survey.domain.focus.record_focus); None until then
    Column("chosen_focus", String(100)),
    Column("chosen_focus_at", UTCDateTime),
    # where the round's answers are (survey.domain.round_storage): OWN = in the round's own tables (open,
    # or closed and not yet sealed); DROPPING = sealed into ``responses``, the own tables still to be
    # dropped (``trail_reason`` says what holds them); None = in ``responses`` only (or none yet)
    Column("answer_storage", String(16)),
    Column("trail_reason", Text),
    # "email": a personal link per participant; "cards": printed answer cards tied to no person
    # (survey.domain.cards); ``cards`` is how many were asked for (None: active participants + spares)
    Column("channel", String(8), nullable=False, default="email", server_default="email"),
    Column("cards", Integer),
    UniqueConstraint("team_id", "number"),
    # the tick's rounds due to close (status alone: the planner reads every round past its closing time)
    Index("ix_rounds_status_closes_at", "status", "closes_at"),
    # the retention purge's rounds due: only those not yet purged, by closing time
    _partial("ix_rounds_unpurged", "closed_at", sqlite_where=text("purged_at IS NULL")),
)

# One anonymous answer set of a sealed round: deliberately nothing but a random id, the round, the answers and
# ``filled`` (see ``survey.data.models.Response``). SQLite: no hidden rowid, so rows are kept in (random) id
# order rather than insertion order.
responses = Table(
    "responses",
    metadata,
    Column("id", String(32), primary_key=True, default=random_id),
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("answers", FixedWidthAnswers, nullable=False),
    Column("filled", Boolean, nullable=False, default=True),
    sqlite_with_rowid=False,
)

# The stored aggregate of a closed round (already thresholded: no figure below k).
round_results = Table(
    "round_results",
    metadata,
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("responses", Integer, nullable=False),
    Column("suppressed", Boolean, nullable=False),
    Column("result", JSON, nullable=False),  # pipeline.scoring.RoundResult as plain data
    Column("focus_pillars", JSON, nullable=False, default=list),
    Column("hack_keys", JSON, nullable=False, default=list),
    Column("computed_at", UTCDateTime, nullable=False, default=utcnow),
)

# what is still being worked on: it carries over to the next round's plan and gets due-date nudges
LIVE_STATUSES = ("planned", "ongoing")

# An IGLO action agreed at the debrief of a round; reviewed in the next round's report.
actions = Table(
    "actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("level", String(16), nullable=False),  # individ | gruppe | ledelse | organisation
    Column("what", Text, nullable=False),
    Column("who", String(200), nullable=False),
    Column("by_when", String(100), nullable=False),
    # the hack this action puts into practice, if any: the next report does not recommend it again
    Column("hack_key", String(100)),
    Column("status", String(16), nullable=False, default="planned"),  # planned | done | ongoing | dropped
    # a real date (the nudges count down to it); ``by_when`` keeps what older plans wrote as free text
    Column("due", Date, index=True),
    # who gets the due-date nudges (None: the team's leader)
    Column("owner_email", String(320)),
    # the action of the previous round's plan this one continues (planned/ongoing ones carry over at close)
    Column("carried_from", Integer, ForeignKey("actions.id", ondelete="SET NULL"), index=True),
)

# The outbox (see ``survey.data.models.Message``): one row per (round, kind, recipient, seq).
messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    # None only for a nudge about a facilitation request (``request_id``), which belongs to no round
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), index=True),
    Column("request_id", Integer, ForeignKey("facilitation_requests.id", ondelete="CASCADE"), index=True),
    # invitation | reminder | report | trio | kickoff; nudges: debrief | no_plan | action_due |
    # action_overdue (seq = the action's id) | request_new | session_planned
    Column("kind", String(16), nullable=False),
    Column("recipient", String(320), nullable=False),
    # reminder number; for a report or kick-off handed to a new leader, the number of the hand-over; else 0
    Column("seq", Integer, nullable=False, default=0),
    Column("invitation_id", Integer, ForeignKey("invitations.id", ondelete="SET NULL")),
    Column("lang", String(2), nullable=False, default="da"),
    Column("message_id", String(200), nullable=False, unique=True),
    # pending|sent|failed|cancelled (a leader's mail after the team's leader changed: survey.domain.leader_mail)
    Column("status", String(16), nullable=False, default="pending", index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("next_attempt_at", UTCDateTime),
    Column("claimed_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    Column("sent_at", UTCDateTime),
    UniqueConstraint("round_id", "kind", "recipient", "seq"),
    # pending rows only: the tick's rounds with mail due, and a sender's claim within one round
    _partial("ix_messages_pending", "round_id", "id", sqlite_where=text("status = 'pending'")),
    UniqueConstraint("request_id", "kind", "recipient", name="uq_messages_request_kind_recipient"),
)

# The tables below are the rest of what a scheduler pass (``tryghed tick``) reads, claims or cleans up when
# nothing is due: it runs on a Core connection too (docs/benchmarks.md, "Starting a command"). Their
# classes and docstrings are in ``survey.data.models``.
participants = Table(
    "participants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("email", String(320), nullable=False),
    Column("name", String(200)),
    Column("lang", String(2), nullable=False, default="da"),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("team_id", "email"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False, index=True),
    # indexed: the purge's "participant in no invitation", and the SET NULL when a participant goes
    Column("participant_id", Integer, ForeignKey("participants.id", ondelete="SET NULL"), index=True),
    Column("email", String(320), nullable=False),
    Column("lang", String(2), nullable=False, default="da"),
    # random per invitation; the token is HMAC(secret key, nonce): a dump without the key rebuilds no link
    Column("nonce", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    UniqueConstraint("round_id", "participant_id"),
)

retired_links = Table(
    "retired_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("lang", String(2), nullable=False, default="da"),
)

link_guesses = Table(
    "link_guesses",
    metadata,
    Column("client", String(64), primary_key=True),
    Column("window_start", UTCDateTime, nullable=False),
    Column("count", Integer, nullable=False, default=0),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200)),
    Column("role", String(16), nullable=False),  # admin | facilitator | leader
    Column("password_hash", String(200), nullable=False),
    Column("lang", String(2), nullable=False, default="da"),
    Column("active", Boolean, nullable=False, default=True),
    # bumped on a password change (kept from before server-side sessions; ``web_sessions`` decides now)
    Column("session_epoch", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    # "<issuer> <sub>" of the OpenID Connect identity linked to this account (unique when set)
    Column("oidc_subject", String(600), index=True, unique=True),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 hex of the cookie's token
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False, index=True),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(320)),  # the account's email; None for the CLI or system
    Column("action", String(40), nullable=False),
    Column("subject", String(400)),  # "round 12", "user a@b.dk", ...
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("window_start", UTCDateTime, nullable=False),
    Column("count", Integer, nullable=False, default=0),
)

facilitation_requests = Table(
    "facilitation_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True),
    # premeeting | briefing | measurement | debriefing | sparring | followup
    Column("kind", String(16), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="open", index=True),  # open | taken | planned
    Column("facilitator_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("session_at", UTCDateTime),
    Column("ends_at", UTCDateTime),  # planned end (0016); None before
    Column("place", String(200)),
    Column("bring", Text),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

unit_reports = Table(
    "unit_reports",
    metadata,
    Column("id", String(32), primary_key=True, default=random_id),
    Column("unit_id", Integer, ForeignKey("units.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("lang", String(2), nullable=False, default="da"),
    Column("status", String(16), nullable=False, default="queued"),  # queued|figures|layout|done|failed
    Column("error", Text),
    Column("pages", Integer),
    Column("pdf", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
)
