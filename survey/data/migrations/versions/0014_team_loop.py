"""the team's loop: real due dates, owners and carry-over of actions; nudges about a request in the outbox

Revision ID: 0014
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns only: every existing action keeps its free-text "by when" and its status.
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("owner_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("carried_from", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_actions_carried_from_actions"), "actions", ["carried_from"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index(batch_op.f("ix_actions_carried_from"), ["carried_from"], unique=False)
        batch_op.create_index(batch_op.f("ix_actions_due"), ["due"], unique=False)
    # A nudge about a facilitation request belongs to no round: the outbox row names the request instead,
    # and (request, kind, recipient) makes it happen once, as (round, kind, recipient, seq) does for rounds.
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("round_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("request_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_request_id_facilitation_requests"),
            "facilitation_requests",
            ["request_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_messages_request_id"), ["request_id"], unique=False)
        batch_op.create_unique_constraint("uq_messages_request_kind_recipient", ["request_id", "kind", "recipient"])


def downgrade() -> None:
    # request nudges have no round to keep them by: they go with the column
    op.execute("DELETE FROM messages WHERE round_id IS NULL")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_messages_request_kind_recipient", type_="unique")
        batch_op.drop_index(batch_op.f("ix_messages_request_id"))
        batch_op.drop_constraint(batch_op.f("fk_messages_request_id_facilitation_requests"), type_="foreignkey")
        batch_op.drop_column("request_id")
        batch_op.alter_column("round_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actions_due"))
        batch_op.drop_index(batch_op.f("ix_actions_carried_from"))
        batch_op.drop_constraint(batch_op.f("fk_actions_carried_from_actions"), type_="foreignkey")
        batch_op.drop_column("carried_from")
        batch_op.drop_column("owner_email")
        batch_op.drop_column("due")
