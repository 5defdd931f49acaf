"""answer slots: answer sets become fixed-size slots made at open and filled in place

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMPTY_SLOT = "filled = false"


def upgrade() -> None:
    # Existing rows are answer sets, so they are filled. Rounds open during the upgrade have no empty
    # slots: their answers are stored as new rows (survey.domain.answer_store.fill_slot) and sealed at close.
    # SQLite keeps the JSON column as it is (the declared type gives it no conversion; text goes in and
    # out unchanged); PostgreSQL gets text, so the fixed-width encoding is stored byte for byte.
    with op.batch_alter_table("responses", schema=None, table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.add_column(sa.Column("filled", sa.Boolean(), nullable=False, server_default=sa.true()))
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("responses", "answers", type_=sa.Text(), postgresql_using="answers::text")
    op.create_index(
        "ix_responses_empty_slots",
        "responses",
        ["round_id", "id"],
        unique=False,
        sqlite_where=sa.text(EMPTY_SLOT),
        postgresql_where=sa.text(EMPTY_SLOT),
    )


def downgrade() -> None:
    op.drop_index("ix_responses_empty_slots", table_name="responses")
    op.execute("DELETE FROM responses WHERE NOT filled")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("responses", "answers", type_=sa.JSON(), postgresql_using="answers::json")
    with op.batch_alter_table("responses", schema=None, table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.drop_column("filled")
