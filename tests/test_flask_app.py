"""``TryghedFlask.ensure_sync``: the answer Flask gives, remembered per function (docs/benchmarks.md)."""

from __future__ import annotations

import pytest
from flask import Flask

from survey.flask_app import TryghedFlask


def test_a_synchronous_hook_is_returned_as_it_is_and_the_answer_is_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    app = TryghedFlask(__name__)

    def hook() -> str:
        return "ran"

    assert app.ensure_sync(hook) is hook
    asked: list[object] = []
    monkeypatch.setattr(Flask, "ensure_sync", lambda self, func: asked.append(func) or func)
    assert app.ensure_sync(hook) is hook and asked == []  # not asked again
    other = lambda: "other"  # noqa: E731
    assert app.ensure_sync(other) is other and asked == [other]


def test_a_coroutine_function_gets_what_flask_gives_it() -> None:
    """Flask wraps a coroutine function (or refuses it without its "async" extra): the same here."""

    async def view() -> str:
        return "async"

    def outcome(app: Flask) -> object:
        try:
            wrapped = app.ensure_sync(view)
        except RuntimeError as exc:  # Flask without asgiref
            return str(exc)
        return wrapped()

    assert outcome(TryghedFlask(__name__)) == outcome(Flask(__name__))
    assert outcome(TryghedFlask(__name__)) != view


def test_the_app_is_made_from_it(app: Flask) -> None:
    assert isinstance(app, TryghedFlask)
