"""The data model (SQLAlchemy 2). Anonymity is a property of the schema, not only of the code:

- ``Response`` has no foreign key, column or ordering that ties it to an invitation, participant or
  token, and no timestamp: only a random id, the round and the answers.
- ``Invitation`` keeps a hash of the token (never the token); whether it was answered is in the open round's
  own storage, gone after the seal.
- While a round is open, its answer sets and answered flags live in tables of its own, made when it opens
  and dropped after the seal at close; ``responses`` holds sealed answer sets only
  (see ``survey.domain.round_storage`` and ``survey.domain.answer_store``).
"""

import json
import secrets
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Team(Base):
    __tablename__ = "teams"
    # the start page lists teams by name, a page at a time
    __table_args__ = (Index("ix_teams_name", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    leader_email: Mapped[str | None] = mapped_column(String(320), index=True)  # a leader's teams
    leader_name: Mapped[str | None] = mapped_column(String(200))
    # when the leader email last changed (0018; None: never, as far as anyone knows): a report link signed
    # before it no longer opens the report (``survey.domain.report_links``)
    leader_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lang: Mapped[str] = mapped_column(String(2), default="da")
    instrument: Mapped[str | None] = mapped_column(String(100))  # None: the default instrument
    # TRIO notice (optional): TR and AMR addresses that get aggregate pillar figures only
    trio_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the toolkit's two tracks: "selfguided" (the leader runs the steps) or "facilitated"
    track: Mapped[str] = mapped_column(String(16), default="selfguided")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the organisational unit the team belongs to (None: not placed in the tree)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)

    participants: Mapped[list["Participant"]] = relationship(back_populates="team")
    rounds: Mapped[list["Round"]] = relationship(back_populates="team", order_by="Round.number")


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("team_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    lang: Mapped[str] = mapped_column(String(2), default="da")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    team: Mapped[Team] = relationship(back_populates="participants")


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        # the tick's rounds due to close (status alone: the planner reads every round past its closing time)
        Index("ix_rounds_status_closes_at", "status", "closes_at"),
        # the retention purge's rounds due: only those not yet purged, by closing time
        _partial(
            "ix_rounds_unpurged",
            "closed_at",
            sqlite_where=text("purged_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1 = the team's baseline
    kind: Mapped[str] = mapped_column(String(16), default="baseline")  # baseline | followup
    previous_round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    # draft | scheduled | open | closing | reported | failed
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # pipeline position while closing: aggregate -> render -> deliver -> done
    pipeline_step: Mapped[str | None] = mapped_column(String(16))
    pipeline_touched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pipeline_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # a running pipeline task's last sign of life (pipeline.heartbeat); None when none is running
    pipeline_beat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    instrument: Mapped[str] = mapped_column(String(100))
    min_responses: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_count: Mapped[int] = mapped_column(Integer, default=0)  # kept after personal data is purged
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followup_after_days: Mapped[int | None] = mapped_column(Integer)  # schedule a follow-up at close
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the pillar the team chose at the debrief of this round (survey.domain.focus.record_focus); None until then
    chosen_focus: Mapped[str | None] = mapped_column(String(100))
    chosen_focus_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # where the round's answers are (survey.domain.round_storage): "own" = in the round's own tables (open,
    # or closed and not yet sealed); "dropping" = sealed into ``responses``, the own tables still to be
    # dropped (``trail_reason`` says what holds them); None = in ``responses`` only (or none yet)
    answer_storage: Mapped[str | None] = mapped_column(String(16))
    trail_reason: Mapped[str | None] = mapped_column(Text)
    # "email": a personal link per participant; "cards": printed answer cards tied to no person
    # (survey.domain.cards); ``cards`` is how many were asked for (None: active participants + spares)
    channel: Mapped[str] = mapped_column(String(8), default="email", server_default="email")
    cards: Mapped[int | None] = mapped_column(Integer)

    team: Mapped[Team] = relationship(back_populates="rounds")


@event.listens_for(Round.min_responses, "set")
def _min_responses_fixed(target: Round, value: int, oldvalue: Any, _initiator: Any) -> None:
    """The threshold is fixed once a round has opened: lowering it later would reveal a small round."""
    if inspect(target).persistent and target.status not in ("draft", "scheduled") and value != oldvalue:
        raise ValueError(f"round {target.id}: min_responses is fixed once the round has opened")


class Invitation(Base):
    """One participant's invitation to one round, or one answer card of a card round (no participant, no
    email: ``email`` is empty). Holds the token's hash, never the token."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("round_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    # indexed: the purge's "participant in no invitation", and the SET NULL when a participant goes
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    lang: Mapped[str] = mapped_column(String(2), default="da")
    # random per invitation; the token is HMAC(secret key, nonce): a dump without the key rebuilds no link
    nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)


class RetiredLink(Base):
    """The hash of a purged invitation's token, and its round: nothing personal, but enough that an old
    link still gets the "round closed" page rather than "unknown link" after the retention purge."""

    __tablename__ = "retired_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(2), default="da")


class Response(Base):
    """One anonymous answer set of a sealed round. Deliberately nothing but a random id, the round, the
    answers and ``filled`` (always true since the open round's slots moved to its own tables; kept so that
    readers of older dumps and queries keep working)."""

    __tablename__ = "responses"
    # SQLite: no hidden rowid, so rows are kept in (random) id order rather than insertion order.
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    answers: Mapped[dict[str, int]] = mapped_column(FixedWidthAnswers)
    filled: Mapped[bool] = mapped_column(Boolean, default=True)


class RoundResultRow(Base):
    """The stored aggregate of a closed round (already thresholded: no figure below k)."""

    __tablename__ = "round_results"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    responses: Mapped[int] = mapped_column(Integer)
    suppressed: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # pipeline.scoring.RoundResult as plain data
    focus_pillars: Mapped[list[str]] = mapped_column(JSON, default=list)
    hack_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(Base):
    __tablename__ = "reports"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(2))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Action(Base):
    """An IGLO action agreed at the debrief of a round; reviewed in the next round's report."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(16))  # individ | gruppe | ledelse | organisation
    what: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(200))
    by_when: Mapped[str] = mapped_column(String(100))
    # the hack this action puts into practice, if any: the next report does not recommend it again
    hack_key: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned | done | ongoing | dropped
    # a real date (the nudges count down to it); ``by_when`` keeps what older plans wrote as free text
    due: Mapped[date | None] = mapped_column(Date, index=True)
    # who gets the due-date nudges (None: the team's leader)
    owner_email: Mapped[str | None] = mapped_column(String(320))
    # the action of the previous round's plan this one continues (planned/ongoing ones carry over at close)
    carried_from: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="SET NULL"), index=True)


class Message(Base):
    """The outbox: one row per (round, kind, recipient, seq) makes each email happen once.

    The body is not stored: it is rebuilt at send time (an invitation's link is derived from the secret
    key), and ``message_id`` is fixed at creation so that a resend after a crash keeps its Message-ID.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("round_id", "kind", "recipient", "seq"),
        # pending rows only: the tick's rounds with mail due, and a sender's claim within one round
        _partial(
            "ix_messages_pending",
            "round_id",
            "id",
            sqlite_where=text("status = 'pending'"),
        ),
        UniqueConstraint("request_id", "kind", "recipient", name="uq_messages_request_kind_recipient"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None only for a nudge about a facilitation request (``request_id``), which belongs to no round
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitation_requests.id", ondelete="CASCADE"), index=True
    )
    # invitation | reminder | report | trio | kickoff; nudges: debrief | no_plan | action_due |
    # action_overdue (seq = the action's id) | request_new | session_planned
    kind: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    # reminder number; for a report or kick-off handed to a new leader, the number of the hand-over; else 0
    seq: Mapped[int] = mapped_column(Integer, default=0)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id", ondelete="SET NULL"))
    lang: Mapped[str] = mapped_column(String(2), default="da")
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    # pending|sent|failed|cancelled (a leader's mail after the team's leader changed: survey.domain.leader_mail)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkGuess(Base):
    """Recent unknown-token requests per client (hashed address), for slowing link guessing."""

    __tablename__ = "link_guesses"

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    """A web account: admin, facilitator or leader. Holds an argon2 hash of the password, never the password."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # admin | facilitator | leader
    password_hash: Mapped[str] = mapped_column(String(200))
    lang: Mapped[str] = mapped_column(String(2), default="da")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # bumped on a password change (kept from before server-side sessions; ``WebSession`` decides now)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "<issuer> <sub>" of the OpenID Connect identity linked to this account (unique when set)
    oidc_subject: Mapped[str | None] = mapped_column(String(600), index=True, unique=True)


class WebSession(Base):
    """One signed-in browser. The cookie carries a random token; the table keeps only its SHA-256, so a
    database dump gives no working session. Deleting the row ends the session (logout, admin, disabling)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEvent(Base):
    """Who did what to accounts, rounds, reports and units: never answers, tokens or passwords."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str | None] = mapped_column(String(320))  # the account's email; None for the CLI or system
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(400))  # "round 12", "user a@b.dk", ...


