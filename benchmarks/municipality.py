"""A whole municipality in one PostgreSQL database, built in bulk SQL in a minute or two.

    .venv/bin/python benchmarks/municipality.py [--teams 10000] [--url postgresql+psycopg://...]

Without ``--url`` it creates a database ``tryghed_muni_<hex>`` on 127.0.0.1:5432 and keeps it (the
command prints its URL; drop it with ``DROP DATABASE``). The schema comes from the migrations (``upgrade``),
then every table is filled with ``INSERT ... SELECT ... generate_series`` on the server, never the ORM row
by row. The size is a parameter, so tests build a small one with the same shape (``generate``).

Shape at ``--teams 10000`` (the figures of issue 17), per team:

- 10 participants (every 50th has left the team): 100,000;
- 11 rounds: 10 reported (one a quarter), the newest open (opened one or two days ago, closing in a week):
  110,000 rounds, 10,000 open; the reported rounds hold 4-10 answer sets each (1 in 7 below k = 5) and
  a stored aggregate (computed by ``pipeline.scoring.aggregate``): 700,000 sealed answer sets in
  ``responses``; the open one its own tables (``survey.domain.round_storage``) with 0-5 answers and claims;
- invitations and invitation emails of the last three reported rounds (sent; 1 in 997 failed for good)
  and of the open round (pending): 400,000 messages, 100,000 of them pending;
- older rounds are purged (``purged_at`` set, invitations and messages gone) as retention would have done;
- two IGLO actions per reported round (the older ones done), a PDF stand-in per reported round, an open facilitation
  request for 1 team in 100;
- units: one top unit, ``teams / 500`` departments, ``teams / 50`` groups; every team in a group.

Accounts: ``facilitator@bench.local`` (facilitator) and ``leader1@kommune.dk`` (leader of team 1), password
``BENCH_PASSWORD``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without install

from sqlalchemy import text  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_PASSWORD = "a bench passphrase that is long enough"
FACILITATOR = "facilitator@bench.local"
LEADER = "leader1@kommune.dk"


@dataclass(frozen=True)
class Shape:
    """How big: ``teams`` teams of ``people`` participants, ``rounds`` rounds each (the newest open),
    the last ``kept`` reported rounds not yet purged."""

    teams: int = 10_000
    people: int = 10
    rounds: int = 11
    kept: int = 3
    k: int = 5


def _answer_sets(item_keys: list[str], count: int, seed: int = 17) -> list[str]:
    """``count`` filled answer sets in the stored fixed-width form, drawn leaning to agreement."""
    from survey.data.models import encode_answers

    rng = random.Random(seed)
    return [encode_answers({k: rng.choice((2, 3, 4, 4, 5)) for k in item_keys}) for _ in range(count)]


def _results(content: Any, shape: Shape, answer_sets: list[str]) -> list[dict[str, Any]]:
    """A stored aggregate per answer count 4..people, computed by the real scoring on real answer sets."""
    import dataclasses
    import json

    from pipeline.recommend import focus_pillars
    from pipeline.scoring import aggregate

    ins = content.instrument()
    keys = [p.key for p in ins.pillars]
    out = []
    for n in range(4, shape.people + 1):
        answers = [json.loads(a) for a in answer_sets[:n]]
        result = aggregate(answers, ins.items, keys, ins.bands, shape.k, ins.scale_min, ins.scale_max)
        out.append(
            {
                "n": n,
                "suppressed": result.suppressed,
                "result": json.dumps(dataclasses.asdict(result)),
                "focus": json.dumps(focus_pillars(result, keys)),
            }
        )
    return out


def generate(url: str, shape: Shape = Shape(), *, now: datetime | None = None, log: Any = None) -> dict[str, int]:
    """Create the schema in the (empty) PostgreSQL database ``url`` and fill it; returns row counts."""
    from survey import create_app
    from survey.data.db import upgrade
    from survey.domain.users import add_user

    say = log or (lambda _msg: None)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    rt = app.extensions["tryghed"]
    db = rt.db
    if db.engine.dialect.name != "postgresql":
        raise SystemExit("the municipality generator writes PostgreSQL (generate_series, md5, sha256)")
    upgrade(db)
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)  # stored as naive UTC
    ins = rt.content.instrument()
    item_keys = [i.key for i in ins.items]
    filled = _answer_sets(item_keys, 64)

    params = {
        "teams": shape.teams,
        "people": shape.people,
        "rounds": shape.rounds,
        "kept": shape.kept,
        "k": shape.k,
        "now": now,
        "instrument": ins.name,
        "answers": filled,
        "groups": max(1, shape.teams // 50),
        "departments": max(1, shape.teams // 500),
    }
    started = time.perf_counter()
    with db.engine.begin() as conn:
        for label, sql in _STATEMENTS:
            t0 = time.perf_counter()
            conn.execute(text(sql), params)
            say(f"{label}: {time.perf_counter() - t0:.1f} s")
        results = _results(rt.content, shape, filled)
        conn.execute(
            text(
                "INSERT INTO round_results (round_id, responses, suppressed, result, focus_pillars, hack_keys,"
                " computed_at) SELECT r.id, x.n, x.suppressed, CAST(x.result AS json), CAST(x.focus AS json),"
                " CAST('[]' AS json), r.closed_at FROM rounds r JOIN (SELECT CAST(:n AS int) AS n,"
                " CAST(:suppressed AS boolean) AS suppressed, CAST(:result AS text) AS result,"
                " CAST(:focus AS text) AS focus) x ON x.n = 4 + r.id % (:people - 3) WHERE r.status = 'reported'"
            ),
            [{**row, "people": shape.people} for row in results],
        )
        for table in ("units", "teams", "participants", "rounds", "invitations", "messages", "actions"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
    t0 = time.perf_counter()
    _own_storage(db.engine, shape, filled)
    say(f"open rounds' own storage: {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # the shared tables only: an open round's own tables are never analysed (survey.domain.round_storage)
        conn.execute(text(f"VACUUM ANALYZE {', '.join(SHARED_TABLES)}"))
    say(f"vacuum analyze: {time.perf_counter() - t0:.1f} s")
    with db.session() as s:
        add_user(s, FACILITATOR, "facilitator", BENCH_PASSWORD, name="Bench")
        add_user(s, LEADER, "leader", BENCH_PASSWORD, name="Leder 1")
    say(f"total: {time.perf_counter() - started:.1f} s")
    counts = {}
    with db.engine.connect() as conn:
        for table in ("units", "teams", "participants", "rounds", "invitations", "responses", "messages"):
            counts[table] = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        counts["pending"] = int(
            conn.execute(text("SELECT count(*) FROM messages WHERE status = 'pending'")).scalar_one()
        )
    db.dispose()
    return counts


SHARED_TABLES = (
    "units",
    "teams",
    "participants",
    "rounds",
    "invitations",
    "responses",
    "round_results",
    "messages",
    "actions",
    "reports",
    "facilitation_requests",
    "users",
)

# Open rounds per transaction when their own tables are made: each CREATE TABLE holds locks until the
# commit, and the server's lock table (shared by every database on it) is a few thousand entries.
OWN_PER_TRANSACTION = 100

_OWN_TABLES = """
DO $$
DECLARE
  r integer;
  off constant text := ' WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false)';
