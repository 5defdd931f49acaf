"""facilitated sessions: when a planned session ends

Revision ID: 0017
Revises: 0016

The facilitated track's sessions last 1.5-4 hours each, as needed (the toolkit's words), so the
facilitator plans each one's end as well as its start. A nullable column: every request and every
session planned before keeps its row, and shows its start only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # naive UTC like session_at (survey.data.models.UTCDateTime); plain ALTER TABLE on both databases
    op.add_column("facilitation_requests", sa.Column("ends_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ and PostgreSQL drop a column in place
    op.execute("ALTER TABLE facilitation_requests DROP COLUMN ends_at")
