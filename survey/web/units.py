"""The unit overview in the web app: every team of a unit side by side (``tryghed unit show`` as a page).

Who sees a unit: facilitators and admins see every unit; any other account sees the units whose head email
is its own, and every unit below them (``survey.domain.units.visible_units``), checked by ``access.guard``. A head
sees the overview's figures, which have passed the cross-team disclosure rule, never a team's own report.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, render_template
from flask_login import current_user

from survey.domain.units import unit_page, unit_report, units_for
from survey.runtime import get_runtime

bp = Blueprint("units", __name__)


@bp.get("/units")
def index() -> tuple[str, int]:
    """The units this account may open, with links to each overview and its PDF."""
    rt = get_runtime()
    with rt.db.session() as session:
        units = units_for(session, current_user.email, sees_all=current_user.manages)
        return render_template("web/units.html", units=units), 200


@bp.get("/units/<int:unit_id>")
def overview(unit_id: int) -> tuple[str, int]:
    """The overview page: the same document as the PDF, laid out for the screen."""
    rt = get_runtime()
    with rt.db.session() as session:
        return unit_page(rt, session, unit_id, g.lang), 200


@bp.get("/units/<int:unit_id>/overview.pdf")
def overview_pdf(unit_id: int) -> Response:
    """The overview as a tagged PDF to take to a meeting; it becomes the baseline of the next one's change."""
    rt = get_runtime()
    with rt.db.session() as session:
        pdf, _pages = unit_report(rt, session, unit_id, g.lang)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="tryghed-enhed-{unit_id}.pdf"'},
    )
