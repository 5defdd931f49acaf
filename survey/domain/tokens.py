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
