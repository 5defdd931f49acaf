"""The respondent's page ``/s/<token>``: the form, and the clear pages for every other case.

Status codes are the contract: 200 form / thank-you, 400 bad answers (nothing stored), 404 unknown
link, 409 already answered, 410 round not open. Nothing here logs a token or an answer.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, Response, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from markupsafe import Markup
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from survey.content import Instrument
from survey.data.models import RetiredLink
from survey.domain import answer_store, ratelimit
from survey.domain.tokens import hash_token, looks_like_token
from survey.i18n import format_when
from survey.runtime import get_runtime
from survey.web.barometer_form import answers_of, barometer_form_class, scale_choices, valid_answers

bp = Blueprint("respond", __name__)


# Pages whose HTML depends only on what is in their cache key, rendered once per process (per app). Not
# per-person: a form page is cached with a placeholder where each request puts its own CSRF field.
_CACHE_LIMIT = 512
_CSRF_SLOT = f"<!--csrf-{secrets.token_hex(16)}-->"  # random per process: no content text can hold it


def _cached(key: tuple[object, ...], render: Callable[[], str]) -> str:
    cache: dict[tuple[object, ...], str] = current_app.extensions.setdefault("tryghed.pages", {})
    page = cache.get(key)
    if page is None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()  # a bound, not an LRU: the keys are few (pages x languages x open rounds)
        page = cache[key] = render()
    return page


def _page(kind: str, status: int, lang: str = "da") -> tuple[str, int]:
    g.lang = lang
    return _cached(("message", kind, lang), lambda: render_template("survey/message.html", kind=kind)), status


def _lookup(conn: Connection, token: str) -> answer_store.Link | None:
    if not looks_like_token(token):
        return None
    return answer_store.find_link(conn, hash_token(token))


def _retired(session: Session, token: str) -> RetiredLink | None:
    """A link whose round was purged: recognised, so its owner is told the round is closed."""
    if not looks_like_token(token):
        return None
    return session.get(RetiredLink, hash_token(token))


@bp.route("/s/<token>", methods=["GET", "POST"])
def answer(token: str) -> tuple[str, int] | Response:
    """The form (GET), or the answers stored (POST); a clear page with its status code otherwise.

    PostgreSQL is read and written on an autocommit connection (``Database.answer_engine``): the lookup is
    one statement and storing is one statement (``answer_store.store_answer``), so a whole submission makes
    three round trips to the database (GET: lookup; POST: lookup, store), with no BEGIN, COMMIT or ping. A
    connection the server closed in the meantime fails its first statement, and the request is then run
    once more on a fresh one (the failed statement had no effect: it was its own transaction).
    """
    try:
        return _answer(token)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        return _answer(token)


def _answer(token: str) -> tuple[str, int] | Response:
    rt = get_runtime()
    with rt.db.answer_engine.connect() as conn:  # closing it rolls back whatever was not committed
        link = _lookup(conn, token)
        if link is None:
            conn.rollback()
            with rt.db.session() as session:
                retired = _retired(session, token)
                return _page("closed", 410, retired.lang) if retired is not None else _unknown(session)
        lang = link.lang
        g.lang = lang
        if link.status != "open":
            return _page("closed", 410, lang)
        if link.answered:
            return _page("answered", 409, lang)
        if request.method == "POST" and (refused := _unreadable_body()) is not None:
            return _page(refused[0], refused[1], lang)
        instrument = rt.content.instrument(link.instrument)
        context = {
            "instrument": instrument,
            "lang": lang,
            "k": link.min_responses,
            "closes": format_when(link.closes_at, lang, rt.tz),
            "links": rt.content.links,
            "scale": scale_choices(instrument, lang),
        }
        form_class = barometer_form_class(instrument, lang)
        if request.method == "GET":
            page = _cached(
                ("form", link.instrument, lang, context["k"], context["closes"]),
                lambda: render_template("survey/form.html", form=form_class(formdata=None), csrf=_CSRF_SLOT, **context),
            )
            return page.replace(_CSRF_SLOT, _csrf_field(), 1), 200
        if (answers := _accepted(instrument, lang)) is not None:
            outcome = answer_store.store_answer(conn, link.invitation_id, link.round_id, answers)
            return _page({"stored": "thanks"}.get(outcome, outcome), _STATUS[outcome], lang)
        form = form_class()
        if not form.validate_on_submit():
            # A missing or forged token (the session cookie is gone: browser restarted, page kept open for
            # days) is told as such; the form shown carries a fresh token and keeps the chosen answers.
            stale = bool(getattr(form, "csrf_token", None) and form.csrf_token.errors)
            page = render_template("survey/form.html", form=form, csrf=_CSRF_SLOT, errors=True, stale=stale, **context)
            return page.replace(_CSRF_SLOT, str(getattr(form, "csrf_token", "")), 1), 400
        # cannot be reached in practice: _accepted applies the same checks as the form
        outcome = answer_store.store_answer(conn, link.invitation_id, link.round_id, answers_of(form, instrument))
        return _page({"stored": "thanks"}.get(outcome, outcome), _STATUS[outcome], lang)


_STATUS = {"stored": 200, "answered": 409, "closed": 410}


def _accepted(instrument: Instrument, lang: str) -> dict[str, int] | None:
    """The posted answers when the form would accept them (CSRF token and every statement), else None.

    The common case, checked without building the WTForms form (16 fields: a quarter of a POST's own CPU
    time, docs/benchmarks.md); the same CSRF check as Flask-WTF's form (``validate_csrf`` with the app's
    settings) and the same answer rule (``forms.valid_answers``). Anything else goes through the form,
    which finds the errors to show.
    """
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        try:
            validate_csrf(request.form.get(field))
        except ValidationError:
            return None
    return valid_answers(request.form, instrument, lang)


def _csrf_field() -> str:
    """The hidden CSRF input as WTForms writes it (``{{ form.csrf_token }}``), for this request's session."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return ""  # as the form would: no CSRF field at all
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return str(Markup('<input id="{0}" name="{0}" type="hidden" value="{1}">').format(name, generate_csrf()))


