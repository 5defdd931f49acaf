"""The data model (SQLAlchemy 2). Anonymity is a property of the schema, not only of the code:

- ``Response`` has no foreign key, column or ordering that ties it to an invitation, participant or
  token, and no timestamp: only a random id, the round and the answers.
- ``Invitation`` keeps a hash of the token (never the token); whether it was answered is in the open round's
  own storage, gone after the seal.
- While a round is open, its answer sets and answered flags live in tables of its own, made when it opens
  and dropped after the seal at close; ``responses`` holds sealed answer sets only
  (see ``survey.domain.round_storage`` and ``survey.domain.answer_store``).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    event,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from survey.data import tables
from survey.data.tables import (  # noqa: F401  (re-exported: the column types and helpers' old home)
    NAMING,
    FixedWidthAnswers,
    UTCDateTime,
    encode_answers,
    postgresql_conditions,
    random_id,
    utcnow,
)


class Base(DeclarativeBase):
    metadata = tables.metadata


class Team(Base):
    __table__ = tables.teams

    id: Mapped[int]
    name: Mapped[str]
    leader_email: Mapped[str | None]
    leader_name: Mapped[str | None]
    leader_changed_at: Mapped[datetime | None]
    lang: Mapped[str]
    instrument: Mapped[str | None]
    trio_emails: Mapped[list[str]]
    track: Mapped[str]
    created_at: Mapped[datetime]
    unit_id: Mapped[int | None]

    participants: Mapped[list["Participant"]] = relationship(back_populates="team")
    rounds: Mapped[list["Round"]] = relationship(back_populates="team", order_by="Round.number")


class Participant(Base):
    __table__ = tables.participants

    id: Mapped[int]
    team_id: Mapped[int]
    email: Mapped[str]
    name: Mapped[str | None]
    lang: Mapped[str]
    active: Mapped[bool]

    team: Mapped[Team] = relationship(back_populates="participants")


class Round(Base):
    __table__ = tables.rounds

    id: Mapped[int]
    team_id: Mapped[int]
    number: Mapped[int]
    kind: Mapped[str]
    previous_round_id: Mapped[int | None]
    status: Mapped[str]
    status_reason: Mapped[str | None]
    pipeline_step: Mapped[str | None]
    pipeline_touched_at: Mapped[datetime | None]
    pipeline_attempts: Mapped[int]
    pipeline_beat_at: Mapped[datetime | None]
    instrument: Mapped[str]
    min_responses: Mapped[int]
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    invited_count: Mapped[int]
    reminders_sent: Mapped[int]
    last_reminder_at: Mapped[datetime | None]
    followup_after_days: Mapped[int | None]
    purged_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    chosen_focus: Mapped[str | None]
    chosen_focus_at: Mapped[datetime | None]
    answer_storage: Mapped[str | None]
    trail_reason: Mapped[str | None]
    channel: Mapped[str]
    cards: Mapped[int | None]

    team: Mapped[Team] = relationship(back_populates="rounds")


@event.listens_for(Round.min_responses, "set")
def _min_responses_fixed(target: Round, value: int, oldvalue: Any, _initiator: Any) -> None:
    """The threshold is fixed once a round has opened: lowering it later would reveal a small round."""
    if inspect(target).persistent and target.status not in ("draft", "scheduled") and value != oldvalue:
        raise ValueError(f"round {target.id}: min_responses is fixed once the round has opened")


class Invitation(Base):
    """One participant's invitation to one round, or one answer card of a card round (no participant, no
    email: ``email`` is empty). Holds the token's hash, never the token."""

    __table__ = tables.invitations

    id: Mapped[int]
    round_id: Mapped[int]
    participant_id: Mapped[int | None]
    email: Mapped[str]
    lang: Mapped[str]
    nonce: Mapped[str]
    token_hash: Mapped[str]


class RetiredLink(Base):
    """The hash of a purged invitation's token, and its round: nothing personal, but enough that an old
    link still gets the "round closed" page rather than "unknown link" after the retention purge."""

    __table__ = tables.retired_links

    token_hash: Mapped[str]
    round_id: Mapped[int]
    lang: Mapped[str]


class Response(Base):
    """One anonymous answer set of a sealed round. Deliberately nothing but a random id, the round, the
    answers and ``filled`` (always true since the open round's slots moved to its own tables; kept so that
    readers of older dumps and queries keep working)."""

    __table__ = tables.responses

    id: Mapped[str]
    round_id: Mapped[int]
    answers: Mapped[dict[str, int]]
    filled: Mapped[bool]


