"""The Flask class the app is made from: Flask, with the check "is this hook a coroutine?" made once.

Flask runs every ``before_request``, ``after_request`` and ``teardown_request`` hook and the view through
``ensure_sync``, which asks ``inspect.iscoroutinefunction`` each time. With ten hooks a request that was
about 40 µs of a respondent's GET /s/<token> (0.6 ms in all; docs/benchmarks.md), paid for an answer that
never changes: a function is a coroutine function or it is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

# Hooks and views are registered once at start-up; a bound that is never reached keeps a mistake (a hook
# made per request) from growing the memo without end.
_MEMO_LIMIT = 4096


class TryghedFlask(Flask):
    """``Flask`` whose ``ensure_sync`` remembers its answer per function."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_of: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """The function itself when it is synchronous (all of Tryghed's are), else Flask's wrapper."""
        known = self._sync_of.get(func)
        if known is None:
            known = super().ensure_sync(func)
            if len(self._sync_of) < _MEMO_LIMIT:
                self._sync_of[func] = known
        return known
