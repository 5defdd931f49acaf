"""The staff's error pages: 400, 403, 404, 405, 413 and 500 in the app's layout, with its navigation and in
the account's language.

The respondent's links (``/s/``, ``/k/``) keep their own pages (``survey.web.respond``: "open the link
from the email again"), which say nothing about the staff's side. A GET to an address that only takes a
POST (a reload or a bookmark of the page a form error was shown on) goes to the nearest page above it
that answers GET, instead of a 405.
"""

from __future__ import annotations

from flask import Flask, current_app, g, redirect, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response as WerkzeugResponse

from survey import errors as domain
from survey.web import respond
from survey.web.security import SESSIONLESS_PREFIX


def _respondent() -> bool:
    return request.path.startswith(SESSIONLESS_PREFIX) or request.blueprint == "respond"


def _page(kind: int | str, status: int) -> tuple[str, int]:
    if not g.get("lang"):
        authenticated = current_user.is_authenticated
        g.lang = current_user.lang if authenticated else request.accept_languages.best_match(["da", "en"]) or "da"
    return render_template("web/error.html", kind=kind), status


def _nearest_get_page() -> str | None:
    """For a form's address, the closest address above it that answers GET (``/teams/3/participants/import``
    -> ``/teams/3``); None for anything else."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:  # only a real form address: werkzeug also says 405 for a path no rule takes (an id past 2^31)
        adapter.match(request.path, method="POST")
    except HTTPException:
        return None
    parts = request.path.rstrip("/").split("/")
    while len(parts) > 1:
        parts.pop()
        path = "/".join(parts) or "/"
        try:
            adapter.match(path, method="GET")
        except RequestRedirect as moved:
            return moved.new_url
        except HTTPException:
            continue
        return path
    return None


def bad_request(exc: Exception) -> WerkzeugResponse | tuple[str, int]:
    if _respondent():
        return respond.unreadable(exc)
    return _page(400, 400)


def csrf_error(exc: CSRFError) -> WerkzeugResponse | tuple[str, int]:
    if _respondent():
        return respond.csrf_error(exc)
    return _page("csrf", 400)


def forbidden(_exc: Exception) -> tuple[str, int]:
    return _page(403, 403)


def not_found(exc: Exception) -> WerkzeugResponse | tuple[str, int]:
    if _respondent():
        return respond.not_found(exc)
    return _page(404, 404)


def not_allowed(exc: MethodNotAllowed) -> WerkzeugResponse | tuple[str, int]:
    if _respondent():
        return respond.not_allowed(exc)
    if request.method in ("GET", "HEAD") and (target := _nearest_get_page()) is not None:
        return redirect(target, 303)
    body, status = _page(405, 405)
    response = WerkzeugResponse(body, status, mimetype="text/html")
    response.headers["Allow"] = ", ".join(exc.valid_methods or ["POST"])
    return response


def too_large(exc: Exception) -> WerkzeugResponse | tuple[str, int]:
    if _respondent():
        return respond.too_large(exc)
    return _page(413, 413)


def server_error(exc: Exception) -> WerkzeugResponse | tuple[str, int]:
    if _respondent():
        return respond.server_error(exc)
    return _page(500, 500)


def init_app(app: Flask) -> None:
    """Register the handlers after the respondent blueprint's, so these decide who gets which page."""
    app.register_error_handler(400, bad_request)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(403, forbidden)
    app.register_error_handler(404, not_found)
    app.register_error_handler(405, not_allowed)
    app.register_error_handler(413, too_large)
    app.register_error_handler(500, server_error)
    # a domain refusal a view did not turn into a form error: a missing object is 404, anything else 400
    app.register_error_handler(domain.NotFound, not_found)
    app.register_error_handler(domain.UserError, bad_request)
