"""From the database to ``ReportData``: the one place that reads rows for a report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.recommend import recommended_hacks
from pipeline.report_data import HistoryPoint, IgloAction, ProcessSession, ReportData, toolkit_material
from pipeline.report_history import earlier_reported, plan_hacks_of, result_from_json
from pipeline.report_text import format_date, format_month
from pipeline.scoring import RoundResult
from pipeline.trend import changes_since
from survey.content import Content
from survey.content.model import Meeting
from survey.data.models import Action, Round, RoundResultRow
from survey.domain.focus import last_chosen_focus
from survey.domain.tracks import process_of


def followed_focus(session: Session, rnd: Round, pillar_keys: list[str]) -> str | None:
    """The focus this round's report follows: the one the team chose most recently before this round."""
    if rnd.number <= 1:
        return None
    chosen = last_chosen_focus(session, rnd.team_id, rnd.number - 1)
    return chosen if chosen in pillar_keys else None


def _label(rnd: Any, lang: str, tz: Any) -> str:
    when = (rnd.closed_at or rnd.closes_at or rnd.created_at).astimezone(tz)
    return format_month(when, lang)


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

    earlier = earlier_reported(session, rnd.team_id, rnd.number)
    history: list[HistoryPoint] = []
    compared: list[tuple[int, int, RoundResult]] = []
    for other, other_result in earlier:
        compared.append((other.id, other.number, other_result))
        # Rounds are fresh measurements: every earlier round that reached k is shown and compared with
        # (pipeline.trend, docs/privacy.md); a round below k has no means (None) and draws a gap.
        history.append(
            HistoryPoint(
                round_id=other.id,
                label=_label(other, lang, tz),
                closes_at=(other.closed_at or other.closes_at or other.created_at).astimezone(tz),
                responses=other_result.responses,
                suppressed=other_result.suppressed,
                pillar_means={p.key: p.mean for p in other_result.pillars},
            )
        )
    changes = changes_since(compared, result, instrument.items, pillar_keys, instrument.scale_min, instrument.scale_max)

    previous_actions: list[IgloAction] = []
    if rnd.previous_round_id:
        previous_actions = [
            IgloAction(a.level, a.what, a.who, format_date(a.due, lang) if a.due else a.by_when, a.hack_key, a.status)
            for a in session.scalars(select(Action).where(Action.round_id == rnd.previous_round_id).order_by(Action.id))
        ]
    # every earlier round's plan, not only the reported ones' (a plan can follow a round whose mail failed)
    plan_hacks = plan_hacks_of(session, rnd.team_id, rnd.number, content.hacks)
    plan_keys = {h.key for h in plan_hacks}
    followed = followed_focus(session, rnd, pillar_keys)

    focus = list(stored.focus_pillars)
    # The hacks to try next: the followed focus first (the team's own choice), then the suggestion when
    # it differs; never one already in the plan.
    hack_pillars = list(dict.fromkeys(([followed] if followed else []) + focus))
    hacks = [] if result.suppressed else recommended_hacks(hack_pillars, content.hacks, plan_keys)
    dilemmas = [d for pillar in hack_pillars for d in content.dilemmas_for(pillar)]
    opens = rnd.opened_at or rnd.opens_at
    closes = rnd.closed_at or rnd.closes_at
    track = content.track(team.track)
    process = _process(session, team.id, track.sessions if track else (), tz)
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
        changes=changes,
        followed_focus=None if result.suppressed else followed,
        plan_hacks=[] if result.suppressed else plan_hacks,
        has_hacks=any(h.pillar in pillar_keys for h in content.hacks),
        generated_at=stored.computed_at.astimezone(tz),
        track=track,
        process=process,
    )


def _process(session: Session, team_id: int, meetings: Sequence[Meeting], tz: Any) -> list[ProcessSession]:
    """The sessions of the team's process, each with what a facilitator has planned for it (if anything)."""
    state = process_of(session, team_id, [m.key for m in meetings])
    out = []
    for m in meetings:
        req = state[m.key]
        if req is not None and req.status == "planned" and req.session_at is not None:
            ends = req.ends_at.astimezone(tz) if req.ends_at else None
            out.append(ProcessSession(m.title, m.text, req.session_at.astimezone(tz), ends, req.place or ""))
        else:
            out.append(ProcessSession(m.title, m.text))
    return out
