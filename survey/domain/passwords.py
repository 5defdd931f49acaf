"""Which new passwords to accept, after NIST SP 800-63B (section 5.1.1.2): long enough, not known to
attackers, not guessable from the account, and no composition rules (no "one digit, one capital").

A password is refused, with a reason code the web app turns into a message in the reader's language:

- ``too_short``: under ``MIN_LENGTH`` characters (``too_long`` past ``MAX_LENGTH``);
- ``common``: on the bundled list of common and breached passwords (``data/common-passwords.txt.gz``,
  437,651 entries, most common first; source and licence in ``data/common-passwords.md``), compared
  without regard to case;
- ``personal``: little is left once the account's email, its parts, the person's name or the product's
  name are taken out;
- ``pattern``: a repetition (``aaaa…``, ``abcabc…``, ``Sommer24Sommer24``) or a few runs of sequences
  (``abcd``, ``4321``, keyboard rows like ``qwerty``).
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path

from survey.errors import UserError

MIN_LENGTH = 12
MAX_LENGTH = 1024
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"
PRODUCT_WORDS = ("tryghed", "psykologisk tryghed", "psychological safety")
# After taking out the personal words, at least this many characters must remain.
MIN_LEFT = 8
# A password must be made of at least this many runs (a run: repeated or sequential characters).
MIN_RUNS = 5
_KEYBOARD_ROWS = ("1234567890", "qwertyuiopå", "asdfghjklæø", "zxcvbnm")

MESSAGES = {
    "too_short": f"use at least {MIN_LENGTH} characters; a few unrelated words make a long password that is "
    "easy to remember",
    "too_long": f"the password is longer than {MAX_LENGTH} characters; use a shorter one",
    "common": "this password is on a list of common and leaked passwords that attackers try first; choose "
    "something nobody else would, for example a few unrelated words",
    "personal": "the password is mostly your email address, your name or the product's name, which anyone can "
    "guess; leave them out",
    "pattern": "the password is a repetition or a sequence (like aaaa, abcabc, 1234 or qwerty) that is "
    "guessed at once; use a few unrelated words instead",
}


class WeakPassword(UserError):
    """A new password that is refused; ``reason`` is one of the keys of ``MESSAGES``."""

    def __init__(self, reason: str) -> None:
        super().__init__(MESSAGES[reason], reason=reason)
        self.reason = reason


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list, lower-cased, only the entries long enough to pass the length rule (the others
    are refused by length anyway): read once per process, when a password is first set."""
    with gzip.open(COMMON_FILE, "rt", encoding="utf-8", errors="replace") as lines:
        return frozenset(word for line in lines if len(word := line.rstrip("\n").lower()) >= MIN_LENGTH)


def check_new_password(password: str, *, email: str | None = None, name: str | None = None) -> str:
    """``password`` if it may be used by this account; else raises ``WeakPassword`` with the reason."""
    if len(password) < MIN_LENGTH or not password.strip():
        raise WeakPassword("too_short")
    if len(password) > MAX_LENGTH:
        raise WeakPassword("too_long")
    lowered = password.lower()
    if lowered in common_passwords() or lowered.strip() in common_passwords():
        raise WeakPassword("common")
    if len(_without(lowered, _personal_words(email, name))) < MIN_LEFT:
        raise WeakPassword("personal")
    if _is_pattern(lowered):
        raise WeakPassword("pattern")
    return password


def _personal_words(email: str | None, name: str | None) -> list[str]:
    """The email, its local part and the words in it and in the name (3+ letters), and the product's name."""
    words = list(PRODUCT_WORDS)
    if email:
        email = email.strip().lower()
        local = email.split("@")[0]
        words += [email, local, *re.split(r"[._+\-]+", local)]
    if name:
        words += [name.lower(), *name.lower().split()]
    return sorted({w for w in words if len(w) >= 3}, key=len, reverse=True)


def _without(password: str, words: list[str]) -> str:
    """The password with every personal word taken out, and then anything that is not a letter or digit."""
    for word in words:
        password = password.replace(word, "")
    return re.sub(r"[\W_]+", "", password)


def _is_pattern(password: str) -> bool:
    if re.fullmatch(r"(.+?)\1+", password, flags=re.DOTALL):  # one unit, repeated
        return True
    return _runs(password) < MIN_RUNS


def _step(a: str, b: str) -> bool:
    """True when ``b`` follows ``a`` in a run: the same, next or previous character, or keyboard neighbours."""
    if abs(ord(a) - ord(b)) <= 1:
        return True
    return any(a in row and b in row and abs(row.index(a) - row.index(b)) == 1 for row in _KEYBOARD_ROWS)


def _runs(password: str) -> int:
    """How many runs the password is made of: ``aaaa1234qwer`` is 3, a passphrase has many."""
    return 1 + sum(not _step(a, b) for a, b in zip(password, password[1:], strict=False))
