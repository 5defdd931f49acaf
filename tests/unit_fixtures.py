"""Trees of units with teams and reported rounds, written straight into the database.

The overview only reads what a closed round leaves behind (the round, its anonymous answer sets and its
stored aggregate), so these helpers write exactly those rows, computed by the product's own
``pipeline.scoring.aggregate``, in bulk: the overview tests and the 2,000-team benchmark need hundreds of
rounds, and driving each through invitations and the form would test the survey, not the overview.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from pipeline.scoring import aggregate, scored
from survey.content.model import Instrument
from survey.data.models import Response, Round, RoundResultRow, Team, Unit, random_id


@dataclass
class Seeded:
    """What the seed wrote, with the true (unrounded) pillar sums the tests check leaks against."""

    units: dict[str, int] = field(default_factory=dict)  # unit name -> id
    teams: dict[str, int] = field(default_factory=dict)  # team name -> id
    rounds: dict[str, int] = field(default_factory=dict)  # team name -> latest round id
    n: dict[str, int] = field(default_factory=dict)  # team name -> respondents of that round
    # team name -> pillar key -> (sum of scores, number of answers) of its latest round
    sums: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)


def answer_sets(ins: Instrument, n: int, rng: random.Random, level: float) -> list[dict[str, int]]:
    """``n`` plausible answer sets around ``level`` (on the 1-5 scale), different for every seed."""
    rows = []
    for _ in range(n):
        person = level + rng.uniform(-1.2, 1.2)
        row = {}
        for item in ins.items:
            value = min(ins.scale_max, max(ins.scale_min, round(person + rng.uniform(-1, 1))))
            row[item.key] = (ins.scale_min + ins.scale_max) - value if item.reverse else value
        rows.append(row)
    return rows


def add_units(session: Session, spec: list[tuple[str, str | None]], seeded: Seeded) -> None:
    """Units as (name, parent name or None), parents first."""
    for name, parent in spec:
        unit = Unit(name=name, parent_id=seeded.units[parent] if parent else None)
        session.add(unit)
        session.flush()
        seeded.units[name] = unit.id
    session.commit()


def add_reported_rounds(
    session: Session,
    ins: Instrument,
    teams: list[tuple[str, str, list[int]]],
    seeded: Seeded,
    *,
    k: int = 5,
    seed: int = 1,
    closed_at: datetime | None = None,
) -> None:
    """Teams as (name, unit name, [respondents of each round, oldest first]); every round reported.

    Written with a handful of bulk INSERTs whatever the number of teams.
    """
    rng = random.Random(seed)
    closed = closed_at or datetime(2026, 10, 1, 12, tzinfo=UTC)
    keys = [p.key for p in ins.pillars]
    existing = {t.name: t for t in session.scalars(select(Team).where(Team.name.in_([t[0] for t in teams])))}
    new_teams = [t for t in teams if t[0] not in existing]
    ids: list[int] = []
    if new_teams:
        ids = session.scalars(
            insert(Team).returning(Team.id, sort_by_parameter_order=True),
            [
                {
                    "name": name,
                    "leader_email": f"leader{i}@example.org",
                    "lang": "da",
                    "trio_emails": [],
                    "unit_id": seeded.units[unit],
                    "created_at": closed,
                }
                for i, (name, unit, _) in enumerate(new_teams)
            ],
        ).all()
    for (name, _, _), tid in zip(new_teams, ids, strict=True):
        seeded.teams[name] = tid
    for name, team in existing.items():
        seeded.teams[name] = team.id
    numbers: dict[int, int] = {}
    for team_id, number in session.execute(
        select(Round.team_id, Round.number).where(Round.team_id.in_([seeded.teams[t[0]] for t in teams]))
    ):
        numbers[team_id] = max(number, numbers.get(team_id, 0))
    round_rows: list[dict[str, Any]] = []
    answers_of: list[list[dict[str, int]]] = []
    for name, _, counts in teams:
        start = numbers.get(seeded.teams[name], 0)
        for j, n in enumerate(counts):
            number = start + j + 1
            at = closed - timedelta(days=120 * (len(counts) - 1 - j))
            round_rows.append(
                {
                    "team_id": seeded.teams[name],
                    "number": number,
                    "kind": "baseline" if number == 1 else "followup",
                    "status": "reported",
                    "instrument": ins.name,
                    "min_responses": k,
                    "invited_count": n + rng.randint(0, 3),
                    "opens_at": at - timedelta(days=14),
                    "closes_at": at,
                    "opened_at": at - timedelta(days=14),
                    "closed_at": at,
                    "reported_at": at,
                    "pipeline_attempts": 0,
                    "reminders_sent": 0,
                    "created_at": at - timedelta(days=20),
                }
            )
            answers_of.append(answer_sets(ins, n, rng, rng.uniform(2.2, 4.6)))
    round_ids = session.scalars(insert(Round).returning(Round.id, sort_by_parameter_order=True), round_rows).all()
    responses: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for rid, row, answers in zip(round_ids, round_rows, answers_of, strict=True):
        result = aggregate(answers, ins.items, keys, ins.bands, k)
        results.append(
            {
                "round_id": rid,
                "responses": result.responses,
                "suppressed": result.suppressed,
                "result": dataclasses.asdict(result),
                "focus_pillars": [],
                "hack_keys": [],
                "computed_at": row["closed_at"],
            }
        )
        responses.extend({"id": random_id(), "round_id": rid, "answers": a} for a in answers)
    if responses:
        session.execute(insert(Response), responses)
    session.execute(insert(RoundResultRow), results)
    session.commit()
    # the latest round of each team, with its true sums
    by_team: dict[int, tuple[int, list[dict[str, int]]]] = {}
    for rid, row, answers in zip(round_ids, round_rows, answers_of, strict=True):
        by_team[row["team_id"]] = (rid, answers)
    for name, _, _ in teams:
        rid, answers = by_team[seeded.teams[name]]
        seeded.rounds[name] = rid
        seeded.n[name] = len(answers)
        sums: dict[str, list[int]] = {key: [0, 0] for key in keys}
        for a in answers:
            for item in ins.items:
                sums[item.pillar][0] += scored(a[item.key], item.reverse, ins.scale_min, ins.scale_max)
                sums[item.pillar][1] += 1
        seeded.sums[name] = {key: (s, c) for key, (s, c) in sums.items()}
