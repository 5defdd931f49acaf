"""The web app's language: gettext catalogs (``translations/{da,en}/LC_MESSAGES/messages.po``) through
Flask-Babel, and dates and numbers formatted with Babel's locale data.

The ``.po`` files are the source and are committed; the compiled ``.mo`` files are build output (``make
translations`` and the Dockerfile run ``pybabel compile``). A checkout where nobody has compiled them yet
still works: ``compile_catalogs`` builds any missing or stale ``.mo`` when the app starts.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from flask import Flask
from flask_babel import format_date, format_decimal, format_percent, format_time

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "translations"
LANGS = ("da", "en")
log = logging.getLogger(__name__)


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


def when(value: datetime | None, with_time: bool = True) -> str:
    """A moment in the configured time zone, in the page's language: '29. nov. 2026 14.00'."""
    if value is None:
        return ""
    day = format_date(value, "medium")
    return f"{day} {format_time(value, 'short')}" if with_time else day


def init_app(app: Flask) -> None:
    """Compile missing catalogs, expose the formatting filters to templates."""
    compile_catalogs()
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["percent"] = lambda v: "" if v is None else format_percent(v)
    app.jinja_env.filters["number"] = lambda v, digits=2: format_decimal(v, format="#,##0." + "0" * digits)
