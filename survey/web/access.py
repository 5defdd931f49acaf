"""Who may reach which page: the deny-by-default rule of the web app, in one function.

- Public: the respondent's form (``/s/``), the signed report link (``/r/``), ``/login``, ``/healthz`` and
  static files. Everything else needs a login: a GET without one is sent to ``/login`` (303), any other
  method gets 401.
- Roles: the ``admin`` blueprint is for admins; the ``manage`` and ``organisation`` blueprints (changing
  teams, participants, rounds, units and leaders) for facilitators and admins; the other pages for every role.
- Teams: a page that names a team, round, participant, action or request in its URL is checked against
  the account: a leader reaching another team's object gets 404 (not 403, which would confirm it exists).
- Units: a unit's overview is open to facilitators and admins, and to the account that heads the unit or
  a unit above it; anyone else gets 404.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.data.models import Action, FacilitationRequest, Participant, Round, Team
from survey.domain.overview import may_see_team
from survey.domain.units import may_see_unit
from survey.web.request_db import request_session

PUBLIC_ENDPOINTS = frozenset({"static", "auth.login", "health.healthz", "sso.start", "sso.callback"})
PUBLIC_BLUEPRINTS = frozenset({"respond", "report_view"})
ROLE_BLUEPRINTS = {
    "admin": ("admin",),
    "audit": ("admin",),
    "manage": ("admin", "facilitator"),
    "paper": ("admin", "facilitator"),
    "organisation": ("admin", "facilitator"),
    "tracks": ("admin", "facilitator"),
    "attention": ("admin", "facilitator"),
}
# URL parameters that name no stored object, only a word of a fixed vocabulary the view checks itself
# (the kind of a session of the team's process): nothing to own, so nothing to check here
_VOCABULARY = frozenset({"session_kind"})
# URL parameter -> how to find the team it belongs to
_OWNER = {
    "team_id": lambda s, v: s.get(Team, v),
    "round_id": lambda s, v: getattr(s.get(Round, v), "team", None),
    "participant_id": lambda s, v: getattr(s.get(Participant, v), "team", None),
    "action_id": lambda s, v: _action_team(s, v),
    "request_id": lambda s, v: _request_team(s, v),
}


def _request_team(session: Any, request_id: int) -> Team | None:
    req = session.get(FacilitationRequest, request_id)
    return session.get(Team, req.team_id) if req else None


def _action_team(session: Any, action_id: int) -> Team | None:
    action = session.get(Action, action_id)
    rnd = session.get(Round, action.round_id) if action else None
    return rnd.team if rnd else None


def is_public(endpoint: str | None, blueprint: str | None) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or blueprint in PUBLIC_BLUEPRINTS


def guard() -> WerkzeugResponse | None:
    """``before_request``: let public endpoints through; otherwise require a login, the role and the team."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: Flask answers 404/405 itself
        return None
    if is_public(endpoint, request.blueprint):
        return None
    if not current_user.is_authenticated:
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")), 303)
        abort(401)
    g.lang = current_user.lang
    allowed = ROLE_BLUEPRINTS.get(request.blueprint or "")
    if allowed is not None and current_user.role not in allowed:
        abort(403)
    if request.blueprint in (
        "admin",
        "audit",
    ):  # accounts and the log, not teams: the role check above is the whole rule
        return None
    args = dict(request.view_args or {})
    unit_id = args.pop("unit_id", None)
    for name in _VOCABULARY:
        args.pop(name, None)
    unknown = set(args) - set(_OWNER)
    if unknown:  # a URL parameter this guard does not know how to check: refuse rather than guess
        abort(404)
    if unit_id is not None and not may_see_unit(
        request_session(), unit_id, current_user.email, sees_all=current_user.manages
    ):
        abort(404)
    for name, value in args.items():
        team = _OWNER[name](request_session(), value)
        if team is None or not may_see_team(team, current_user.role, current_user.email):
            abort(404)
    return None


def headed_units() -> list[tuple[int, str]]:
    """The units (id, name) the logged-in account heads (units.head_email), read once per request: the
    menu and the start page both show them. Facilitators and admins head none here (they see every unit)."""
    if "headed_units" not in g:
        from survey.domain.units import units_headed_by

        if current_user.manages:
            g.headed_units = []
        else:
            g.headed_units = [(u.id, u.name) for u in units_headed_by(request_session(), current_user.email)]
    return list(g.headed_units)
