"""What the seal at close costs, and what one answer writes, against floors measured in the same run.

    .venv/bin/python benchmarks/bench_seal.py [--history 1000000] [--rounds 15] [--size 20] [--answers 300]

On a throwaway PostgreSQL database (127.0.0.1:5432, ``tryghed_bench_<hex>``, dropped afterwards):

1. ``--history`` answer rows of earlier rounds are put in ``responses`` (rounds of ``--size``, one
   INSERT ... SELECT), so that the seal runs against an installation-sized table.
2. ``--rounds`` times, alternately: a round of ``--size`` people is opened and answered through the
   product's own store and closed; then the seal (``answer_store.seal_round`` and its commit, then
   ``round_storage.remove_trail``, which drops the round's own tables), and the floor: inserting the same
   number of answer rows into ``responses`` once, in one transaction. Each is timed on the client (an
   upper bound of its database time: localhost round trips included) and its WAL measured as the
   difference of ``pg_current_wal_lsn()`` before and after. The WAL position is server-wide: other work
   on the server adds to it, so the minimum and the median over the repetitions are reported.
3. WAL per answer: ``EXPLAIN (ANALYZE, WAL)`` of the statement that claims an invitation and stores its
   answer set (it runs for real), alternating with a floor, one INSERT of an answer set with a random key
   into a table of its own (as ``benchmarks/floor_app.py`` stores one). Right after a ``CHECKPOINT``
   (first ``--answers`` of each, where every page touched first costs a full-page image) and then steady.
   ``EXPLAIN``'s WAL figure counts only the statement's own records (no commit record), so the server's
   other work does not blur it.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_survey import answers, database, machine_note, make_app, settings

from survey.data.models import Invitation, encode_answers  # noqa: E402
from survey.domain import answer_store, round_storage  # noqa: E402

LSN = "SELECT pg_current_wal_lsn()"
DIFF = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), :start)::bigint"


def history(engine: Any, rows: int, size: int) -> None:
    """``rows`` sealed answer sets of earlier rounds of ``size``, written straight into the tables."""
    from sqlalchemy import text

    rounds = max(1, rows // size)
    empty = encode_answers(answers())
    with engine.begin() as conn:
        team = conn.execute(
            text(
                "INSERT INTO teams (name, lang, trio_emails, track, created_at)"
                " VALUES ('Historik', 'da', '[]', 'selfguided', now()) RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO rounds (team_id, number, kind, status, instrument, min_responses, invited_count,"
                " reminders_sent, pipeline_attempts, created_at)"
                " SELECT :t, g, 'baseline', 'reported', 'default', 5, :n, 0, 0, now() FROM generate_series(1, :k) g"
            ),
            {"t": team, "n": size, "k": rounds},
        )
        conn.execute(
            text(
                "INSERT INTO responses (id, round_id, answers, filled)"
                " SELECT md5(random()::text || g::text), r.id, :a, true"
                " FROM rounds r CROSS JOIN generate_series(1, :n) g WHERE r.team_id = :t"
            ),
            {"a": empty, "n": size, "t": team},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE responses")


def answered_round(app: Any, name: str, size: int) -> int:
    """A round of ``size`` people, every one answered through ``answer_store.store_answer``, closed."""
    from sqlalchemy import select

    from survey.domain.rounds import close_round, create_round, open_round
    from survey.domain.teams import add_team, import_participants

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, name, "leder@example.org", "Lis Leder", "da")
        people = "\n".join(f"p{i}@example.org,Person {i}" for i in range(size))
        import_participants(s, team.id, f"email,name\n{people}\n")
        round_id = create_round(rt, s, team.id, min_responses=5).id
        open_round(rt, s, round_id)
        invitations = list(s.scalars(select(Invitation.id).where(Invitation.round_id == round_id)))
    with rt.db.answer_engine.connect() as conn:
        for inv in invitations:
            assert answer_store.store_answer(conn, inv, round_id, answers()) == "stored"
    with app.app_context(), rt.db.session() as s:
        close_round(rt, s, round_id)
    return round_id


def measure(engine: Any, work: Any) -> tuple[float, int]:
    """(seconds, WAL bytes) of ``work()``."""
    from sqlalchemy import text

    with engine.connect() as probe:
        start = probe.execute(text(LSN)).scalar_one()
        probe.rollback()
        t0 = time.perf_counter()
        work()
        spent = time.perf_counter() - t0
        wal = probe.execute(text(DIFF), {"start": start}).scalar_one()
        probe.rollback()
    return spent, int(wal)


def seal_vs_insert(app: Any, reps: int, size: int) -> dict[str, list[tuple[float, int]]]:
    rt = app.extensions["tryghed"]
    engine = rt.db.engine
    results: dict[str, list[tuple[float, int]]] = {"seal": [], "insert": []}
    for rep in range(reps):
        round_id = answered_round(app, f"Segl {rep}", size)
        sets = [answers() for _ in range(size)]

        def seal(round_id: int = round_id) -> None:
            with rt.db.session() as s:
                assert answer_store.seal_round(s, round_id) == size
                s.commit()
            assert round_storage.remove_trail(engine, round_id)

        def insert(round_id: int = round_id, sets: list[dict[str, int]] = sets) -> None:  # the floor
            with rt.db.session() as s:  # the round's rows written once
                round_storage.seal_rows(s, round_id, sets)
                s.commit()

        results["seal"].append(measure(engine, seal))
        results["insert"].append(measure(engine, insert))
    return results


def wal_per_answer(app: Any, count: int) -> dict[str, dict[str, list[int]]]:
    """WAL bytes of each answer's statement (EXPLAIN (ANALYZE, WAL)) and of the floor's INSERT."""
    from sqlalchemy import select

    rt = app.extensions["tryghed"]
    engine = rt.db.engine
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE floor_answers (id varchar(32) PRIMARY KEY, answers text)")
    people = 2 * count
    from survey.domain.rounds import create_round, open_round
    from survey.domain.teams import add_team, import_participants

    with app.app_context(), rt.db.session() as s:
        team = add_team(s, "WAL", "leder@example.org", "Lis Leder", "da")
        rows = "\n".join(f"p{i}@example.org,Person {i}" for i in range(people))
        import_participants(s, team.id, f"email,name\n{rows}\n")
        round_id = create_round(rt, s, team.id, min_responses=5).id
        open_round(rt, s, round_id)
        invitations = list(s.scalars(select(Invitation.id).where(Invitation.round_id == round_id)))

    def wal_of(conn: Any, sql: str, params: dict[str, Any]) -> int:
        plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, WAL, FORMAT JSON) {sql}", params).scalar_one()
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return int(plan[0]["Plan"].get("WAL Bytes", 0))

    out: dict[str, dict[str, list[int]]] = {}
    keys = sorted(answers())
    store = answer_store.claim_and_store_sql(round_id, keys)  # as the form stores it: a column per item
    floor = "INSERT INTO floor_answers (id, answers) VALUES (%(id)s, %(answers)s)"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for phase in ("after a checkpoint", "steady"):
            if phase == "after a checkpoint":
                conn.exec_driver_sql("CHECKPOINT")
            got: dict[str, list[int]] = {"Tryghed": [], "floor": []}
            for inv in invitations[:count] if phase != "steady" else invitations[count:]:
                given = answers()
                encoded = encode_answers(given)
                columns = {f"a{n}": given[k] for n, k in enumerate(keys)}
                got["Tryghed"].append(wal_of(conn, store, {"i": inv, "r": round_id, **columns}))
                got["floor"].append(wal_of(conn, floor, {"id": secrets.token_hex(16), "answers": encoded}))
            out[phase] = got
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, default=1_000_000, help="answer rows already in responses")
    parser.add_argument("--rounds", type=int, default=15, help="seals measured (each against the floor)")
    parser.add_argument("--size", type=int, default=20, help="answers per sealed round")
    parser.add_argument("--answers", type=int, default=300, help="answers per WAL phase")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tryghed-bench-") as tmp_name, database("postgres", Path(tmp_name)) as url:
        tmp = Path(tmp_name)
        app = make_app(settings(url, tmp, "bench-" + secrets.token_hex(24)))
        engine = app.extensions["tryghed"].db.engine
        try:
            print(f"[bench] {args.history} answer rows of earlier rounds ...", file=sys.stderr, flush=True)
            history(engine, args.history, args.size)
            with engine.connect() as conn:
                rows = conn.exec_driver_sql("SELECT count(*) FROM responses").scalar_one()
                pg_version = "PostgreSQL " + str(conn.exec_driver_sql("SHOW server_version").scalar())
            print("[bench] seal vs insert ...", file=sys.stderr, flush=True)
            sealed = seal_vs_insert(app, args.rounds, args.size)
            print("[bench] WAL per answer ...", file=sys.stderr, flush=True)
            wal = wal_per_answer(app, args.answers)
        finally:
            app.extensions["tryghed"].db.dispose()

    print(f"Machine: {machine_note(pg_version)}")
    title = f"The seal of a round of {args.size} answers in a table of {rows:,} answer rows"
    print(f"\n### {title} ({args.rounds} each, alternating)\n")
    print("| | time min (ms) | time median (ms) | WAL min (kB) | WAL median (kB) |")
    print("|---|---:|---:|---:|---:|")
    for name, label in (
        ("seal", "seal + drop of the round's tables"),
        ("insert", "floor: INSERT the round's rows once"),
    ):
        times = [t for t, _w in sealed[name]]
        wals = [w for _t, w in sealed[name]]
        print(
            f"| {label} | {min(times) * 1000:.1f} | {statistics.median(times) * 1000:.1f} "
            f"| {min(wals) / 1024:.1f} | {statistics.median(wals) / 1024:.1f} |"
        )
    ratio_t = statistics.median(t for t, _w in sealed["seal"]) / statistics.median(t for t, _w in sealed["insert"])
    ratio_w = min(w for _t, w in sealed["seal"]) / min(w for _t, w in sealed["insert"])
    print(f"\nRatio seal / insert: time (median) **{ratio_t:.2f}x**, WAL (min) **{ratio_w:.2f}x**.")
    print(f"\n### WAL per answer (EXPLAIN (ANALYZE, WAL); {args.answers} each, alternating)\n")
    print("| phase | Tryghed (bytes/answer) | floor (bytes/answer) | ratio |")
    print("|---|---:|---:|---:|")
    for phase, got in wal.items():
        ours, floor = statistics.mean(got["Tryghed"]), statistics.mean(got["floor"])
        print(f"| {phase} | {ours:.0f} | {floor:.0f} | **{ours / floor:.2f}x** |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
