"""Load the toolkit content from TOML files and validate it.

The built-in content lives in ``survey/content/default/*.toml``; an optional extra folder adds to it.
Every file uses the same schema (all top-level keys optional):

- ``default_instrument = "name"`` - which instrument is shown when none is named.
- ``[scale]`` - the toolkit's answer scale: ``min``, ``max``, ``labels`` (one ``{da, en}`` per point),
  optional ``groups``: names for the grouped answers (low side, middle, high side; two for an even
  scale). Without them the groups are named by the scale's own labels.
- ``[[pillars]]`` - the toolkit's pillars: ``key``, ``name``, ``description``.
- ``[instrument]`` - one instrument: ``name``, ``title``, ``intro``, ``[[instrument.items]]``
  (``key``, ``pillar``, ``text``, optional ``reverse``), optional ``pillars`` (pillar keys and/or
  full pillar tables; default: the toolkit's pillars), optional ``[instrument.scale]`` (default: the
  toolkit's scale) and optional ``[instrument.bands]`` (``red_below``, ``green_from``).
- ``[[hacks]]``, ``[[dilemmas]]``, ``[[advice]]``, ``[[traps]]``, ``[[roles]]``, ``[[steps]]``.
- ``[links]`` - named URLs.
- ``[about]`` - ``purpose`` (what the toolkit is for) and ``own_texts`` (whose words the texts are),
  optional ``origin_toolkit`` and ``origin_tryghed`` (how a text of each origin is labelled).
- ``[[tracks]]`` - ``key`` (a team's track: ``selfguided`` or ``facilitated``), ``title``, ``text``,
  optional ``[[tracks.sessions]]`` (``key`` one of the session kinds a facilitator can plan, ``title``,
  ``text``). Session lengths belong in the track's text, in the toolkit's own terms.
- ``[[traps]]``, ``[[hacks]]``, ``[[dilemmas]]`` and ``[[advice]]`` entries take an optional ``origin``:
  ``toolkit`` (a theme the toolkit names) or ``tryghed`` (the default: the programme's own addition).
- ``[measures]`` - ``title``, ``text``, ``names`` (a list of texts): the measures the toolkit's
  facilitated track uses, and why the product ships its own instrument.
- In ``[instrument]`` also optional ``about`` (a text saying whose instrument it is) and
  ``official_url`` (where the official wording lives).

Every text is a table ``{ da = "...", en = "..." }``. Files are read in name order, the default folder
first. Entries are merged by key (instruments by name): a later file replaces an entry of the same key
in place, or appends a new one. A key used twice within one file is an error. Error messages read
``file: key.path[index].field: problem``, with list indices counted from 0.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from survey.content.model import (
    ORIGINS,
    SESSION_STEPS,
    About,
    Advice,
    Bands,
    Content,
    Dilemma,
    Hack,
    Instrument,
    Item,
    Measures,
    Meeting,
    Pillar,
    Role,
    Step,
    Text,
    Track,
    Trap,
)

DEFAULT_DIR = Path(__file__).parent / "default"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
FORM_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
RESERVED_FORM_NAMES = frozenset({"csrf_token"})
TOP_LEVEL_KEYS = (
    "default_instrument",
    "scale",
    "pillars",
    "instrument",
    "hacks",
    "dilemmas",
    "advice",
    "traps",
    "roles",
    "steps",
    "links",
    "about",
    "tracks",
    "measures",
)
MAX_SCALE_POINTS = 11  # the distribution palettes in pipeline.charts cover 2 to 11 points


class ContentError(ValueError):
    """Invalid content. The message names the file, the key path and the problem."""

    def __init__(self, file: str, path: str, problem: str) -> None:
        self.file = file
        self.path = path
        self.problem = problem
        super().__init__(f"{file}: {path}: {problem}" if path else f"{file}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.path, self.problem))


@dataclass(frozen=True)
class _At:
    """Where a value sits: a file and a key path inside it."""

    file: str
    path: str = ""

    def __truediv__(self, part: str | int) -> _At:
        if isinstance(part, int):
            return _At(self.file, f"{self.path}[{part}]")
        return _At(self.file, f"{self.path}.{part}" if self.path else part)

    def error(self, problem: str) -> ContentError:
        return ContentError(self.file, self.path, problem)


@dataclass(frozen=True)
class _Scale:
    min: int
    max: int
    labels: tuple[Text, ...]
    groups: tuple[Text, ...] | None = None


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


K = TypeVar("K", bound=_Keyed)


# --- primitive readers ----------------------------------------------------------------------------


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names |= {list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _table(value: object, at: _At, required: Iterable[str], optional: Iterable[str] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise at.error(f"expected a table, got {_kind(value)}")
    required = tuple(required)
    allowed = (*required, *optional)
    for name in required:
        if name not in value:
            raise (at / name).error("required key is missing")
    for name in value:
        if name not in allowed:
            raise (at / name).error(f"unknown key (allowed: {', '.join(allowed)})")
    return value


def _list(value: object, at: _At, *, non_empty: bool = True) -> list[Any]:
    if not isinstance(value, list):
        raise at.error(f"expected a list, got {_kind(value)}")
    if non_empty and not value:
        raise at.error("must not be empty")
    return value


def _str(value: object, at: _At) -> str:
    if not isinstance(value, str):
        raise at.error(f"expected a string, got {_kind(value)}")
    if not value.strip():
        raise at.error("must not be empty")
    return value.strip()


def _int(value: object, at: _At) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise at.error(f"expected an integer, got {_kind(value)}")
    return value


def _number(value: object, at: _At) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise at.error(f"expected a number, got {_kind(value)}")
    return float(value)


def _bool(value: object, at: _At) -> bool:
    if not isinstance(value, bool):
        raise at.error(f"expected true or false, got {_kind(value)}")
    return value


def _key(value: object, at: _At, pattern: re.Pattern[str] = KEY_RE) -> str:
    key = _str(value, at)
    if not pattern.fullmatch(key):
        raise at.error(f"invalid key {key!r} (must match {pattern.pattern})")
    return key


def _url(value: object, at: _At) -> str:
    url = _str(value, at)
    if not url.startswith(("https://", "http://")):
        raise at.error(f"not an http(s) URL: {url!r}")
    return url


def _text(value: object, at: _At) -> Text:
    table = _table(value, at, ("da", "en"))
    return Text(da=_str(table["da"], at / "da"), en=_str(table["en"], at / "en"))


def _entries(value: object, at: _At, parse: Callable[[Any, _At], K]) -> dict[str, K]:
    """Parse a list of keyed tables; a key used twice in the list is an error."""
    parsed: dict[str, K] = {}
    first_at: dict[str, _At] = {}
    for index, raw in enumerate(_list(value, at)):
        entry = parse(raw, at / index)
        if entry.key in parsed:
            raise (at / index / "key").error(f"duplicate key {entry.key!r} (also at {first_at[entry.key].path})")
        parsed[entry.key], first_at[entry.key] = entry, at / index
    return parsed


def _known(value: str, known: Iterable[str], at: _At, what: str) -> str:
    known = tuple(known)
    if value not in known:
        raise at.error(f"unknown {what} {value!r} (known: {', '.join(known) or 'none'})")
    return value


# --- entry parsers --------------------------------------------------------------------------------


def _scale(value: object, at: _At) -> _Scale:
    raw = _table(value, at, ("min", "max", "labels"), ("groups",))
    low, high = _int(raw["min"], at / "min"), _int(raw["max"], at / "max")
    if low >= high:
        raise (at / "max").error(f"max ({high}) must be greater than min ({low})")
    if high - low + 1 > MAX_SCALE_POINTS:
        raise (at / "max").error(
            f"a scale has at most {MAX_SCALE_POINTS} points (one distinct colour each), got {high - low + 1}"
        )
    labels = tuple(_text(v, at / "labels" / i) for i, v in enumerate(_list(raw["labels"], at / "labels")))
    if len(labels) != high - low + 1:
        raise (at / "labels").error(f"expected {high - low + 1} labels for {low}..{high}, got {len(labels)}")
    groups = None
    if "groups" in raw:
        groups = tuple(_text(v, at / "groups" / i) for i, v in enumerate(_list(raw["groups"], at / "groups")))
        wanted = 3 if len(labels) % 2 else 2  # a middle group only where the scale has a middle point
        if len(groups) != wanted:
            raise (at / "groups").error(
                f"expected {wanted} group names for a {len(labels)}-point scale, got {len(groups)}"
            )
    return _Scale(low, high, labels, groups)


def _pillar(value: object, at: _At) -> Pillar:
    raw = _table(value, at, ("key", "name", "description"))
    return Pillar(
        key=_key(raw["key"], at / "key"),
        name=_text(raw["name"], at / "name"),
        description=_text(raw["description"], at / "description"),
    )


def _bands(value: object, at: _At, scale: _Scale) -> Bands:
    raw = _table(value, at, (), ("red_below", "green_from"))
    red = _number(raw.get("red_below", Bands.red_below), at / "red_below")
    green = _number(raw.get("green_from", Bands.green_from), at / "green_from")
    if not scale.min <= red <= scale.max:
        raise (at / "red_below").error(f"{red} is outside the scale {scale.min}..{scale.max}")
    if not scale.min <= green <= scale.max:
        raise (at / "green_from").error(f"{green} is outside the scale {scale.min}..{scale.max}")
    if red > green:
        raise (at / "red_below").error(f"red_below ({red}) must not exceed green_from ({green})")
    return Bands(red_below=red, green_from=green)


def _item(value: object, at: _At, pillar_keys: tuple[str, ...]) -> Item:
    raw = _table(value, at, ("key", "pillar", "text"), ("reverse",))
    key = _key(raw["key"], at / "key", FORM_NAME_RE)
    if key in RESERVED_FORM_NAMES:
        raise (at / "key").error(f"{key!r} is reserved for the form")
    return Item(
        key=key,
        pillar=_known(_str(raw["pillar"], at / "pillar"), pillar_keys, at / "pillar", "pillar"),
        reverse=_bool(raw.get("reverse", False), at / "reverse"),
        text=_text(raw["text"], at / "text"),
    )


def _instrument(value: object, at: _At, pillars: Mapping[str, Pillar], scale: _Scale | None) -> Instrument:
    required = ("name", "title", "intro", "items")
    raw = _table(value, at, required, ("pillars", "scale", "bands", "about", "official_url"))
    name = _key(raw["name"], at / "name")
    if "scale" in raw:
        scale = _scale(raw["scale"], at / "scale")
    elif scale is None:
        raise (at / "scale").error("required key is missing (no toolkit [scale] to inherit)")
    own_pillars = _instrument_pillars(raw.get("pillars", list(pillars)), at / "pillars", pillars)
    pillar_keys = tuple(own_pillars)
    items = _entries(raw["items"], at / "items", lambda v, a: _item(v, a, pillar_keys))
    for key in pillar_keys:
        if not any(item.pillar == key for item in items.values()):
            raise (at / "items").error(f"pillar {key!r} has no items")
    return Instrument(
        name=name,
        title=_text(raw["title"], at / "title"),
        intro=_text(raw["intro"], at / "intro"),
        scale_min=scale.min,
        scale_max=scale.max,
        scale_labels=scale.labels,
        scale_groups=scale.groups,
        pillars=tuple(own_pillars.values()),
        items=tuple(items.values()),
        bands=_bands(raw.get("bands", {}), at / "bands", scale),
        about=_text(raw["about"], at / "about") if "about" in raw else None,
        official_url=_url(raw["official_url"], at / "official_url") if "official_url" in raw else None,
    )


def _instrument_pillars(value: object, at: _At, toolkit: Mapping[str, Pillar]) -> dict[str, Pillar]:
    """An instrument's pillars: keys of toolkit pillars and/or full pillar tables."""

    def parse(raw: object, item_at: _At) -> Pillar:
        if isinstance(raw, str):
            return toolkit[_known(raw, toolkit, item_at, "pillar")]
        return _pillar(raw, item_at)

    return _entries(value, at, parse)


