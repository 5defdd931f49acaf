"""Migration 0017 (when a facilitated session ends) on a database that holds data, SQLite and PostgreSQL:
up keeps every request and planned session (with no end), down keeps them again without the end."""

from __future__ import annotations

from sqlalchemy import text

from survey.data.db import Database
from tests.helpers import migrate_to

COLUMNS = "id, team_id, kind, note, status, session_at, place, bring"


def test_0017_up_and_down_keep_the_sessions(db_url: str) -> None:
    db = Database(db_url)
    migrate_to(db, "0016")
    with db.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO teams (id, name, lang, trio_emails, track, created_at) "
                "VALUES (1, 'T', 'da', '[]', 'facilitated', '2026-01-01')"
            )
        )
        c.execute(
            text(
                f"INSERT INTO facilitation_requests ({COLUMNS}, created_at) VALUES "
                "(1, 1, 'briefing', 'Gerne formiddag', 'planned', '2027-02-03 08:30:00', 'Lokale 2', 'Rapporten', "
                "'2026-01-01'), (2, 1, 'debriefing', '', 'open', NULL, NULL, NULL, '2026-01-02')"
            )
        )
        before = c.execute(text(f"SELECT {COLUMNS} FROM facilitation_requests ORDER BY id")).all()
    migrate_to(db, "0017")
    with db.engine.begin() as c:
        assert c.execute(text(f"SELECT {COLUMNS} FROM facilitation_requests ORDER BY id")).all() == before
        assert c.execute(text("SELECT ends_at FROM facilitation_requests")).scalars().all() == [None, None]
        c.execute(text("UPDATE facilitation_requests SET ends_at = '2027-02-03 11:30:00' WHERE id = 1"))
    migrate_to(db, "0016", down=True)
    with db.engine.begin() as c:
        assert c.execute(text(f"SELECT {COLUMNS} FROM facilitation_requests ORDER BY id")).all() == before
    migrate_to(db, "head")
    with db.engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM facilitation_requests")).scalar() == 2
    db.engine.dispose()
