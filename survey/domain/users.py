"""Web accounts: adding users, checking passwords (argon2), changing passwords and roles, ending sessions.

The same functions serve ``tryghed user add`` and the web app's login and admin pages. A password is
only ever held in memory for the call that hashes or checks it; the database keeps the argon2 hash.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.data.models import User
from survey.domain import sessions
from survey.domain.passwords import check_new_password
from survey.domain.teams import check_email, check_lang
from survey.domain.validation import clean_optional
from survey.errors import NotFound, Text, UserError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

ROLES = ("admin", "facilitator", "leader")


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


def add_user(session: Session, email: str, role: str, password: str, name: str | None = None, lang: str = "da") -> User:
    """Create an account (committed). The email must be new; the role one of ``ROLES``."""
    email = check_email(email)
    if role not in ROLES:
        raise UserError(
            Text("role must be one of %(choices)s, got %(role)s", choices=", ".join(ROLES), role=repr(role))
        )
    name = clean_optional(name, "name")
    check_new_password(password, email=email, name=name)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError(Text("there is already an account for %(email)s", email=email))
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
        raise NotFound(Text("user %(user_id)s does not exist", user_id=user_id))
    return user


def exists(session: Session, email: str) -> bool:
    """Whether an account has this email (any case)."""
    return session.scalar(select(User.id).where(User.email == email.strip().lower())) is not None


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


def change_password(session: Session, user_id: int, current: str, new: str, keep: str | None = None) -> User:
    """Replace the password after checking the current one (committed); every session but ``keep`` ends."""
    user = get_user(session, user_id)
    if not _matches(user.password_hash, current):
        raise UserError(Text("the current password is wrong"))
    check_new_password(new, email=user.email, name=user.name)
    user.password_hash = _hasher().hash(new)
    user.session_epoch += 1
    sessions.end_all(session, user_id, keep=keep)
    session.commit()
    return user


def set_language(session: Session, user_id: int, lang: str) -> None:
    """The user's interface language (committed)."""
    get_user(session, user_id).lang = check_lang(lang)
    session.commit()


def set_active(session: Session, user_id: int, active: bool) -> User:
    """Enable or disable an account (committed); a disabled account cannot log in, and its sessions end."""
    user = get_user(session, user_id)
    user.active = active
    user.session_epoch += 1
    sessions.end_all(session, user_id)
    session.commit()
    return user


def set_role(session: Session, user_id: int, role: str) -> User:
    """Give the account another role (committed); its open sessions see the new role at their next request."""
    if role not in ROLES:
        raise UserError(
            Text("role must be one of %(choices)s, got %(role)s", choices=", ".join(ROLES), role=repr(role))
        )
    user = get_user(session, user_id)
    user.role = role
    session.commit()
    return user


def end_sessions(session: Session, user_id: int) -> int:
    """End every session of the account (committed); returns how many there were."""
    get_user(session, user_id)
    ended = sessions.end_all(session, user_id)
    session.commit()
    return ended