class RoundResultRow(Base):
    """The stored aggregate of a closed round (already thresholded: no figure below k)."""

    __table__ = tables.round_results

    round_id: Mapped[int]
    responses: Mapped[int]
    suppressed: Mapped[bool]
    result: Mapped[dict[str, Any]]
    focus_pillars: Mapped[list[str]]
    hack_keys: Mapped[list[str]]
    computed_at: Mapped[datetime]


class Report(Base):
    __tablename__ = "reports"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(2))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Action(Base):
    """An IGLO action agreed at the debrief of a round; reviewed in the next round's report."""

    __table__ = tables.actions

    id: Mapped[int]
    round_id: Mapped[int]
    level: Mapped[str]
    what: Mapped[str]
    who: Mapped[str]
    by_when: Mapped[str]
    hack_key: Mapped[str | None]
    status: Mapped[str]
    due: Mapped[date | None]
    owner_email: Mapped[str | None]
    carried_from: Mapped[int | None]


class Message(Base):
    """The outbox: one row per (round, kind, recipient, seq) makes each email happen once.

    The body is not stored: it is rebuilt at send time (an invitation's link is derived from the secret
    key), and ``message_id`` is fixed at creation so that a resend after a crash keeps its Message-ID.
    """

    __table__ = tables.messages

    id: Mapped[int]
    round_id: Mapped[int | None]
    request_id: Mapped[int | None]
    kind: Mapped[str]
    recipient: Mapped[str]
    seq: Mapped[int]
    invitation_id: Mapped[int | None]
    lang: Mapped[str]
    message_id: Mapped[str]
    status: Mapped[str]
    attempts: Mapped[int]
    last_error: Mapped[str | None]
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class LinkGuess(Base):
    """Recent unknown-token requests per client (hashed address), for slowing link guessing."""

    __table__ = tables.link_guesses

    client: Mapped[str]
    window_start: Mapped[datetime]
    count: Mapped[int]


class User(Base):
    """A web account: admin, facilitator or leader. Holds an argon2 hash of the password, never the password."""

    __table__ = tables.users

    id: Mapped[int]
    email: Mapped[str]
    name: Mapped[str | None]
    role: Mapped[str]  # admin | facilitator | leader
    password_hash: Mapped[str]
    lang: Mapped[str]
    active: Mapped[bool]
    session_epoch: Mapped[int]
    created_at: Mapped[datetime]
    oidc_subject: Mapped[str | None]


class WebSession(Base):
    """One signed-in browser. The cookie carries a random token; the table keeps only its SHA-256, so a
    database dump gives no working session. Deleting the row ends the session (logout, admin, disabling)."""

    __table__ = tables.web_sessions

    id: Mapped[str]
    user_id: Mapped[int]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class AuditEvent(Base):
    """Who did what to accounts, rounds, reports and units: never answers, tokens or passwords."""

    __table__ = tables.audit_events

    id: Mapped[int]
    at: Mapped[datetime]
    actor: Mapped[str | None]
    action: Mapped[str]
    subject: Mapped[str | None]


class LoginFailure(Base):
    """Failed logins per account or per client (both as keyed hashes) in a fixed window, for throttling.

    In the database rather than in process memory, so the limit holds across gunicorn workers.
    """

    __table__ = tables.login_failures

    key: Mapped[str]
    window_start: Mapped[datetime]
    count: Mapped[int]


class FacilitationRequest(Base):
    """A session with a facilitator for one step of the toolkit: asked for by a leader, or planned straight
    away by a facilitator as part of the facilitated track's process (then it is never "open")."""

    __table__ = tables.facilitation_requests

    id: Mapped[int]
    team_id: Mapped[int]
    kind: Mapped[str]
    note: Mapped[str]
    status: Mapped[str]
    facilitator_id: Mapped[int | None]
    session_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    place: Mapped[str | None]
    bring: Mapped[str | None]
    created_at: Mapped[datetime]


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

    __table__ = tables.unit_reports

    id: Mapped[str]
    unit_id: Mapped[int]
    lang: Mapped[str]
    status: Mapped[str]
    error: Mapped[str | None]
    pages: Mapped[int | None]
    pdf: Mapped[bytes | None]
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
