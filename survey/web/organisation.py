"""The organisation on the web, for facilitators and admins: create, rename, move and delete units, set a
unit's head, change a team's leader and unit, and delete a team or round made by mistake. Each view checks
its form and calls the same domain function as ``tryghed unit set``/``unit delete``/``team set``/``team
delete``/``round delete`` (``survey.domain.organisation``, ``survey.domain.removal``), and the change is
written to the audit log.

Every deletion has a confirmation page (a GET of the same address) that says what will happen, or why it
cannot; the POST does it. No JavaScript.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.data.models import Team
from survey.domain import organisation as org
from survey.domain import removal
from survey.domain.leader_mail import Handover
from survey.domain.rounds import get_round
from survey.domain.teams import get_team
from survey.domain.units import add_unit, get_unit
from survey.errors import UserError
from survey.runtime import get_runtime
from survey.web import audit_log
from survey.web.confirm import confirm_page, confirmed_delete
from survey.web.i18n import said
from survey.web.org_forms import leader_form, unit_form
from survey.web.pages import team_context

bp = Blueprint("organisation", __name__)


def _unit_id(value: str | None) -> int | None:
    """A unit chosen in a select ("" = none); anything else than a listed id was refused by the form."""
    return int(value) if value else None


def handover_text(item: Handover, old: str) -> str:
    """One line of the confirmation: what became of an email that was waiting for the old leader."""
    if item.outcome == "readdressed":
        if item.kind == "report":
            return _(
                "The report email of round %(n)s, not yet sent to %(old)s, goes to %(new)s instead, with a new link.",
                n=item.round_number,
                old=old,
                new=item.to,
            )
        if item.kind == "kickoff":
            return _("The kick-off email, not yet sent to %(old)s, goes to %(new)s instead.", old=old, new=item.to)
        return _(
            "The calendar invitation to a planned session, not yet sent to %(old)s, goes to %(new)s instead.",
            old=old,
            new=item.to,
        )
    return _(
        "A reminder to %(old)s about round %(n)s was cancelled; the new leader's start page shows the same to-do.",
        old=old,
        n=item.round_number,
    )


@bp.route("/units/new", methods=["GET", "POST"])
def new_unit() -> tuple[str, int] | WerkzeugResponse:
    """Create a unit: its name, the unit above it and its head."""
    rt = get_runtime()
    with rt.db.session() as session:
        form = unit_form(session)
        if form.validate_on_submit():
            try:
                unit = add_unit(session, form.name.data, _unit_id(form.parent.data), form.head_email.data or None)
            except UserError as exc:
                form.name.errors = [said(exc.message)]
            else:
                audit_log.note("unit_created", f"unit {unit.id}")
                flash(_("The unit %(unit)s has been created.", unit=unit.name))
                return redirect(url_for("organisation.edit_unit", unit_id=unit.id), 303)
        status = 400 if form.is_submitted() else 200
        return render_template("web/unit_form.html", form=form, unit=None), status


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
def edit_unit(unit_id: int) -> tuple[str, int] | WerkzeugResponse:
    """Rename a unit, move it in the tree (never inside itself) or change its head."""
    rt = get_runtime()
    with rt.db.session() as session:
        unit = get_unit(session, unit_id)
        form = unit_form(session, unit)
        if form.validate_on_submit():
            parent = _unit_id(form.parent.data)
            try:
                org.set_unit(
                    session,
                    unit_id,
                    name=form.name.data,
                    parent_id=parent,
                    top=parent is None,
                    head_email=form.head_email.data or "",
                )
            except UserError as exc:
                session.rollback()
                form.parent.errors = [said(exc.message)]
            else:
                audit_log.note("unit_changed", f"unit {unit_id}")
                flash(_("The unit has been saved."))
                return redirect(url_for("organisation.edit_unit", unit_id=unit_id), 303)
        status = 400 if form.is_submitted() else 200
        return render_template(
            "web/unit_form.html",
            form=form,
            unit=unit,
            contents=org.contents(session, unit_id),
            teams=_teams(session, unit_id),
        ), status


def _teams(session: Session, unit_id: int) -> list[Any]:
    """The teams placed directly in the unit (id, name), for links to where each is moved."""
    return list(session.execute(select(Team.id, Team.name).where(Team.unit_id == unit_id).order_by(Team.name)))


@bp.get("/units/<int:unit_id>/delete")
def confirm_delete_unit(unit_id: int) -> tuple[str, int]:
    """Delete a unit? Only an empty one; otherwise the page says what is still in it."""
    with get_runtime().db.session() as session:
        unit = get_unit(session, unit_id)
        held = org.contents(session, unit_id)
        return confirm_page(
            _("Delete the unit %(unit)s", unit=unit.name),
            refusal=None
            if held.empty
            else _(
                "The unit cannot be deleted: it still holds %(teams)s teams and %(units)s units. Move them to "
                "another unit first.",
                teams=held.teams,
                units=held.units,
            ),
            consequences=[
                _("The unit disappears from the list of units and from the unit above it."),
                _("Its saved overview PDFs are deleted. No team, answer or report is touched."),
            ],
            action=url_for("organisation.delete_unit", unit_id=unit_id),
            yes=_("Yes, delete the unit"),
            back=url_for("organisation.edit_unit", unit_id=unit_id),
            no=_("No, back to the unit"),
        )


@bp.post("/units/<int:unit_id>/delete")
def delete_unit(unit_id: int) -> WerkzeugResponse:
    done = confirmed_delete(
        lambda session: org.delete_unit(session, unit_id), url_for("organisation.confirm_delete_unit", unit_id=unit_id)
    )
    if not isinstance(done, dict):
        return done
    audit_log.note("unit_deleted", f"unit {unit_id}")
    flash(_("The unit %(unit)s has been deleted.", unit=done["name"]))
    return redirect(url_for("units.index"), 303)


@bp.post("/teams/<int:team_id>/leader")
def team_leader(team_id: int) -> tuple[str, int] | WerkzeugResponse:
    """Change the team's leader (the old one loses the team at once) and the unit it belongs to."""
    rt = get_runtime()
    with rt.db.session() as session:
        team = get_team(session, team_id)
        form = leader_form(session, team)
        if form.validate_on_submit():
            old_email, old_unit = team.leader_email, team.unit_id
            try:
                org.place_team(session, team_id, _unit_id(form.unit.data))
                change = org.set_leader(
                    session,
                    team_id,
                    form.leader_email.data,
                    form.leader_name.data or "",
                    actor=current_user.email,
                    now=rt.now(),
                )
                team = change.team
            except UserError as exc:
                session.rollback()
                form.leader_email.errors = [said(exc.message)]
            else:
                if change.changed:
                    flash(
                        _("%(email)s now leads the team, with its rounds, reports and plans.", email=team.leader_email)
                    )
                    if old_email:
                        flash(_("Report links sent to %(email)s no longer open the reports.", email=old_email))
                    for item in change.mail:
                        flash(handover_text(item, old_email or ""))
                elif team.unit_id != old_unit:
                    audit_log.note("team_changed", f"team {team_id}: unit {team.unit_id or '-'}")
                flash(_("The leader and unit have been saved."))
                return redirect(url_for("pages.team", team_id=team_id) + "#organisation", 303)
        return render_template("web/team.html", **team_context(rt, session, team_id, leader_form=form)), 400


