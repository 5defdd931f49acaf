"""retired links: old survey links stay recognised after the retention purge

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retired_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_retired_links_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_retired_links")),
    )
    with op.batch_alter_table("retired_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retired_links_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("retired_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retired_links_round_id"))
    op.drop_table("retired_links")
