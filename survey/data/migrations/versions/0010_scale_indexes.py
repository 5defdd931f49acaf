"""a municipality's size: indexes the page and tick queries need, and unit overview PDFs made by a worker

Revision ID: 0010
Revises: 0012

Each one backs a query seen with EXPLAIN on a generated municipality (benchmarks/municipality.py;
tests/test_scale.py):

- ``teams.leader_email``: a leader's start page;
- ``teams (name, id)``: the start page's pages of teams;
- ``invitations.participant_id``: the retention purge's "participant in no invitation", and the SET NULL
  when a participant is deleted;
- ``messages (round_id, id)`` of pending rows only: the tick's rounds with mail due and a sender's claim in
  one round (the index stays as small as the wave in flight);
- ``rounds (status, closes_at)``: the tick's rounds due to close (with ``status`` alone the planner expects
  most open rounds to be past closing, as reported rounds are, and reads the whole table);
- ``rounds (closed_at)`` of rounds not yet purged: the retention purge's rounds due.

And ``unit_reports``: a unit overview PDF asked for in the web app and made by a worker, whose page shows
its progress and then offers the file (a municipality's PDF takes minutes, past any request timeout).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")
UNPURGED = sa.text("purged_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "unit_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_unit_reports_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_reports")),
    )
    op.create_index(op.f("ix_unit_reports_unit_id"), "unit_reports", ["unit_id"])
    op.create_index(op.f("ix_teams_leader_email"), "teams", ["leader_email"])
    op.create_index("ix_teams_name", "teams", ["name", "id"])
    op.create_index(op.f("ix_invitations_participant_id"), "invitations", ["participant_id"])
    op.create_index(
        "ix_messages_pending",
        "messages",
        ["round_id", "id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index("ix_rounds_status_closes_at", "rounds", ["status", "closes_at"])
    op.create_index("ix_rounds_unpurged", "rounds", ["closed_at"], sqlite_where=UNPURGED, postgresql_where=UNPURGED)


def downgrade() -> None:
    op.drop_index(op.f("ix_unit_reports_unit_id"), table_name="unit_reports")
    op.drop_table("unit_reports")
    op.drop_index("ix_rounds_unpurged", table_name="rounds")
    op.drop_index("ix_rounds_status_closes_at", table_name="rounds")
    op.drop_index("ix_messages_pending", table_name="messages")
    op.drop_index(op.f("ix_invitations_participant_id"), table_name="invitations")
    op.drop_index("ix_teams_name", table_name="teams")
    op.drop_index(op.f("ix_teams_leader_email"), table_name="teams")
