"""The leader's signed web link to a round's report (``/r/<token>``): made when the report email is
composed, read by the report page. It names only the round, is signed with the secret key, and lives
``TRYGHED_REPORT_LINK_DAYS`` days from signing (independent of the retention period).

It also dies when the team's leader changes: a link signed before ``teams.leader_changed_at`` is refused
(:func:`signed_before_change`), so the old leader's emailed links stop at once while the new leader's
emails, composed after the change, carry links that work. The serializer's own timestamp (whole seconds)
says when a link was signed, so a link signed in the same second as the change is refused too, and a new
link is never signed in that second (:func:`report_link` waits for the next one).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from survey.runtime import Runtime

SALT = "tryghed-report-view"


class LinkExpired(Exception):
    """The link was genuine but is older than its lifetime."""


@dataclass(frozen=True)
class SignedLink:
    """What a genuine, unexpired link says: its round and when it was signed (whole seconds, UTC)."""

    round_id: int
    signed_at: datetime


def _serializer(rt: Runtime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(rt.config["SECRET_KEY"], salt=SALT)


def report_link(rt: Runtime, round_id: int, *, leader_changed_at: datetime | None = None) -> str:
    """The signed web link to a round's report.

    ``leader_changed_at``: the team's last change of leader. A link signed in that same second would be
    refused with the old leader's, so signing waits for the next second (at most one second, and only
    right after a change).
    """
    if leader_changed_at is not None:
        wait = math.floor(leader_changed_at.timestamp()) + 1 - time.time()
        if 0 < wait <= 1:
            time.sleep(wait)
    token = _serializer(rt).dumps({"round": round_id})
    return f"{str(rt.config['BASE_URL']).rstrip('/')}/r/{token}"


def read_link(rt: Runtime, token: str) -> SignedLink | None:
    """The round a link names and when it was signed; None for a forged or malformed link;
    ``LinkExpired`` past its lifetime."""
    try:
        payload, signed_at = _serializer(rt).loads(
            token, max_age=int(rt.config["REPORT_LINK_DAYS"]) * 86400, return_timestamp=True
        )
        return SignedLink(int(payload["round"]), signed_at)
    except SignatureExpired as exc:
        raise LinkExpired(str(exc)) from exc
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def signed_before_change(link: SignedLink, leader_changed_at: datetime | None) -> bool:
    """True when the team's leader changed after (or in the same second as) the link was signed."""
    if leader_changed_at is None:
        return False
    return link.signed_at.timestamp() <= math.floor(leader_changed_at.timestamp())
