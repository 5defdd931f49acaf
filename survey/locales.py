"""The languages Tryghed speaks, its gettext catalogs and the CLDR locale behind each language.

Pure (no Flask): the report pipeline, the emails (Celery workers without a request) and the web pages all
take their texts from the one catalog here (``translations/{da,en}/LC_MESSAGES/messages.po``, one domain)
and format dates and numbers through Babel with ``babel_locale``. The web app reaches the same catalogs
through Flask-Babel (``survey.web.i18n``), which imports ``TRANSLATIONS_DIR`` from here: the catalogs'
home is at the bottom of the import graph, so nothing low has to reach up into the web package.

The ``.po`` files are the source and are committed; the compiled ``.mo`` files are build output (``make
translations`` and the Dockerfile run ``pybabel compile``). A checkout where nobody has compiled them yet
still works: ``compile_catalogs`` builds any missing or stale ``.mo`` before a catalog is loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from babel.support import NullTranslations

LANGS = ("da", "en")
# British English writes "3 March 2026", the form a Danish reader of English expects
BABEL_LOCALES = {"da": "da_DK", "en": "en_GB"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
log = logging.getLogger(__name__)


def babel_locale(lang: str) -> str:
    """The CLDR locale for a language code (Danish when unknown)."""
    return BABEL_LOCALES.get(lang, BABEL_LOCALES["da"])


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "mark for extraction, translate later"
    """Mark ``msgid`` for ``pybabel extract`` where it is defined; ``translate`` looks it up when used."""
    return msgid


def compile_catalogs(folder: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Compile each ``messages.po`` whose ``.mo`` is missing or older; returns the files written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(folder.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as src:
                catalog = read_po(src)
            with mo.open("wb") as out:
                write_mo(out, catalog)
            written.append(mo)
        except OSError as exc:  # a read-only install must have compiled them in its build
            log.warning("cannot compile %s: %s", po, exc)
    return written


@lru_cache(maxsize=len(LANGS) + 1)
def translations(lang: str) -> NullTranslations:
    """The catalog of ``lang`` (Danish when unknown), loaded once per language per process."""
    from babel.support import Translations

    compile_catalogs()
    return Translations.load(str(TRANSLATIONS_DIR), [lang if lang in LANGS else "da"], "messages")


def translate(lang: str, msgid: str, /, **values: Any) -> str:
    """The text ``msgid`` in ``lang`` with ``%(name)s`` placeholders filled from ``values``.

    ``pybabel extract`` knows it as ``translate:2`` (babel.cfg, Makefile), so a literal msgid here is
    extracted like ``_()``; a msgid from a table is marked with ``N_`` where the table is written.
    """
    text = translations(lang).ugettext(msgid)
    return text % values if values else text


def format_when(value: datetime | None, lang: str, tz: ZoneInfo) -> str:
    """A moment in local time the way people write it: '3. december 2026 kl. 16.00' / '3 December 2026, 16:00'."""
    if value is None:
        return ""
    # Babel's locale data loads only when a date is shown: the long date and the short time
    from babel.dates import format_date, format_time

    local = value.astimezone(tz)
    day = format_date(local, "long", locale=babel_locale(lang))
    time = format_time(local, "short", locale=babel_locale(lang))
    return translate(lang, "%(day)s, %(time)s", day=day, time=time)


def translate_plural(lang: str, singular: str, plural: str, n: int, /, **values: Any) -> str:
    """The singular or plural text for ``n`` in ``lang`` (``translate_plural:2,3`` for extraction);
    ``%(num)d`` is ``n``."""
    return translations(lang).ungettext(singular, plural, n) % {"num": n, **values}


def pN_(context: str, msgid: str) -> tuple[str, str]:  # noqa: N802 - gettext's convention, with a context
    """Mark ``msgid`` with a ``msgctxt`` for extraction (``pN_:1c,2``): the same English word that a page and
    the report translate differently ("Answers": "Svar" / "Svarfordeling")."""
    return (context, msgid)


def translate_table(table: Mapping[str, str | tuple[str, str]], lang: str) -> dict[str, str]:
    """A table of marked msgids (``N_`` or ``pN_``) in ``lang``, key by key.

    The report's and the cards' label tables keep ``str.format`` placeholders (``{team}``) in their msgids:
    their callers fill them with ``.format`` after the lookup.
    """
    catalog = translations(lang)
    return {
        key: catalog.upgettext(*msgid) if isinstance(msgid, tuple) else catalog.ugettext(msgid)
        for key, msgid in table.items()
    }
