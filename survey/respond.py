"""The respondent's page ``/s/<token>``: the form, and the clear pages for every other case.

Status codes are the contract: 200 form / thank-you, 400 bad answers (nothing stored), 404 unknown
link, 409 already answered, 410 round not open. Nothing here logs a token or an answer.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from survey import answer_store, ratelimit
from survey.db import affected
from survey.forms import answers_of, barometer_form_class, scale_choices
from survey.i18n import format_when
from survey.models import Invitation, RetiredLink, Round
from survey.runtime import get_runtime
from survey.tokens import hash_token, looks_like_token

bp = Blueprint("respond", __name__)


def _page(kind: str, status: int, lang: str = "da") -> tuple[str, int]:
    g.lang = lang
    return render_template("survey/message.html", kind=kind), status


def _lookup(session: Session, token: str) -> tuple[Invitation, Round] | None:
    if not looks_like_token(token):
        return None
    found = session.execute(
        select(Invitation, Round)
        .join(Round, Round.id == Invitation.round_id)
        .where(Invitation.token_hash == hash_token(token))
    ).first()
    return (found[0], found[1]) if found is not None else None


def _retired(session: Session, token: str) -> RetiredLink | None:
    """A link whose round was purged: recognised, so its owner is told the round is closed."""
    if not looks_like_token(token):
        return None
    return session.get(RetiredLink, hash_token(token))


@bp.route("/s/<token>", methods=["GET", "POST"])
def answer(token: str) -> tuple[str, int] | Response:
    rt = get_runtime()
    with rt.db.session() as session:
        found = _lookup(session, token)
        if found is None:
            retired = _retired(session, token)
            return _page("closed", 410, retired.lang) if retired is not None else _unknown(session)
        inv, rnd = found
        lang = inv.lang
        g.lang = lang
        if rnd.status != "open":
            return _page("closed", 410, lang)
        if inv.answered:
            return _page("answered", 409, lang)
        if request.method == "POST" and (refused := _unreadable_body()) is not None:
            return _page(refused[0], refused[1], lang)
        instrument = rt.content.instrument(rnd.instrument)
        form = barometer_form_class(instrument, lang)()
        context = {
            "form": form,
            "instrument": instrument,
            "lang": lang,
            "k": rnd.min_responses,
            "closes": format_when(rnd.closes_at, lang, rt.tz),
            "links": rt.content.links,
            "scale": scale_choices(instrument, lang),
        }
        if request.method == "GET":
            return render_template("survey/form.html", **context), 200
        if not form.validate_on_submit():
            # A missing or forged token (the session cookie is gone: browser restarted, page kept open for
            # days) is told as such; the form shown carries a fresh token and keeps the chosen answers.
            stale = bool(getattr(form, "csrf_token", None) and form.csrf_token.errors)
            return render_template("survey/form.html", errors=True, stale=stale, **context), 400
        return _store(session, inv.id, rnd.id, answers_of(form, instrument), lang)


def _store(session: Session, invitation_id: int, round_id: int, answers: dict[str, int], lang: str) -> tuple[str, int]:
    """Claim the invitation and fill one answer slot in one transaction, or store nothing at all.

    Two statements and the commit, whatever the size of the round. Answers and closing never cross: the
    claim holds the round row in share mode while it checks that the round is open (PostgreSQL
    ``FOR SHARE``: answers do not wait for each other), and closing updates that row, so it waits for the
    answers in flight, and an answer that comes after it sees the new status. SQLite ignores the lock
    and serialises writers; the same statement re-checks that the round is open. The transaction that
    read the link is kept (no new connection): under READ COMMITTED each statement sees fresh data, and
    SQLite began no transaction for the reads.
    """
    still_open = (
        select(Round.id).where(Round.id == round_id, Round.status == "open").with_for_update(read=True).exists()
    )
    claimed = affected(
        session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.answered.is_(False), still_open)
            .values(answered=True)
        )
    )
    if claimed != 1:
        now_status = session.scalar(select(Round.status).where(Round.id == round_id))
        session.rollback()
        return _page("closed", 410, lang) if now_status != "open" else _page("answered", 409, lang)
    answer_store.fill_slot(session, round_id, answers)
    session.commit()  # committed before the thank-you page is sent
    return _page("thanks", 200, lang)


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
