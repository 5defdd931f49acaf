"""Sample report data for docs, tests and the benchmark: the shipped content, made-up answers.

Not used in production. Every text comes from the content files the product ships (``survey.content``,
or any ``Content`` passed in, such as another instrument); only the answers and the team are made up.
The answers are aggregated with the real ``pipeline.scoring.aggregate``, the focus with the real
``pipeline.recommend`` and the changes with the real ``pipeline.trend``, so every figure is consistent.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.recommend import focus_pillars, recommended_hacks
from pipeline.report_data import HistoryPoint, IgloAction, ReportData, toolkit_material
from pipeline.report_text import format_date
from pipeline.scoring import RoundResult, aggregate
from pipeline.trend import changes_since
from survey.content.model import Content, Instrument
from survey.locales import translate

TZ = ZoneInfo("Europe/Copenhagen")
K = 5
INVITED = 12

# Target levels on a 1-5 scale, one per pillar in the instrument's order (rescaled for other scales).
BASELINE_LEVEL = (4.2, 3.1, 3.7, 2.7)
MIDWAY_LEVEL = (4.2, 3.4, 3.6, 2.9)
FOLLOWUP_LEVEL = (4.3, 4.2, 3.8, 3.1)

# The follow-up's history: the baseline in March (7 answers), a round in June below k (3 answers: a gap),
# September (8 answers), and the follow-up itself in December (9 answers). Counts differ on purpose:
# rounds are fresh measurements and are compared whenever both reached k.
_HISTORY = (
    (201, 3, BASELINE_LEVEL, 7),
    (202, 6, MIDWAY_LEVEL, 3),
    (203, 9, MIDWAY_LEVEL, 8),
)
FOLLOWUP_RESPONSES = 9
BASELINE_RESPONSES = 7


def sample_content() -> Content:
    """The content the product ships (the default instrument, hacks, dilemmas, advice, traps, roles)."""
    from survey.content import get_content

    return get_content()


def answers(instrument: Instrument, n: int, level: tuple[float, ...], seed: int) -> list[dict[str, int]]:
    """Deterministic made-up answers around a target level per pillar (no randomness module needed)."""
    smin, smax = instrument.scale_min, instrument.scale_max
    index = {p.key: i for i, p in enumerate(instrument.pillars)}
    rows = []
    for person in range(n):
        row = {}
        for idx, item in enumerate(instrument.items):
            target = level[index[item.pillar] % len(level)]
            wobble = ((person * 7 + idx * 3 + seed) % 5 - 2) * 0.5  # -1.0 .. +1.0 on the 1-5 scale
            on_scale = smin + (target + wobble - 1) / 4 * (smax - smin)
            score = max(smin, min(smax, round(on_scale)))
            row[item.key] = smin + smax - score if item.reverse else score
        rows.append(row)
    return rows


def _result(instrument: Instrument, n: int, level: tuple[float, ...], seed: int) -> RoundResult:
    keys = [p.key for p in instrument.pillars]
    return aggregate(
        answers(instrument, n, level, seed), instrument.items, keys, instrument.bands, K,
        instrument.scale_min, instrument.scale_max,
    )  # fmt: skip


def _month(month: int, lang: str) -> str:
    from pipeline.report_text import format_month

    return format_month(datetime(2026, month, 1), lang)


def sample_report(
    kind: str = "baseline", lang: str = "da", *, suppressed: bool = False, content: Content | None = None
) -> ReportData:
    """A complete ``ReportData`` for a made-up team: baseline, follow-up, or a suppressed round."""
    content = content or sample_content()
    instrument = content.instrument()
    keys = [p.key for p in instrument.pillars]
    followup = kind == "followup"
    n = 3 if suppressed else FOLLOWUP_RESPONSES if followup else BASELINE_RESPONSES
    result = _result(instrument, n, FOLLOWUP_LEVEL if followup else BASELINE_LEVEL, seed=1)
    focus = focus_pillars(result, keys)
    opens = datetime(2026, 12 if followup else 3, 1, 8, 0, tzinfo=TZ)
    closes = opens + timedelta(days=14)

    history: list[HistoryPoint] = []
    previous_actions: list[IgloAction] = []
    followed: str | None = None
    plan: list[str] = []
    changes = []
    if followup:
        earlier = [(rid, month, _result(instrument, count, lvl, rid)) for rid, month, lvl, count in _HISTORY]
        history = [
            HistoryPoint(
                rid,
                _month(month, lang),
                datetime(2026, month, 15, 12, 0, tzinfo=TZ),
                res.responses,
                res.suppressed,
                {p.key: p.mean for p in res.pillars},
            )
            for rid, month, res in earlier
        ]
        changes = changes_since(
            [(rid, number, res) for number, (rid, _m, res) in enumerate(earlier, start=1)],
            result, instrument.items, keys, instrument.scale_min, instrument.scale_max,
        )  # fmt: skip
        # At September's debrief the team chose the second pillar in stage order (with the default
        # instrument: Lære) and put its first hack into the plan.
        followed = keys[1 % len(keys)]
        first_hack = next((h for h in content.hacks if h.pillar == followed), None)
        plan = [first_hack.key] if first_hack else []
        previous_actions = [
            IgloAction(
                "individ",
                translate(lang, "Everyone asks one question at each meeting"),
                translate(lang, "Everyone"),
                translate(lang, "ongoing"),
            ),
            IgloAction(
                "gruppe",
                first_hack.title.get(lang) if first_hack else translate(lang, "Lesson of the month"),
                translate(lang, "%(first)s and %(second)s", first="Mette", second="Ali"),
                format_date(date(2026, 10, 31), lang),
                first_hack.key if first_hack else None,
            ),
            IgloAction(
                "ledelse",
                translate(lang, "The leader shares own mistakes"),
                translate(lang, "The leader"),
                format_date(date(2026, 11, 15), lang),
            ),
        ]
    hack_pillars = list(dict.fromkeys(([followed] if followed else []) + focus))
    return ReportData(
        lang=lang,
        team_name="Team Nordbyen – Hjemmeplejen",
        leader_name="Sofie Jensen",
        round_id=204 if followup else 101,
        round_number=len(_HISTORY) + 1 if followup else 1,
        kind=kind,
        opens_at=opens,
        closes_at=closes,
        invited=INVITED,
        responses=n,
        min_responses=K,
        suppressed=result.suppressed,
        instrument=instrument,
        result=result,
        focus_pillars=focus,
        hacks=[] if result.suppressed else recommended_hacks(hack_pillars, content.hacks, plan),
        dilemmas=[d for p in hack_pillars for d in content.dilemmas_for(p)],
        **toolkit_material(content),
        history=history,
        previous_actions=previous_actions,
        changes=[] if result.suppressed else changes,
        followed_focus=None if result.suppressed else followed,
        plan_hacks=[] if result.suppressed else [h for h in content.hacks if h.key in plan],
        generated_at=closes + timedelta(hours=1),
    )
