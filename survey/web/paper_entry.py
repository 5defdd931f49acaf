"""Typing in a collected paper form (issue 21, point 4): a facilitator's page on a card round.

Each form uses up one spare card: the facilitator types the code printed on it, and the answers go through
the same check (``barometer_form.valid_answers``) and the same storage (``answer_store.find_link`` and
``store_answer``) as an answer on a phone, so a typed form is one more anonymous answer set, single-use by
the card. There is no "next unused spare" button: Tryghed cannot tell a spare card from one in somebody's
pocket (it never knows the distribution), so any card it picked could be a person's; the reasoning is in
docs/privacy.md ("Paper forms"). The page says that whoever types a form in sees that one form.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.domain import answer_store
from survey.domain.answer_store import answer_count
from survey.domain.cards import CHANNEL as CARDS
from survey.domain.rounds import get_round
from survey.domain.tokens import card_code_of, hash_card_code
from survey.runtime import get_runtime
from survey.web import audit_log, forms
from survey.web.barometer_form import barometer_form_class, scale_choices, valid_answers

bp = Blueprint("paper", __name__)

# a refused entry: the status the page answers with (as the respondent's page would), and why
_REFUSED = {"unknown": 400, "answered": 409, "closed": 410}


def _refusal(outcome: str) -> str:
    if outcome == "answered":
        return _("This card has been used already. Nothing was stored: take another spare card.")
    if outcome == "closed":
        return _("The round is closed and takes no more answers. Nothing was stored.")
    return _("This is not the code of one of this round's cards. Check it against the card; nothing was stored.")


@bp.route("/rounds/<int:round_id>/paper", methods=["GET", "POST"])
def entry(round_id: int) -> tuple[str, int] | WerkzeugResponse:
    """GET: the empty entry form. POST: one paper form stored with a spare card's code (303 back to an
    empty form), or the form again with what is wrong (nothing stored)."""
    rt = get_runtime()
    form = forms.PaperEntryForm()
    with rt.db.session() as session:
        rnd = get_round(session, round_id)
        if rnd.channel != CARDS:
            abort(404)  # an email round has no spare cards
        lang = rnd.team.lang  # the paper form was printed in the team's language
        instrument = rt.content.instrument(rnd.instrument)
        context: dict[str, Any] = {
            "rnd": rnd,
            "team": rnd.team,
            "form": form,
            "instrument": instrument,
            "lang": lang,
            "scale": scale_choices(instrument, lang),
            "answers": barometer_form_class(instrument, lang)(formdata=None),
            "responses": answer_count(session, round_id),
        }
        if rnd.status != "open":
            return render_template("web/paper_entry.html", **context), 200 if request.method == "GET" else 410
        if request.method == "GET":
            return render_template("web/paper_entry.html", **context), 200
        answers = valid_answers(request.form, instrument, lang)
        code_ok = form.validate_on_submit()
        if answers is None:  # the form shows every statement left out or off the scale, and keeps the rest
            context["answers"] = checked = barometer_form_class(instrument, lang)()
            checked.validate()
        if code_ok and answers is not None:
            outcome = _store(round_id, form.code.data, answers)
            if outcome == "stored":
                audit_log.note("paper_form_entered", f"round {round_id}")  # never the card's code
                flash(_("The paper form is stored, and the card is used up. Shred both."))
                return redirect(url_for("paper.entry", round_id=round_id) + "#entry-title", 303)
            form.code.errors = [_refusal(outcome)]
            return render_template("web/paper_entry.html", **context), _REFUSED[outcome]
        return render_template("web/paper_entry.html", **context), 400


def _store(round_id: int, typed: str, answers: dict[str, int]) -> str:
    """Store ``answers`` under the spare card ``typed`` (the respondent's own lookup and store): "stored",
    else "unknown" (not a card of this round), "answered" (the card was used) or "closed"."""
    rt = get_runtime()
    code = card_code_of(typed)
    if code is None:
        return "unknown"
    with rt.db.answer_engine.connect() as conn:
        link = answer_store.find_link(conn, hash_card_code(rt.config["SECRET_KEY"], code))
        if link is None or link.round_id != round_id:
            conn.rollback()
            return "unknown"
        if link.status != "open":
            return "closed"
        if link.answered:
            return "answered"
        return answer_store.store_answer(conn, link.invitation_id, link.round_id, answers)
