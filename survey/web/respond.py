"""The respondent's page ``/s/<token>`` (and an answer card's, ``/k/<code>``): the form, and the clear pages
for every other case.

Status codes are the contract: 200 form / thank-you, 400 bad answers (nothing stored), 404 unknown
link, 409 already answered, 410 round not open. Nothing here logs a token or an answer.

The link is the secret: these pages keep no session (``security.NoSessionForRespondents``), set no
cookie and carry no CSRF token, and a post for a link the sender does not know finds nothing to store
(the reasoning is in docs/privacy.md, "The respondent's pages keep no session and need no CSRF token").
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, Response, current_app, g, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from survey.content import Instrument
from survey.data.models import RetiredLink
from survey.domain import answer_store, ratelimit
from survey.domain.tokens import card_code_of, hash_card_code, hash_token, looks_like_token
from survey.locales import format_when
from survey.runtime import get_runtime
from survey.web.barometer_form import barometer_form_class, scale_choices, valid_answers
from survey.web.security import CachedPage

bp = Blueprint("respond", __name__)


# Pages whose HTML depends only on what is in their cache key, rendered once per process (per app), with
# their Content-Security-Policy computed once from the same bytes. Nothing in them is per person: the
# respondent's pages carry no CSRF token and set no cookie (the link is the secret, docs/privacy.md).
_CACHE_LIMIT = 512


def _cached(key: tuple[object, ...], render: Callable[[], str]) -> CachedPage:
    cache: dict[tuple[object, ...], CachedPage] = current_app.extensions.setdefault("tryghed.pages", {})
    page = cache.get(key)
    if page is None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()  # a bound, not an LRU: the keys are few (pages x languages x open rounds)
        page = cache[key] = CachedPage.of(render())
    return page


def _page(kind: str, status: int, lang: str = "da") -> Response:
    g.lang = lang
    page = _cached(("message", kind, lang), lambda: render_template("survey/message.html", kind=kind))
    return page.response(status)


def _email_hash(token: str) -> str | None:
    """The stored hash of an email link's token; None when it cannot be one (no database lookup then)."""
    return hash_token(token) if looks_like_token(token) else None


def _card_hash(typed: str) -> str | None:
    """The stored hash of an answer card's code, as typed or scanned; None when it cannot be one."""
    code = card_code_of(typed)
    return hash_card_code(get_runtime().config["SECRET_KEY"], code) if code else None


def _retired(session: Session, token_hash: str | None) -> RetiredLink | None:
    """A link whose round was purged: recognised, so its owner is told the round is closed."""
    return session.get(RetiredLink, token_hash) if token_hash else None


@bp.route("/k/<code>", methods=["GET", "POST"], merge_slashes=False)
def card(code: str) -> Response:
    """An answer card's page: the same form and pages as an email link (``answer``), found by the card's
    code (any case, with or without the dashes and spaces of the printed groups)."""
    return _answer_retrying(_card_hash(code))


@bp.route("/k/", methods=["GET", "POST"])
def card_entry() -> Response:
    """Where a card's code is typed (POST: on to the card's page, 303), and what a card round protects."""
    g.lang = _lang_from_header()
    typed = request.form.get("code", "") if request.method == "POST" else ""
    code = card_code_of(typed)
    if code is not None:
        return Response(status=303, headers={"Location": f"/k/{code}"})
    page = render_template("survey/card_entry.html", typed=typed, error=request.method == "POST")
    return Response(page, 400 if request.method == "POST" else 200, mimetype="text/html")


# merge_slashes=False: "/s//<token>" answers 404 instead of a redirect to the form (one more way to reach it)
@bp.route("/s/<token>", methods=["GET", "POST"], merge_slashes=False)
def answer(token: str) -> Response:
    """The form (GET), or the answers stored (POST); a clear page with its status code otherwise.

    PostgreSQL is read and written on an autocommit connection (``Database.answer_engine``), on the driver's
    own connection: a whole submission makes two round trips to the database, with no BEGIN, COMMIT or
    ping. The GET looks the link up; the POST looks it up in the round its form names and stores the
    answers in one statement (``_submit_at_once``). Anything else (a form that names no round, a link used
    or closed, answers missing) takes the long way: look up, then store (``answer_store.store_answer``).
    A connection the server closed in the meantime fails its first statement, and the request is then run
    once more on a fresh one (the failed statement had no effect: it was its own transaction).
    """
    return _answer_retrying(_email_hash(token))


def _answer_retrying(token_hash: str | None) -> Response:
    try:
        return _answer(token_hash)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        return _answer(token_hash)