class LoginFailure(Base):
    """Failed logins per account or per client (both as keyed hashes) in a fixed window, for throttling.

    In the database rather than in process memory, so the limit holds across gunicorn workers.
    """

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)


class FacilitationRequest(Base):
    """A session with a facilitator for one step of the toolkit: asked for by a leader, or planned straight
    away by a facilitator as part of the facilitated track's process (then it is never "open")."""

    __tablename__ = "facilitation_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    # premeeting | briefing | measurement | debriefing | sparring | followup
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | taken | planned
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    session_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # planned end (0016); None before
    place: Mapped[str | None] = mapped_column(String(200))
    bring: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Heartbeat(Base):
    """One row that ``/healthz`` rewrites: "ok" then means the database accepts a write, not only a read
    (a full disk or a read-only replica answers SELECT 1 but refuses every answer)."""

    __tablename__ = "heartbeat"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Unit(Base):
    """An organisational unit (forvaltning, afdeling, ...) in a tree; teams hang below units."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # the unit head (afdelingsleder, consultant): an account with this email sees the unit's overview
    head_email: Mapped[str | None] = mapped_column(String(320), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UnitPool(Base):
    """An "other teams" cell: the pooled answers of rounds that are each below k.

    Frozen once created: its rounds (``UnitPoolRound``) never join another pool, so that no two figures
    shown at different times can be subtracted to isolate one small team (see ``pipeline.unit_disclosure``).
    """

    __tablename__ = "unit_pools"

    # made by the application, so that any number of pools is stored in one executemany INSERT
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UnitPoolRound(Base):
    """Membership of a round in a pool; the primary key makes a round belong to at most one pool ever."""

    __tablename__ = "unit_pool_rounds"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    pool_id: Mapped[str] = mapped_column(ForeignKey("unit_pools.id", ondelete="CASCADE"), index=True)


class UnitOverview(Base):
    """The unit's own figures as published in an overview report, by earlier versions, as the baseline of
    "change since the last overview". No longer read or written: the change is each team's against its own
    previous measurement, so no view or download moves it. Kept so that an upgrade loses nothing."""

    __tablename__ = "unit_overviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    respondents: Mapped[int] = mapped_column(Integer)
    pillars: Mapped[dict[str, float | None]] = mapped_column(JSON)  # pillar key -> mean
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UnitReport(Base):
    """A unit overview PDF asked for in the web app, made by a worker (``pipeline.tasks.render_unit_report``).

    The page that asked answers at once and shows ``status`` (queued -> figures -> layout -> done, or
    failed with ``error``) until the file is here. Holds only what the overview shows: figures that have
    passed the disclosure rule. Old ones are dropped as new ones are made (``survey.domain.unit_reports``).
    """

    __tablename__ = "unit_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(2), default="da")
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|figures|layout|done|failed
    error: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int | None] = mapped_column(Integer)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
