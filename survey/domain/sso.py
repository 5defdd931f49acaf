"""Single sign-on: who an identity from the organisation's OpenID Connect provider is here.

Pure rules plus one database action, free of Flask and of Authlib (the web layer checks the token):

- ``role_for``: the provider's roles or groups claim, through the configured mapping, gives at most one
  role; several mapped values give the strongest (admin, then facilitator, then leader). None: no access.
- ``account_for``: the account of a verified identity. Found by the identity (issuer and subject) first;
  else an existing account with the same *verified* email is linked; else one is created (without a
  usable password). The mapped role is written on every sign-in, so a change in the organisation's
  groups takes effect at the next sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.data.models import User
from survey.domain.teams import check_email
from survey.domain.validation import clean_optional
from survey.errors import UserError

STRENGTH = ("admin", "facilitator", "leader")
# An argon2 check of this fails (InvalidHashError): an account made by single sign-on has no password.
NO_PASSWORD = "!sso"


@dataclass(frozen=True)
class Identity:
    """What a validated ID token says about the person."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    claim: Any  # the roles or groups claim as the provider sent it (a list, a string or None)

    @property
    def key(self) -> str:
        return f"{self.issuer} {self.subject}"


class NoAccess(UserError):
    """The person signed in at the provider but may not use Tryghed; ``reason`` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


def role_for(claim: Any, mapping: dict[str, str]) -> str | None:
    """The role that the claim's values map to (the strongest when several do), or None."""
    values = claim if isinstance(claim, list) else [claim] if isinstance(claim, str) else []
    roles = {mapping.get(str(v)) for v in values} & set(STRENGTH)
    return next((r for r in STRENGTH if r in roles), None)


def account_for(session: Session, identity: Identity, mapping: dict[str, str]) -> User:
    """The account this identity signs in as (committed), or ``NoAccess``."""
    role = role_for(identity.claim, mapping)
    if role is None:
        raise NoAccess("no_role", "the identity provider gives this person no role in Tryghed")
    user = session.scalar(select(User).where(User.oidc_subject == identity.key))
    email = check_email(identity.email) if identity.email else None
    if user is None and email is not None:
        same_email = session.scalar(select(User).where(User.email == email))
        if same_email is not None:
            if not identity.email_verified:
                raise NoAccess("unverified_email", "the provider has not verified this email address")
            if same_email.oidc_subject is not None:
                raise NoAccess("linked_elsewhere", "this account is already linked to another identity")
            user = same_email
    if user is None:
        if email is None:
            raise NoAccess("no_email", "the identity provider sends no email address for this person")
        user = User(email=email, password_hash=NO_PASSWORD, lang="da", active=True, session_epoch=0)
        user.name = _name(identity.name)
        session.add(user)
    if not user.active:
        raise NoAccess("disabled", "this account has been disabled")
    user.oidc_subject = identity.key
    user.role = role
    session.commit()
    return user


def _name(value: str | None) -> str | None:
    """The provider's display name if it passes the input check; an odd one is left out, not refused."""
    try:
        return clean_optional(value, "name")
    except UserError:
        return None
