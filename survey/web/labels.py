"""The names pages show for stored keys (a round's status, an attention point, a toolkit step) in the
page's language.

Each table is translated once per request and then read as a dict: a start page with 2,000 teams looks a
status up 2,000 times, and translating it again per row (as a macro holding the whole table did) was most
of the page's time (docs/benchmarks.md, "Pages at the size of a municipality").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import g
from flask_babel import gettext as _


def _per_request(build: Callable[[], dict[str, str]]) -> dict[str, str]:
    tables: dict[str, dict[str, str]] = g.setdefault("_labels", {})
    name = build.__name__
    if name not in tables:
        tables[name] = build()
    return tables[name]


def _round_statuses() -> dict[str, str]:
    return {
        "draft": _("Not opened"),
        "scheduled": _("Scheduled"),
        "open": _("Open"),
        "closing": _("Closing"),
        "reported": _("Reported"),
        "failed": _("Failed"),
    }


def _attention_texts() -> dict[str, str]:
    return {
        "closing_low": _("Closes soon with few answers"),
        "failed_mail": _("Emails could not be delivered"),
        "plan_no_followup": _("An action plan without a follow-up round"),
        "request": _("Asks for a facilitator"),
    }


def round_statuses() -> dict[str, str]:
    """Round status -> its name ('reported' -> 'Rapporteret')."""
    return _per_request(_round_statuses)


def attention_texts() -> dict[str, str]:
    """Attention key (``survey.domain.overview.TeamStatus.attention``) -> what it means."""
    return _per_request(_attention_texts)


def step_names(steps: Mapping[str, Any]) -> dict[str, str]:
    """Step key -> '2. Tag temperaturen', from the content's steps, in the page's language."""
    lang = g.get("lang") or "da"
    return {key: f"{step.number}. {step.title.get(lang)}" for key, step in steps.items()}


def init_app(app: Any) -> None:
    """Expose the tables to templates."""
    app.jinja_env.globals.update(round_statuses=round_statuses, attention_texts=attention_texts, step_names=step_names)