def _unknown(session: Session) -> tuple[str, int] | Response:
    """404 for an unknown link; 429 once one client has tried too many unknown links (see ratelimit)."""
    rt = get_runtime()
    lang = _lang_from_header()
    session.rollback()
    verdict = ratelimit.note_unknown(
        session,
        ratelimit.client_key(rt.config["SECRET_KEY"], request.remote_addr),
        rt.now(),
        limit=int(rt.config["LINK_GUESS_LIMIT"]),
        window=timedelta(seconds=int(rt.config["LINK_GUESS_WINDOW"])),
    )
    if not verdict.refused:
        return _page("unknown", 404, lang)
    body, status = _page("limited", 429, lang)
    return Response(body, status=status, headers={"Retry-After": str(verdict.retry_after)})


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _unreadable_body() -> tuple[str, int] | None:
    """(page, status) when a POST body is not a form this page can read; None when it is.

    Checked before the form reads the body: Flask-WTF would otherwise read a JSON body as form data and
    fail on lists and numbers (a 500). A form is never sent with files, so files are refused too.
    """
    if request.mimetype not in FORM_TYPES:
        return "unreadable", 415
    if request.files:
        return "unreadable", 400
    return None


def _lang_from_header() -> str:
    best = request.accept_languages.best_match(["da", "en"])
    return best or "da"


@bp.app_errorhandler(CSRFError)
def csrf_error(_exc: CSRFError) -> tuple[str, int]:
    return _page("bad_request", 400, getattr(g, "lang", "da"))


def _error_lang() -> str:
    """The participant's language when the link was recognised, else the browser's."""
    return getattr(g, "lang", None) or _lang_from_header()


@bp.app_errorhandler(413)
def too_large(_exc: Exception) -> tuple[str, int]:
    return _page("too_large", 413, _error_lang())


@bp.app_errorhandler(400)
def unreadable(_exc: Exception) -> tuple[str, int]:
    """A body Werkzeug cannot parse (broken multipart, bad encoding) is the sender's fault: 400."""
    return _page("unreadable", 400, _error_lang())


@bp.app_errorhandler(404)
def not_found(_exc: Exception) -> tuple[str, int]:
    return _page("unknown", 404, _error_lang())


@bp.app_errorhandler(405)
def not_allowed(exc: HTTPException) -> Response:
    body, status = _page("not_allowed", 405, _error_lang())
    allow = ", ".join(getattr(exc, "valid_methods", None) or ["GET"])
    return Response(body, status=status, headers={"Allow": allow})


@bp.app_errorhandler(500)
def server_error(_exc: Exception) -> tuple[str, int]:
    return _page("server_error", 500, _error_lang())
