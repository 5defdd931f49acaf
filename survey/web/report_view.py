"""The leader's report as a web page: ``/r/<signed link>``, the same content as the PDF.

The link is signed with the secret key and names only the round; it is sent in the report email to the
leader and is the only way in. It lives ``TRYGHED_REPORT_LINK_DAYS`` days from signing (a setting of its
own: ``TRYGHED_RETENTION_DAYS=0`` must not make links eternal), dies with the round's purge (410), and
dies when the team's leader changes (410 too, see below).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, g, render_template

from pipeline.report_builder import build_report_data
from pipeline.report_data import ReportData
from pipeline.report_html import debrief_html, report_html
from survey.data.models import Round
from survey.domain.report_links import LinkExpired, read_link, signed_before_change
from survey.runtime import get_runtime
from survey.web import audit_log

bp = Blueprint("report_view", __name__)


@bp.get("/r/<token>", merge_slashes=False)  # "/r//<token>" is not the report: no redirect to it
def report_page(token: str) -> tuple[str, int]:
    """The whole report as a page, linking to its debrief guide."""
    return _report(token, lambda data: report_html(data, for_web=True, debrief_url=f"/r/{token}/debrief"))


@bp.get("/r/<token>/debrief", merge_slashes=False)
def debrief_page(token: str) -> tuple[str, int]:
    """The debrief guide alone, to print for the team meeting."""
    return _report(token, debrief_html)


def _report(token: str, render: Callable[[ReportData], str]) -> tuple[str, int]:
    rt = get_runtime()
    try:
        link = read_link(rt, token)
    except LinkExpired:
        g.lang = "da"
        return render_template("survey/message.html", kind="closed"), 410
    if link is None:
        g.lang = "da"
        return render_template("survey/message.html", kind="unknown"), 404
    round_id = link.round_id
    with rt.db.session() as session:
        rnd = session.get(Round, round_id)
        if rnd is not None and rnd.purged_at is not None:  # the round's data are gone; so is its link
            g.lang = "da"
            return render_template("survey/message.html", kind="closed"), 410
        if rnd is not None and signed_before_change(link, rnd.team.leader_changed_at):
            # The team's leader changed after this link was sent: it was the old leader's. 410 like an expired
            # link (genuine, no longer valid; 404 is for links we never made), in the team's language like the
            # report; the page names no team, round or person, and says nothing of the change.
            g.lang = rnd.team.lang
            return render_template("survey/message.html", kind="link_replaced"), 410
        try:
            data = build_report_data(session, round_id, rt.content, rt.tz)
        except LookupError:
            g.lang = "da"
            return render_template("survey/message.html", kind="unknown"), 404
    audit_log.note("report_viewed", f"round {round_id} (the emailed link)")  # who holds the link is unknown
    return render(data), 200
