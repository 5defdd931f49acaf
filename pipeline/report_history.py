"""A team's reported history as the report and ``round show`` read it, in SQLAlchemy Core.

Every function takes a Core ``Connection`` or an ORM ``Session`` (both execute Core statements), so the
report builder (``pipeline.report_builder``, in a session) and ``tryghed round show`` (on a bare connection,
without importing the ORM: docs/benchmarks.md, "Starting a command") share one implementation. Rounds
come back as rows of ``survey.data.tables.rounds``, read by attribute like a ``Round``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, select

from pipeline.scoring import ItemResult, PillarResult, RoundResult
from pipeline.trend import RoundChange, changes_since
from survey.data.tables import actions, round_results, rounds

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row
    from sqlalchemy.orm import Session

    from survey.content import Content
    from survey.content.model import Hack

    Executor = Connection | Session


def result_from_json(data: dict[str, Any]) -> RoundResult:
    """The stored aggregate back as a ``RoundResult``."""
    return RoundResult(
        responses=data["responses"],
        min_responses=data["min_responses"],
        suppressed=data["suppressed"],
        pillars=tuple(PillarResult(p["key"], p["mean"], p["band"], p["n"]) for p in data["pillars"]),
        items=tuple(
            ItemResult(
                i["key"],
                i["pillar"],
                i["mean"],
                tuple(i["distribution"]) if i["distribution"] is not None else None,
            )
            for i in data["items"]
        ),
    )


def earlier_reported(db: Executor, team_id: int, number: int) -> list[tuple[Row[Any], RoundResult]]:
    """The team's reported rounds before round ``number`` with their stored aggregates, oldest first: one
    query, however many rounds the team has had (a reported round without a stored aggregate is left out)."""
    rows = db.execute(
        select(rounds, round_results.c.result)
        .join(round_results, round_results.c.round_id == rounds.c.id)
        .where(rounds.c.team_id == team_id, rounds.c.number < number, rounds.c.status == "reported")
        .order_by(rounds.c.number)
    ).all()
    return [(row, result_from_json(row.result)) for row in rows]


def changes_for(db: Executor, rnd: Row[Any], result: RoundResult, content: Content) -> list[RoundChange]:
    """The change of aggregated round ``rnd`` (its stored ``result``) since every earlier round of the team
    that reached k, newest first: the figures the report prints, for ``round show --json``."""
    instrument = content.instrument(rnd.instrument)
    compared = [(r.id, r.number, res) for r, res in earlier_reported(db, rnd.team_id, rnd.number)]
    return changes_since(
        compared,
        result,
        instrument.items,
        [p.key for p in instrument.pillars],
        instrument.scale_min,
        instrument.scale_max,
    )


def hacks_in_plan(db: Executor, round_ids: list[int]) -> set[str]:
    """Keys of the hacks the team's plan after ``round_ids`` still holds: not dropped, and not superseded.

    A carried action is superseded by its copy when the copy's round is among ``round_ids`` (the copy's
    status is the newer one: a hack dropped after it was carried is no longer in the plan).
    """
    if not round_ids:
        return set()
    copy = actions.alias()
    rows = db.scalars(
        select(actions.c.hack_key).where(
            actions.c.round_id.in_(round_ids),
            actions.c.hack_key.is_not(None),
            actions.c.status != "dropped",
            ~exists().where(and_(copy.c.carried_from == actions.c.id, copy.c.round_id.in_(round_ids))),
        )
    )
    return {k for k in rows if k}


def plan_hacks_of(db: Executor, team_id: int, number: int, hacks: Sequence[Hack]) -> list[Hack]:
    """The content's hacks that the team's plan before round ``number`` still holds, in the content's order."""
    earlier = list(db.scalars(select(rounds.c.id).where(rounds.c.team_id == team_id, rounds.c.number < number)))
    keys = hacks_in_plan(db, earlier)
    return [h for h in hacks if h.key in keys]
