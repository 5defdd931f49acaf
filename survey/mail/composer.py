"""Composing a batch of outbox emails at the speed of the mail server.

Profiled on 1,000 invitations, composing one email through the ``email`` package cost about 2.8 ms of
CPU: parsing and re-folding every header (``headerregistry`` builds a class per header), choosing a
transfer encoding and flattening the MIME tree again in ``as_bytes``, plus one ``SELECT`` per invitation.
Rendering the Jinja templates was a small part. All of that is the same for every invitation of a round
but the personal link, so a :class:`Composer` builds each (round, kind, language) once with the product's
own ``survey.mail.emails`` code, then makes each email by putting the link into the rendered bodies, encoding
them as quoted-printable (C code in ``binascii``) and joining bytes; the invitations of a batch are read
in one query. The shape it writes is checked once per group against the full composition, and anything
it does not recognise (another MIME shape, a template that transforms the link, a recipient that is not
plain ASCII) goes through the full ``email`` package path instead.
"""

from __future__ import annotations

import binascii
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.data.models import Invitation, Round
from survey.domain.tokens import make_token
from survey.mail import mailtext
from survey.mail.emails import Addressed, _message, compose, personal_parts
from survey.mail.transport import Outgoing
from survey.runtime import Runtime

PERSONAL_KINDS = ("invitation", "reminder")
_PER_MESSAGE = ("to", "message-id", "date")  # headers written for each email; the rest once per group
_SMTP = policy.SMTP  # CRLF line ends, non-ASCII headers RFC 2047-encoded: what goes on the wire


class ComposeError(Exception):
    """The email cannot be built from what is stored (e.g. a header value with a line break in old
    data): retrying cannot help, so the outbox records it as a permanent failure at once."""


@dataclass
class _Group:
    """One (round, kind, language): the fixed header block and the bodies with a link marker."""

    head: bytes
    boundary: bytes
    part_heads: tuple[bytes, bytes]
    text: str
    html: str
    fast: bool  # False: the group is composed through the email package, message by message


def _header_line(name: str, value: str) -> bytes:
    """``Name: value`` for a plain short ASCII value; anything else goes through the email package."""
    if "\r" in value or "\n" in value:
        # the value stays out of the message: for a reminder it would put a non-respondent in the log
        raise ComposeError(f"the {name} header contains a line break")
    if value.isascii() and value.isprintable() and len(name) + len(value) < 76:
        return f"{name}: {value}\r\n".encode("ascii")
    return _SMTP.fold_binary(name, value)  # long or non-ASCII: folded and encoded by the email package


_dates: dict[int, str] = {}


def _date(tz: ZoneInfo) -> str:
    """The Date header value in local time with its offset, formatted once per second (the same call as
    ``survey.mail.emails``: ``mailtext.mail_date``)."""
    second = int(time.time())
    value = _dates.get(second)
    if value is None:
        _dates.clear()
        value = _dates[second] = mailtext.mail_date(datetime.fromtimestamp(second, UTC), tz)
    return value


def _qp(text: str) -> bytes:
    """A text body as quoted-printable with CRLF line ends, lines as ``set_content`` splits them."""
    data = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    return binascii.b2a_qp(data, quotetabs=False, istext=True).replace(b"\n", b"\r\n")


def to_outgoing(rt: Runtime, email: EmailMessage, recipient: str) -> Outgoing:
    """An email built by the ``email`` package, flattened for the transport."""
    return Outgoing(
        message_id=str(email["Message-ID"]),
        sender=parseaddr(str(rt.config["MAIL_FROM"]))[1],
        recipients=(recipient,),
        data=email.as_bytes(policy=_SMTP),
    )


