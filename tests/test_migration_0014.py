"""Migration 0014 (the team's loop) on a database that holds data, SQLite and PostgreSQL: up keeps every
action and email, down keeps them again (dropping only request nudges, which have no round)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from survey.data.db import Database
from tests.helpers import migrate_to


def test_0014_up_and_down_keep_the_data(db_url: str, tmp_path: Path) -> None:
    db = Database(db_url)
    migrate_to(db, "0007")
    with db.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO teams (id, name, lang, trio_emails, track, created_at) "
                "VALUES (1, 'T', 'da', '[]', 'selfguided', '2026-01-01')"
            )
        )
        c.execute(
            text(
                "INSERT INTO rounds (id, team_id, number, kind, status, pipeline_attempts, instrument, min_responses, "
                "invited_count, reminders_sent, created_at) VALUES (1, 1, 1, 'baseline', 'reported', 0, 'x', 5, 5, 0, "
                "'2026-01-01')"
            )
        )
        c.execute(
            text(
                "INSERT INTO actions (id, round_id, level, what, who, by_when, status) "
                "VALUES (1, 1, 'gruppe', 'Runde', 'Alle', 'marts', 'ongoing')"
            )
        )
        c.execute(
            text(
                "INSERT INTO messages (id, round_id, kind, recipient, seq, lang, message_id, status, attempts, "
                "created_at) VALUES (1, 1, 'report', 'l@example.org', 0, 'da', '<a@b>', 'sent', 1, '2026-01-01')"
            )
        )
    migrate_to(db, "0014")
    with db.engine.begin() as c:
        row = c.execute(text("SELECT what, by_when, status, due, owner_email, carried_from FROM actions")).one()
        assert tuple(row) == ("Runde", "marts", "ongoing", None, None, None)
        c.execute(
            text(
                "INSERT INTO facilitation_requests (id, team_id, kind, note, status, created_at) "
                "VALUES (1, 1, 'briefing', '', 'open', '2026-01-01')"
            )
        )
        c.execute(
            text(
                "INSERT INTO actions (id, round_id, level, what, who, by_when, status, due, carried_from) "
                "VALUES (2, 1, 'gruppe', 'Kopi', 'Alle', '', 'planned', '2027-03-31', 1)"
            )
        )
        c.execute(
            text(
                "INSERT INTO messages (id, round_id, request_id, kind, recipient, seq, lang, message_id, status, "
                "attempts, created_at) VALUES (2, NULL, 1, 'request_new', 'f@example.org', 0, 'da', '<c@d>', "
                "'pending', 0, '2026-01-01')"
            )
        )
        assert c.execute(text("SELECT count(*) FROM messages")).scalar() == 2
    migrate_to(db, "0007", down=True)
    with db.engine.begin() as c:
        assert c.execute(text("SELECT id FROM messages")).scalars().all() == [1]
        assert c.execute(text("SELECT what FROM actions ORDER BY id")).scalars().all() == ["Runde", "Kopi"]
    migrate_to(db, "head")
    db.dispose()
