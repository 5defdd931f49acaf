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
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=8), nullable=False, server_default="email"))
        batch_op.add_column(sa.Column("cards", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("cards")
        batch_op.drop_column("channel")
