"""web app: accounts, login throttling, team track, action status, facilitation requests

Revision ID: 0007
Revises: 0006 (re-chained after main's migrations when merging main)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failures")),
    )
    op.create_table(
        "facilitation_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("facilitator_id", sa.Integer(), nullable=True),
        sa.Column("session_at", sa.DateTime(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("bring", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_facilitation_requests_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["users.id"],
            name=op.f("fk_facilitation_requests_facilitator_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facilitation_requests")),
    )
    with op.batch_alter_table("facilitation_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_facilitation_requests_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_facilitation_requests_status"), ["status"], unique=False)
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("track", sa.String(length=16), nullable=False, server_default="selfguided"))
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="planned"))


def downgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_column("status")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("track")
    with op.batch_alter_table("facilitation_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facilitation_requests_status"))
        batch_op.drop_index(batch_op.f("ix_facilitation_requests_team_id"))
    op.drop_table("facilitation_requests")
    op.drop_table("login_failures")
    op.drop_table("users")
