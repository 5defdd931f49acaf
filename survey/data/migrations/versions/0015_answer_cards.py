"""answer cards: a round's channel (email or cards) and the number of cards asked for

Revision ID: 0015
Revises: 0013

Existing rounds are email rounds (the server default); ``cards`` is NULL for them, and for a card round
without ``--cards`` (the number is then decided at open: active participants plus two spares).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ALTER TABLE on both databases: a batch rebuild of `rounds` on SQLite would, with foreign keys
    # on, cascade its DROP to every round's invitations (issue 17)
    op.add_column("rounds", sa.Column("channel", sa.String(length=8), nullable=False, server_default="email"))
    op.add_column("rounds", sa.Column("cards", sa.Integer(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ and PostgreSQL drop a column in place (no rebuild, no cascade)
    op.execute("ALTER TABLE rounds DROP COLUMN cards")
    op.execute("ALTER TABLE rounds DROP COLUMN channel")
