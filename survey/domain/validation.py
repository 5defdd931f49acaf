"""Checks for text where it enters the product (CLI, CSV import, web forms): pure functions, no Flask.

Every name, email address and free text is checked once, at the door, so that what is stored can be
put in a mail header, a PDF and a web page without surprises:

- no control characters (NUL breaks PostgreSQL; ESC and friends confuse terminals and logs);
- no line breaks in anything that can reach a mail header (a team name is in every subject line):
  CR, LF, NEL (U+0085), LINE SEPARATOR (U+2028), PARAGRAPH SEPARATOR (U+2029) and the other vertical
  spaces. A multi-line free text may hold plain line breaks, normalised to ``\\n``;
- no bidirectional override or isolate characters (U+202A-U+202E, U+2066-U+2069): one in a name would
  reverse the text that follows it in the report and the emails. Arabic or Hebrew names need none of
  them (the renderer works out their direction itself), so they are refused with a clear message;
- no unpaired surrogates (a file name or argument in a non-UTF-8 locale) and no private-use characters;
- a length limit per field, counted in characters after trimming.

Errors are ``UserError`` with a message that names the field, so the CLI and the forms can show them as is.
"""

from __future__ import annotations

import re
import unicodedata

from survey.errors import Text, UserError
from survey.locales import N_

# Characters that end a line somewhere (Python's str.splitlines() list): never in a single-line value.
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
NAME_MAX = 200
EMAIL_MAX = 254  # RFC 5321's limit on a path, minus the angle brackets
LOCAL_PART_MAX = 64
# The largest id or count a command or URL may name: PostgreSQL's ``integer`` (SQLite's is larger, but a
# value must mean the same on both; beyond it drivers raise OverflowError or "out of range").
MAX_ID = 2**31 - 1
# One address, no display name: local@domain.tld, without spaces, commas, quotes or angle brackets.
EMAIL_RE = re.compile(r"^[^@\s,;:<>\"()\[\]\\]+@[^@\s,;:<>\"()\[\]\\]+\.[^@\s,;:<>\"()\[\]\\]+$")


# The names fields go by in messages, for the catalogs (N_: extracted here, translated when shown). A CLI
# option keeps its "--name" in English (PRODUCT.md); a web page shows the translated word.
FIELDS = {
    "name": N_("name"),
    "email": N_("email"),
    "team name": N_("team name"),
    "leader name": N_("leader name"),
    "leader email": N_("leader email"),
    "unit name": N_("unit name"),
    "head email": N_("head email"),
    "TRIO email": N_("TRIO email"),
    "note": N_("note"),
    "place": N_("place"),
    "what to bring": N_("what to bring"),
    "subject": N_("subject"),
    "--what": N_("--what"),
    "--who": N_("--who"),
    "--by": N_("--by"),
    "--owner-email": N_("--owner-email"),
}


class InvalidText(UserError):
    """A value that may not be stored; ``field`` names it, ``problem`` says what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        # the field's name in the reader's language where it has one (``FIELDS``), else as the caller wrote it
        name = Text(FIELDS[field]) if field in FIELDS else field
        super().__init__(Text("%(field)s: %(problem)s", field=name, problem=problem), field=field)
        self.field = field
        self.problem = problem


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def clean_text(
    value: str, field: str, *, max_len: int = NAME_MAX, multiline: bool = False, required: bool = True
) -> str:
    """``value`` trimmed and checked; raises ``InvalidText`` naming ``field``.

    ``multiline`` allows line breaks (normalised to ``\\n``); use it only for text that never reaches a
    mail header (an action's description, a comment).
    """
    if not isinstance(value, str):
        raise InvalidText(field, Text("expected text, got %(kind)s", kind=type(value).__name__))
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.strip()
    for ch in value:
        if ch in LINE_BREAKS:
            if multiline and ch == "\n":
                continue
            raise InvalidText(
                field, Text("must be one line; it contains a line break (%(character)s)", character=_describe(ch))
            )
        if ch in BIDI_CONTROLS:
            raise InvalidText(
                field,
                Text(
                    "contains an invisible text-direction character (%(character)s); remove it and type the text again",
                    character=_describe(ch),
                ),
            )
        category = unicodedata.category(ch)
        if category == "Cc" and not (multiline and ch == "\t"):
            raise InvalidText(field, Text("contains a control character (%(character)s)", character=_describe(ch)))
        if category in ("Cs", "Co"):
            raise InvalidText(
                field,
                Text(
                    "contains a character that is not text (%(character)s); is the file UTF-8?", character=_describe(ch)
                ),
            )
    if required and not value:
        raise InvalidText(field, Text("must not be empty"))
    if len(value) > max_len:
        raise InvalidText(
            field,
            Text("is %(length)s characters long; at most %(max_len)s are allowed", length=len(value), max_len=max_len),
        )
    return value


def clean_optional(value: str | None, field: str, *, max_len: int = NAME_MAX, multiline: bool = False) -> str | None:
    """Like ``clean_text``, but empty or missing gives None."""
    if value is None:
        return None
    return clean_text(value, field, max_len=max_len, multiline=multiline, required=False) or None


def check_whole_numbers(values: dict[str, object]) -> None:
    """Refuse any whole number in ``values`` (a command's arguments) beyond ``MAX_ID``, naming it."""
    for name, value in values.items():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ID:
            option = name.replace("_", "-")
            raise UserError(
                Text(
                    "%(option)s: %(value)s is out of range (at most %(most)s)",
                    option=option,
                    value=value,
                    most=MAX_ID,
                ),
                field=option,
            )


def clean_email(value: str, field: str = "email") -> str:
    """One plain address (``name@example.dk``), lower-cased; raises ``InvalidText`` naming ``field``."""
    value = clean_text(value, field, max_len=EMAIL_MAX)
    local = value.rsplit("@", 1)[0]
    if not EMAIL_RE.match(value) or len(local) > LOCAL_PART_MAX or ".." in value:
        raise InvalidText(field, Text("%(value)s is not a valid email address", value=repr(value)))
    return value.lower()
