"""Errors a user can act on: the CLI prints them and exits non-zero (``{"error": ...}`` with --json), and the
web pages show them in the page's language.

A message is a ``Text``: a ``str`` holding the English sentence (what the CLI and its ``--json`` output
print, PRODUCT.md's contract) that also keeps its catalog msgid and parameters, so the web layer can say
the same thing in Danish (``Text.in_lang``). The domain stays free of Flask and of any notion of "the
current page": it names the error, the page translates it.
"""

from __future__ import annotations

from typing import Any

from survey.locales import translate


class Text(str):
    """An English message with its msgid (``%(name)s`` placeholders) and parameters.

    ``pybabel extract`` knows ``Text`` as a keyword (babel.cfg), so ``Text("… %(value)s …", value=v)``
    puts the msgid in the catalogs. A parameter may itself be a ``Text`` (a field's name).
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Text:
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def in_lang(self, lang: str) -> str:
        """The message in ``lang`` (its parameters translated too where they are ``Text``)."""
        values = {k: in_lang(v, lang) for k, v in self.params.items()}
        return translate(lang, self.msgid, **values)


def in_lang(value: Any, lang: str) -> Any:
    """``value`` in ``lang`` when it is a ``Text``, else unchanged (a name, a number, a user's own text)."""
    return value.in_lang(lang) if isinstance(value, Text) else value


class UserError(Exception):
    """Bad input or a refused action, with a message meant for the person who asked."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(UserError):
    pass
