"""What facilitators (and admins) change: teams, participants, rounds. Each view checks the form, calls
the same domain function as the ``tryghed`` command, and sends the emails or the pipeline on their way
the way the command does (``pipeline.tasks``: in-process without a broker, queued with one).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.data.models import Report
from survey.domain import teams as team_actions
from survey.domain.answer_store import answer_count
from survey.domain.cards import CHANNEL as CARDS
from survey.domain.cards import card_sheet, paper_form
from survey.domain.followup import create_followup
from survey.domain.kickoff import queue_kickoff
from survey.domain.rounds import close_round, create_round, get_round, open_round, remind_round
from survey.domain.small_teams import small_team
from survey.errors import UserError
from survey.runtime import Runtime, get_runtime
from survey.web import audit_log, forms
from survey.web.confirm import confirm_page
from survey.web.i18n import said
from survey.web.pages import team_context

bp = Blueprint("manage", __name__)


def _local(rt: Runtime, value: datetime | None) -> datetime | None:
    """A time typed in the form (no zone) read in the configured zone (Copenhagen)."""
    return value.replace(tzinfo=rt.tz) if value is not None else None


def _to_team(team_id: int, anchor: str = "") -> WerkzeugResponse:
    return redirect(url_for("pages.team", team_id=team_id) + (f"#{anchor}" if anchor else ""), 303)


def _again(rt: Runtime, team_id: int, **overrides: Any) -> tuple[str, int]:
    """The team page again with a form's errors (400): nothing was changed."""
    with rt.db.session() as session:
        return render_template("web/team.html", **team_context(rt, session, team_id, **overrides)), 400


@bp.route("/teams/new", methods=["GET", "POST"])
def new_team() -> tuple[str, int] | WerkzeugResponse:
    form = forms.TeamForm()
    if form.validate_on_submit():
        with get_runtime().db.session() as session:
            try:
                team = team_actions.add_team(
                    session,
                    form.name.data,
                    form.leader_email.data,
                    form.leader_name.data,
                    form.lang.data,
                    track=form.track.data,
                )
            except UserError as exc:
                form.name.errors = [said(exc.message)]
            else:
                flash(_("The team has been created. Add its participants next."))
                return _to_team(team.id)
    status = 400 if form.is_submitted() else 200
    return render_template("web/team_new.html", form=form), status


@bp.post("/teams/<int:team_id>/settings")
def settings(team_id: int) -> tuple[str, int] | WerkzeugResponse:
    rt = get_runtime()
    form = forms.SettingsForm()
    form.instrument.choices = forms.options([("", "")] + [(n, n) for n in rt.content.instruments])
    if form.validate_on_submit():
        with rt.db.session() as session:
            try:
                team_actions.update_team(
                    session,
                    team_id,
                    lang=form.lang.data,
                    track=form.track.data,
                    instrument=form.instrument.data,
                    trio_emails=(form.trio_emails.data or "").split(","),
                    known_instruments=tuple(rt.content.instruments),
                )
            except UserError as exc:
                form.trio_emails.errors = [said(exc.message)]
            else:
                flash(_("The settings have been saved."))
                return _to_team(team_id, "settings")
    return _again(rt, team_id, settings_form=form)


@bp.post("/teams/<int:team_id>/participants/import")
def import_participants(team_id: int) -> tuple[str, int] | WerkzeugResponse:
    """CSV upload: every bad row is listed by line, and nothing is imported unless all rows are good."""
    rt = get_runtime()
    form = forms.UploadForm()
    if not form.validate_on_submit():
        return _again(rt, team_id, upload_form=form)
    raw = form.file.data.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        form.file.errors = [_("The file is not UTF-8 text. Save the CSV as UTF-8 and try again.")]
        return _again(rt, team_id, upload_form=form)
    with rt.db.session() as session:
        try:
            result = team_actions.import_participants(session, team_id, text)
        except UserError as exc:
            form.file.errors = [_("Nothing was imported: fix the rows below and upload the file again.")]
            return _again(rt, team_id, upload_form=form, csv_errors=exc.details.get("errors", []))
    flash(_("%(added)s added, %(updated)s updated.", added=result["added"], updated=result["updated"]))
    return _to_team(team_id, "participants")


