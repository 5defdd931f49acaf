"""chosen focus: the pillar a team chose at the debrief, and the hack an action puts into practice

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns only: existing rounds and actions keep everything they hold.
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chosen_focus", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("chosen_focus_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hack_key", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_column("hack_key")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("chosen_focus_at")
        batch_op.drop_column("chosen_focus")
