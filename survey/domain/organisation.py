"""Changing the organisation: rename, move and delete units, set a unit's head, place a team in a unit and
change a team's leader. The web app's organisation pages and ``tryghed unit set/delete`` and ``tryghed
team set`` call these; each commits.

What keeps the unit overview's anonymity when the tree changes is the disclosure rule itself
(``pipeline.unit_disclosure``): a stored "other teams" pool is counted only while all its rounds lie under
its unit, and its rounds never join another pool, so moving teams or units never splits an atom. Deleting
a unit must keep that: a unit may be deleted only when it holds no team and no unit, and the pools it
anchors (from teams that have since moved away) are handed to its parent rather than dropped, because a
dropped pool would free its rounds to be pooled anew and two pools' figures could then be subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pipeline import unit_disclosure as rule
from survey.data.models import Team, Unit, UnitPool
from survey.domain import audit
from survey.domain.leader_mail import Handover, hand_over
from survey.domain.teams import check_email, get_team
from survey.domain.units import get_unit, tree
from survey.domain.validation import NAME_MAX, clean_optional, clean_text
from survey.errors import Text, UserError


@dataclass(frozen=True)
class UnitContents:
    """What is directly in a unit: how many teams and sub-units (a unit is deleted only when both are 0)."""

    teams: int
    units: int

    @property
    def empty(self) -> bool:
        return not self.teams and not self.units


def contents(session: Session, unit_id: int) -> UnitContents:
    """How many teams and units lie directly in ``unit_id``."""
    get_unit(session, unit_id)
    teams = session.scalar(select(func.count()).select_from(Team).where(Team.unit_id == unit_id)) or 0
    units = session.scalar(select(func.count()).select_from(Unit).where(Unit.parent_id == unit_id)) or 0
    return UnitContents(teams, units)


def check_parent(session: Session, unit_id: int | None, parent_id: int | None) -> None:
    """Refuse a parent that does not exist, or that is the unit itself or lies below it (a cycle)."""
    if parent_id is None:
        return
    get_unit(session, parent_id)
    if unit_id is None:
        return
    if parent_id in rule.subtree(rule.children_of(tree(session)), unit_id):
        raise UserError(
            Text(
                "unit %(unit_id)s cannot be moved under unit %(parent_id)s: that unit is the unit itself or lies "
                "below it, and a unit cannot be inside itself",
                unit_id=unit_id,
                parent_id=parent_id,
            ),
            code="unit_cycle",
        )


def set_unit(
    session: Session,
    unit_id: int,
    *,
    name: str | None = None,
    parent_id: int | None = None,
    top: bool = False,
    head_email: str | None = None,
) -> Unit:
    """Rename a unit, move it under ``parent_id`` (``top``: make it a top unit) or set its head's email
    ("" removes the head); None leaves a value as it is. Committed."""
    unit = get_unit(session, unit_id)
    if top and parent_id is not None:
        raise UserError("give either a parent unit or top, not both")
    if name is not None:
        unit.name = clean_text(name, "unit name", max_len=NAME_MAX)
    if parent_id is not None:
        check_parent(session, unit_id, parent_id)
        unit.parent_id = parent_id
    elif top:
        unit.parent_id = None
    if head_email is not None:
        unit.head_email = check_email(head_email, "head email") if head_email.strip() else None
    session.commit()
    return unit


def delete_unit(session: Session, unit_id: int) -> dict[str, object]:
    """Delete an empty unit (no teams, no sub-units). Committed.

    Its stored pools move to its parent, so their rounds stay frozen (see the module's docstring); a top
    unit that anchors pools is refused, as there is nowhere to keep them.
    """
    unit = get_unit(session, unit_id)
    held = contents(session, unit_id)
    if not held.empty:
        raise UserError(
            Text(
                "unit %(unit_id)s is not empty: it holds %(teams)s team(s) and %(units)s unit(s); "
                "move or delete them first",
                unit_id=unit_id,
                teams=held.teams,
                units=held.units,
            ),
            code="unit_not_empty",
            teams=held.teams,
            units=held.units,
        )
    pools = session.scalar(select(func.count()).select_from(UnitPool).where(UnitPool.unit_id == unit_id)) or 0
    if pools and unit.parent_id is None:
        raise UserError(
            Text(
                "unit %(unit_id)s keeps the pooled figures of small teams from earlier overviews, which protect "
                "those teams' answers; a top unit has no parent to hand them to, so it cannot be deleted",
                unit_id=unit_id,
            ),
            code="unit_keeps_pools",
        )
    if pools:
        session.execute(update(UnitPool).where(UnitPool.unit_id == unit_id).values(unit_id=unit.parent_id))
    name, parent = unit.name, unit.parent_id
    session.delete(unit)
    session.commit()
    return {"deleted": unit_id, "name": name, "parent_id": parent, "pools_moved": pools}


def place_team(session: Session, team_id: int, unit_id: int | None) -> Team:
    """Put a team in a unit (None: in no unit). Committed."""
    team = get_team(session, team_id)
    if unit_id is not None:
        get_unit(session, unit_id)
    team.unit_id = unit_id
    session.commit()
    return team


@dataclass(frozen=True)
class LeaderChange:
    """What ``set_leader`` did: the team, the old leader's email, and what became of mail waiting for them."""

    team: Team
    old_email: str | None
    changed: bool  # the email changed (a new name alone changes neither access nor mail)
    mail: list[Handover]


def set_leader(
    session: Session,
    team_id: int,
    email: str,
    name: str | None = None,
    *,
    actor: str | None = None,
    now: datetime | None = None,
) -> LeaderChange:
    """Give the team a new leader (committed, with its audit events; ``actor`` is who did it).

    Access follows the leader email at every request (``survey.domain.overview.may_see_team``), so the new
    leader sees the team with all its rounds, reports and plans at once, and the old leader loses it at
    once: no session, page or cache holds a copy of who may see what. What the old leader was sent, or was
    about to be, follows too: ``leader_changed_at`` makes the report links of their emails stop working
    (``survey.domain.report_links``), and mail still waiting for them is re-addressed or cancelled
    (``survey.domain.leader_mail``), each noted in the audit log.
    """
    now = now or datetime.now(UTC)
    team = get_team(session, team_id)
    old = team.leader_email
    new = check_email(email, "leader email")
    if name is not None:
        team.leader_name = clean_optional(name, "leader name")
    changed = new != (old or "").lower()
    handed: list[Handover] = []
    if changed:
        team.leader_email = new
        team.leader_changed_at = now
        if old:
            handed = hand_over(session, team, old, new, now)
        audit.add(session, "leader_changed", actor, f"team {team_id}: {old} -> {new}", now)
        for item in handed:
            audit.add(session, f"mail_{item.outcome}", actor, f"team {team_id}: {item.subject}", now)
    session.commit()
    return LeaderChange(team, old, changed, handed)
