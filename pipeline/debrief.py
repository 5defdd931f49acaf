"""The debrief guide: an agenda for the team meeting, built from this team's results.

Pure: plain values in, plain values out (no Flask, no WeasyPrint), its texts from the catalogs. The report
prints it as a page, and ``/r/<token>/debrief`` shows it alone for printing. It is written so that a leader running the
self-guided track can hold the meeting without a facilitator: timed parts, what to say, questions to
ask, which dilemmas, and an ending with IGLO actions. A suppressed round gets a guide without figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from survey.locales import translate


@dataclass(frozen=True)
class AgendaPart:
    """One timed part of the meeting."""

    title: str
    minutes: int
    text: str
    questions: list[str] = field(default_factory=list)


def debrief_agenda(
    lang: str,
    *,
    suppressed: bool,
    followup: bool,
    strongest: str | None = None,
    weakest: str | None = None,
    focus: str | None = None,
    followed: str | None = None,
    dilemmas: Sequence[str] = (),
    has_previous_actions: bool = False,
    small_team: bool = False,
) -> list[AgendaPart]:
    """The parts of the meeting, in order. Every name passed in is already in ``lang``."""
    parts = [
        AgendaPart(
            translate(lang, "Opening"),
            5,
            translate(
                lang,
                "Say why you are meeting: to talk about how safe it is to speak up in this team, not to grade "
                "anyone. Agree the frame: everyone speaks for themselves, nobody guesses who answered what.",
            ),
        )
    ]
    if suppressed and small_team:
        # not "few answered": the team has fewer people than the threshold, so it never could show figures
        parts.append(
            AgendaPart(
                translate(lang, "A team smaller than the threshold"),
                15,
                translate(
                    lang,
                    "The team has fewer people than the answers needed before figures are shown, so no round "
                    "can show figures as it is. Choose together how you want to measure next time.",
                ),
                [
                    translate(
                        lang, "A lower threshold (never below 3), measuring with a sibling team, or dialogue only?"
                    )
                ],
            )
        )
    elif suppressed:
        parts.append(
            AgendaPart(
                translate(lang, "Why so few answered"),
                15,
                translate(
                    lang,
                    "The round had too few answers to show figures. Talk about what stood in the way, without "
                    "asking who answered.",
                ),
                [
                    translate(lang, "Was the timing or the email the problem?"),
                    translate(lang, "Is anything unclear about anonymity?"),
                ],
            )
        )
    else:
        text = translate(lang, "Show the summary. Start with what is strong before what is weak.")
        questions = []
        if strongest:
            questions.append(translate(lang, "What makes “%(pillar)s” work so well here?", pillar=strongest))
        if weakest:
            questions.append(translate(lang, "What would it take to move “%(pillar)s”?", pillar=weakest))
        questions.append(translate(lang, "What surprises you?"))
        parts.append(AgendaPart(translate(lang, "The results"), 15, text, questions))
    if suppressed:
        parts.append(
            AgendaPart(
                translate(lang, "The pillars"),
                15,
                translate(lang, "Go through the pillars in this report and what each means in your daily work."),
                [translate(lang, "Where do we recognise ourselves?")],
            )
        )
    if followup and not suppressed:
        moved = (
            translate(
                lang,
                "Look at how %(focus)s, the focus you chose last time, has moved, and read an interval that "
                "includes 0 as unchanged.",
                focus=followed,
            )
            if followed
            else translate(lang, "Look at the change since last time; read an interval that includes 0 as unchanged.")
        )
        review = " " + translate(lang, "Go through last time's actions: done? did it help? keep, change or stop?")
        parts.append(
            AgendaPart(translate(lang, "Since last time"), 15, moved + (review if has_previous_actions else ""))
        )
    if not suppressed and focus:
        parts.append(
            AgendaPart(
                translate(lang, "Choose your focus"),
                10,
                translate(
                    lang,
                    "The report suggests %(focus)s and says why. Decide together which pillar you work on until "
                    "the next round; the facilitator records your choice, and the next report follows it.",
                    focus=focus,
                ),
                [translate(lang, "Does the suggestion match what you experience?")],
            )
        )
    if dilemmas:
        names = ", ".join(f"“{d}”" for d in dilemmas)
        parts.append(
            AgendaPart(
                translate(lang, "Dilemmas"),
                20,
                translate(
                    lang,
                    "Read one dilemma aloud (%(names)s). Let everyone answer the questions in turn before you "
                    "discuss. There is no right answer.",
                    names=names,
                ),
            )
        )
    parts.append(
        AgendaPart(
            translate(lang, "IGLO actions"),
            15,
            translate(
                lang,
                "End by agreeing a few small actions: what the individual, the group, the leadership and the "
                "organisation will do, who does it and by when. Write them on the IGLO page and record them.",
            ),
            [translate(lang, "What is the first step, and when do we check it?")],
        )
    )
    return parts
