"""WTForms' own messages in the page's language, from Tryghed's catalogs.

WTForms ships no Danish catalog, so its built-in messages ("Not a valid integer value.", "Field cannot be
longer than 200 characters.") reached Danish pages in English. Every form gets this object as its
translations (``CheckedForm.Meta``); the messages our fields and validators can raise are listed below
for ``pybabel extract``, so the catalog test holds them translated like any other text.
"""

from __future__ import annotations

from flask import g

from survey.locales import N_, translations

# The WTForms messages the app's fields and validators can produce (WTForms' exact msgids)
MESSAGES = (
    N_("This field is required."),
    N_("Not a valid integer value."),
    N_("Not a valid date value."),
    N_("Not a valid datetime value."),
    N_("Not a valid choice."),
    N_("Invalid Choice: could not coerce."),
    N_("CSRF token missing."),
    N_("CSRF token expired."),
    N_("Invalid CSRF Token."),
    N_("CSRF failed."),
)


def _field_limit(n: int) -> None:
    """Marks the plural message of ``Length(max=…)`` for extraction (never called)."""
    translations("da").ungettext(
        "Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", n
    )


class FormTexts:
    """The ``gettext``/``ngettext`` pair WTForms asks a form's meta for, answering in ``g.lang``."""

    def gettext(self, string: str) -> str:
        return translations(g.get("lang") or "da").ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(g.get("lang") or "da").ungettext(singular, plural, n)


FORM_TEXTS = FormTexts()