def _links(value: object, at: _At) -> dict[str, str]:
    if not isinstance(value, dict):
        raise at.error(f"expected a table, got {_kind(value)}")
    return {_key(k, at / k): _url(v, at / k) for k, v in value.items()}


def _hack(value: object, at: _At, pillar_keys: tuple[str, ...]) -> Hack:
    raw = _table(value, at, ("key", "pillar", "title", "summary", "how_to_start"), ("origin",))
    return Hack(
        key=_key(raw["key"], at / "key"),
        pillar=_known(_str(raw["pillar"], at / "pillar"), pillar_keys, at / "pillar", "pillar"),
        title=_text(raw["title"], at / "title"),
        summary=_text(raw["summary"], at / "summary"),
        how_to_start=_text(raw["how_to_start"], at / "how_to_start"),
        origin=_origin(raw, at),
    )


def _dilemma(value: object, at: _At, pillar_keys: tuple[str, ...]) -> Dilemma:
    raw = _table(value, at, ("key", "pillar", "title", "situation", "questions"), ("origin",))
    questions = _list(raw["questions"], at / "questions")
    return Dilemma(
        key=_key(raw["key"], at / "key"),
        pillar=_known(_str(raw["pillar"], at / "pillar"), pillar_keys, at / "pillar", "pillar"),
        title=_text(raw["title"], at / "title"),
        situation=_text(raw["situation"], at / "situation"),
        questions=tuple(_text(q, at / "questions" / i) for i, q in enumerate(questions)),
        origin=_origin(raw, at),
    )


