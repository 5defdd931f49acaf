"""The audit log in the web app: views say what they did (``note``), one hook writes it once the answer
is known to be a success; admins read the log (newest first, a page at a time) and export it as CSV."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, render_template, request, stream_with_context
from flask_login import current_user

from survey.domain import audit
from survey.domain.validation import MAX_ID
from survey.runtime import get_runtime

bp = Blueprint("audit", __name__, url_prefix="/admin")


def note(action: str, subject: str | None = None) -> None:
    """Log ``action`` by the signed-in account when this request succeeds (status below 400)."""
    g.audit = (action, subject)


def write(action: str, actor: str | None, subject: str | None = None) -> None:
    """Log ``action`` now, whatever the answer (sign-ins and their failures)."""
    rt = get_runtime()
    with rt.db.session() as session:
        audit.record(session, action, actor, subject, rt.now())


def _after(response: Response) -> Response:
    noted = g.pop("audit", None)
    if noted is not None and response.status_code < 400:
        actor = current_user.email if current_user.is_authenticated else None
        write(noted[0], actor, noted[1])
    return response


def init_app(app: Flask) -> None:
    app.after_request(_after)


@bp.get("/audit")
def events() -> tuple[str, int]:
    """The newest events; ``?before=ID`` pages back."""
    before = request.args.get("before", type=int)
    with get_runtime().db.session() as session:
        rows = audit.page(session, before if before and 0 < before <= MAX_ID else None)
        return render_template("web/audit.html", events=rows, more=len(rows) == audit.PAGE), 200


@bp.get("/audit.csv")
def export() -> Response:
    """The whole log as a CSV file, streamed in batches."""
    rt = get_runtime()

    def rows():  # type: ignore[no-untyped-def]
        with rt.db.session() as session:
            yield from audit.export_csv(session)

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="tryghed-audit.csv"'},
    )
