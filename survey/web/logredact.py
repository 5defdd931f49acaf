"""No personal link in any log line: what a log says about a request is decided by its route.

A survey link (``/s/<token>``) works as a key to someone's answer form, and a report link (``/r/<signed>``)
opens a team's report, so neither may reach a log file. Requests reach the logs through the request line
of the development server (werkzeug logs every request), gunicorn's access log (its atoms: the request
line, path, query, referer, environ variables) and Flask's ``Exception on <path> [POST]`` with its
traceback.

A regex over the raw path is not enough: ``/%73/<token>`` reaches the form too (the server decodes the
path before routing), as did ``/s//<token>`` (redirected) and a query string can carry anything. So the
app itself says what may be logged about each request (``loggable_target``), from the URL rule that
matched: arguments that are numbers (a team's id) are kept, every other argument (a token, a signed link)
becomes ``[redacted]``, and so does every query value. A request that matched no rule keeps only a short
first path segment. ``LinkRedactingFilter`` then replaces every raw form of the current request's target
(as sent, decoded, with its query) in the record's message, arguments and traceback; it keeps the record
and its structure (a JSON or any other formatter sees the same fields, redacted). A pattern over ``/s/``
and ``/r/`` links, in any case and percent-encoding, stays as a second net for links that are not the
current request's (a referer, a report link in a message).

The current request is known to the filter because the log line is written in the thread that serves it
(werkzeug's request line, gunicorn's access log, Flask's exception log): ``RequestMarker`` notes its WSGI
environ in a thread-local when the request arrives.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from flask import Flask, request

REDACTED = "[redacted]"
# The second net: a link path in any case and percent-encoding ("/%73/", "/S//"), up to the next delimiter.
_LINK = re.compile(r"(/+(?:[srk]|%7[32]|%6b)/+)[^\s/?#\"'<>]+", re.IGNORECASE)  # /k/: answer cards
# A query value in a URL that is not the current request's (a Location or Referer header).
_QUERY_VALUE = re.compile(r"([?&][^=&\s\"?#]*=)[^&\s\"#]+")
# A rule's placeholder, "<token>" or "<int:team_id>" (converter arguments included).
_PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_KEPT_CONVERTERS = frozenset({"int"})
_FIRST_SEGMENT_MAX = 20  # a token is 43 characters, a signed report link longer still
# the single sign-on callback's authorization code and state, in text that names no current request
_OIDC_PARAM = re.compile(r"([?&](?:code|state|id_token|access_token)=)[^&\s#\"'<>]+")
# Flask's app logger is added per app (its name); these are the servers' own.
SERVER_LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access")

_current = threading.local()
_ROUTE_KEY = "tryghed.route"


class RequestMarker:
    """WSGI middleware: notes the request this thread now serves, for ``LinkRedactingFilter``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        _current.environ = environ
        return self.app(environ, start_response)  # type: ignore[no-any-return]


def loggable_target(environ: dict[str, Any]) -> str:
    """What a log may say about the request's path and query, decided by the URL rule it matched."""
    rule, values = _route(environ)
    if rule is not None:
        keep = rule.endpoint == "static" or rule.endpoint.endswith(".static")

        def arg(match: re.Match[str]) -> str:
            converter, name = match.group(1), match.group(2)
            if keep or converter in _KEPT_CONVERTERS:
                return str(values.get(name, REDACTED))
            return REDACTED

        path = _PLACEHOLDER.sub(arg, rule.rule)
    else:
        path = _unrouted(str(environ.get("PATH_INFO") or "/"))
    query = str(environ.get("QUERY_STRING") or "")
    if query:
        names = (part.split("=", 1)[0] for part in query.split("&") if part)
        path += "?" + "&".join(f"{_short(unquote(name))}={REDACTED}" for name in names)
    return path


