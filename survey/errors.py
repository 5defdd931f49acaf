"""Errors a user can act on: the CLI prints them and exits non-zero (``{"error": ...}`` with --json)."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Bad input or a refused action, with a message meant for the person who asked."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(UserError):
    pass
