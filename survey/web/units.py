"""The unit overview in the web app: every team of a unit side by side (``tryghed unit show`` as a page).

Who sees a unit: facilitators and admins see every unit; any other account sees the units whose head email
is its own, and every unit below them (``survey.domain.units.visible_units``), checked by ``access.guard``. A head
sees the overview's figures, which have passed the cross-team disclosure rule, never a team's own report.

The PDF is made by a worker (``survey.domain.unit_reports``): asking for it answers at once with a page that
shows how far it is (reloading itself, no JavaScript) and then offers the file.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.domain import unit_reports
from survey.domain.units import get_unit, unit_page, units_for
from survey.errors import NotFound
from survey.runtime import get_runtime
from survey.web import audit_log
from survey.web.forms import EmptyForm

bp = Blueprint("units", __name__)

REFRESH_S = 3  # how often the progress page reloads itself


@bp.get("/units")
def index() -> tuple[str, int]:
    """The units this account may open, with links to each overview and its PDF."""
    rt = get_runtime()
    with rt.db.session() as session:
        units = units_for(session, current_user.email, sees_all=current_user.manages)
        return render_template("web/units.html", units=units), 200


@bp.get("/units/<int:unit_id>")
def overview(unit_id: int) -> tuple[str, int]:
    """The overview page: the same document as the PDF, laid out for the screen, a page of rows at a time."""
    rt = get_runtime()
    audit_log.note("unit_report_viewed", f"unit {unit_id}")
    page = request.args.get("page", 1, type=int) or 1
    with rt.db.session() as session:
        view = unit_page(rt, session, unit_id, g.lang, page)
        unit = get_unit(session, unit_id)
        return render_template("web/unit_overview.html", view=view, unit=unit), 200


@bp.get("/units/<int:unit_id>/overview.pdf")
def overview_pdf(unit_id: int) -> WerkzeugResponse:
    """The old address of the PDF: now the page that makes it and offers it."""
    return redirect(url_for("units.report", unit_id=unit_id), 303)


@bp.get("/units/<int:unit_id>/report")
def report(unit_id: int) -> tuple[str, int]:
    """Where the unit's PDF is: waiting, being made (with the step), ready to download, or failed."""
    rt = get_runtime()
    job_id = request.args.get("job")
    with rt.db.session() as session:
        unit = get_unit(session, unit_id)
        try:
            job = (
                unit_reports.get_report(session, unit_id, job_id)
                if job_id
                else unit_reports.latest_report(session, unit_id, g.lang)
            )
        except NotFound:
            abort(404)
        elapsed = int((rt.now() - job.started_at).total_seconds()) if job and job.started_at else 0
        return render_template(
            "web/unit_report.html",
            unit=unit,
            job=job,
            elapsed=elapsed,
            working=unit_reports.WORKING,
            refresh=REFRESH_S,
            button=EmptyForm(),
        ), 200


@bp.post("/units/<int:unit_id>/report")
def request_report(unit_id: int) -> WerkzeugResponse:
    """Ask for the unit's PDF in the account's language; the worker makes it (in-process without a broker)."""
    from kombu.exceptions import OperationalError as BrokerError

    from pipeline.tasks import render_unit_report

    if not EmptyForm().validate_on_submit():
        abort(400)
    rt = get_runtime()
    with rt.db.session() as session:
        job_id = unit_reports.request_report(rt, session, unit_id, g.lang)
    try:
        render_unit_report.delay(job_id)
    except BrokerError:
        # recorded: the scheduler enqueues it again once the broker is back (unit_reports.stalled_reports)
        flash(_("The task service is not reachable right now; the work starts as soon as it is back."), "error")
    return redirect(url_for("units.report", unit_id=unit_id, job=job_id), 303)


@bp.get("/units/<int:unit_id>/report.pdf")
def report_file(unit_id: int) -> Response:
    """The finished PDF of request ``job`` (404 until it is ready)."""
    rt = get_runtime()
    with rt.db.session() as session:
        try:
            job = unit_reports.get_report(session, unit_id, request.args.get("job", ""))
        except NotFound:
            abort(404)
        if job.status != "done" or job.pdf is None:
            abort(404)
        audit_log.note("unit_report_downloaded", f"unit {unit_id}")
        return Response(
            job.pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="tryghed-enhed-{unit_id}.pdf"'},
        )