def _route(environ: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(URL rule, its arguments) of the request: noted at its end, or from the request still being served."""
    noted = environ.get(_ROUTE_KEY)
    if noted is not None:
        return noted  # type: ignore[no-any-return]
    request = environ.get("werkzeug.request")  # Flask's request object, while the app serves it
    return getattr(request, "url_rule", None), getattr(request, "view_args", None) or {}


def _note_route(_exc: BaseException | None) -> None:
    """``teardown_request``: keep the route in the environ, for the log lines the server writes after."""
    request.environ[_ROUTE_KEY] = (request.url_rule, request.view_args or {})


def _short(text: str) -> str:
    return text if len(text) <= _FIRST_SEGMENT_MAX and "/" not in text else REDACTED


def _unrouted(path: str) -> str:
    """A path no rule matched (404, or a form the router would only redirect): its first segment if short."""
    segments = path.split("/")
    first = _short(segments[1]) if len(segments) > 1 else ""
    return "/" + first + ("/" + REDACTED if len(segments) > 2 else "")


def _replacements() -> list[tuple[str, str]]:
    """(raw form, loggable form) of the current request's target, longest first; none outside a request."""
    environ = getattr(_current, "environ", None)
    if environ is None:
        return []
    safe = loggable_target(environ)
    safe_path, _, safe_query = safe.partition("?")
    path = str(environ.get("PATH_INFO") or "")
    query = str(environ.get("QUERY_STRING") or "")
    script = str(environ.get("SCRIPT_NAME") or "")
    whole = {str(environ.get(key) or "") for key in ("RAW_URI", "REQUEST_URI")}  # as sent, query included
    whole |= {unquote(raw) for raw in whole} | {f"{path}?{query}", f"{script}{path}?{query}"}
    pairs = {raw: safe for raw in whole} | {path: safe_path, script + path: safe_path, query: safe_query}
    # a form that is only "/" (or empty) would turn every slash of a message into the redacted path
    return sorted(((raw, new) for raw, new in pairs.items() if len(raw) > 1 and raw != new), key=lambda p: -len(p[0]))


def redact(text: str, replacements: list[tuple[str, str]] | None = None) -> str:
    """``text`` with the current request's target made loggable, and every other link path redacted."""
    for raw, safe in replacements or ():
        if raw in text:
            text = text.replace(raw, safe)
    return _OIDC_PARAM.sub(r"\1" + REDACTED, _LINK.sub(r"\1" + REDACTED, text))


def _atom(value: Any, replacements: list[tuple[str, str]]) -> Any:
    """One of gunicorn's access log atoms, loggable: headers and environ values hold URLs of their own."""
    if value is None or isinstance(value, int | float):
        return value
    return _QUERY_VALUE.sub(r"\1" + REDACTED, redact(value if isinstance(value, str) else str(value), replacements))


class LinkRedactingFilter(logging.Filter):
    """Makes a record's message, arguments and traceback loggable; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        replacements = _replacements()
        if isinstance(record.msg, str):
            record.msg = redact(record.msg, replacements)
        args = record.args
        if isinstance(args, dict):  # gunicorn's access log: its mapping of atoms, changed in place (its class
            # answers "-" for an atom it does not have, and must stay); objects (the request) become text
            for key, value in list(args.items()):
                dict.__setitem__(args, key, _atom(value, replacements))
        elif isinstance(args, tuple):
            record.args = tuple(redact(value, replacements) if isinstance(value, str) else value for value in args)
        if record.exc_info and not record.exc_text:
            # formatted once here, as a handler's formatter would; the formatter then uses exc_text as is
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, replacements)
        return True


_FILTER = LinkRedactingFilter()


def install(app: Flask) -> None:
    """Redact links in the app's logger and the servers' loggers, and mark each request (idempotent)."""
    for logger in (app.logger, *(logging.getLogger(name) for name in SERVER_LOGGERS)):
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    if not isinstance(app.wsgi_app, RequestMarker):
        app.wsgi_app = RequestMarker(app.wsgi_app)  # type: ignore[method-assign]
        app.teardown_request(_note_route)
