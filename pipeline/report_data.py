"""The plain values a report is rendered from (PDF and web page alike).

Built from the database by ``pipeline.report_builder.build_report_data``; rendered by
``pipeline.render``. Holds no ORM objects and no personal data except the team and leader names.
Every figure here has already passed the anonymity threshold: suppressed figures are None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.scoring import RoundResult
from survey.content.model import Advice, Content, Dilemma, Hack, Instrument, Role, Step, Trap

IGLO_LEVELS = ("individ", "gruppe", "ledelse", "organisation")


@dataclass(frozen=True)
class HistoryPoint:
    """One earlier (or this) round of the same team, for the chart over rounds."""

    round_id: int
    label: str  # e.g. "marts 2026" / "March 2026"
    closes_at: datetime
    responses: int
    suppressed: bool
    # pillar key -> mean; None where suppressed or withheld by the differencing rule
    pillar_means: dict[str, float | None]


@dataclass(frozen=True)
class IgloAction:
    """One agreed action of the team's IGLO plan."""

    level: str  # one of IGLO_LEVELS
    what: str
    who: str
    by_when: str  # free text or ISO date, as the team wrote it
    status: str = "planned"  # planned | done | ongoing | dropped, as marked in the web app or the CLI


@dataclass(frozen=True)
class ReportData:
    lang: str  # "da" | "en", from the team
    team_name: str
    leader_name: str | None
    round_id: int
    round_number: int  # 1 for the team's first round
    kind: str  # "baseline" | "followup"
    opens_at: datetime | None  # aware, Europe/Copenhagen
    closes_at: datetime | None
    invited: int
    responses: int
    min_responses: int
    suppressed: bool
    instrument: Instrument
    result: RoundResult
    focus_pillars: list[str]  # empty when suppressed
    hacks: list[Hack]  # the focus pillar's hacks; empty when suppressed
    dilemmas: list[Dilemma]  # chosen for the focus pillar; empty when suppressed
    advice: list[Advice]  # the five pieces of advice for holding on
    traps: list[Trap]
    steps: list[Step]  # the toolkit's four steps
    links: dict[str, str]  # named URLs to the material online
    # earlier rounds of the team, oldest first, not including this one
    history: list[HistoryPoint] = field(default_factory=list)
    # actions agreed after the previous round, for review in a follow-up; empty for a baseline
    previous_actions: list[IgloAction] = field(default_factory=list)
    # change since the baseline and since the previous round: pillar key -> delta (None if unknown)
    change_since_baseline: dict[str, float | None] = field(default_factory=dict)
    change_since_previous: dict[str, float | None] = field(default_factory=dict)
    generated_at: datetime | None = None
    # who owns what in the process (step 1), shown with the traps
    roles: list[Role] = field(default_factory=list)


def toolkit_material(content: Content) -> dict[str, Any]:
    """The parts of every report that come from the toolkit itself, the same for every team."""
    return {
        "advice": list(content.advice),
        "traps": list(content.traps),
        "roles": list(content.roles),
        "steps": list(content.steps),
        "links": dict(content.links),
    }
