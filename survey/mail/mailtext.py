"""What every email says about who sends it and when: the sender, the contact person, the date.

Staff are trained to distrust a personal link from an unknown brand, so an email names the
organisation and a real person to ask (``TRYGHED_ORG_NAME``, ``TRYGHED_CONTACT_NAME``,
``TRYGHED_CONTACT_EMAIL``) in its From header, its Reply-To and its signature. Pure functions over
the configuration; no Flask.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from email.headerregistry import Address
from email.utils import format_datetime, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from survey.locales import translate_plural

SECONDS_PER_STATEMENT = 11  # measured on the phone form: 16 statements take about three minutes


def sender(config: Mapping[str, Any]) -> str:
    """The From header: the contact person and the organisation as the display name, at the address
    of ``MAIL_FROM`` (which the mail server is allowed to send for). Without them, ``MAIL_FROM`` as is."""
    display, address = parseaddr(str(config["MAIL_FROM"]))
    name = ", ".join(v for v in (config.get("CONTACT_NAME"), config.get("ORG_NAME")) if v)
    if not name or not address:
        return str(config["MAIL_FROM"])
    return str(Address(display_name=name, addr_spec=address))


def reply_to(config: Mapping[str, Any]) -> str | None:
    """The Reply-To header: a reply reaches the named contact person, not an unattended mailbox."""
    email = config.get("CONTACT_EMAIL")
    if not email:
        return None
    return str(Address(display_name=config.get("CONTACT_NAME") or "", addr_spec=email))


def mail_date(moment: datetime, tz: ZoneInfo) -> str:
    """The Date header in local time with its real offset ("+0100"), never the anonymous "-0000"."""
    return format_datetime(moment.astimezone(tz))


def answer_minutes(statements: int) -> int:
    """About how many minutes answering ``statements`` statements takes (at least one)."""
    return max(1, math.ceil(statements * SECONDS_PER_STATEMENT / 60))


def duration_text(minutes: int, lang: str) -> str:
    """'3 minutter' / '1 minut' / '3 minutes' / '1 minute'."""
    return translate_plural(lang, "%(num)d minute", "%(num)d minutes", minutes)


def identity(config: Mapping[str, Any]) -> dict[str, str | None]:
    """The template values for the signature and the "is this email genuine?" line."""
    return {
        "org": config.get("ORG_NAME") or None,
        "contact_name": config.get("CONTACT_NAME") or None,
        "contact_email": config.get("CONTACT_EMAIL") or None,
    }