def _origin(raw: Mapping[str, object], at: _At) -> str:
    """Whose a text is: ``toolkit`` (a theme the toolkit names) or ``tryghed`` (ours; the default)."""
    return _known(_str(raw.get("origin", "tryghed"), at / "origin"), ORIGINS, at / "origin", "origin")


def _titled(value: object, at: _At) -> tuple[str, Text, Text, str]:
    """A ``key``, ``title``, ``text`` and optional ``origin`` entry (advice, traps)."""
    raw = _table(value, at, ("key", "title", "text"), ("origin",))
    return (
        _key(raw["key"], at / "key"),
        _text(raw["title"], at / "title"),
        _text(raw["text"], at / "text"),
        _origin(raw, at),
    )


def _advice(value: object, at: _At) -> Advice:
    return Advice(*_titled(value, at))


def _trap(value: object, at: _At) -> Trap:
    return Trap(*_titled(value, at))


def _role(value: object, at: _At) -> Role:
    raw = _table(value, at, ("key", "title", "responsibility"))
    return Role(
        key=_key(raw["key"], at / "key"),
        title=_text(raw["title"], at / "title"),
        responsibility=_text(raw["responsibility"], at / "responsibility"),
    )


def _step(value: object, at: _At) -> Step:
    raw = _table(value, at, ("key", "number", "title", "summary", "url"))
    number = _int(raw["number"], at / "number")
    if number < 1:
        raise (at / "number").error(f"must be 1 or more, got {number}")
    return Step(
        key=_key(raw["key"], at / "key"),
        number=number,
        title=_text(raw["title"], at / "title"),
        summary=_text(raw["summary"], at / "summary"),
        url=_url(raw["url"], at / "url"),
    )