@bp.get("/teams/<int:team_id>/delete")
def confirm_delete_team(team_id: int) -> tuple[str, int]:
    """Delete a team? Only one none of whose rounds has opened; otherwise the page says why not."""
    with get_runtime().db.session() as session:
        team = get_team(session, team_id)
        held = removal.team_contents(session, team_id)
        return confirm_page(
            _("Delete the team %(team)s", team=team.name),
            refusal=_(
                "The team cannot be deleted: it has rounds that have opened, so it has answers, and answers are "
                "kept. To stop using the team, simply create no more rounds for it."
            )
            if held.opened_rounds
            else None,
            consequences=[
                _(
                    "The team, its %(n)s participants and its %(r)s rounds that never opened are deleted.",
                    n=held.participants,
                    r=held.rounds,
                ),
                _("Nobody has answered anything for the team, so no answer is deleted."),
                _("This cannot be undone."),
            ],
            action=url_for("organisation.delete_team", team_id=team_id),
            yes=_("Yes, delete the team"),
            back=url_for("pages.team", team_id=team_id),
            no=_("No, back to the team"),
        )


@bp.post("/teams/<int:team_id>/delete")
def delete_team(team_id: int) -> WerkzeugResponse:
    done = confirmed_delete(
        lambda session: removal.delete_team(session, team_id),
        url_for("organisation.confirm_delete_team", team_id=team_id),
    )
    if not isinstance(done, dict):
        return done
    audit_log.note("team_deleted", f"team {team_id}")
    flash(_("The team %(team)s has been deleted.", team=done["name"]))
    return redirect(url_for("pages.start"), 303)


@bp.get("/rounds/<int:round_id>/delete")
def confirm_delete_round(round_id: int) -> tuple[str, int]:
    """Delete a round? Only one that has not opened and is the team's latest; otherwise the page says why."""
    with get_runtime().db.session() as session:
        rnd = get_round(session, round_id)
        refusal = removal.round_refusal(session, round_id)
        return confirm_page(
            _("Delete round %(n)s of %(team)s", n=rnd.number, team=rnd.team.name),
            refusal=None
            if refusal is None
            else (
                _("The round cannot be deleted: it has opened, so it holds answers, and answers are kept.")
                if rnd.status not in removal.NOT_OPENED
                else _("The round cannot be deleted while the team has a later round. Delete the later round first.")
            ),
            consequences=[
                _("The round has not opened: nobody has been invited and nobody has answered."),
                _(
                    "The round and its planned times are deleted. A kick-off email already sent stays sent; "
                    "one still waiting is not sent."
                ),
                _("This cannot be undone."),
            ],
            action=url_for("organisation.delete_round", round_id=round_id),
            yes=_("Yes, delete round %(n)s", n=rnd.number),
            back=url_for("pages.team", team_id=rnd.team_id) + "#rounds",
            no=_("No, back to the team"),
        )


@bp.post("/rounds/<int:round_id>/delete")
def delete_round(round_id: int) -> WerkzeugResponse:
    done = confirmed_delete(
        lambda session: removal.delete_round(session, round_id),
        url_for("organisation.confirm_delete_round", round_id=round_id),
    )
    if not isinstance(done, dict):
        return done
    audit_log.note("round_deleted", f"round {round_id} (team {done['team_id']})")
    flash(_("Round %(n)s has been deleted.", n=done["number"]))
    return redirect(url_for("pages.team", team_id=done["team_id"]) + "#rounds", 303)
