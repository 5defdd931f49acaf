"""The leader's signed web link to a round's report (``/r/<token>``): made when the report email is
composed, read by the report page. It names only the round, is signed with the secret key, and lives
``TRYGHED_REPORT_LINK_DAYS`` days from signing (independent of the retention period)."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from survey.runtime import Runtime

SALT = "tryghed-report-view"


class LinkExpired(Exception):
    """The link was genuine but is older than its lifetime."""


def _serializer(rt: Runtime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(rt.config["SECRET_KEY"], salt=SALT)


def report_link(rt: Runtime, round_id: int) -> str:
    """The signed web link to a round's report."""
    token = _serializer(rt).dumps({"round": round_id})
    return f"{str(rt.config['BASE_URL']).rstrip('/')}/r/{token}"


def round_of_link(rt: Runtime, token: str) -> int | None:
    """The round a link names; None for a forged or malformed link; ``LinkExpired`` past its lifetime."""
    try:
        payload = _serializer(rt).loads(token, max_age=int(rt.config["REPORT_LINK_DAYS"]) * 86400)
        return int(payload["round"])
    except SignatureExpired as exc:
        raise LinkExpired(str(exc)) from exc
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
