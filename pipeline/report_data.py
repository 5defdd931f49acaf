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
from pipeline.trend import RoundChange
from survey.content.model import About, Advice, Content, Dilemma, Hack, Instrument, Role, Step, Text, Track, Trap


@dataclass(frozen=True)
class HistoryPoint:
    """One earlier (or this) round of the same team, for the chart over rounds."""

    round_id: int
    label: str  # e.g. "marts 2026" / "March 2026"
    closes_at: datetime
    responses: int
    suppressed: bool
    # pillar key -> mean; None where the round was below its k
    pillar_means: dict[str, float | None]


@dataclass(frozen=True)
class ProcessSession:
    """One session of the team's track's process (the facilitated track's pre-meeting, briefing,
    screening, debriefing) and what has been planned for it."""

    title: Text
    text: Text
    starts: datetime | None = None  # aware, Europe/Copenhagen; None until a facilitator plans it
    ends: datetime | None = None
    place: str = ""


@dataclass(frozen=True)
class IgloAction:
    """One agreed action of the team's IGLO plan."""

    level: str  # one of survey.domain.actions.IGLO_LEVELS
    what: str
    who: str
    by_when: str  # free text or ISO date, as the team wrote it
    hack_key: str | None = None  # the hack the action puts into practice, if it names one
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
    focus_pillars: list[str]  # the suggested focus (pipeline.recommend); empty when suppressed
    # hacks to try next: of the focus the team chose last time, then of the suggestion; never one already in
    # the action plan; empty when suppressed
    hacks: list[Hack]
    dilemmas: list[Dilemma]  # for the same pillars as the hacks; empty when suppressed
    advice: list[Advice]  # the five pieces of advice for holding on
    traps: list[Trap]
    steps: list[Step]  # the toolkit's four steps
    links: dict[str, str]  # named URLs to the material online
    # earlier rounds of the team, oldest first, not including this one
    history: list[HistoryPoint] = field(default_factory=list)
    # actions agreed after the previous round, for review in a follow-up; empty for a baseline
    previous_actions: list[IgloAction] = field(default_factory=list)
    # the change since every earlier round that reached k, newest first, each with its 95 % interval
    changes: list[RoundChange] = field(default_factory=list)
    # the focus the team chose at the debrief of the previous round (a pillar key), if it recorded one
    followed_focus: str | None = None
    # hacks already in the team's action plan (actions of earlier rounds that name a hack)
    plan_hacks: list[Hack] = field(default_factory=list)
    # whether the content has hacks for this instrument's pillars at all (another instrument may have none)
    has_hacks: bool = True
    generated_at: datetime | None = None
    # who owns what in the process (step 1), shown with the traps
    roles: list[Role] = field(default_factory=list)
    # every dilemma of the content: a suppressed report offers one per pillar (they hold no figures)
    all_dilemmas: list[Dilemma] = field(default_factory=list)
    # whose words the texts are, and how a text's origin is labelled (the traps)
    about: About | None = None
    # the team's track, and its process: the facilitated track's sessions in place of the self-run agenda
    track: Track | None = None
    process: list[ProcessSession] = field(default_factory=list)


def toolkit_material(content: Content) -> dict[str, Any]:
    """The parts of every report that come from the toolkit itself, the same for every team."""
    return {
        "advice": list(content.advice),
        "traps": list(content.traps),
        "roles": list(content.roles),
        "steps": list(content.steps),
        "links": dict(content.links),
        "all_dilemmas": list(content.dilemmas),
        "about": content.about,
    }
