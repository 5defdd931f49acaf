"""Configuration: embedded defaults, overridden by ``TRYGHED_*`` environment variables.

The same function serves the web app, the CLI and Celery workers, so they always agree.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "TRYGHED"


def default_instance_path() -> Path:
    """The instance folder: ``TRYGHED_INSTANCE_PATH`` or ``instance/`` in the current directory."""
    return Path(os.environ.get(f"{ENV_PREFIX}_INSTANCE_PATH", "instance")).resolve()


def _secret_key(instance: Path) -> str:
    """A stable secret per installation, kept in the instance folder (never in the database).

    Invitation links are derived from it, so a database dump alone cannot rebuild a working link.
    """
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def defaults(instance: Path) -> dict[str, Any]:
    """Embedded defaults: SQLite in the instance folder, tasks in-process, mail to an outbox folder."""
    return {
        "DATABASE_URL": f"sqlite:///{instance / 'tryghed.sqlite'}",
        "BROKER_URL": None,
        "RESULT_BACKEND": None,
        "SMTP_HOST": None,
        "SMTP_PORT": 25,
        "SMTP_USERNAME": None,
        "SMTP_PASSWORD": None,
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT": 30,
        "OUTBOX_DIR": str(instance / "outbox"),
        "MAIL_FROM": "Tryghed <tryghed@localhost>",
        # Who the emails come from, in words a person trusts: the organisation and a named contact
        # person (shown in From, Reply-To and the signature; also the facilitator contact for teams).
        "ORG_NAME": None,
        "CONTACT_NAME": None,
        "CONTACT_EMAIL": None,
        "MAIL_RATE_PER_MINUTE": 120,  # bulk mail (invitations, reminders), shared by all workers
        "MAIL_BATCH_SIZE": 250,  # outbox rows claimed and marked per statement (survey.mail.outbox)
        # worker children are replaced after this many tasks or this much resident memory (celery_init)
        "WORKER_MAX_TASKS_PER_CHILD": 100,
        "WORKER_MAX_MEMORY_MB": 350,
        "BASE_URL": "http://localhost:5000",
        "MIN_RESPONSES": 5,
        "TIMEZONE": "Europe/Copenhagen",
        "STALL_SECONDS": 600,
        # a running pipeline task beats this often; six missed beats and the tick re-drives its round
        "PIPELINE_BEAT_SECONDS": 5,
        "RETENTION_DAYS": 90,
        "REPORT_LINK_DAYS": 180,  # lifetime of the signed /r/ link in the report email (survey.domain.report_links)
        "REMINDER_MAX": 2,
        "REMINDER_INTERVAL_DAYS": 3,
        "REMINDER_HOURS": "8-16",
        # ISO weekdays (1 = Monday) on which reminders go out; "1-7" for teams that work weekends
        "REMINDER_DAYS": "1-5",
        # nudges by email (survey.domain.nudges): debrief, missing plan, action due dates, requests, sessions
        "NUDGES": True,
        # the local time of day a round opens and closes when only its date is chosen (follow-ups, web form)
        "ROUND_OPENS_AT": "08:00",
        "ROUND_CLOSES_AT": "16:00",
        "REMINDER_SKIP_HOLIDAYS": True,  # no reminders on Danish public holidays (pipeline.holidays)
        "LINK_GUESS_LIMIT": 20,  # unknown links per client per window before 429 (survey.domain.ratelimit)
        "LINK_GUESS_WINDOW": 600,
        # web login throttling (survey.domain.throttle): failures per account and per account + address in a
        # window lock that account (for everyone, or from that address); failures per address beyond
        # LOGIN_CLIENT_LIMIT only slow that address's failed attempts down, doubling up to LOGIN_DELAY_MAX
        "LOGIN_LIMIT": 20,
        "LOGIN_PAIR_LIMIT": 5,
        "LOGIN_CLIENT_LIMIT": 10,
        "LOGIN_DELAY_MAX": 5,
        "LOGIN_WINDOW": 900,
        # web sessions (survey.domain.sessions): idle time and whole lifetime, in seconds
        "SESSION_IDLE_SECONDS": 8 * 3600,
        "SESSION_MAX_SECONDS": 7 * 24 * 3600,
        # how many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (werkzeug ProxyFix);
        # 0 trusts no such header, so a client cannot pretend to be another address
        "TRUSTED_PROXIES": 0,
        # sign-in: local passwords, and OpenID Connect when an issuer is set (survey.web.oidc)
        "LOCAL_LOGIN": True,
        "OIDC_ISSUER": None,
        "OIDC_CLIENT_ID": None,
        "OIDC_CLIENT_SECRET": None,
        "OIDC_ROLES_CLAIM": "roles",
        # claim value -> role, as JSON: {"tryghed-admins": "admin", "tryghed-facilitators": "facilitator"}
        "OIDC_ROLE_MAP": {},
        "OIDC_SCOPES": "openid email profile",
        # seconds to wait before mail retry n; after the last one the message is recorded as failed
        "MAIL_BACKOFF": [30, 120, 600, 1800, 3600],
        "CONTENT_DIR": None,
        "RENDER_TIMEOUT": 120,
        "LOG_FORMAT": "text",  # or "json": one object per line, for web, CLI and workers (survey.logs)
        "WTF_CSRF_TIME_LIMIT": None,  # a phone may keep the form open for long; the token is per session
        "MAX_CONTENT_LENGTH": 64 * 1024,  # a full answer is well under 1 KiB
    }


# Settings whose default is None, so that their type cannot be read from the default. Every other setting
# has the type of its default (``defaults``); a setting this module does not know is read as text.
OPTIONAL_TYPES: dict[str, type] = {
    "BROKER_URL": str,
    "RESULT_BACKEND": str,
    "SMTP_HOST": str,
    "SMTP_USERNAME": str,
    "SMTP_PASSWORD": str,
    "ORG_NAME": str,
    "CONTACT_NAME": str,
    "CONTACT_EMAIL": str,
    "CONTENT_DIR": str,
    "WTF_CSRF_TIME_LIMIT": int,
    "OIDC_ISSUER": str,
    "OIDC_CLIENT_ID": str,
    "OIDC_CLIENT_SECRET": str,
}
# Settings whose default does not show their type: seconds that may have a fraction.
EXPLICIT_TYPES: dict[str, type] = {"SMTP_TIMEOUT": float}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def setting_type(name: str, known: dict[str, Any]) -> type:
    """The type of setting ``name``: declared for optional ones, else that of its default, else text."""
    if name in OPTIONAL_TYPES or name in EXPLICIT_TYPES:
        return {**OPTIONAL_TYPES, **EXPLICIT_TYPES}[name]
    default = known.get(name)
    return str if default is None else type(default)


def parse_setting(name: str, raw: str, kind: type) -> Any:
    """Read one environment value as its setting's type.

    Not JSON for everything (Flask's ``from_prefixed_env``): there ``TRYGHED_SMTP_PASSWORD=123456`` became
    an integer and ``"null"`` became None. Text stays text; an empty value unsets an optional setting
    (``${VAR:-}`` in a compose file).
    """
    var = f"{ENV_PREFIX}_{name}"
    value = raw.strip()
    if kind is str:
        return raw if raw != "" or name not in OPTIONAL_TYPES else None
    if value == "" and name in OPTIONAL_TYPES:
        return None
    if kind is bool:
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigError(f"{var}: expected true or false, got {raw!r}")
    if kind is int:
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{var}: expected a whole number, got {raw!r}") from None
    if kind is float:
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{var}: expected a number, got {raw!r}") from None
    try:  # lists (and anything structured): JSON
        return json.loads(value)
    except ValueError:
        raise ConfigError(f"{var}: expected JSON like [30, 120, 600], got {raw!r}") from None


def _read_secret_file(name: str, path: str) -> str:
    """The value of ``TRYGHED_<name>_FILE``: the file's text without its trailing newline."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"{ENV_PREFIX}_{name}_FILE: cannot read {path!r} ({reason})") from None


def environment_settings(environ: Mapping[str, str], known: dict[str, Any]) -> dict[str, Any]:
    """``TRYGHED_<NAME>`` variables as typed settings; ``TRYGHED_<NAME>_FILE`` reads NAME from a file.

    The ``_FILE`` form keeps secrets out of the environment (Docker and Kubernetes secrets are files). It
    works for every setting, including ones other modules add later; setting both forms is an error, as
    nobody could tell which one was meant.
    """
    prefix = f"{ENV_PREFIX}_"
    raw: dict[str, str] = {}
    files: dict[str, str] = {}
    for key, value in environ.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if name.endswith("_FILE") and name not in known and len(name) > len("_FILE"):
            files[name.removesuffix("_FILE")] = value
        else:
            raw[name] = value
    for name, path in files.items():
        if name in raw:
            raise ConfigError(
                f"{prefix}{name} and {prefix}{name}_FILE are both set: keep one (the _FILE one for a secret)"
            )
        raw[name] = _read_secret_file(name, path)
    return {name: parse_setting(name, value, setting_type(name, known)) for name, value in raw.items()}


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then ``TRYGHED_<KEY>`` environment variables (typed; ``_FILE`` variants), then
    ``overrides`` (tests)."""
    instance = default_instance_path()
    config = defaults(instance)
    config["INSTANCE_PATH"] = str(instance)
    config.update(environment_settings(os.environ, config))
    config.update(overrides or {})
    _validate(config)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_key(Path(config["INSTANCE_PATH"]))
    return config


class ConfigError(ValueError):
    """A setting that cannot work; the message names the environment variable."""


def _validate(config: dict[str, Any]) -> None:
    from pipeline.scoring import ABSOLUTE_MIN_RESPONSES

    for name in (
        "MIN_RESPONSES",
        "SMTP_PORT",
        "STALL_SECONDS",
        "PIPELINE_BEAT_SECONDS",
        "RETENTION_DAYS",
        "REMINDER_MAX",
        "MAIL_RATE_PER_MINUTE",
        "MAIL_BATCH_SIZE",
        "WORKER_MAX_TASKS_PER_CHILD",
        "WORKER_MAX_MEMORY_MB",
        "RENDER_TIMEOUT",
        "REMINDER_INTERVAL_DAYS",
        "LINK_GUESS_LIMIT",
        "LINK_GUESS_WINDOW",
        "LOGIN_LIMIT",
        "LOGIN_PAIR_LIMIT",
        "LOGIN_CLIENT_LIMIT",
        "LOGIN_DELAY_MAX",
        "LOGIN_WINDOW",
        "SESSION_IDLE_SECONDS",
        "SESSION_MAX_SECONDS",
        "TRUSTED_PROXIES",
    ):
        value = config.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{ENV_PREFIX}_{name}: expected a whole number >= 0, got {value!r}")
    link_days = config.get("REPORT_LINK_DAYS")
    if isinstance(link_days, bool) or not isinstance(link_days, int) or not 1 <= link_days <= 3650:
        raise ConfigError(f"{ENV_PREFIX}_REPORT_LINK_DAYS: expected a whole number of days 1-3650, got {link_days!r}")
    if config["MAIL_BATCH_SIZE"] < 1:
        raise ConfigError(f"{ENV_PREFIX}_MAIL_BATCH_SIZE: must be at least 1, got {config['MAIL_BATCH_SIZE']}")
    if config.get("LOG_FORMAT") not in ("text", "json"):
        raise ConfigError(f"{ENV_PREFIX}_LOG_FORMAT: expected text or json, got {config.get('LOG_FORMAT')!r}")
    for name in ("ROUND_OPENS_AT", "ROUND_CLOSES_AT"):
        value = str(config.get(name))
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ConfigError(f"{ENV_PREFIX}_{name}: expected a local time HH:MM like 08:00, got {value!r}")
    for name in ("SMTP_STARTTLS", "REMINDER_SKIP_HOLIDAYS", "NUDGES", "LOCAL_LOGIN"):
        if not isinstance(config.get(name), bool):
            raise ConfigError(f"{ENV_PREFIX}_{name}: expected true or false, got {config.get(name)!r}")
    _validate_sender(config)
    _validate_sign_in(config)
    if config["MIN_RESPONSES"] < ABSOLUTE_MIN_RESPONSES:
        raise ConfigError(
            f"{ENV_PREFIX}_MIN_RESPONSES: must be at least {ABSOLUTE_MIN_RESPONSES} to protect anonymity, "
            f"got {config['MIN_RESPONSES']}"
        )
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(str(config["TIMEZONE"]))
    except Exception as exc:
        raise ConfigError(f"{ENV_PREFIX}_TIMEZONE: unknown time zone {config['TIMEZONE']!r}") from exc
    backoff = config["MAIL_BACKOFF"]
    if isinstance(backoff, int) and not isinstance(backoff, bool):
        backoff = config["MAIL_BACKOFF"] = [backoff]
    if (
        not isinstance(backoff, list)
        or not backoff
        or any(isinstance(b, bool) or not isinstance(b, int | float) or b < 0 for b in backoff)
    ):
        raise ConfigError(
            f"{ENV_PREFIX}_MAIL_BACKOFF: expected a JSON list of seconds like [30, 120, 600], got {backoff!r}"
        )
    days = str(config["REMINDER_DAYS"])
    try:
        first, last = (int(x) for x in days.split("-"))
        if not 1 <= first <= last <= 7:
            raise ValueError
    except ValueError as exc:
        raise ConfigError(
            f"{ENV_PREFIX}_REMINDER_DAYS: expected ISO weekdays 'FIRST-LAST' like '1-5', got {days!r}"
        ) from exc
    hours = str(config["REMINDER_HOURS"])
    try:
        start, end = (int(x) for x in hours.split("-"))
        if not 0 <= start < end <= 24:
            raise ValueError
    except ValueError as exc:
        raise ConfigError(
            f"{ENV_PREFIX}_REMINDER_HOURS: expected 'START-END' hours like '8-16', got {hours!r}"
        ) from exc


MAX_NAME_LENGTH = 120
_EMAIL_SHAPE = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")


def _validate_sender(config: dict[str, Any]) -> None:
    """ORG_NAME, CONTACT_NAME (one line of text) and CONTACT_EMAIL (an address); name and address of
    the contact person go together, because a name nobody can write to does not help a doubting reader."""
    for name in ("ORG_NAME", "CONTACT_NAME"):
        value = config.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{ENV_PREFIX}_{name}: expected a name as text, got {value!r}")
        if len(value) > MAX_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ConfigError(
                f"{ENV_PREFIX}_{name}: expected one line of at most {MAX_NAME_LENGTH} characters, got {value!r}"
            )
        config[name] = value.strip()
    email = config.get("CONTACT_EMAIL")
    if email is not None:
        if not isinstance(email, str) or not _EMAIL_SHAPE.match(email.strip()) or len(email) > 254:
            raise ConfigError(f"{ENV_PREFIX}_CONTACT_EMAIL: expected an email address, got {email!r}")
        config["CONTACT_EMAIL"] = email.strip()
    if (config.get("CONTACT_NAME") is None) != (config.get("CONTACT_EMAIL") is None):
        raise ConfigError(
            f"{ENV_PREFIX}_CONTACT_NAME and {ENV_PREFIX}_CONTACT_EMAIL: set both (a named person and "
            "their address) or neither"
        )


def _validate_sign_in(config: dict[str, Any]) -> None:
    """The OpenID Connect settings: an http(s) issuer, and a role map from claim values to roles."""
    issuer = config.get("OIDC_ISSUER")
    if issuer is not None and (not isinstance(issuer, str) or not issuer.startswith(("https://", "http://"))):
        raise ConfigError(f"{ENV_PREFIX}_OIDC_ISSUER: expected the provider's https:// address, got {issuer!r}")
    if issuer and not config.get("OIDC_CLIENT_ID"):
        raise ConfigError(f"{ENV_PREFIX}_OIDC_CLIENT_ID: needed with {ENV_PREFIX}_OIDC_ISSUER")
    for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"):  # a numeric id read as JSON is still an id
        if config.get(name) is not None and not isinstance(config[name], str):
            config[name] = str(config[name])
    mapping = config.get("OIDC_ROLE_MAP")
    roles = ("admin", "facilitator", "leader")
    if not isinstance(mapping, dict) or any(not isinstance(v, str) or v not in roles for v in mapping.values()):
        raise ConfigError(
            f"{ENV_PREFIX}_OIDC_ROLE_MAP: expected a JSON object from claim values to admin, facilitator or "
            f'leader, like {{"tryghed-admins": "admin"}}; got {mapping!r}'
        )
    if not config.get("LOCAL_LOGIN") and not issuer:
        raise ConfigError(f"{ENV_PREFIX}_LOCAL_LOGIN=false needs single sign-on: set {ENV_PREFIX}_OIDC_ISSUER")
