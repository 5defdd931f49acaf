"""The languages Tryghed speaks and the CLDR locale behind each, for Babel's dates and numbers.

Pure (no Flask): the report pipeline, the emails and the pages all format dates through these.
"""

from __future__ import annotations

LANGS = ("da", "en")
# British English writes "3 March 2026", the form a Danish reader of English expects
BABEL_LOCALES = {"da": "da_DK", "en": "en_GB"}


def babel_locale(lang: str) -> str:
    """The CLDR locale for a language code (Danish when unknown)."""
    return BABEL_LOCALES.get(lang, BABEL_LOCALES["da"])
