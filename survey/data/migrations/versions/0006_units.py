"""organisational units: a tree of units, teams placed in them, frozen "other teams" pools, overviews

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("head_email", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["units.id"], name=op.f("fk_units_parent_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_units_head_email"), ["head_email"], unique=False)

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_teams_unit_id"), ["unit_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_teams_unit_id_units"), "units", ["unit_id"], ["id"])

    op.create_table(
        "unit_pools",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_unit_pools_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_pools")),
    )
    with op.batch_alter_table("unit_pools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_pools_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "unit_pool_rounds",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_unit_pool_rounds_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["unit_pools.id"], name=op.f("fk_unit_pool_rounds_pool_id_unit_pools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("round_id", name=op.f("pk_unit_pool_rounds")),
    )
    with op.batch_alter_table("unit_pool_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_pool_rounds_pool_id"), ["pool_id"], unique=False)

    op.create_table(
        "unit_overviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=False),
        sa.Column("pillars", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_unit_overviews_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_overviews")),
    )
    with op.batch_alter_table("unit_overviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_overviews_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    op.drop_table("unit_overviews")
    op.drop_table("unit_pool_rounds")
    op.drop_table("unit_pools")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_teams_unit_id_units"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_teams_unit_id"))
        batch_op.drop_column("unit_id")
    op.drop_table("units")
