"""Migration 0018 (when a team's leader last changed) on a database that holds data, SQLite and PostgreSQL:
up keeps every team and takes each team's newest real change of leader from the audit log (so the old
leader's links from before the upgrade are refused too), down keeps every team again without the time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from survey.data.db import Database
from tests.helpers import migrate_to

COLUMNS = "id, name, leader_email, leader_name, lang, trio_emails, track, created_at, unit_id"


def _at(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def test_0018_up_and_down_keep_the_teams_and_read_old_changes_from_the_audit_log(db_url: str) -> None:
    db = Database(db_url)
    migrate_to(db, "0017")
    with db.engine.begin() as c:
        c.execute(
            text(
                f"INSERT INTO teams ({COLUMNS}) VALUES "
                "(1, 'Bo Nord', 'nina@x.dk', 'Nina', 'da', '[]', 'selfguided', '2026-01-01', NULL), "
                "(2, 'Bo Syd', 'ole@x.dk', NULL, 'en', '[\"tr@x.dk\"]', 'facilitated', '2026-01-02', NULL), "
                "(3, 'Bo Vest', NULL, NULL, 'da', '[]', 'selfguided', '2026-01-03', NULL)"
            )
        )
        # team 1 changed leader twice (the newest counts); team 2's event named the same leader (the CLI
        # logged a name-only change that way); team 9 is gone; other actions and odd subjects are ignored
        c.execute(
            text(
                "INSERT INTO audit_events (at, actor, action, subject) VALUES "
                "('2026-03-01 10:00:00', 'cli', 'leader_changed', 'team 1: lis@x.dk -> per@x.dk'), "
                "('2026-05-01 12:30:15.250000', 'a@x.dk', 'leader_changed', 'team 1: per@x.dk -> nina@x.dk'), "
                "('2026-06-01 09:00:00', 'cli', 'leader_changed', 'team 2: ole@x.dk -> Ole@x.dk'), "
                "('2026-06-02 09:00:00', 'cli', 'leader_changed', 'team 9: a@x.dk -> b@x.dk'), "
                "('2026-06-03 09:00:00', 'cli', 'team_changed', 'team 3: unit 4'), "
                "('2026-06-04 09:00:00', 'cli', 'leader_changed', NULL)"
            )
        )
        before = c.execute(text(f"SELECT {COLUMNS} FROM teams ORDER BY id")).all()
    migrate_to(db, "0018")
    with db.engine.begin() as c:
        assert c.execute(text(f"SELECT {COLUMNS} FROM teams ORDER BY id")).all() == before
        changed = c.execute(text("SELECT leader_changed_at FROM teams ORDER BY id")).scalars().all()
        assert changed[0] is not None and _at(changed[0]) == datetime(2026, 5, 1, 12, 30, 15, 250000)
        assert changed[1:] == [None, None]
        assert c.execute(text("SELECT count(*) FROM audit_events")).scalar() == 6
    migrate_to(db, "0017", down=True)
    with db.engine.begin() as c:
        assert c.execute(text(f"SELECT {COLUMNS} FROM teams ORDER BY id")).all() == before
        assert c.execute(text("SELECT count(*) FROM audit_events")).scalar() == 6
    migrate_to(db, "head")
    with db.engine.begin() as c:
        assert c.execute(text(f"SELECT {COLUMNS} FROM teams ORDER BY id")).all() == before
    db.engine.dispose()