@bp.post("/teams/<int:team_id>/participants")
def add_participant(team_id: int) -> tuple[str, int] | WerkzeugResponse:
    rt = get_runtime()
    form = forms.ParticipantForm()
    if form.validate_on_submit():
        with rt.db.session() as session:
            try:
                team_actions.add_participant(session, team_id, form.email.data, form.name.data, form.lang.data)
            except UserError as exc:
                form.email.errors = [said(exc.message)]
            else:
                flash(_("The participant has been added."))
                return _to_team(team_id, "participants")
    return _again(rt, team_id, participant_form=form)


@bp.post("/participants/<int:participant_id>/deactivate")
def deactivate(participant_id: int) -> WerkzeugResponse:
    if not forms.EmptyForm().validate_on_submit():
        abort(400)
    with get_runtime().db.session() as session:
        person = team_actions.deactivate_participant(session, participant_id)
        flash(_("%(email)s takes no part in future rounds.", email=person.email))
        return _to_team(person.team_id, "participants")


@bp.post("/teams/<int:team_id>/rounds")
def new_round(team_id: int) -> tuple[str, int] | WerkzeugResponse:
    rt = get_runtime()
    form = forms.RoundForm()
    if form.validate_on_submit():
        with rt.db.session() as session:
            try:
                create_round(
                    rt,
                    session,
                    team_id,
                    _local(rt, form.opens.data),
                    _local(rt, form.closes.data),
                    form.min_responses.data,
                    channel=form.channel.data,
                    cards=form.cards.data,
                )
            except UserError as exc:
                form.closes.errors = [said(exc.message)]
            else:
                flash(_("The round has been created."))
                _warn_small(session, team_id)
                return _to_team(team_id, "rounds")
    return _again(rt, team_id, round_form=form)


def _warn_small(session: Any, team_id: int) -> None:
    """The web side of ``round create``/``open``'s ``fewer_participants_than_threshold`` warning."""
    if small_team(session, team_id, int(get_runtime().config["MIN_RESPONSES"])):
        flash(_("The team has fewer participants than the round's threshold, so it cannot show figures."), "error")


def _round_action(round_id: int, action: str) -> tuple[str, int] | WerkzeugResponse:
    """Open, remind, close or send the kick-off: one domain call, then the tasks the CLI runs too."""
    from pipeline.tasks import send_pending, start_pipeline

    rt = get_runtime()
    card_round = False
    with rt.db.session() as session:
        team_id = get_round(session, round_id).team_id
        if not forms.EmptyForm().validate_on_submit():
            return _again(rt, team_id)
        try:
            if action == "open":
                card_round = open_round(rt, session, round_id).channel == CARDS
                message = (
                    _("The round is open. Print the answer cards, shuffle them and hand them out.")
                    if card_round
                    else _("The round is open and the invitations are on their way.")
                )
                if not card_round:  # a card round's number of cards is what counts, not its participants
                    _warn_small(session, team_id)
            elif action == "remind":
                count = remind_round(rt, session, round_id)
                message = ngettext("%(num)s reminder is on its way.", "%(num)s reminders are on their way.", count)
            elif action == "close":
                rnd = close_round(rt, session, round_id)
                message = _("The round is closed; the report is being made.")
                card_round = rnd.channel == CARDS
            else:
                recipient = queue_kickoff(session, round_id)
                message = _("The kick-off email is on its way to %(email)s.", email=recipient)
        except UserError as exc:
            flash(said(exc.message), "error")
            return _to_team(team_id, "rounds")
    # the change is committed (whether the broker takes the work now or the tick later): log it
    logged = {"open": "round_opened", "remind": "round_reminded", "close": "round_closed"}
    if action in logged:
        audit_log.note(logged[action], f"round {round_id}")
    from kombu.exceptions import OperationalError as BrokerError

    try:
        if action == "close":
            start_pipeline(round_id)  # flags the round for the first tick if the broker refuses
        else:
            send_pending.delay(round_id)
    except BrokerError:
        # the change is committed; the tick takes the work up once the broker is back
        flash(message)
        flash(_("The task service is not reachable right now; the work starts as soon as it is back."), "error")
        return _to_team(team_id, "rounds")
    flash(message)
    if card_round:  # the cards, the live count and "Close now" are on the round's own page
        return redirect(url_for("manage.round_page", round_id=round_id), 303)
    return _to_team(team_id, "rounds")


