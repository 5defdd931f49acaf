"""Follow-up rounds ("Vi holder fast"): the next measurement of the same team, some time later.

A follow-up is an ordinary round of the same team, created ``scheduled`` with its opening and closing
times, so the tick opens it (inviting the team's participants as they are *then*: people who joined
since are asked, people who left are not) and closes it. It is linked to the round it follows
(``previous_round_id``, ``kind = "followup"``), which is what the report's trend and IGLO review use.

Two ways in: by hand (``tryghed round followup ROUND_ID --after 90d``), or decided at close
(``tryghed round close ROUND_ID --followup-after 90d``), acted on by the pipeline in the very
transaction that marks the round ``reported`` (so a re-driven pipeline cannot schedule it twice).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.data.models import Round
from survey.domain.rounds import create_round, get_round
from survey.errors import Text, UserError
from survey.runtime import Runtime

DEFAULT_DURATION = timedelta(days=14)
_SPAN = re.compile(r"^\s*(\d+)\s*([dwh])\s*$", re.IGNORECASE)
_UNIT = {"d": timedelta(days=1), "w": timedelta(weeks=1), "h": timedelta(hours=1)}


def parse_span(value: str, option: str) -> timedelta:
    """'90d', '12w' or '36h' -> a timedelta; anything else is a UserError naming the option."""
    found = _SPAN.match(value or "")
    if not found or int(found.group(1)) <= 0:
        raise UserError(
            Text("%(option)s: %(value)s is not a duration like 90d, 12w or 36h", option=option, value=repr(value))
        )
    return int(found.group(1)) * _UNIT[found.group(2).lower()]


def parse_days(value: str, option: str) -> int:
    """A duration in whole days ('90d' or '12w'), as stored in ``rounds.followup_after_days``."""
    span = parse_span(value, option)
    if span % timedelta(days=1):
        raise UserError(
            Text("%(option)s: %(value)s must be whole days (e.g. 90d or 12w)", option=option, value=repr(value))
        )
    return span.days


def at_local(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    """``day`` at the local time ``hhmm`` ("08:00") in ``tz``, as an aware datetime."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def _weekday(day: date) -> date:
    """``day``, or the Monday after it when it falls on a weekend (nobody opens a survey on a Sunday)."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def whole_times(
    now: datetime, after: timedelta, duration: timedelta, tz: ZoneInfo, opens: str, closes: str
) -> tuple[datetime, datetime]:
    """A follow-up's opening and closing: whole local times (default 08:00 and 16:00) on weekdays.

    The delay and the duration choose the days; the configured times of day (``TRYGHED_ROUND_OPENS_AT``,
    ``_CLOSES_AT``) choose the hours, so a follow-up planned at 06:58 does not open at 06:58 three months
    later. Never earlier than ``now + after``'s day and never shorter than ``duration``'s days.
    """
    start = at_local(_weekday((now + after).astimezone(tz).date()), opens, tz)
    if start < now:
        start = at_local(_weekday(start.date() + timedelta(days=1)), opens, tz)
    end = at_local(_weekday((start + duration).date()), closes, tz)
    if end <= start:
        end = at_local(_weekday(start.date() + timedelta(days=1)), closes, tz)
    return start, end


def create_followup(
    rt: Runtime,
    session: Session,
    round_id: int,
    after: timedelta,
    duration: timedelta = DEFAULT_DURATION,
    *,
    commit: bool = True,
) -> Round:
    """Schedule the follow-up of ``round_id``: it opens ``after`` from now and runs for ``duration``.

    The delay counts from now (for the automatic follow-up, "now" is when the report went out), so a
    follow-up is never scheduled in the past. Refused when the round already has a later round: a team
    has one line of rounds, and a second follow-up of the same round would be a duplicate.
    """
    rnd = get_round(session, round_id)
    if after <= timedelta(0) or duration <= timedelta(0):
        raise UserError(Text("the delay and the duration of a follow-up must be positive"))
    later = session.scalars(
        select(Round).where(Round.team_id == rnd.team_id, Round.number > rnd.number).order_by(Round.number)
    ).first()
    if later is not None:
        raise UserError(
            Text(
                "round %(round_id)s already has a later round (%(later_id)s, %(status)s); "
                "follow up on the team's latest round",
                round_id=round_id,
                later_id=later.id,
                status=later.status,
            ),
            round_id=later.id,
        )
    opens_at, closes_at = whole_times(
        rt.now(), after, duration, rt.tz, str(rt.config["ROUND_OPENS_AT"]), str(rt.config["ROUND_CLOSES_AT"])
    )
    return create_round(
        rt,
        session,
        rnd.team_id,
        opens_at=opens_at,
        closes_at=closes_at,
        min_responses=rnd.min_responses,  # comparable with the round it follows
        previous_round_id=rnd.id,
        commit=commit,
        # the team answers the way it did: a meeting with answer cards is followed by one (survey.domain.cards)
        channel=rnd.channel,
        cards=rnd.cards,
    )


def followup_on_report(rt: Runtime, session: Session, round_id: int) -> Round | None:
    """The follow-up decided at close, if any (no commit: part of the transition to ``reported``).

    Called only by the one run that claimed that transition; a round that already has a later round
    (a facilitator scheduled one by hand) is left as it is.
    """
    rnd = get_round(session, round_id)
    if not rnd.followup_after_days:
        return None
    try:
        return create_followup(rt, session, round_id, timedelta(days=rnd.followup_after_days), commit=False)
    except UserError:
        return None
