"""The start page's team cards, each as the few texts it shows, made in one pass in the page's language.

A card shows a team's name, step, latest round, answers and track. Filled in by the template cell by cell
it took an attribute lookup, a translation table lookup and an escape per cell, for 25 cards a page; here
each card's texts are put together once, escaped once (the team's name is the only text a user wrote), and
the template writes them out as they are (``web/start.html``, docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from flask import g
from markupsafe import Markup, escape

from survey.content.model import Step
from survey.domain.overview import TeamStatus
from survey.locales import babel_locale
from survey.web.i18n import percent_in, text_pattern
from survey.web.labels import round_statuses, step_names


class Card(NamedTuple):
    """One team's card: every text escaped, ready to be written out."""

    team_id: int
    name: Markup
    step: Markup
    latest: Markup
    answers: Markup
    track: Markup
    attention: bool


def team_cards(statuses: Iterable[TeamStatus], steps: Mapping[str, Step]) -> list[Card]:
    """The cards of ``statuses`` in the page's language (``g.lang``); ``steps``: the content's steps by key."""
    lang = g.get("lang") or "da"
    # the names and texts every card shares, escaped once a page (the tables are translated once a language)
    step_name = {key: escape(name) for key, name in step_names(steps).items()}
    status_name = {key: str(escape(name)) for key, name in round_statuses().items()}
    none_yet = escape(text_pattern("None yet"))
    facilitated, selfguided = escape(text_pattern("Facilitated")), escape(text_pattern("Self-guided"))
    # filled in with numbers only, so escaped before
    said_round = str(escape(text_pattern("Round %(n)s")))
    said_answered = str(escape(text_pattern("%(n)s of %(total)s answered")))
    locale = babel_locale(lang)
    cards = []
    for status in statuses:
        team, latest = status.team, status.latest
        if latest is None:
            said_latest = none_yet
        else:  # numbers and escaped names only: nothing left to escape
            said_latest = Markup(f"{said_round % {'n': int(latest.number)}}: {status_name[latest.status]}")
        if latest is not None and status.invited:
            count = said_answered % {"n": int(status.responses), "total": int(status.invited)}
            said_answers = Markup(f"{count} ({escape(percent_in(status.rate, locale))})")
        else:
            said_answers = Markup("–")
        cards.append(
            Card(
                int(team.id),
                escape(team.name),
                step_name[status.step],
                said_latest,
                said_answers,
                facilitated if team.track == "facilitated" else selfguided,
                bool(status.attention),
            )
        )
    return cards
