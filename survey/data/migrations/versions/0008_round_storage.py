"""round storage: an open round keeps its answers and answered flags in tables of its own until the seal

Revision ID: 0008
Revises: 0007

Rounds whose answers are not sealed yet (open, or closed and waiting for the pipeline's aggregate step)
move their filled slots and their answered flags into their own tables, exactly as
``survey.domain.round_storage.create_storage`` makes them at open (the DDL is repeated here on purpose:
a migration must keep doing what it did when the code moves on). Nothing stored is lost: every filled
slot becomes a row of the round's answer table, every answered flag a claim. Then the empty slots, their
partial index and ``invitations.answered`` go. PostgreSQL also gets ``tryghed_answered``, which the link
lookup uses to read a flag from a round's own table in the same statement.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMPTY_SLOT = "filled = false"

# The answered flag of invitation i in round r, read from the round's own table; NULL when that table is
# gone (the round was sealed meanwhile). A table name cannot be a bind parameter, hence EXECUTE.
ANSWERED_FUNCTION = """
CREATE OR REPLACE FUNCTION tryghed_answered(r integer, i integer) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  found boolean;
BEGIN
  EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || quote_ident('round_' || r || '_claims')
    || ' WHERE invitation_id = $1 AND answered)' INTO found USING i;
  RETURN found;
EXCEPTION WHEN undefined_table THEN
  RETURN NULL;
END $$
"""


def _create_tables(conn: sa.Connection, round_id: int, postgres: bool) -> None:
    answers, claims = f"round_{round_id}_answers", f"round_{round_id}_claims"
    if postgres:
        off = " WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false)"
        conn.exec_driver_sql(f"CREATE TABLE {answers} (answers text NOT NULL, filled boolean NOT NULL){off}")
        conn.exec_driver_sql(
            f"CREATE TABLE {claims} (invitation_id integer PRIMARY KEY, answered boolean NOT NULL){off}"
        )
    else:
        conn.exec_driver_sql(
            f"CREATE TABLE {answers} (id VARCHAR(32) NOT NULL PRIMARY KEY, answers TEXT NOT NULL,"
            " filled BOOLEAN NOT NULL) WITHOUT ROWID"
        )
        conn.exec_driver_sql(
            f"CREATE TABLE {claims} (invitation_id INTEGER NOT NULL PRIMARY KEY, answered BOOLEAN NOT NULL)"
        )


def upgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    op.add_column("rounds", sa.Column("answer_storage", sa.String(length=16), nullable=True))
    op.add_column("rounds", sa.Column("trail_reason", sa.Text(), nullable=True))
    if postgres:
        conn.exec_driver_sql(ANSWERED_FUNCTION)
    unsealed = conn.execute(
        sa.text(
            "SELECT id FROM rounds WHERE status = 'open' OR (status = 'closing' AND pipeline_step = 'aggregate')"
            " ORDER BY id"
        )
    ).scalars()
    for round_id in list(unsealed):
        _create_tables(conn, round_id, postgres)
        answers, claims = f"round_{round_id}_answers", f"round_{round_id}_claims"
        slots = conn.execute(
            sa.text("SELECT answers, filled FROM responses WHERE round_id = :r ORDER BY id"), {"r": round_id}
        ).all()
        flags = conn.execute(
            sa.text("SELECT id, answered FROM invitations WHERE round_id = :r ORDER BY id"), {"r": round_id}
        ).all()
        if not postgres:  # every slot, filled or empty, and a flag per invitation: overwritten in place later
            rows = [{"id": secrets.token_hex(16), "a": a, "f": bool(f)} for a, f in slots]
            flag_rows = [{"i": i, "d": bool(d)} for i, d in flags]
        else:  # answers and claims only: appended to later
            rows = [{"id": None, "a": a, "f": True} for a, f in slots if f]
            flag_rows = [{"i": i, "d": True} for i, d in flags if d]
        if rows:
            columns = "(answers, filled) VALUES (:a, :f)" if postgres else "(id, answers, filled) VALUES (:id, :a, :f)"
            conn.execute(sa.text(f"INSERT INTO {answers} {columns}"), rows)  # noqa: S608 - integer id only
        if flag_rows:
            conn.execute(sa.text(f"INSERT INTO {claims} (invitation_id, answered) VALUES (:i, :d)"), flag_rows)  # noqa: S608
        conn.execute(sa.text("DELETE FROM responses WHERE round_id = :r"), {"r": round_id})
        conn.execute(sa.text("UPDATE rounds SET answer_storage = 'own' WHERE id = :r"), {"r": round_id})
    op.drop_index("ix_responses_empty_slots", table_name="responses")
    conn.execute(sa.text(f"DELETE FROM responses WHERE {EMPTY_SLOT}"))  # a failed round's unused slots
    # a plain DROP COLUMN on both (SQLite >= 3.35 rewrites the rows in place: no table rebuild, no cascade)
    op.execute("ALTER TABLE invitations DROP COLUMN answered")


def downgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    op.add_column("invitations", sa.Column("answered", sa.Boolean(), nullable=False, server_default=sa.false()))
    stored = conn.execute(
        sa.text("SELECT id, answer_storage FROM rounds WHERE answer_storage IS NOT NULL ORDER BY id")
    ).all()
    for round_id, state in stored:
        answers, claims = f"round_{round_id}_answers", f"round_{round_id}_claims"
        if state == "own":  # not sealed: back to slots in responses and flags on the invitations
            sets = conn.execute(sa.text(f"SELECT answers, filled FROM {answers}")).all()  # noqa: S608
            if sets:
                conn.execute(
                    sa.text("INSERT INTO responses (id, round_id, answers, filled) VALUES (:id, :r, :a, :f)"),
                    [{"id": secrets.token_hex(16), "r": round_id, "a": a, "f": bool(f)} for a, f in sets],
                )
            conn.execute(
                sa.text(
                    f"UPDATE invitations SET answered = true WHERE round_id = :r AND id IN"  # noqa: S608
                    f" (SELECT invitation_id FROM {claims} WHERE answered)"
                ),
                {"r": round_id},
            )
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {answers}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {claims}")
    op.create_index(
        "ix_responses_empty_slots",
        "responses",
        ["round_id", "id"],
        unique=False,
        sqlite_where=sa.text(EMPTY_SLOT),
        postgresql_where=sa.text(EMPTY_SLOT),
    )
    if postgres:
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS tryghed_answered(integer, integer)")
    op.execute("ALTER TABLE rounds DROP COLUMN trail_reason")
    op.execute("ALTER TABLE rounds DROP COLUMN answer_storage")
