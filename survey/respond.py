"""The respondent's page ``/s/<token>``: the form, and the clear pages for every other case.

Status codes are the contract: 200 form / thank-you, 400 bad answers (nothing stored), 404 unknown
link, 409 already answered, 410 round not open. Nothing here logs a token or an answer.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from survey.forms import answers_of, barometer_form_class
from survey.i18n import format_when
from survey.models import Invitation, Round
from survey.models import Response as AnswerSet
from survey.runtime import get_runtime
from survey.tokens import hash_token, looks_like_token

bp = Blueprint("respond", __name__)


def _page(kind: str, status: int, lang: str = "da") -> tuple[str, int]:
    g.lang = lang
    return render_template("survey/message.html", kind=kind), status


def _lookup(session: Session, token: str) -> tuple[Invitation, Round] | None:
    if not looks_like_token(token):
        return None
    inv = session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if inv is None:
        return None
    rnd = session.get(Round, inv.round_id)
    return (inv, rnd) if rnd is not None else None


@bp.route("/s/<token>", methods=["GET", "POST"])
def answer(token: str) -> tuple[str, int] | Response:
    rt = get_runtime()
    with rt.db.session() as session:
        found = _lookup(session, token)
        if found is None:
            return _page("unknown", 404, _lang_from_header())
        inv, rnd = found
        lang = inv.lang
        g.lang = lang
        if rnd.status != "open":
            return _page("closed", 410, lang)
        if inv.answered:
            return _page("answered", 409, lang)
        instrument = rt.content.instrument(rnd.instrument)
        form = barometer_form_class(instrument, lang)()
        context = {
            "form": form,
            "instrument": instrument,
            "lang": lang,
            "k": rnd.min_responses,
            "closes": format_when(rnd.closes_at, lang, rt.tz),
            "links": rt.content.links,
        }
        if request.method == "GET":
            return render_template("survey/form.html", **context), 200
        if not form.validate_on_submit():
            return render_template("survey/form.html", errors=True, **context), 400
        return _store(session, inv.id, rnd.id, answers_of(form, instrument), lang)


def _store(
    session: Session, invitation_id: int, round_id: int, answers: dict[str, int], lang: str
) -> tuple[str, int]:
    """Mark the invitation answered and store the answers in one transaction, or nothing at all."""
    session.rollback()  # start a fresh transaction for the write
    # A shared lock on the round (PostgreSQL): closing waits for answers already being stored.
    status = session.execute(
        select(Round.status).where(Round.id == round_id).with_for_update(read=True)
    ).scalar_one()
    if status != "open":
        session.rollback()
        return _page("closed", 410, lang)
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.answered.is_(False))
        .values(answered=True)
    ).rowcount
    if claimed != 1:
        session.rollback()
        return _page("answered", 409, lang)
    session.add(AnswerSet(round_id=round_id, answers=answers))
    session.commit()  # committed before the thank-you page is sent
    return _page("thanks", 200, lang)


def _lang_from_header() -> str:
    best = request.accept_languages.best_match(["da", "en"])
    return best or "da"


@bp.app_errorhandler(CSRFError)
def csrf_error(_exc: CSRFError) -> tuple[str, int]:
    return _page("bad_request", 400, getattr(g, "lang", "da"))


@bp.app_errorhandler(413)
def too_large(_exc: Exception) -> tuple[str, int]:
    return _page("bad_request", 413, getattr(g, "lang", "da"))


__all__ = ["bp", "abort"]