def _about(value: object, at: _At) -> About:
    raw = _table(value, at, ("purpose", "own_texts"), ("origin_toolkit", "origin_tryghed"))

    def optional(name: str) -> Text | None:
        return _text(raw[name], at / name) if name in raw else None

    return About(
        purpose=_text(raw["purpose"], at / "purpose"),
        own_texts=_text(raw["own_texts"], at / "own_texts"),
        origin_toolkit=optional("origin_toolkit"),
        origin_tryghed=optional("origin_tryghed"),
    )


def _measures(value: object, at: _At) -> Measures:
    raw = _table(value, at, ("title", "text", "names"))
    names = _list(raw["names"], at / "names")
    return Measures(
        title=_text(raw["title"], at / "title"),
        text=_text(raw["text"], at / "text"),
        names=tuple(_text(n, at / "names" / i) for i, n in enumerate(names)),
    )


def _meeting(value: object, at: _At) -> Meeting:
    raw = _table(value, at, ("key", "title", "text"))
    # a session the content describes must be one a facilitator can plan (survey.domain.tracks)
    key = _known(_key(raw["key"], at / "key"), SESSION_STEPS, at / "key", "session kind")
    return Meeting(key, _text(raw["title"], at / "title"), _text(raw["text"], at / "text"))


def _track(value: object, at: _At) -> Track:
    raw = _table(value, at, ("key", "title", "text"), ("sessions",))
    sessions = _entries(raw["sessions"], at / "sessions", _meeting) if "sessions" in raw else {}
    return Track(
        key=_key(raw["key"], at / "key"),
        title=_text(raw["title"], at / "title"),
        text=_text(raw["text"], at / "text"),
        sessions=tuple(sessions.values()),
    )