@bp.post("/rounds/<int:round_id>/open")
def open_now(round_id: int) -> tuple[str, int] | WerkzeugResponse:
    return _round_action(round_id, "open")


@bp.post("/rounds/<int:round_id>/remind")
def remind(round_id: int) -> tuple[str, int] | WerkzeugResponse:
    return _round_action(round_id, "remind")


@bp.post("/rounds/<int:round_id>/close")
def close_now(round_id: int) -> tuple[str, int] | WerkzeugResponse:
    return _round_action(round_id, "close")


def _round_page(round_id: int, template: str) -> tuple[str, int]:
    """A page about one round: the round, its team and how many answers are in (a count, never a figure)."""
    rt = get_runtime()
    with rt.db.session() as session:
        rnd = get_round(session, round_id)
        context = {
            "rnd": rnd,
            "team": rnd.team,
            "responses": answer_count(session, round_id),
            "reported": session.get(Report, round_id) is not None,
            "button": forms.EmptyForm(),
        }
        return render_template(template, **context), 200


@bp.get("/rounds/<int:round_id>/close")
def confirm_close(round_id: int) -> tuple[str, int]:
    """ "Close now?": the confirmation page (a plain form, no JavaScript) before ``close_now``."""
    return _round_page(round_id, "web/round_close.html")


def _confirm(round_id: int, action: str, title: str, consequences: list[str], yes: str) -> tuple[str, int]:
    """A confirmation page before ``action`` (a POST endpoint of this blueprint) on a round."""
    with get_runtime().db.session() as session:
        rnd = get_round(session, round_id)
        return confirm_page(
            f"{title} – {rnd.team.name}",
            consequences,
            action=url_for(action, round_id=round_id),
            yes=yes,
            back=url_for("pages.team", team_id=rnd.team_id) + "#rounds",
            no=_("No, back to the team"),
            danger=False,
        )


@bp.get("/rounds/<int:round_id>/open")
def confirm_open(round_id: int) -> tuple[str, int]:
    """ "Open now?": opening sends the invitations, which cannot be called back."""
    with get_runtime().db.session() as session:
        rnd = get_round(session, round_id)
        number, cards = rnd.number, rnd.channel == CARDS
    return _confirm(
        round_id,
        "manage.open_now",
        _("Open round %(n)s now", n=number),
        [
            _("The round opens now and takes answers until it closes.")
            + " "
            + (
                _("The answer cards can be printed on the round's page.")
                if cards
                else _("Every active participant gets an email with a personal link at once; it cannot be called back.")
            ),
            _("The round's threshold of answers is fixed from now on."),
        ],
        _("Yes, open round %(n)s now", n=number),
    )


@bp.get("/rounds/<int:round_id>/remind")
def confirm_remind(round_id: int) -> tuple[str, int]:
    """ "Send a reminder?": the emails cannot be called back."""
    return _confirm(
        round_id,
        "manage.remind",
        _("Send a reminder"),
        [
            _("Everyone who has not answered yet gets the same link again by email; nobody sees who that is."),
            _("Sent emails cannot be called back."),
        ],
        _("Yes, send the reminder"),
    )


@bp.get("/rounds/<int:round_id>/kickoff")
def confirm_kickoff(round_id: int) -> tuple[str, int]:
    """ "Send the kick-off?": an email to the leader."""
    with get_runtime().db.session() as session:
        leader = get_round(session, round_id).team.leader_email
    return _confirm(
        round_id,
        "manage.kickoff",
        _("Send the kick-off to the leader"),
        [
            _(
                "%(email)s gets the shared knowledge of step 1 by email: the pillars, roles, traps and links.",
                email=leader,
            ),
            _("Sent emails cannot be called back."),
        ],
        _("Yes, send the kick-off"),
    )


