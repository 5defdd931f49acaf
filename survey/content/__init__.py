"""The toolkit content (instrument, hacks, dilemmas, advice, traps, roles, steps) as validated data.

``get_content()`` is what the application uses: the built-in content plus the extra TOML files in the
folder named by ``TRYGHED_CONTENT_DIR`` (if set), loaded once per folder and cached.
"""

from __future__ import annotations

import functools
import os

from survey.content.loader import DEFAULT_DIR, ContentError, load_content
from survey.content.model import (
    LANGUAGES,
    PILLAR_ORDER,
    About,
    Advice,
    Bands,
    Content,
    Dilemma,
    Hack,
    Instrument,
    Item,
    Meeting,
    Pillar,
    Role,
    Step,
    Text,
    Track,
    Trap,
)

CONTENT_DIR_ENV = "TRYGHED_CONTENT_DIR"

__all__ = [
    "CONTENT_DIR_ENV",
    "DEFAULT_DIR",
    "LANGUAGES",
    "PILLAR_ORDER",
    "About",
    "Advice",
    "Bands",
    "Content",
    "ContentError",
    "Dilemma",
    "Hack",
    "Instrument",
    "Item",
    "Meeting",
    "Pillar",
    "Role",
    "Step",
    "Text",
    "Track",
    "Trap",
    "clear_content_cache",
    "get_content",
    "load_content",
]


def get_content() -> Content:
    """The content for the current ``TRYGHED_CONTENT_DIR`` (unset or empty: built-in only), cached.

    Raises ``ContentError`` if any file is invalid or the folder does not exist.
    """
    return _cached_content(os.environ.get(CONTENT_DIR_ENV) or None)


def clear_content_cache() -> None:
    """Forget loaded content, e.g. after the files in the content folder changed."""
    _cached_content.cache_clear()


@functools.lru_cache(maxsize=8)
def _cached_content(extra_dir: str | None) -> Content:
    return load_content(extra_dir)
