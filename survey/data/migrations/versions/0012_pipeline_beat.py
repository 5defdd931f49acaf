"""pipeline heartbeat: a running pipeline task's sign of life on its round

A worker killed outright (main process too) leaves no trace in the broker for the visibility timeout, and
the stall period (TRYGHED_STALL_SECONDS) is ten minutes; a beat every few seconds lets the tick re-drive
a dead pipeline within a minute (pipeline.heartbeat). A plain nullable column: no table rebuild on SQLite.

Revision ID: 0012
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rounds", sa.Column("pipeline_beat_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE (SQLite 3.35+ and PostgreSQL): a batch rebuild of `rounds` is not needed for this
    op.execute("ALTER TABLE rounds DROP COLUMN pipeline_beat_at")