@bp.get("/rounds/<int:round_id>/mail/retry")
def confirm_retry(round_id: int) -> tuple[str, int]:
    """ "Send the failed emails again?"."""
    return _confirm(
        round_id,
        "manage.retry_mail",
        _("Send the failed emails again"),
        [
            _("Every email of the round that failed for good is sent again, with the same content and link."),
            _("Sent emails cannot be called back."),
        ],
        _("Yes, send them again"),
    )


@bp.get("/rounds/<int:round_id>")
def round_page(round_id: int) -> tuple[str, int]:
    """A round's own page for the facilitator: for a card round, the cards, the live count of cards used
    (a plain refresh: no JavaScript) and "Close now". A count, never a figure, while the round is open."""
    return _round_page(round_id, "web/round.html")


def _pdf_download(round_id: int, make: Callable[[], bytes], name: str) -> WerkzeugResponse:
    """A card round's PDF as a download, or back to the round page with the reason it cannot be made."""
    try:
        pdf = make()
    except UserError as exc:
        flash(said(exc.message), "error")
        return redirect(url_for("manage.round_page", round_id=round_id), 303)
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/rounds/<int:round_id>/cards.pdf")
def cards_pdf(round_id: int) -> WerkzeugResponse:
    """The open card round's answer cards (the same PDF as ``tryghed round cards``)."""
    rt = get_runtime()
    with rt.db.session() as session:
        name = f"svarkort-runde-{get_round(session, round_id).number}.pdf"
        return _pdf_download(round_id, lambda: card_sheet(rt, session, round_id)[0], name)


@bp.get("/rounds/<int:round_id>/paper.pdf")
def paper_pdf(round_id: int) -> WerkzeugResponse:
    """The open card round's paper barometer, for those without a phone."""
    rt = get_runtime()
    with rt.db.session() as session:
        name = f"papirskema-runde-{get_round(session, round_id).number}.pdf"
        return _pdf_download(round_id, lambda: paper_form(rt, session, round_id), name)


@bp.post("/rounds/<int:round_id>/kickoff")
def kickoff(round_id: int) -> tuple[str, int] | WerkzeugResponse:
    return _round_action(round_id, "kickoff")


@bp.post("/rounds/<int:round_id>/mail/retry")
def retry_mail(round_id: int) -> tuple[str, int] | WerkzeugResponse:
    """Send the round's failed emails again (the same ``retry_failed`` as ``tryghed mail retry``)."""
    from kombu.exceptions import OperationalError as BrokerError

    from pipeline.tasks import send_again
    from survey.domain.mail_retry import retry_failed

    rt = get_runtime()
    with rt.db.session() as session:
        team_id = get_round(session, round_id).team_id
        if not forms.EmptyForm().validate_on_submit():
            return _again(rt, team_id)
        result = retry_failed(rt, session, round_id)
    try:
        send_again(result)
    except BrokerError:
        flash(_("The emails are back in the queue; they go out when the mail service is running again."), "error")
        return _to_team(team_id, "delivery")
    if result["requeued"]:
        flash(_("%(n)s emails are being sent again.", n=result["requeued"]))
    else:
        flash(_("There were no failed emails to send again."))
    return _to_team(team_id, "delivery")


@bp.post("/rounds/<int:round_id>/followup")
def followup(round_id: int) -> tuple[str, int] | WerkzeugResponse:
    """Schedule the next round of the team (the same ``create_followup`` as ``tryghed round followup``)."""
    rt = get_runtime()
    form = forms.FollowupForm()
    with rt.db.session() as session:
        team_id = get_round(session, round_id).team_id
        if form.validate_on_submit():
            try:
                create_followup(
                    rt, session, round_id, timedelta(days=form.after_days.data), timedelta(days=form.duration_days.data)
                )
            except UserError as exc:
                form.after_days.errors = [said(exc.message)]
            else:
                flash(_("The follow-up round has been scheduled."))
                return _to_team(team_id, "rounds")
    return _again(rt, team_id, followup_form=form)
