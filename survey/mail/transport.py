"""Getting an email out: into the outbox folder (embedded default) or over SMTP (reused connection).

A transport takes an :class:`Outgoing`: the message already flattened to bytes with its envelope, so the
batch sender composes each email once and the transport only moves bytes (``smtplib.sendmail``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # smtplib (with email's generator) is imported where mail is sent, not by every command
    import smtplib


class PermanentFailure(Exception):
    """The server refused for good (5xx): retrying cannot help."""


class TransientFailure(Exception):
    """The server could not be reached or answered 4xx: retry later."""


class Unreachable(TransientFailure):
    """No connection to the server at all: the rest of the batch would fail the same way."""


@dataclass(frozen=True)
class Outgoing:
    """One email ready to go: the envelope and the whole message as bytes (CRLF line ends)."""

    message_id: str
    sender: str
    recipients: tuple[str, ...]
    data: bytes


class Transport(Protocol):
    def send(self, msg: Outgoing) -> None: ...

    def close(self) -> None: ...


def eml_name(message_id: str) -> str:
    """A file name from a Message-ID, so a resend overwrites rather than duplicates."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in message_id.strip("<>")) + ".eml"


class OutboxDirTransport:
    """Writes each message as ``<message-id>.eml``, atomically (a reader never sees half a file)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def send(self, msg: Outgoing) -> None:
        try:
            self._write(msg)
        except OSError as exc:  # a full disk or a missing folder: retried with backoff, like a busy server
            raise TransientFailure(f"could not write the email to {self.folder}: {exc.strerror or exc}") from exc

    def _write(self, msg: Outgoing) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / eml_name(msg.message_id)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(msg.data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        pass


class SMTPTransport:
    """One SMTP connection, opened on first use and reused for the whole batch."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        starttls: bool,
        timeout: float = 30,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        import smtplib
        import ssl

        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise Unreachable(f"cannot reach SMTP server {self.host}:{self.port}: {exc}") from exc
        return smtp

    def send(self, msg: Outgoing) -> None:
        import smtplib

        for attempt in (1, 2):  # a reused connection may have been dropped by the server: reconnect once
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                refused = self._smtp.sendmail(msg.sender, list(msg.recipients), msg.data)
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if attempt == 2:
                    raise TransientFailure(f"SMTP server disconnected: {exc}") from exc
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                raise _classify(next(iter(exc.recipients.values()), (550, b"refused"))) from exc
            except smtplib.SMTPResponseException as exc:
                raise _classify((exc.smtp_code, exc.smtp_error)) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._smtp = None
                raise TransientFailure(f"SMTP error: {exc}") from exc
            if refused:
                raise _classify(next(iter(refused.values())))
            return

    def close(self) -> None:
        import smtplib

        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):  # closing anyway
                self._smtp.quit()
            self._smtp = None


def _classify(reply: tuple[int, Any]) -> Exception:
    code, text = reply
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    if 500 <= code < 600:
        return PermanentFailure(f"{code} {detail}")
    return TransientFailure(f"{code} {detail}")


def make_transport(config: dict[str, Any]) -> Transport:
    """SMTP when ``SMTP_HOST`` is set, else the outbox folder."""
    if config.get("SMTP_HOST"):
        return SMTPTransport(
            str(config["SMTP_HOST"]),
            int(config["SMTP_PORT"]),
            config.get("SMTP_USERNAME"),
            config.get("SMTP_PASSWORD"),
            bool(config.get("SMTP_STARTTLS")),
            float(config["SMTP_TIMEOUT"]),
        )
    return OutboxDirTransport(config["OUTBOX_DIR"])
