"""Personal survey links.

A token is HMAC-SHA256(secret key, the invitation's random nonce): 256 bits, url-safe. The database keeps
only SHA-256(token), so a dump of it turns back into no working link (the secret key lives in the
instance folder or the environment, never in the database). Because the token is derived rather than
stored, a reminder can carry the very same link as the invitation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def make_token(secret_key: str, nonce: str) -> str:
    """The personal token for an invitation nonce."""
    digest = hmac.new(secret_key.encode(), f"invitation:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def hash_token(token: str) -> str:
    """What the database stores and looks up: the token's SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """Cheap shape check before any database lookup."""
    return bool(TOKEN_RE.match(value))


# Answer cards (survey.domain.cards): a code short enough to type and read aloud. 12 characters of
# Crockford's base32 (no I, L, O or U: nothing to confuse when read aloud or typed) = 60 random bits. With
# at most a few thousand cards open at once, a guess hits one with odds of about 1 in 10^14, and guesses
# are throttled (survey.domain.ratelimit), so 60 bits are plenty; the codes are derived like the email
# tokens (HMAC of the secret key and the card's random nonce) and stored only as a keyed hash, so a dump
# of the database, without the key, cannot be searched for the 2^60 codes.
CARD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CARD_LENGTH = 12
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})  # what people type for the lookalikes


def make_card_code(secret_key: str, nonce: str) -> str:
    """The code of an answer card (12 characters, 60 bits), from its nonce."""
    digest = hmac.new(secret_key.encode(), f"card:{nonce}".encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:8]) >> (64 - 5 * CARD_LENGTH)
    return "".join(CARD_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(CARD_LENGTH)))


def card_code_of(typed: str) -> str | None:
    """The code in what someone typed or scanned (any case, spaces, dashes, lookalikes); None if it is none."""
    code = "".join(typed.split()).replace("-", "").upper().translate(_READ_AS)
    if len(code) != CARD_LENGTH or any(c not in CARD_ALPHABET for c in code):
        return None
    return code


def group_card_code(code: str) -> str:
    """The code in groups of four for reading aloud: ``K7M2-Q8XR-4TWN``."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def hash_card_code(secret_key: str, code: str) -> str:
    """What the database stores for a card: a keyed hash (60 bits would be searchable behind a plain one)."""
    return hmac.new(secret_key.encode(), f"card-hash:{code}".encode(), hashlib.sha256).hexdigest()
