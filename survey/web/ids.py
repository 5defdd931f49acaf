"""Ids in URLs: ``<int:…>`` in every route is a whole number that fits a database id.

A larger number matches no route (404) instead of overflowing the database driver (a 500). Kept out of
``survey.web``'s package module, which the CLI imports and which must stay light.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from survey.domain.validation import MAX_ID


class IdIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to PostgreSQL's ``integer`` (the name says Integer: tests read converters by name)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)
