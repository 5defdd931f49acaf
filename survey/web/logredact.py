"""No personal link in any log line: the path segment after ``/s/`` and ``/r/`` becomes ``[redacted]``, and
so do the code and state that the identity provider sends back to ``/login/sso/callback``.

A survey link (``/s/<token>``) works as a key to someone's answer form, and a report link (``/r/<signed>``)
opens a team's report, so neither may reach a log file. They would through the request lines of the
development server (werkzeug logs every request), gunicorn's access log (when enabled) and Flask's
``Exception on /s/<token> [POST]`` with its traceback. One filter on those loggers rewrites the message
and the formatted traceback, and keeps everything else (status, error, stack) as it was.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

_LINK = re.compile(r"(/[sr]/)[^\s/?#\"'<>]+")
# the single sign-on callback's authorization code and state (``/login/sso/callback?code=…&state=…``)
_OIDC_PARAM = re.compile(r"([?&](?:code|state|id_token|access_token)=)[^&\s#\"'<>]+")
REDACTED = r"\1[redacted]"
# Flask's app logger is added per app (its name); these are the servers' own.
SERVER_LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access")


def redact(text: str) -> str:
    """``text`` with the path segment after every ``/s/`` and ``/r/``, and sign-in codes, replaced."""
    return _OIDC_PARAM.sub(REDACTED, _LINK.sub(REDACTED, text))


class LinkRedactingFilter(logging.Filter):
    """A logging filter that redacts links in the message and in the traceback, and never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken format string: keep the record as it is
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            # formatted once here, as a handler's formatter would; the formatter then uses exc_text as is
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = LinkRedactingFilter()


def install(app: Flask) -> None:
    """Redact links in the app's logger and the servers' loggers (idempotent)."""
    for logger in (app.logger, *(logging.getLogger(name) for name in SERVER_LOGGERS)):
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
