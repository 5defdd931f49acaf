"""The names pages show for stored keys (a round's status, an attention point, a toolkit step) in the
page's language.

Each table is translated once per language for the life of the process and then read as a dict: a start
page with 2,000 teams looks a status up 2,000 times, and translating it again per row (as a macro holding the
whole table did) was most of the page's time (docs/benchmarks.md, "Pages at the size of a municipality").
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from flask import g

from survey.locales import N_, translate_table

_ROUND_STATUSES = {
    "draft": N_("Not opened"),
    "scheduled": N_("Scheduled"),
    "open": N_("Open"),
    "closing": N_("Closing"),
    "reported": N_("Reported"),
    "failed": N_("Failed"),
}

_ATTENTION_TEXTS = {
    "closing_low": N_("Closes soon with few answers"),
    "failed_mail": N_("Emails could not be delivered"),
    "plan_no_followup": N_("An action plan without a follow-up round"),
    "request": N_("Asks for a facilitator"),
}


@cache
def _in(table: str, lang: str) -> Mapping[str, str]:
    # the catalogs are fixed for the life of the process (survey.locales), so a table per language is too
    return MappingProxyType(translate_table(_ROUND_STATUSES if table == "statuses" else _ATTENTION_TEXTS, lang))


def round_statuses() -> Mapping[str, str]:
    """Round status -> its name in the page's language ('reported' -> 'Rapporteret')."""
    return _in("statuses", g.get("lang") or "da")


def attention_texts() -> Mapping[str, str]:
    """Attention key (``survey.domain.overview.TeamStatus.attention``) -> what it means, in the page's language."""
    return _in("attention", g.get("lang") or "da")


def step_names(steps: Mapping[str, Any]) -> dict[str, str]:
    """Step key -> '2. Tag temperaturen', from the content's steps, in the page's language."""
    lang = g.get("lang") or "da"
    return {key: f"{step.number}. {step.title.get(lang)}" for key, step in steps.items()}


def init_app(app: Any) -> None:
    """Expose the tables to templates."""
    app.jinja_env.globals.update(round_statuses=round_statuses, attention_texts=attention_texts, step_names=step_names)
