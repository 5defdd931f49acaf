"""The debrief guide: an agenda for the team meeting, built from this team's results.

Pure: plain values in, plain values out (no Flask, no WeasyPrint). The report prints it as a page, and
``/r/<token>/debrief`` shows it alone for printing. It is written so that a leader running the
self-guided track can hold the meeting without a facilitator: timed parts, what to say, questions to
ask, which dilemmas, and an ending with IGLO actions. A suppressed round gets a guide without figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


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
    en = lang == "en"
    parts = [
        AgendaPart(
            "Opening" if en else "Velkomst og rammer",
            5,
            (
                "Say why you are meeting: to talk about how safe it is to speak up in this team, not to grade "
                "anyone. Agree the frame: everyone speaks for themselves, nobody guesses who answered what."
            )
            if en
            else (
                "Sig, hvorfor I mødes: for at tale om, hvor trygt det er at sige sin mening i teamet, ikke for "
                "at give karakterer. Aftal rammen: alle taler for sig selv, og ingen gætter på, hvem der har "
                "svaret hvad."
            ),
        )
    ]
    if suppressed and small_team:
        # not "few answered": the team has fewer people than the threshold, so it never could show figures
        parts.append(
            AgendaPart(
                "A team smaller than the threshold" if en else "Et team mindre end grænsen",
                15,
                (
                    "The team has fewer people than the answers needed before figures are shown, so no round "
                    "can show figures as it is. Choose together how you want to measure next time."
                )
                if en
                else (
                    "Teamet har færre personer, end der skal svar til, før der vises tal, så ingen runde kan "
                    "vise tal, som det er nu. Vælg sammen, hvordan I vil måle næste gang."
                ),
                [
                    "A lower threshold (never below 3), measuring with a sibling team, or dialogue only?"
                    if en
                    else "En lavere grænse (aldrig under 3), måling sammen med et søsterteam eller dialog alene?",
                ],
            )
        )
    elif suppressed:
        parts.append(
            AgendaPart(
                "Why so few answered" if en else "Hvorfor svarede så få?",
                15,
                (
                    "The round had too few answers to show figures. Talk about what stood in the way, without "
                    "asking who answered."
                )
                if en
                else (
                    "Runden gav for få svar til at vise tal. Tal om, hvad der stod i vejen, uden at spørge, "
                    "hvem der svarede."
                ),
                [
                    "Was the timing or the email the problem?" if en else "Var det tidspunktet eller mailen?",
                    "Is anything unclear about anonymity?" if en else "Er der tvivl om anonymiteten?",
                ],
            )
        )
    else:
        text = (
            "Show the summary. Start with what is strong before what is weak."
            if en
            else "Vis overblikket. Begynd med det, der står stærkt, før det, der står svagt."
        )
        questions = []
        if strongest:
            questions.append(
                f"What makes “{strongest}” work so well here?" if en else f"Hvad gør, at “{strongest}” lykkes hos os?"
            )
        if weakest:
            questions.append(
                f"What would it take to move “{weakest}”?" if en else f"Hvad skal der til for at flytte “{weakest}”?"
            )
        questions.append("What surprises you?" if en else "Hvad overrasker jer?")
        parts.append(AgendaPart("The results" if en else "Resultaterne", 15, text, questions))
    if suppressed:
        parts.append(
            AgendaPart(
                "The pillars" if en else "Søjlerne",
                15,
                "Go through the pillars in this report and what each means in your daily work."
                if en
                else "Gå søjlerne i rapporten igennem, og tal om, hvad de betyder i jeres hverdag.",
                ["Where do we recognise ourselves?" if en else "Hvor kan vi genkende os selv?"],
            )
        )
    if followup and not suppressed:
        moved = (
            f"Look at how {followed}, the focus you chose last time, has moved, and read an interval that "
            "includes 0 as unchanged."
            if en and followed
            else f"Se, hvordan {followed}, det fokus I valgte sidst, har flyttet sig, og læs et interval, der "
            "rummer 0, som uændret."
            if followed
            else "Look at the change since last time; read an interval that includes 0 as unchanged."
            if en
            else "Se på udviklingen siden sidst; læs et interval, der rummer 0, som uændret."
        )
        review = (
            " Go through last time's actions: done? did it help? keep, change or stop?"
            if en
            else " Gennemgå sidste handleplan: Blev det gjort? Hjalp det? Fortsætte, ændre eller stoppe?"
        )
        parts.append(
            AgendaPart("Since last time" if en else "Siden sidst", 15, moved + (review if has_previous_actions else ""))
        )
    if not suppressed and focus:
        parts.append(
            AgendaPart(
                "Choose your focus" if en else "Vælg jeres fokus",
                10,
                (
                    f"The report suggests {focus} and says why. Decide together which pillar you work on until "
                    "the next round; the facilitator records your choice, and the next report follows it."
                )
                if en
                else (
                    f"Rapporten foreslår {focus} og siger hvorfor. Beslut sammen, hvilken søjle I arbejder med "
                    "frem til næste runde; jeres valg registreres, og næste rapport følger det."
                ),
                ["Does the suggestion match what you experience?" if en else "Passer forslaget med det, I oplever?"],
            )
        )
    if dilemmas:
        names = ", ".join(f"“{d}”" for d in dilemmas)
        parts.append(
            AgendaPart(
                "Dilemmas" if en else "Dilemmaer",
                20,
                (
                    f"Read one dilemma aloud ({names}). Let everyone answer the questions in turn before you "
                    "discuss. There is no right answer."
                )
                if en
                else (
                    f"Læs et dilemma højt ({names}). Lad alle svare på spørgsmålene på skift, før I diskuterer. "
                    "Der er ikke ét rigtigt svar."
                ),
            )
        )
    parts.append(
        AgendaPart(
            "IGLO actions" if en else "IGLO-handlinger",
            15,
            (
                "End by agreeing a few small actions: what the individual, the group, the leadership and the "
                "organisation will do, who does it and by when. Write them on the IGLO page and record them."
            )
            if en
            else (
                "Slut af med at aftale få, små handlinger: hvad individet, gruppen, ledelsen og organisationen "
                "gør, hvem der gør det, og hvornår. Skriv dem på IGLO-siden, og få dem registreret."
            ),
            [
                "What is the first step, and when do we check it?"
                if en
                else "Hvad er første skridt, og hvornår følger vi op?"
            ],
        )
    )
    return parts
