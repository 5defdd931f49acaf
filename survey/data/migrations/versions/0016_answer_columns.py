"""answer columns: on PostgreSQL an open round's answer table takes an answer set as a column per item

Revision ID: 0016
Revises: 0015

Rounds opened from this revision on get a ``smallint`` column per item (``i_<key>``) in their own answer
table (``survey.domain.round_storage``), ``answers`` (JSON) becomes nullable and ``filled`` defaults to
true. Tables made before (rounds open during the upgrade) get the nullable ``answers``, the default, and
item columns for the items of their stored sets when every set has the same items (the sets move into
them); otherwise their rows stay JSON, and new answers are stored as JSON too. SQLite is unchanged.

Downgrade: every answer set stored in item columns is written back as the fixed-width JSON of
``encode_answers`` (keys in order, values padded to two places), then the item columns go. Nothing is lost.
"""

import json
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX = "i_"
KEY = re.compile(r"[a-z][a-z0-9_]*")


def _own_tables(conn: sa.Connection) -> list[str]:
    """The answer tables of rounds whose own storage exists (open, closing, or sealed and not yet dropped)."""
    ids = conn.execute(sa.text("SELECT id FROM rounds WHERE answer_storage IS NOT NULL ORDER BY id")).scalars()
    names = [f"round_{int(i)}_answers" for i in ids]
    return [n for n in names if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": n}).scalar() is not None]


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for table in _own_tables(conn):
        conn.exec_driver_sql(
            f"ALTER TABLE {table} ALTER COLUMN answers DROP NOT NULL, ALTER COLUMN filled SET DEFAULT true"
        )
        # the stored sets into item columns when they all have the same items (keys are [a-z][a-z0-9_]*)
        key_sets = {
            tuple(sorted(json.loads(a)))
            for a in conn.exec_driver_sql(f"SELECT answers FROM {table} WHERE answers IS NOT NULL").scalars()  # noqa: S608
        }
        if len(key_sets) != 1:
            continue
        keys = next(iter(key_sets))
        if not all(KEY.fullmatch(k) and len(PREFIX + k) <= 63 for k in keys):
            continue
        conn.exec_driver_sql(f"ALTER TABLE {table} " + ", ".join(f'ADD COLUMN "{PREFIX}{k}" smallint' for k in keys))
        sets = ", ".join(f""""{PREFIX}{k}" = (answers::json ->> '{k}')::smallint""" for k in keys)
        conn.exec_driver_sql(f"UPDATE {table} SET {sets}, answers = NULL WHERE answers IS NOT NULL")  # noqa: S608


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for table in _own_tables(conn):
        columns = conn.execute(
            sa.text(
                "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0"
                " AND NOT attisdropped AND attname LIKE 'i\\_%' ORDER BY attname"
            ),
            {"t": table},
        ).scalars()
        keys = sorted(str(c)[len(PREFIX) :] for c in columns)
        if keys:
            # '"key": 4' per answered item, in key order, joined by commas (concat_ws skips the NULLs)
            parts = ", ".join(
                f"""CASE WHEN "{PREFIX}{k}" IS NULL THEN NULL ELSE '"{k}":' || lpad("{PREFIX}{k}"::text, 2) END"""
                for k in keys
            )
            conn.exec_driver_sql(
                f"UPDATE {table} SET answers = '{{' || concat_ws(',', {parts}) || '}}' WHERE answers IS NULL"
            )  # noqa: S608
            drops = ", ".join(f'DROP COLUMN "{PREFIX}{k}"' for k in keys)
            conn.exec_driver_sql(f"ALTER TABLE {table} {drops}")
        conn.exec_driver_sql(f"ALTER TABLE {table} ALTER COLUMN answers SET NOT NULL, ALTER COLUMN filled DROP DEFAULT")
