"""The web app's language: the gettext catalogs of ``survey.locales`` through Flask-Babel (views) and a
per-language cache (templates), and dates and numbers formatted with Babel's locale data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_date_format, get_time_format, parse_pattern
from babel.numbers import format_percent as babel_percent
from flask import Flask, current_app, g
from flask_babel import Babel, format_decimal
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from survey.errors import in_lang
from survey.locales import babel_locale, compile_catalogs, translate, translations


def when(value: datetime | None, with_time: bool = True) -> str:
    """A moment in the configured time zone, in the page's language: '29. nov. 2026 14.00'.

    The same text as Flask-Babel's ``format_date(value, "medium")`` + ``format_time(value, "short")``
    (a test holds them equal), from patterns parsed once per language and remembered per request: a team
    page shows each round's times twice, and Flask-Babel resolves locale, zone and pattern on every call.
    """
    if value is None:
        return ""
    memo: dict[tuple[datetime, bool], str] = g.setdefault("_when", {})
    key = (value, with_time)
    if key not in memo:
        lang = g.get("lang") or "da"  # the page's locale, as Flask-Babel's selector reads it (init_babel)
        local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(_zone(current_app.config["TIMEZONE"]))
        locale, day, time = _patterns(lang)
        text = day.apply(local.date(), locale)
        memo[key] = f"{text} {time.apply(local, locale)}" if with_time else text
    return memo[key]


def clock(value: datetime | None) -> str:
    """The time of day of a moment in the configured time zone, in the page's language ('16.00')."""
    if value is None:
        return ""
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(_zone(current_app.config["TIMEZONE"]))
    locale, _day, time = _patterns(g.get("lang") or "da")
    return str(time.apply(local, locale))


@lru_cache(maxsize=8)
def _patterns(lang: str) -> tuple[Any, Any, Any]:
    locale = Locale.parse(babel_locale(lang))  # en_GB for English, as in the PDFs and the emails
    return locale, parse_pattern(get_date_format("medium", locale)), parse_pattern(get_time_format("short", locale))


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@pass_eval_context
def gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
    """``_()`` in templates, looked up once per distinct text per request instead of once per cell.

    Behaves as Jinja's new-style gettext over Flask-Babel (Markup when autoescaping, ``%`` formatting
    always, so ``%%`` is ``%``): a start page with 2,000 teams asks for the same dozen texts 26,000 times,
    and each of Flask-Babel's lookups goes through the request's locale and domain (docs/benchmarks.md).
    It takes the evaluation context, not the template context: Jinja derives a new template context for
    every call of a function that takes one from inside a block that sets variables, 12 a start page.
    """
    cache: dict[tuple[str, bool, bool], str] | None = g.get("_texts")
    if cache is None:
        cache = g._texts = {}
    escape = eval_ctx.autoescape
    if not variables:  # the most frequent case: the whole result is the same every time
        done = cache.get((string, escape, True))
        if done is None:
            done = cache[(string, escape, True)] = _text(cache, string, escape) % {}
        return done
    if all(type(v) is int for v in variables.values()):  # counts and numbers: nothing to escape
        text = _text(cache, string, False) % variables
        return Markup(text) if escape else text
    return _text(cache, string, escape) % variables


def _text(cache: dict[tuple[str, bool, bool], str], string: str, escape: bool) -> str:
    found = cache.get((string, escape, False))
    if found is None:
        # the process-wide catalog of the page's language, loaded once (survey.locales), not per request
        found = translations(g.get("lang") or "da").ugettext(string)
        found = cache[(string, escape, False)] = Markup(found) if escape else found
    return found


def text_pattern(string: str, /) -> str:
    """A text with placeholders in the page's language, not yet filled in: for a text repeated per row, read
    once before the loop and filled per row with ``%`` (``t_round % {"n": 3}``), where ``_()`` would be one
    more call per row. Plain text: the page escapes what is filled in as it escapes any value."""
    return translations(g.get("lang") or "da").ugettext(string)


@lru_cache(maxsize=4096)
def _percent(value: float, locale: str) -> str:
    return babel_percent(value, locale=locale)


def percent_in(value: float | None, locale: str) -> str:
    """A share as a percentage in a CLDR locale ('40 %' in da_DK); Babel's formatting, remembered per value
    (the start page formats one per team, from few distinct values)."""
    return "" if value is None else _percent(value, locale)


def percent(value: float | None) -> str:
    """A share as a percentage in the page's language (``percent_in`` with the page's locale)."""
    return percent_in(value, babel_locale(g.get("lang") or "da"))  # as init_babel's


def said(value: Any) -> Any:
    """A domain message (``survey.errors.Text``) in the page's language; anything else unchanged."""
    return in_lang(value, g.get("lang") or "da")


def init_babel(app: Flask) -> None:
    """Flask-Babel over the shared catalogs; the page language is chosen per request in ``g.lang``, and its
    CLDR locale is ``survey.locales``' (en_GB for English: the PDFs', the emails' and the pages' dates agree;
    its catalog is found as "en" by gettext's fallback from en_GB)."""
    from survey.locales import TRANSLATIONS_DIR

    Babel(
        app,
        locale_selector=lambda: babel_locale(getattr(g, "lang", "da")),
        default_translation_directories=str(TRANSLATIONS_DIR),
        default_timezone=str(app.config["TIMEZONE"]),
    )
    app.jinja_env.globals["translate"] = translate  # a text in a named language (the bilingual 503 page)


def init_app(app: Flask) -> None:
    """Compile missing catalogs, expose the formatting filters and the cached gettext to templates."""
    compile_catalogs()
    app.jinja_env.globals.update(_=gettext, gettext=gettext)  # after Flask-Babel installed its own
    app.jinja_env.globals["text_pattern"] = text_pattern  # extracted as a keyword (Makefile, extract-messages)
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["said"] = said
    app.jinja_env.filters["number"] = lambda v, digits=2: format_decimal(v, format="#,##0." + "0" * digits)
