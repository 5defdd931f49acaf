"""teams: when the leader last changed

Revision ID: 0018
Revises: 0017

A report link (``/r/…``) names only the round; from this revision on it opens the report only when it was
signed after the team's leader last changed, so that an old leader's emailed links die with the change.

A nullable column: a team whose leader never changed has None. Releases before this one could already
change a leader (``tryghed team set --leader-email`` and the team page), and each change wrote an audit
event ``leader_changed`` with the subject ``team N: old -> new``; the upgrade takes the newest real change
per team from there, so a link the old leader kept from before the upgrade is refused as well. (Events
older than the retention period are deleted, and so are the links' rounds' personal data: a change that
old left nothing to refuse that the link's own lifetime does not refuse too.)
"""

import re
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBJECT = re.compile(r"team (\d+): (.*) -> (.*)")


def _at(value: object) -> datetime:
    # SQLite hands back text, PostgreSQL a datetime; both naive UTC (survey.data.models.UTCDateTime)
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def upgrade() -> None:
    # naive UTC like every other time column; plain ALTER TABLE on both databases
    op.add_column("teams", sa.Column("leader_changed_at", sa.DateTime(), nullable=True))
    conn = op.get_bind()
    teams = set(conn.execute(sa.text("SELECT id FROM teams")).scalars())
    newest: dict[int, datetime] = {}
    events = conn.execute(sa.text("SELECT at, subject FROM audit_events WHERE action = 'leader_changed'"))
    for at, subject in events:
        found = SUBJECT.fullmatch(subject or "")
        if found is None or found.group(2).strip().lower() == found.group(3).strip().lower():
            continue  # not a change of email (the CLI also logged a name-only change)
        team, when = int(found.group(1)), _at(at)
        if team in teams and (team not in newest or when > newest[team]):
            newest[team] = when
    for team, when in sorted(newest.items()):
        conn.execute(sa.text("UPDATE teams SET leader_changed_at = :at WHERE id = :id"), {"at": when, "id": team})


def downgrade() -> None:
    # SQLite 3.35+ and PostgreSQL drop a column in place; a cancelled email stays a row the older code
    # neither sends nor counts (it knows pending, sent and failed only)
    op.execute("ALTER TABLE teams DROP COLUMN leader_changed_at")
