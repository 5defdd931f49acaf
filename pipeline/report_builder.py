"""From the database to ``ReportData``: the one place that reads rows for a report."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.report_data import HistoryPoint, IgloAction, ReportData, toolkit_material
from pipeline.report_text import MONTHS
from pipeline.scoring import ItemResult, PillarResult, RoundResult
from pipeline.trend import comparable_change, visible_history
from survey.content import Content
from survey.models import Action, Round, RoundResultRow


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


def _label(rnd: Round, lang: str, tz: Any) -> str:
    when = (rnd.closed_at or rnd.closes_at or rnd.created_at).astimezone(tz)
    return f"{MONTHS.get(lang, MONTHS['da'])[when.month - 1]} {when.year}"


def build_report_data(session: Session, round_id: int, content: Content, tz: Any) -> ReportData:
    """Everything the report of a closed, aggregated round shows; raises LookupError if not aggregated."""
    rnd = session.get(Round, round_id)
    stored = session.get(RoundResultRow, round_id)
    if rnd is None or stored is None:
        raise LookupError(f"round {round_id} is not aggregated")
    team = rnd.team
    lang = team.lang
    instrument = content.instrument(rnd.instrument)
    result = result_from_json(stored.result)
    pillar_keys = [p.key for p in instrument.pillars]

    earlier = session.scalars(
        select(Round)
        .where(Round.team_id == rnd.team_id, Round.number < rnd.number, Round.status == "reported")
        .order_by(Round.number)
    ).all()
    history: list[HistoryPoint] = []
    earlier_results: list[RoundResult] = []
    shown_rounds: list[Round] = []
    for other in earlier:
        other_row = session.get(RoundResultRow, other.id)
        if other_row is None:
            continue
        earlier_results.append(result_from_json(other_row.result))
        shown_rounds.append(other)
    # The differencing rule: earlier means printed next to this round's, and changes against them, are
    # comparisons too; they are withheld for rounds whose respondent counts differ by 1..k-1 (trend).
    visible = visible_history(earlier_results, result)
    for other, other_result, shown in zip(shown_rounds, earlier_results, visible, strict=True):
        history.append(
            HistoryPoint(
                round_id=other.id,
                label=_label(other, lang, tz),
                closes_at=(other.closed_at or other.closes_at or other.created_at).astimezone(tz),
                responses=other_result.responses,
                suppressed=other_result.suppressed,
                pillar_means={p.key: p.mean if shown else None for p in other_result.pillars},
            )
        )

    withheld: dict[str, float | None] = dict.fromkeys(pillar_keys)
    since_baseline = (
        (comparable_change(earlier_results[0], result, pillar_keys) if visible[0] else withheld)
        if earlier_results
        else {}
    )
    since_previous = (
        (comparable_change(earlier_results[-1], result, pillar_keys) if visible[-1] else withheld)
        if earlier_results
        else {}
    )

    previous_actions: list[IgloAction] = []
    if rnd.previous_round_id:
        previous_actions = [
            IgloAction(a.level, a.what, a.who, a.by_when, a.status)
            for a in session.scalars(select(Action).where(Action.round_id == rnd.previous_round_id).order_by(Action.id))
        ]

    focus = list(stored.focus_pillars)
    hacks = [h for h in content.hacks if h.key in stored.hack_keys]
    dilemmas = [d for pillar in focus for d in content.dilemmas_for(pillar)]
    opens = rnd.opened_at or rnd.opens_at
    closes = rnd.closed_at or rnd.closes_at
    return ReportData(
        lang=lang,
        team_name=team.name,
        leader_name=team.leader_name,
        round_id=rnd.id,
        round_number=rnd.number,
        kind=rnd.kind,
        opens_at=opens.astimezone(tz) if opens else None,
        closes_at=closes.astimezone(tz) if closes else None,
        invited=rnd.invited_count,
        responses=result.responses,
        min_responses=rnd.min_responses,
        suppressed=result.suppressed,
        instrument=instrument,
        result=result,
        focus_pillars=focus,
        hacks=hacks,
        dilemmas=dilemmas,
        **toolkit_material(content),
        history=history,
        previous_actions=previous_actions,
        change_since_baseline=since_baseline,
        change_since_previous=since_previous,
        generated_at=stored.computed_at.astimezone(tz),
    )
