"""Every team that needs a facilitator's attention, by name, a page at a time (``/attention``).

The start page shows the first teams of the same list (``survey.domain.overview.needs_attention``) and leads
here when there are more. Facilitators and admins only (``access.ROLE_BLUEPRINTS``): the list spans every
team of the organisation.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from survey.data.models import Team
from survey.domain import overview
from survey.runtime import get_runtime
from survey.web.request_db import request_session

bp = Blueprint("attention", __name__)


@bp.get("/attention")
def index() -> tuple[str, int]:
    """A page of the list; ``?after=<team id>`` pages on after that team (an unknown team: the first page)."""
    rt = get_runtime()
    after_id = request.args.get("after", type=int)
    session = request_session()  # the one the sign-in check read in (survey.web.request_db)
    after = None
    if after_id is not None and 0 < after_id < 2**31:  # beyond a database integer no team has the id
        found = session.execute(select(Team.id, Team.name).where(Team.id == after_id)).first()
        after = overview.TeamName(*found) if found else None
    attention = overview.needs_attention(session, rt.now(), after=after, limit=overview.ATTENTION_PAGE_SIZE)
    return render_template("web/attention.html", attention=attention, paged=after is not None), 200
