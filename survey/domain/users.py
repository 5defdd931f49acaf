"""Web accounts: adding users, checking passwords (argon2), throttling failed logins, changing passwords.

The same functions serve ``tryghed user add`` and the web app's login and admin pages. A password is
only ever held in memory for the call that hashes or checks it; the database keeps the argon2 hash.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from survey.data.models import LoginFailure, User
from survey.domain.teams import check_email, check_lang
from survey.errors import NotFound, UserError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

ROLES = ("admin", "facilitator", "leader")
MIN_PASSWORD = 10


# argon2 is loaded, and the dummy hash computed, on first use rather than at import: every `tryghed`
# command imports this module's neighbours, and a hash costs about 0.1 s. The web app calls
# ``warm_up`` when it starts, so its first failed login takes no longer than later ones.
@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked when the email is unknown, so that a wrong address costs as much time as a wrong password
    (otherwise the answer time would tell which addresses have an account)."""
    return _hasher().hash("tryghed-no-such-account")


def warm_up() -> None:
    """Load argon2 and compute the dummy hash now (the web app's start), not in the first login."""
    _dummy_hash()


def _matches(stored: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> str:
    """A usable new password: at least ``MIN_PASSWORD`` characters, not only spaces."""
    if len(password) < MIN_PASSWORD or not password.strip():
        raise UserError(f"the password must be at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise UserError("the password is longer than 1024 characters")
    return password


def add_user(session: Session, email: str, role: str, password: str, name: str | None = None, lang: str = "da") -> User:
    """Create an account (committed). The email must be new; the role one of ``ROLES``."""
    email = check_email(email)
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    check_password(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError(f"there is already an account for {email}")
    name = (name or "").strip() or None
    if name and len(name) > 200:
        raise UserError("the name is longer than 200 characters")
    user = User(
        email=email,
        role=role,
        name=name,
        lang=check_lang(lang),
        password_hash=_hasher().hash(password),
        active=True,
        session_epoch=0,
    )
    session.add(user)
    session.commit()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def user_json(user: User) -> dict[str, Any]:
    """The contract's ``user add`` object (and the admin list): never the hash."""
    return {"id": user.id, "email": user.email, "role": user.role, "name": user.name, "active": user.active}


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.email)))


def verify(session: Session, email: str, password: str) -> User | None:
    """The active account with this email and password, or None. Takes argon2's time either way."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if not _matches(user.password_hash if user else _dummy_hash(), password):
        return None
    if user is None or not user.active:
        return None
    if _hasher().check_needs_rehash(user.password_hash):  # argon2 parameters raised since it was stored
        user.password_hash = _hasher().hash(password)
        session.commit()
    return user


def change_password(session: Session, user_id: int, current: str, new: str) -> User:
    """Replace the password after checking the current one (committed); other sessions are ended."""
    user = get_user(session, user_id)
    if not _matches(user.password_hash, current):
        raise UserError("the current password is wrong")
    check_password(new)
    user.password_hash = _hasher().hash(new)
    user.session_epoch += 1
    session.commit()
    return user


def set_language(session: Session, user_id: int, lang: str) -> None:
    """The user's interface language (committed)."""
    get_user(session, user_id).lang = check_lang(lang)
    session.commit()


def set_active(session: Session, user_id: int, active: bool) -> User:
    """Enable or disable an account (committed); a disabled account cannot log in."""
    user = get_user(session, user_id)
    user.active = active
    user.session_epoch += 1
    session.commit()
    return user


# --- throttling -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Throttle:
    """Limits on failed logins: per account (guessing one password) and per client (trying many accounts)."""

    secret: str
    per_account: int = 5
    per_client: int = 20
    window: timedelta = timedelta(minutes=15)

    def keys(self, email: str, client: str | None) -> tuple[str, str]:
        """Keyed hashes for the account and the client: the table holds no address and no email."""

        def mac(text: str) -> str:
            return hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest()

        return mac(f"login-account:{email.strip().lower()}"), mac(f"login-client:{client or 'unknown'}")

    def blocked(self, session: Session, email: str, client: str | None, now: datetime) -> int:
        """Seconds to wait when the account or the client has failed too often in the window; else 0."""
        account, addr = self.keys(email, client)
        wait = 0
        for key, limit in ((account, self.per_account), (addr, self.per_client)):
            row = session.get(LoginFailure, key)
            if row is not None and row.window_start >= now - self.window and row.count >= limit:
                wait = max(wait, int((row.window_start + self.window - now).total_seconds()) + 1)
        return wait

    def failed(self, session: Session, email: str, client: str | None, now: datetime) -> None:
        """Count one failure for the account and for the client (committed), with one atomic upsert each."""
        table = cast(Table, LoginFailure.__table__)
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        cutoff = now - self.window
        for key in self.keys(email, client):
            stmt = (
                insert(table)
                .values(key=key, window_start=now, count=1)
                .on_conflict_do_update(
                    index_elements=[table.c.key],
                    set_={
                        "count": case((table.c.window_start < cutoff, 1), else_=table.c.count + 1),
                        "window_start": case((table.c.window_start < cutoff, now), else_=table.c.window_start),
                    },
                )
            )
            session.execute(stmt)
        session.commit()

    def succeeded(self, session: Session, email: str) -> None:
        """A good login clears the account's count (not the client's: one good account must not unlock many)."""
        account, _ = self.keys(email, None)
        session.execute(delete(LoginFailure).where(LoginFailure.key == account))
        session.commit()


def throttle_of(config: dict[str, Any]) -> Throttle:
    """The throttle configured by ``TRYGHED_LOGIN_LIMIT``, ``_LOGIN_CLIENT_LIMIT`` and ``_LOGIN_WINDOW``."""
    return Throttle(
        secret=str(config["SECRET_KEY"]),
        per_account=int(config["LOGIN_LIMIT"]),
        per_client=int(config["LOGIN_CLIENT_LIMIT"]),
        window=timedelta(seconds=int(config["LOGIN_WINDOW"])),
    )
