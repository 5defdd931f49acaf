"""The forms of the organisation pages: a unit (name, place in the tree, head) and a team's leader and unit."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from pipeline import unit_disclosure as rule
from survey.data.models import Team, Unit
from survey.web.forms import BAD_EMAIL, REQUIRED, CheckedForm, Email, Prefixed, options


class UnitForm(CheckedForm):
    name = StringField(_l("Name of the unit"), validators=[DataRequired(REQUIRED), Length(max=200)])
    parent = SelectField(_l("Placed under"), choices=[])
    head_email = EmailField(_l("The unit head's email"), validators=[Optional(), Email(BAD_EMAIL)])


class LeaderForm(Prefixed):
    PREFIX = "leader"
    leader_email = EmailField(_l("Leader's email"), validators=[DataRequired(REQUIRED), Email(BAD_EMAIL)])
    leader_name = StringField(_l("Leader's name"), validators=[Optional(), Length(max=200)])
    unit = SelectField(_l("Unit"), choices=[])


def unit_choices(session: Session, empty: str, exclude_below: int | None = None) -> list[tuple[str, str]]:
    """Every unit as (id, name indented by its depth), in tree order; ``empty`` first with the value "".

    ``exclude_below``: leave out that unit and everything below it (a unit cannot move inside itself)."""
    rows = session.execute(select(Unit.id, Unit.parent_id, Unit.name).order_by(Unit.name, Unit.id)).all()
    names = {r.id: r.name for r in rows}
    children = rule.children_of({r.id: r.parent_id for r in rows})
    for kids in children.values():
        kids.sort(key=lambda u: (names[u].lower(), u))
    skip = set(rule.subtree(children, exclude_below)) if exclude_below is not None else set()
    out = [("", empty)]

    def walk(unit: int, depth: int) -> None:
        if unit in skip:
            return
        out.append((str(unit), "\u2003" * depth + names[unit]))  # em spaces: the depth, read as nothing
        for child in children.get(unit, []):
            walk(child, depth + 1)

    for top in sorted((r.id for r in rows if r.parent_id is None), key=lambda u: (names[u].lower(), u)):
        walk(top, 0)
    return out


def unit_form(session: Session, unit: Unit | None = None) -> UnitForm:
    """The unit form, filled with ``unit`` on a GET (and with what was sent on a POST)."""
    form = UnitForm(
        data={"name": unit.name, "parent": str(unit.parent_id or ""), "head_email": unit.head_email or ""}
        if unit
        else None
    )
    form.parent.choices = options(unit_choices(session, _("No unit above (a top unit)"), unit.id if unit else None))
    return form


def leader_form(session: Session, team: Team) -> LeaderForm:
    """The team's leader and unit form, filled with the team on a GET."""
    form = LeaderForm(
        data={
            "leader_email": team.leader_email or "",
            "leader_name": team.leader_name or "",
            "unit": str(team.unit_id or ""),
        }
    )
    form.unit.choices = options(unit_choices(session, _("In no unit")))
    return form
