"""Typed, immutable view of the toolkit content (instrument, hacks, dilemmas, advice, traps, roles).

Pure data: no Flask, no database. The loader in ``survey.content.loader`` builds these from TOML files
and validates them; everything else in the project reads content only through these classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES = ("da", "en")
PILLAR_ORDER = ("inkludere", "laere", "bidrage", "udfordre")
# What a facilitator can plan a session for, and the toolkit step each belongs to. A track's sessions are
# keyed by these, so that every session the content describes is one a facilitator can plan.
SESSION_STEPS: dict[str, str] = {
    "premeeting": "faelles_viden",
    "briefing": "faelles_viden",
    "measurement": "tag_temperaturen",
    "debriefing": "det_goer_vi",
    "sparring": "det_goer_vi",
    "followup": "vi_holder_fast",
}
# Whose a text is: the toolkit's own theme, or the Tryghed programme's addition (the default: a text
# is never passed off as the toolkit's unless the file says so).
ORIGINS = ("toolkit", "tryghed")


@dataclass(frozen=True)
class Text:
    """A text in Danish and English; Danish is the fallback."""

    da: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang`` ("da" or "en"), falling back to Danish."""
        return self.en if lang == "en" and self.en else self.da


@dataclass(frozen=True)
class Pillar:
    key: str  # one of PILLAR_ORDER for the default instrument
    name: Text
    description: Text


@dataclass(frozen=True)
class Item:
    key: str  # form field name, e.g. "i1"
    pillar: str
    reverse: bool
    text: Text


@dataclass(frozen=True)
class Bands:
    """Pillar-mean bands: red below ``red_below``, green from ``green_from``, yellow between."""

    red_below: float = 3.0
    green_from: float = 4.0


@dataclass(frozen=True)
class Instrument:
    name: str  # e.g. "tryghedsbarometer"
    title: Text
    intro: Text  # shown above the form
    scale_min: int
    scale_max: int
    scale_labels: tuple[Text, ...]  # one per scale point, low to high
    pillars: tuple[Pillar, ...]
    items: tuple[Item, ...]
    bands: Bands = field(default_factory=Bands)
    about: Text | None = None  # whose instrument this is, said plainly (shown with the official link)
    official_url: str | None = None  # where the official wording lives, when this is not it
    # names of the grouped answers (low, middle, high; no middle on an even scale), when the file gives them
    scale_groups: tuple[Text, ...] | None = None

    def answer_groups(self, lang: str) -> tuple[str, str, str]:
        """Names of the low, middle and high answer groups in the instrument's own scale words.

        Without names in the file a group is named by the labels it spans ("Passer slet ikke – Passer kun
        lidt"), so a 7-point "passer" scale is never reported as agree/disagree. The middle name of an
        even scale is empty: it has no middle group.
        """
        labels = [label.get(lang) for label in self.scale_labels]
        half = len(labels) // 2
        if self.scale_groups:
            names = [g.get(lang) for g in self.scale_groups]
            return (names[0], names[1], names[2]) if len(names) == 3 else (names[0], "", names[1])

        def span(part: list[str]) -> str:
            return part[0] if len(part) == 1 else f"{part[0]} – {part[-1].lower()}"

        middle = labels[half] if len(labels) % 2 else ""
        return span(labels[:half]), middle, span(labels[len(labels) - half :])

    def items_of(self, pillar_key: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.pillar == pillar_key)

    def pillar(self, key: str) -> Pillar:
        return next(p for p in self.pillars if p.key == key)


@dataclass(frozen=True)
class Hack:
    key: str
    pillar: str
    title: Text
    summary: Text  # what it is and why it helps
    how_to_start: Text  # the first concrete step at the next meeting
    origin: str = "tryghed"  # one of ORIGINS: the toolkit's own, or ours (the shipped hacks are ours)


@dataclass(frozen=True)
class Dilemma:
    key: str
    pillar: str
    title: Text
    situation: Text  # the dilemma told as a short situation
    questions: tuple[Text, ...]  # questions for the team dialogue
    origin: str = "tryghed"  # one of ORIGINS: the toolkit's own, or ours (the shipped dilemmas are ours)


@dataclass(frozen=True)
class Advice:
    """One of the five pieces of advice for holding on (step 4)."""

    key: str
    title: Text
    text: Text
    origin: str = "tryghed"  # one of ORIGINS: a theme the toolkit names, or our own addition


@dataclass(frozen=True)
class Trap:
    key: str
    title: Text
    text: Text
    origin: str = "tryghed"  # one of ORIGINS: a theme the toolkit names, or our own addition


@dataclass(frozen=True)
class Role:
    key: str  # leader, employees, facilitator, trio, ...
    title: Text
    responsibility: Text


@dataclass(frozen=True)
class Step:
    """One of the toolkit's four steps."""

    key: str  # faelles_viden, tag_temperaturen, det_goer_vi, vi_holder_fast
    number: int
    title: Text
    summary: Text
    url: str


@dataclass(frozen=True)
class Meeting:
    """One session of a track's process, e.g. the facilitated track's briefing of the staff.

    ``key`` is one of ``SESSION_STEPS``: a session a facilitator can plan. How long the sessions last is
    said once, in the track's text, as the toolkit says it (no per-session split of our own).
    """

    key: str
    title: Text
    text: Text


@dataclass(frozen=True)
class Track:
    """A way through the steps: self-guided (the leader runs it) or facilitated."""

    key: str
    title: Text
    text: Text
    sessions: tuple[Meeting, ...] = ()


@dataclass(frozen=True)
class About:
    """What the toolkit is for, and whose words the shipped texts are."""

    purpose: Text
    own_texts: Text
    # how a text's origin is labelled wherever it is shown (traps, hacks, dilemmas, advice): the toolkit's, or ours
    origin_toolkit: Text | None = None
    origin_tryghed: Text | None = None

    def origin(self, origin: str) -> Text | None:
        """The label for a text of this origin ("toolkit" or "tryghed"), if the content has one."""
        return self.origin_toolkit if origin == "toolkit" else self.origin_tryghed


@dataclass(frozen=True)
class Measures:
    """The measures the toolkit's facilitated track uses (Amy Edmondson's four), and what that means here."""

    title: Text
    text: Text  # why the product measures with its own instrument instead
    names: tuple[Text, ...]  # the measures, as the toolkit lists them


@dataclass(frozen=True)
class Content:
    """Everything the toolkit says, keyed for lookup."""

    instruments: dict[str, Instrument]
    default_instrument: str
    hacks: tuple[Hack, ...]
    dilemmas: tuple[Dilemma, ...]
    advice: tuple[Advice, ...]
    traps: tuple[Trap, ...]
    roles: tuple[Role, ...]
    steps: tuple[Step, ...]
    links: dict[str, str]  # named URLs: material online (e.g. "faelles_viden", "iglo")
    tracks: tuple[Track, ...] = ()
    about: About | None = None
    measures: Measures | None = None

    def instrument(self, name: str | None = None) -> Instrument:
        return self.instruments[name or self.default_instrument]

    def hacks_for(self, pillar_key: str) -> tuple[Hack, ...]:
        return tuple(h for h in self.hacks if h.pillar == pillar_key)

    def dilemmas_for(self, pillar_key: str) -> tuple[Dilemma, ...]:
        return tuple(d for d in self.dilemmas if d.pillar == pillar_key)

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    def track(self, key: str) -> Track | None:
        return next((t for t in self.tracks if t.key == key), None)