class Composer:
    """Builds the emails of claimed outbox rows; one per ``send_pending`` run, reused over its batches."""

    def __init__(self, rt: Runtime, session: Session) -> None:
        self.rt = rt
        self.session = session
        self.sender = parseaddr(str(rt.config["MAIL_FROM"]))[1]
        self.secret = str(rt.config["SECRET_KEY"])
        self.marker = f"tryghedlink{secrets.token_hex(8)}"  # letters and digits: no template escapes it
        self._groups: dict[tuple[int | None, str, str], _Group] = {}
        self._nonces: dict[int, str] = {}

    def load(self, rows: Iterable[Addressed]) -> None:
        """Read the invitations of a batch in one query (their nonces give the personal links)."""
        wanted = {r.invitation_id for r in rows if r.kind in PERSONAL_KINDS and r.invitation_id}
        wanted -= self._nonces.keys()
        if wanted:
            found = self.session.execute(select(Invitation.id, Invitation.nonce).where(Invitation.id.in_(wanted)))
            self._nonces.update({row.id: row.nonce for row in found})

    def compose(self, row: Addressed) -> Outgoing:
        """The email of one row. LookupError: what it needs is gone; ComposeError: it cannot be built."""
        try:
            if row.kind not in PERSONAL_KINDS:
                return to_outgoing(self.rt, compose(self.rt, self.session, row), row.recipient)
            nonce = self._nonces.get(row.invitation_id) if row.invitation_id else None
            if nonce is None:
                self.load([row])
                nonce = self._nonces.get(row.invitation_id) if row.invitation_id else None
            if nonce is None:
                raise LookupError("the invitation was purged")
            link = self.rt.link(make_token(self.secret, nonce))
            group = self._group(row, link)
            if not group.fast or not row.recipient.isascii():
                subject, text, html = personal_parts(self.rt, self._round(row.round_id), row.kind, row.lang, link)
                return to_outgoing(self.rt, _message(self.rt, row, subject, text, html), row.recipient)
            return Outgoing(row.message_id, self.sender, (row.recipient,), self._assemble(group, row, link))
        except (LookupError, ComposeError):
            raise
        except (ValueError, TypeError, UnicodeError) as exc:
            # a header with a line break, a broken template value: the same data fails the same way again
            raise ComposeError(f"cannot compose the {row.kind} email: {exc}") from exc

    def _round(self, round_id: int | None) -> Round:
        rnd = self.session.get(Round, round_id) if round_id is not None else None
        if rnd is None:
            raise LookupError(f"round {round_id} no longer exists")
        return rnd

    def _group(self, row: Addressed, link: str) -> _Group:
        key = (row.round_id, row.kind, row.lang)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = self._build(row, link)
        return group

    def _build(self, row: Addressed, link: str) -> _Group:
        """Render the group once with a marker for the link, and check that marker against a real link."""
        rnd = self._round(row.round_id)
        subject, text, html = personal_parts(self.rt, rnd, row.kind, row.lang, self.marker)
        _subject, real_text, real_html = personal_parts(self.rt, rnd, row.kind, row.lang, link)
        # a template that transforms the link (or puts it in the subject) cannot take a substitution
        fast = (
            text.replace(self.marker, link) == real_text
            and html.replace(self.marker, str(escape(link))) == real_html
            and self.marker not in subject
        )
        proto = _message(self.rt, row, subject, "-", "-")
        parts = list(proto.iter_parts())
        kinds = [p.get_content_type() for p in parts]
        if proto.get_content_type() != "multipart/alternative" or kinds != ["text/plain", "text/html"]:
            fast = False
        # "==" never occurs in quoted-printable output, so this boundary cannot collide with a body
        boundary = f"==============={secrets.token_hex(12)}=="
        proto.set_boundary(boundary)
        head = b"".join(
            _SMTP.fold_binary(name, value) for name, value in proto.raw_items() if name.lower() not in _PER_MESSAGE
        )
        part_heads = tuple(
            b"".join(
                _SMTP.fold_binary(name, value)
                for name, value in part.raw_items()
                if name.lower() != "content-transfer-encoding"
            )
            + b"Content-Transfer-Encoding: quoted-printable\r\n"
            for part in parts[:2]
        )
        return _Group(head, boundary.encode(), (part_heads[0], part_heads[-1]), text, html, fast)

    def _assemble(self, group: _Group, row: Addressed, link: str) -> bytes:
        """The whole email: fixed headers, this row's headers, and the two bodies with its link."""
        text = group.text.replace(self.marker, link)
        html = group.html.replace(self.marker, str(escape(link)))
        sep = b"--" + group.boundary
        return b"".join(
            (
                group.head,
                _header_line("To", row.recipient),
                _header_line("Message-ID", row.message_id),
                _header_line("Date", _date(self.rt.tz)),
                b"\r\n",
                sep,
                b"\r\n",
                group.part_heads[0],
                b"\r\n",
                _qp(text),
                b"\r\n",
                sep,
                b"\r\n",
                group.part_heads[1],
                b"\r\n",
                _qp(html),
                b"\r\n",
                sep,
                b"--\r\n",
            )
        )