def _answer(token_hash: str | None) -> Response:
    rt = get_runtime()
    posted = request.method == "POST"
    with rt.db.answer_engine.connect() as conn:  # closing it rolls back whatever was not committed
        if posted and token_hash and conn.dialect.name == "postgresql":
            stored_lang = _submit_at_once(conn, token_hash)
            if stored_lang is not None:
                return _page("thanks", 200, stored_lang)
        # a POST does not ask whether the link was answered: storing refuses a used link by itself
        link = answer_store.find_link(conn, token_hash, flag=not posted) if token_hash else None
        if link is None:
            conn.rollback()
            with rt.db.session() as session:
                retired = _retired(session, token_hash)
                return _page("closed", 410, retired.lang) if retired is not None else _unknown(session)
        lang = link.lang
        g.lang = lang
        if link.status != "open":
            return _page("closed", 410, lang)
        if link.answered:
            return _page("answered", 409, lang)
        instrument = rt.content.instrument(link.instrument)
        if not posted:
            return _form_page(link, instrument, lang)
        refused = _unreadable_body()
        if refused is None and (answers := valid_answers(request.form, instrument, lang)) is not None:
            outcome = answer_store.store_answer(conn, link.invitation_id, link.round_id, answers)
            return _page({"stored": "thanks"}.get(outcome, outcome), _STATUS[outcome], lang)
        # Nothing to store: a used link is told so first, as on a GET (then the body's problem)
        answered = answer_store.was_answered(conn, link)
        if answered is not False:  # None: the round's tables are gone (it was sealed meanwhile)
            return _page("answered", 409, lang) if answered else _page("closed", 410, lang)
        if refused is not None:
            return _page(*refused, lang)
        # Something is missing or off the scale: the form finds and shows every error, keeps the chosen
        # answers, and nothing is stored.
        form = barometer_form_class(instrument, lang)()
        form.validate()
        page = _render_form(link, instrument, lang, form, str(int(link.round_id)), errors=True)
        return Response(page, 400, mimetype="text/html")


# The form names the round it was made for (a hidden field), so that its POST can look the link up and
# store the answers in one statement (``_submit_at_once``). Not a secret, and the same for everyone in the
# round; item keys never begin with "_". The cached page holds a mark where the round goes.
ROUND_FIELD, INSTRUMENT_FIELD = "_round", "_instrument"
_ROUND_MARK = f"round-{secrets.token_hex(8)}"  # random per process: no text of the page can be taken for it
_ROUND_DIGITS = 9  # rounds.id is an integer column: nine digits always fit


def _form_page(link: answer_store.Link, instrument: Instrument, lang: str) -> Response:
    """The empty form, rendered once per (instrument, language, minimum of answers, closing time); the
    round's id is put in per request."""
    key = ("form", link.instrument, lang, link.min_responses, link.closes_at)

    def render() -> str:  # on a miss only: finding the form class hashes the whole instrument
        form = barometer_form_class(instrument, lang)(formdata=None)
        return _render_form(link, instrument, lang, form, _ROUND_MARK, errors=False)

    page = _cached(key, render)
    return page.with_mark(_ROUND_MARK.encode(), str(int(link.round_id)).encode()).response(200)


def _submit_at_once(conn: Connection, token_hash: str) -> str | None:
    """PostgreSQL: a POST from a form that names its round, stored with one statement
    (``answer_store.submit``) when its answers are complete for the instrument it names. The link's
    language when stored; None when not (no round named, something missing, the link is not that round's,
    used or closed): the long way then finds out what to answer."""
    if _unreadable_body() is not None:
        return None
    round_ref, name = request.form.get(ROUND_FIELD, ""), request.form.get(INSTRUMENT_FIELD, "")
    instrument = get_runtime().content.instruments.get(name)
    if instrument is None or not (round_ref.isascii() and round_ref.isdigit() and len(round_ref) <= _ROUND_DIGITS):
        return None
    answers = valid_answers(request.form, instrument, "da")  # the language only words error messages
    if answers is None:
        return None
    return answer_store.submit(conn, token_hash, int(round_ref), name, answers)


def _render_form(
    link: answer_store.Link, instrument: Instrument, lang: str, form: FlaskForm, round_ref: str, *, errors: bool
) -> str:
    rt = get_runtime()
    return render_template(
        "survey/form.html",
        form=form,
        errors=errors,
        round_ref=round_ref,
        round_field=ROUND_FIELD,
        instrument_field=INSTRUMENT_FIELD,
        instrument=instrument,
        lang=lang,
        k=link.min_responses,
        closes=format_when(link.closes_at, lang, rt.tz),
        links=rt.content.links,
        scale=scale_choices(instrument, lang),
    )


_STATUS = {"stored": 200, "answered": 409, "closed": 410}


def _unknown(session: Session) -> Response:
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
    response = _page("limited", 429, lang)
    response.headers["Retry-After"] = str(verdict.retry_after)
    return response


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
def csrf_error(_exc: CSRFError) -> Response:
    return _page("bad_request", 400, getattr(g, "lang", "da"))


def _error_lang() -> str:
    """The participant's language when the link was recognised, else the browser's."""
    return getattr(g, "lang", None) or _lang_from_header()


@bp.app_errorhandler(413)
def too_large(_exc: Exception) -> Response:
    return _page("too_large", 413, _error_lang())


@bp.app_errorhandler(400)
def unreadable(_exc: Exception) -> Response:
    """A body Werkzeug cannot parse (broken multipart, bad encoding) is the sender's fault: 400."""
    return _page("unreadable", 400, _error_lang())


@bp.app_errorhandler(404)
def not_found(_exc: Exception) -> Response:
    return _page("unknown", 404, _error_lang())


@bp.app_errorhandler(405)
def not_allowed(exc: HTTPException) -> Response:
    response = _page("not_allowed", 405, _error_lang())
    response.headers["Allow"] = ", ".join(getattr(exc, "valid_methods", None) or ["GET"])
    return response


@bp.app_errorhandler(500)
def server_error(_exc: Exception) -> Response:
    return _page("server_error", 500, _error_lang())