BEGIN
  FOREACH r IN ARRAY ARRAY[{ids}]::integer[] LOOP
    EXECUTE 'CREATE TABLE round_' || r || '_answers (answers text NOT NULL, filled boolean NOT NULL)' || off;
    EXECUTE 'CREATE TABLE round_' || r || '_claims (invitation_id integer PRIMARY KEY, answered boolean NOT NULL)'
      || off;
    -- team t has answered (t mod 6) times: the first participants' invitations are claimed, and as many answer
    -- sets appended (PostgreSQL's own storage holds filled answer sets only, see survey.domain.round_storage)
    EXECUTE 'INSERT INTO round_' || r || '_answers (answers, filled) SELECT a.answers, true'
      || ' FROM bench_answer_sets a, rounds x WHERE x.id = ' || r || ' AND a.i <= x.team_id %% 6';
    EXECUTE 'INSERT INTO round_' || r || '_claims (invitation_id, answered) SELECT i.id, true'
      || ' FROM invitations i JOIN rounds x ON x.id = i.round_id WHERE i.round_id = ' || r
      || ' AND i.participant_id - (x.team_id - 1) * {people} <= x.team_id %% 6';
  END LOOP;
  UPDATE rounds SET answer_storage = 'own' WHERE id = ANY(ARRAY[{ids}]::integer[]);
END $$
"""


def _own_storage(engine: Any, shape: Shape, answer_sets: list[str]) -> None:
    """Every open round's own tables (``survey.domain.round_storage``), as opening it would have made them."""
    with engine.begin() as conn:
        conn.execute(text("CREATE UNLOGGED TABLE bench_answer_sets (i integer PRIMARY KEY, answers text NOT NULL)"))
        conn.execute(
            text("INSERT INTO bench_answer_sets (i, answers) VALUES (:i, :a)"),
            [{"i": n + 1, "a": a} for n, a in enumerate(answer_sets)],
        )
        open_ids = list(conn.execute(text("SELECT id FROM rounds WHERE status = 'open' ORDER BY id")).scalars())
    for start in range(0, len(open_ids), OWN_PER_TRANSACTION):
        ids = ",".join(str(int(r)) for r in open_ids[start : start + OWN_PER_TRANSACTION])
        with engine.begin() as conn:
            # ids and sizes are integers made here; psycopg reads "%%" as "%" (the modulo in the DO block)
            conn.exec_driver_sql(_OWN_TABLES.replace("{ids}", ids).replace("{people}", str(int(shape.people))))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_answer_sets"))


# Ids are computed, not drawn, so that each table can be joined to the next without lookups:
# team t has participants (t-1)*people + 1.., and rounds (t-1)*rounds + 1.. (number 1 first).
_STATEMENTS: list[tuple[str, str]] = [
    (
        "units",
        """
INSERT INTO units (id, name, parent_id, head_email, created_at)
SELECT 1, 'Socialforvaltningen', NULL, 'direktor@kommune.dk', :now
UNION ALL
SELECT 1 + d, 'Afdeling ' || d, 1, 'afdeling' || d || '@kommune.dk', :now
FROM generate_series(1, :departments) d
UNION ALL
SELECT 1 + :departments + g, 'Gruppe ' || g, 2 + (g - 1) % :departments, NULL, :now
FROM generate_series(1, :groups) g
""",
    ),
    (
        "teams",
        """
INSERT INTO teams (id, name, leader_email, leader_name, lang, instrument, trio_emails, track, created_at, unit_id)
SELECT t, 'Team ' || t, 'leader' || t || '@kommune.dk', 'Leder ' || t, CASE WHEN t % 10 = 0 THEN 'en' ELSE 'da' END,
       NULL, CAST('[]' AS json), CASE WHEN t % 3 = 0 THEN 'facilitated' ELSE 'selfguided' END,
       :now - interval '3 years', 2 + :departments + (t - 1) % :groups
FROM generate_series(1, :teams) t
""",
    ),
    (
        "participants",
        """
INSERT INTO participants (id, team_id, email, name, lang, active)
SELECT (t - 1) * :people + i, t, 'p' || ((t - 1) * :people + i) || '@kommune.dk', 'Person ' || i,
       CASE WHEN i % 10 = 0 THEN 'en' ELSE 'da' END, ((t - 1) * :people + i) % 50 <> 0
FROM generate_series(1, :teams) t CROSS JOIN generate_series(1, :people) i
""",
    ),
    (
        "rounds",
        """
INSERT INTO rounds (id, team_id, number, kind, previous_round_id, status, status_reason, pipeline_step,
                    pipeline_touched_at, pipeline_attempts, instrument, min_responses, opens_at, closes_at,
                    opened_at, closed_at, reported_at, invited_count, reminders_sent, last_reminder_at,
                    followup_after_days, purged_at, created_at, chosen_focus, chosen_focus_at)
SELECT id, t, n, CASE WHEN n = 1 THEN 'baseline' ELSE 'followup' END, CASE WHEN n = 1 THEN NULL ELSE id - 1 END,
       CASE WHEN open THEN 'open' ELSE 'reported' END, NULL, CASE WHEN open THEN NULL ELSE 'done' END,
       CASE WHEN open THEN NULL ELSE closed END, CASE WHEN open THEN 0 ELSE 1 END, :instrument, :k, NULL,
       CASE WHEN open THEN :now + interval '7 days' ELSE closed END,
       CASE WHEN open THEN :now - (1 + t % 2) * interval '1 day' ELSE closed - interval '14 days' END,
       CASE WHEN open THEN NULL ELSE closed END, CASE WHEN open THEN NULL ELSE closed + interval '5 minutes' END,
       :people, 0, NULL, NULL,
       CASE WHEN open OR n >= :rounds - :kept THEN NULL ELSE closed + interval '90 days' END,
       closed - interval '20 days', NULL, NULL
FROM (
    SELECT (t - 1) * :rounds + n AS id, t, n, n = :rounds AS open,
           :now - ((:rounds - n) * 30 - 20) * interval '1 day' - (t % 600) * interval '1 minute' AS closed
    FROM generate_series(1, :teams) t CROSS JOIN generate_series(1, :rounds) n
) r
""",
    ),
    (
        "invitations",
        """
INSERT INTO invitations (round_id, participant_id, email, lang, nonce, token_hash)
SELECT r.id, p.id, p.email, p.lang, md5('n' || r.id || ':' || p.id),
       encode(sha256(convert_to('t' || r.id || ':' || p.id, 'UTF8')), 'hex')
FROM rounds r JOIN participants p ON p.team_id = r.team_id
WHERE r.number >= :rounds - :kept
ORDER BY r.id, p.id
""",
    ),
    (
        "responses of reported rounds",
        """
INSERT INTO responses (id, round_id, answers, filled)
SELECT md5(random()::text || r.id || ':' || g), r.id,
       (CAST(:answers AS text[]))[1 + (r.id * 31 + g * 7) % 64], true
FROM rounds r CROSS JOIN LATERAL generate_series(1, 4 + r.id % (:people - 3)) g
WHERE r.status = 'reported'
""",
    ),
    (
        "messages",
        """
INSERT INTO messages (round_id, kind, recipient, seq, invitation_id, lang, message_id, status, attempts,
                      last_error, next_attempt_at, claimed_at, created_at, sent_at)
SELECT i.round_id, 'invitation', i.email, 0, i.id, i.lang, '<' || md5('m' || i.id) || '@tryghed.local>',
       CASE WHEN r.status = 'open' THEN 'pending' WHEN i.id % 997 = 0 THEN 'failed' ELSE 'sent' END,
       CASE WHEN r.status = 'open' THEN 0 ELSE 1 END,
       CASE WHEN r.status <> 'open' AND i.id % 997 = 0 THEN 'PermanentFailure: 550 no such mailbox' END,
       NULL, NULL, r.opened_at, CASE WHEN r.status = 'open' OR i.id % 997 = 0 THEN NULL ELSE r.opened_at END
FROM invitations i JOIN rounds r ON r.id = i.round_id
ORDER BY i.id
""",
    ),
    (
        "actions",
        """
INSERT INTO actions (round_id, level, what, who, by_when, hack_key, status)
SELECT r.id, CASE WHEN a = 1 THEN 'gruppe' ELSE 'ledelse' END, 'Handling ' || a || ' for team ' || r.team_id,
       'Leder ' || r.team_id, 'næste kvartal', NULL,
       CASE WHEN r.number < :rounds - 1 THEN 'done' WHEN a = 1 THEN 'ongoing' ELSE 'planned' END
FROM rounds r CROSS JOIN generate_series(1, 2) a
WHERE r.status = 'reported'
""",
    ),
    (
        "reports",
        """
INSERT INTO reports (round_id, lang, pdf, sha256, created_at)
SELECT r.id, 'da', convert_to('%PDF-1.7 bench stand-in ' || r.id, 'UTF8'), md5('r' || r.id) || md5('s' || r.id),
       r.reported_at
FROM rounds r WHERE r.status = 'reported'
""",
    ),
    (
        "facilitation requests",
        """
INSERT INTO facilitation_requests (team_id, kind, note, status, created_at)
SELECT t, 'debriefing', 'Vi vil gerne have hjælp til debriefingen', 'open', :now - interval '1 day'
FROM generate_series(1, :teams) t WHERE t % 100 = 0
""",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=Shape.teams)
    parser.add_argument("--people", type=int, default=Shape.people)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: create tryghed_muni_<hex>)")
    args = parser.parse_args()
    url = args.url or create_database()
    t0 = time.perf_counter()
    counts = generate(url, Shape(teams=args.teams, people=args.people), log=print)
    print({"url": url, "seconds": round(time.perf_counter() - t0, 1), **counts})


def create_database(prefix: str = "tryghed_muni") -> str:
    """A new empty database on the local server (kept: the caller drops it)."""
    import secrets

    from sqlalchemy import create_engine

    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    """Drop a database made by ``create_database``."""
    from sqlalchemy import create_engine

    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
