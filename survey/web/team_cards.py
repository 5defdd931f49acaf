"""The start page's team cards, each as the few texts it shows, made in one pass in the page's language.

A card shows a team's name, step, latest round, answers and track. Filled in by the template cell by cell
it took an attribute lookup, a translation table lookup and an escape per cell, for 25 cards a page; here
each card's texts are put together once, escaped once (the team's name is the only text a user wrote), and
the template writes them out as they are (``web/start.html``, docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from types import MappingProxyType
from typing import NamedTuple

from flask import g
from markupsafe import Markup, escape

from survey.content.model import Step
from survey.domain.overview import TeamStatus
from survey.locales import N_, babel_locale, translate_table, translations
from survey.web.i18n import percent_in
from survey.web.labels import ROUND_STATUSES


class Card(NamedTuple):
    """One team's card: every text escaped, ready to be written out."""

    team_id: int
    name: Markup
    step: Markup
    latest: Markup
    answers: Markup
    track: Markup
    attention: bool


class _Texts(NamedTuple):
    none_yet: Markup
    facilitated: Markup
    selfguided: Markup
    round: str  # "Round %(n)s", escaped, to be filled in with a number
    answered: str  # "%(n)s of %(total)s answered", the same


@cache
def _texts(lang: str) -> _Texts:
    # the catalogs are fixed for the life of the process (survey.locales): translated and escaped once
    said = translations(lang).ugettext
    return _Texts(
        escape(said(N_("None yet"))),
        escape(said(N_("Facilitated"))),
        escape(said(N_("Self-guided"))),
        str(escape(said(N_("Round %(n)s")))),
        str(escape(said(N_("%(n)s of %(total)s answered")))),
    )


@lru_cache(maxsize=16)
def _names(lang: str, steps: tuple[Step, ...]) -> tuple[Mapping[str, Markup], Mapping[str, str]]:
    # step and status names, escaped once per language (the content's steps are fixed for the process)
    step_name = {step.key: escape(f"{step.number}. {step.title.get(lang)}") for step in steps}
    status_name = {key: str(escape(name)) for key, name in translate_table(ROUND_STATUSES, lang).items()}
    return MappingProxyType(step_name), MappingProxyType(status_name)


def team_cards(statuses: Iterable[TeamStatus], steps: tuple[Step, ...]) -> list[Card]:
    """The cards of ``statuses`` in the page's language (``g.lang``); ``steps``: the content's steps."""
    lang = g.get("lang") or "da"
    texts = _texts(lang)
    step_name, status_name = _names(lang, steps)
    locale = babel_locale(lang)
    cards = []
    for status in statuses:
        team, latest = status.team, status.latest
        if latest is None:
            said_latest = texts.none_yet
        else:  # numbers and escaped names only: nothing left to escape
            said_latest = Markup(f"{texts.round % {'n': int(latest.number)}}: {status_name[latest.status]}")
        if latest is not None and status.invited:
            count = texts.answered % {"n": int(status.responses), "total": int(status.invited)}
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
                texts.facilitated if team.track == "facilitated" else texts.selfguided,
                bool(status.attention),
            )
        )
    return cards