# --- files and merging ----------------------------------------------------------------------------


def _read(path: Path, label: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ContentError(label, "", f"cannot read file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ContentError(label, "", f"not valid UTF-8: {exc.reason} at byte {exc.start}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(label, "", f"invalid TOML: {exc}") from exc
    for name in data:
        if name not in TOP_LEVEL_KEYS:
            raise ContentError(label, name, f"unknown top-level key (allowed: {', '.join(TOP_LEVEL_KEYS)})")
    return data


def _files(extra_dir: Path | str | None) -> list[tuple[_At, dict[str, Any]]]:
    paths = [(p, p.name) for p in sorted(DEFAULT_DIR.glob("*.toml"))]
    if extra_dir is not None:
        extra = Path(extra_dir)
        if not extra.is_dir():
            raise ContentError(str(extra), "", "content folder does not exist or is not a folder")
        paths += [(p, str(p)) for p in sorted(extra.glob("*.toml"))]
    return [(_At(label), _read(path, label)) for path, label in paths]


def _merge(files: list[tuple[_At, dict[str, Any]]], name: str, parse: Callable[[Any, _At], K]) -> dict[str, K]:
    merged: dict[str, K] = {}
    for at, data in files:
        if name in data:
            merged.update(_entries(data[name], at / name, parse))
    return merged


def load_content(extra_dir: Path | str | None = None) -> Content:
    """Load the built-in content plus any ``*.toml`` files in ``extra_dir``, validated.

    Raises ``ContentError`` (a ``ValueError``) naming the file, key path and problem of the first
    invalid value found.
    """
    files = _files(extra_dir)
    pillars = _merge(files, "pillars", _pillar)
    scale: _Scale | None = None
    default_name: tuple[_At, str] | None = None
    links: dict[str, str] = {}
    about: About | None = None
    measures: Measures | None = None
    instruments: dict[str, Instrument] = {}
    for at, data in files:
        if "about" in data:
            about = _about(data["about"], at / "about")
        if "measures" in data:
            measures = _measures(data["measures"], at / "measures")
        if "scale" in data:
            scale = _scale(data["scale"], at / "scale")
        if "default_instrument" in data:
            name_at = at / "default_instrument"
            default_name = (name_at, _str(data["default_instrument"], name_at))
        if "links" in data:
            links |= _links(data["links"], at / "links")
    for at, data in files:
        if "instrument" in data:
            instrument = _instrument(data["instrument"], at / "instrument", pillars, scale)
            instruments[instrument.name] = instrument
    if not instruments:
        raise ContentError("content", "instrument", "no instrument defined")
    if default_name is None:
        raise ContentError("content", "default_instrument", "required key is missing")
    _known(default_name[1], instruments, default_name[0], "instrument")
    pillar_keys = tuple(dict.fromkeys([*pillars, *(p.key for i in instruments.values() for p in i.pillars)]))
    steps = _merge(files, "steps", _step)
    numbers = [s.number for s in steps.values()]
    if len(set(numbers)) != len(numbers):
        raise ContentError("content", "steps", f"step numbers must be unique, got {sorted(numbers)}")
    return Content(
        instruments=instruments,
        default_instrument=default_name[1],
        hacks=tuple(_merge(files, "hacks", lambda v, a: _hack(v, a, pillar_keys)).values()),
        dilemmas=tuple(_merge(files, "dilemmas", lambda v, a: _dilemma(v, a, pillar_keys)).values()),
        advice=tuple(_merge(files, "advice", _advice).values()),
        traps=tuple(_merge(files, "traps", _trap).values()),
        roles=tuple(_merge(files, "roles", _role).values()),
        steps=tuple(sorted(steps.values(), key=lambda s: s.number)),
        links=links,
        tracks=tuple(_merge(files, "tracks", _track).values()),
        about=about,
        measures=measures,
    )
