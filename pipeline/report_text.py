"""The report's own words: number formatting, UI labels and the plain sentence per pillar.

Pure functions over plain values (no Flask, no WeasyPrint). Long texts (items, hacks, dilemmas, advice)
come from the content files; this module only names the short labels the report layout needs (English
msgids, translated by the gettext catalogs of ``survey.locales``) and the rules for how a figure is said
in words. Numbers and dates are written by Babel with the language's locale data.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton
from babel.numbers import NumberPattern, parse_pattern

from survey.locales import N_, babel_locale, pN_, translate, translate_table

# Dates come from Babel's locale data (CLDR), not from month tables of our own.


def format_month(value: datetime, lang: str) -> str:
    """A month and year as "marts 2026" / "March 2026"."""
    return format_skeleton("yMMMM", value, locale=babel_locale(lang))


LABELS: dict[str, str | tuple[str, str]] = {
    "report_title": N_("Psychological safety in the team"),
    "baseline_kicker": N_("Take the temperature · Report for the team meeting"),
    "followup_kicker": N_("Keeping it going · Follow-up for the team meeting"),
    "round": N_("Round"),
    "period": N_("Period"),
    "answered": N_("{n} of {total} answered"),
    "responses": N_("Responses"),
    "leader": N_("Leader"),
    "generated": N_("Generated"),
    "confidential": N_("This report shows only figures for the team as a whole. Nobody can see what anyone answered."),
    "summary": N_("Summary"),
    "summary_intro": N_("Mean per pillar on a scale from {min} to {max}. Higher means more safety."),
    "how_to_read": N_("How to read this report"),
    "pillar": N_("Pillar"),
    "statement": N_("Statement"),
    "mean": N_("Mean"),
    "band": N_("Band"),
    "band_red": N_("red"),
    "band_yellow": N_("yellow"),
    "band_green": N_("green"),
    "reverse_mark": N_("Reverse-worded"),
    "answers": N_("answers"),
    "focus": N_("Focus pillar"),
    "focus_heading": N_("Your focus: {pillar}"),
    "focus_intro": N_(
        "The pillars build on each other, so you start with the first pillar in the order that is red, "
        "otherwise the first that is yellow, and if all are green, the lowest."
    ),
    "focus_hacks": N_("Here are hacks that suit that pillar."),
    "focus_no_hacks": N_(
        "This instrument comes with no hacks. The toolkit's material (see the links at the end) can give "
        "ideas for what to try."
    ),
    "how_to_start": N_("How to start"),
    "dilemmas": N_("Dilemmas for the dialogue"),
    "dilemmas_intro": N_(
        "Use one or more of the dilemmas at the team meeting. There is no single right answer; the point "
        "is to hear how each of you sees the situation."
    ),
    "iglo_heading": N_("Action plan (IGLO)"),
    "iglo_intro": N_(
        "Agree what you do at each level: what, who and by when. Write it down at the meeting and bring "
        "the plan to the next round."
    ),
    "iglo_what": N_("What do we do?"),
    "iglo_who": N_("Who?"),
    "iglo_when": N_("By when?"),
    "iglo_individ": N_("Individual"),
    "iglo_gruppe": N_("Group"),
    "iglo_ledelse": N_("Leadership"),
    "iglo_organisation": N_("Organisation"),
    "iglo_read_more": N_("More about IGLO"),
    "review_heading": N_("What you agreed last time"),
    "review_intro": N_(
        "Review last time's actions before agreeing new ones: Was it done? Did it make a difference? "
        "Continue, change or stop?"
    ),
    "review_done": N_("Done?"),
    "review_keep": N_("Continue?"),
    "action_status_done": N_("Done"),
    "action_status_ongoing": N_("Ongoing"),
    "action_status_dropped": N_("Dropped"),
    "review_none": N_("No actions were recorded after the last round."),
    "change_heading": N_("Change since last time"),
    "change_intro": N_("Change in the mean per pillar. A plus means more safety."),
    "this_round": N_("This round"),
    "trend_heading": N_("The pillars over time"),
    "trend_gap": N_("A gap in a line means that round had too few answers to show figures."),
    "advice_heading": N_("Five pieces of advice for holding on"),
    "next_steps": N_("Next steps"),
    "next_steps_intro": N_("The material for each step of the process is online:"),
    "links_heading": N_("Material"),
    "link_site": N_("The toolkit's front page"),
    "link_barometer": N_("The toolkit's own safety barometer (PDF, Danish)"),
    "link_dilemmas": N_("Dilemmas for the dialogue (PDF, Danish)"),
    "link_hacks_inkludere": N_("Hacks for the pillar Inclusion (PDF, Danish)"),
    "link_hacks_laere": N_("Hacks for the pillar Learning (PDF, Danish)"),
    "link_hacks_bidrage": N_("Hacks for the pillar Contributing (PDF, Danish)"),
    "link_hacks_udfordre": N_("Hacks for the pillar Challenging (PDF, Danish)"),
    "link_facilitation": N_("Facilitation guide (PDF, Danish)"),
    "link_advice": N_("Advice for holding on (PDF, Danish)"),
    "link_iglo": N_("IGLO: who can do what (Danish)"),
    "link_responsibility": N_("Who takes responsibility: a tool from Lederweb (Danish)"),
    "suppressed_heading": N_("Too few answers to show figures"),
    "suppressed_lead": N_("{n} of {total} answered. At least {k} answers are needed before figures are shown."),
    "suppressed_why": N_(
        "The threshold protects each person's anonymity. With so few answers a mean or a distribution "
        "could reveal what individuals answered. So this report shows no means, bands, distributions or "
        "recommended hacks for this round."
    ),
    "suppressed_now": N_("What to do now"),
    "suppressed_todo_1": N_(
        "Talk in the team about why few answered. Was the timing bad, did the email get lost, or is there"
        " doubt about anonymity? That is important to know in itself."
    ),
    "suppressed_todo_2": N_(
        "Agree a new round with the facilitator when more people can take part, and make time to answer, "
        "for example at the start of a meeting."
    ),
    "suppressed_todo_3": N_(
        "Do not guess who answered or what they answered, and do not ask individuals. That would break "
        "the trust the survey depends on."
    ),
    "suppressed_todo_4": N_(
        "Use the time for shared knowledge: read about the pillars and the traps, and talk about them in the team."
    ),
    "process_heading": N_("How the process works"),
    "roles_heading": N_("Roles and responsibility"),
    "roles_intro": N_("Psychological safety is not the leader's project alone. This is how the work is shared."),
    "traps_heading": N_("Traps"),
    "traps_intro": N_("It is easy to misstep when a team works on safety. Know the traps in advance."),
    "read_scale": N_("The scale"),
    "read_scale_text": N_(
        "Each statement is answered from {min} ({min_label}) to {max} ({max_label}). A mean of {max_fmt} "
        "means everyone answered ‘{max_label}’ to the positive statements and ‘{min_label}’ to the "
        "reverse-worded ones."
    ),
    "read_reverse": N_("Reverse-worded statements"),
    "read_reverse_text": N_(
        "Some statements are worded negatively (marked ↺). Their answers are turned around before the "
        "mean is computed ({sum} minus the answer), so a high number always means more safety. The "
        "distribution shows the answers as given."
    ),
    "read_bands": N_("Bands"),
    "read_bands_text": N_(
        "Red is below {red}, yellow from {red} to below {green}, green from {green} up. The bands help "
        "the conversation; they are not a verdict on the team."
    ),
    "read_anonymity": N_("Anonymity"),
    "read_anonymity_text": N_(
        "Figures are shown only when at least {k} have answered. The report shows only figures for the "
        "whole team; nobody can see an individual's answers."
    ),
    "read_small": N_("Small teams"),
    "read_small_text": N_(
        "In a small team one person's answers can move a mean by several tenths. Look for patterns and "
        "use the figures to start a conversation, not as a grade. Answers this round: {n}."
    ),
    "read_pillars": N_("The pillars"),
    "read_pillars_text": N_(
        "The pillars build on each other: without feeling included, people do not take the risk of "
        "learning, contributing or challenging."
    ),
    "read_pillars_other": N_(
        "The statements are grouped in pillars. The order below is the one the focus suggestion follows."
    ),
    "focus_intro_other": N_(
        "The suggestion follows the order of the pillars: the first pillar that is red, otherwise the "
        "first that is yellow, and if all are green, the lowest."
    ),
    "legend": pN_("report legend", "Answers"),
    "page": N_("Page"),
    "chart_pillars_title": N_("Mean per pillar with bands"),
    "chart_trend_title": N_("Mean per pillar over the rounds"),
    "hacks_step": N_("What we do"),
    "step_baseline_note": N_(
        "This report belongs to step 2, Take the temperature. The next step is What we do: choose hacks, "
        "agree the action plan and follow up at the next round."
    ),
    "step_followup_note": N_(
        "This report belongs to step 4, Keeping it going: see what has moved, review the last action plan"
        " and agree what you keep doing."
    ),
}

# One plain sentence per band ({mean} is the formatted mean)
_BAND_SENTENCES = {
    "green": N_("%(name)s is strong at %(mean)s, in the green band. Keep doing what works."),
    "yellow": N_("%(name)s is at %(mean)s, in the yellow band: a good base with room to grow."),
    "red": N_("%(name)s is at %(mean)s, in the red band."),
}

# The rule is explained once, on the focus page; the pillar pages only point to it, so two red pillars
# are never both "the place to start".
_FOCUS_SUFFIX = N_("We suggest it as the focus (see why on the focus page).")


def labels(lang: str) -> dict[str, str]:
    """The UI labels in ``lang`` from the catalogs (Danish for an unknown language)."""
    return translate_table(LABELS, lang)


@lru_cache(maxsize=16)
def _number_pattern(pattern: str, lang: str) -> tuple[NumberPattern, Locale]:
    """Babel's parsed number pattern and locale, once per (pattern, language): a report formats hundreds
    of figures, and parsing them per call is most of the cost of ``format_decimal``."""
    locale = Locale.parse(babel_locale(lang))
    return parse_pattern(pattern), locale


def _decimal(value: Decimal, pattern: str, lang: str) -> str:
    number_pattern, locale = _number_pattern(pattern, lang)
    return number_pattern.apply(value, locale)


def format_mean(value: float | None, lang: str) -> str:
    """A mean with two decimals in the language's style ("3,75" / "3.75"), by Babel's locale data.

    Rounded by Python first (``:.2f``, as every figure of the report always was), so Babel only writes
    the digits: a mean of 2.675 reads "2,67" as before, not Babel's decimal half-even "2,68".
    ``None`` (suppressed or unknown) becomes an en dash, so a table never shows a made-up zero.
    """
    if value is None:
        return "–"
    return _decimal(Decimal(f"{value:.2f}"), "0.00", lang)


def format_delta(value: float | None, lang: str) -> str:
    """A signed change ("+0,25", "−0,10", "±0,00"); a real minus sign reads better in print."""
    if value is None:
        return "–"
    rounded = round(value, 2)
    sign = "+" if rounded > 0 else "−" if rounded < 0 else "±"
    return sign + format_mean(abs(rounded), lang)


def percent(n: int, total: int) -> int:
    """``n`` of ``total`` as a whole per cent, half up (5 of 7 -> 71, 1 of 8 -> 13): the one rule for a
    share of one count, wherever it is shown (report, web pages, unit overview)."""
    if total <= 0:
        return 0
    return (200 * n + total) // (2 * total)


def format_percent(whole: int, lang: str) -> str:
    """A whole per cent written as the language writes a percentage ("71 %" in Danish, "71%" in English)."""
    return _decimal(Decimal(whole) / 100, "#,##0 %" if lang == "da" else "#,##0%", lang)


def format_share(n: int, total: int, lang: str) -> str:
    """``percent`` of ``n`` in ``total``, written by ``format_percent``."""
    return format_percent(percent(n, total), lang)


def format_number(value: float, lang: str) -> str:
    """A scale value such as 3 or 3.5 without trailing zeros, in the language's decimal style."""
    return _decimal(Decimal(f"{value:g}"), "0.######", lang)


def format_date(value: date | datetime | None, lang: str) -> str:
    """A date as "3. marts 2026" / "3 March 2026"; empty for None."""
    if value is None:
        return ""
    return babel_format_date(value, "long", locale=babel_locale(lang))


def format_period(start: datetime | None, end: datetime | None, lang: str) -> str:
    """The round's period, e.g. "3. marts 2026 – 17. marts 2026"."""
    parts = [p for p in (format_date(start, lang), format_date(end, lang)) if p]
    return " – ".join(parts)


def band_label(band: str | None, lang: str) -> str:
    """The band's name in words ("gul" / "yellow")."""
    return labels(lang).get(f"band_{band}", "") if band else ""


def pillar_sentence(name: str, mean: float | None, band: str | None, lang: str, *, focus: bool) -> str:
    """One plain sentence about a pillar's result; empty when there is no figure to speak of."""
    if mean is None or band is None:
        return ""
    sentence = translate(lang, _BAND_SENTENCES[band], name=name, mean=format_mean(mean, lang))
    return f"{sentence} {translate(lang, _FOCUS_SUFFIX)}" if focus else sentence


# --- Labels of the report's newer sections (change with uncertainty, chosen focus, grouped answers,
# strongest and weakest statements, debrief guide, suppressed report). Kept in their own table so that
# wording edits of the labels above and structural additions here merge apart.
SECTION_LABELS: dict[str, str | tuple[str, str]] = {
    "agree_share": N_("{share} agree"),  # the share as format_percent writes it
    "safe_share": N_("{share} answer on the safe side"),
    "legend_unsafe": N_("Answers on the unsafe side"),
    "legend_neutral": N_("Neither agree nor disagree"),
    "legend_safe": N_("Answers on the safe side"),
    "legend_note": N_(
        "Answers are grouped in three and shown as shares. The colour follows what an answer means for "
        "safety: for a reverse-worded statement (↺), agreeing is the unsafe side."
    ),
    "extremes_heading": N_("Strongest and weakest statements"),
    "strongest": N_("Strongest"),
    "weakest": N_("Weakest"),
    "extremes_note": N_(
        "Ordered by mean, with reverse-worded statements (↺) turned: higher always means more safety. The"
        " share is those who answered on the safe side: agreeing with a positive statement, disagreeing "
        "with a reverse-worded one."
    ),
    "change_explain": N_(
        "Every round is a new measurement: everyone answers afresh. The interval shows how much the "
        "change can vary just because of the number of answers and their spread (95 %). When it includes "
        "0, chance can explain the change, and we read it as unchanged."
    ),
    "change_since": N_("Since {label} ({n} answers)"),
    "change_none": N_("No earlier round had enough answers to compare with."),
    "col_then": N_("Then"),
    "col_now": N_("Now"),
    "col_change": pN_("report column", "Change"),
    "col_interval": N_("95 % interval"),
    "col_reading": N_("Read as"),
    "reading_unchanged": N_("unchanged"),
    "reading_up": N_("risen"),
    "reading_down": N_("fallen"),
    "interval": N_("{low} to {high}"),
    "summary_change": N_("Since {label}: {delta} (95 % interval {interval}), {reading}."),
    "followed_heading": N_("Your chosen focus: {pillar}"),
    "followed_moved": N_(
        "At the last team meeting you chose to work on {pillar}. Since {label}: {delta} (95 % interval "
        "{interval}), {reading}."
    ),
    "followed_no_change": N_("At the last team meeting you chose to work on {pillar}."),
    "plan_heading": N_("Already in your action plan"),
    "plan_intro": N_("You have already agreed these hacks. Talk about how they work before taking on new ones."),
    "new_hacks_heading": N_("New hacks to try"),
    "no_new_hacks": N_("All the hacks for this pillar are already in your plan. Keep them going."),
    "suggestion_heading": N_("Suggested focus: {pillar}"),
    "reason_red": N_(
        "The pillars build on each other ({order}), and {pillar} is the first in that order in the red "
        "band. So we suggest starting there."
    ),
    "reason_yellow": N_(
        "The pillars build on each other ({order}). No pillar is red, and {pillar} is the first in that "
        "order in the yellow band. So we suggest starting there."
    ),
    "reason_lowest": N_("All pillars are green, and {pillar} has the lowest mean."),
    "reason_lowest_differs": N_(
        "The lowest is {lowest} ({mean}). It comes later in the order, so the suggestion starts with "
        "{pillar}, but you may well choose {lowest}."
    ),
    "not_verdict": N_(
        "The suggestion is a starting point, not a verdict. You choose your own focus at the team "
        "meeting, and the next report follows your choice."
    ),
    "debrief_heading": N_("Guide for the team meeting"),
    "debrief_intro": N_(
        "An agenda for the meeting where you discuss the results, built from your own figures. A leader "
        "can use it alone in the self-guided track. The agenda and its times are the Tryghed programme's "
        "own suggestion: set aside {minutes} minutes."
    ),
    "debrief_minutes": N_("{n} min"),
    "debrief_questions": N_("Questions for the team"),
    "debrief_print": N_("Print the guide"),
    "suppressed_lead_small": N_(
        "{n} of {total} answered ({rate}). The team has fewer members than the threshold of {k} answers, "
        "so the round could not show figures however many answered."
    ),
    "suppressed_small_1": N_(
        "Lower the threshold for the next round, never below 3 answers. The lower it is, the more a mean "
        "can say about one person, so talk about it in the team first."
    ),
    "suppressed_small_2": N_(
        "Measure together with a sibling team in the unit, so your answers count in a shared figure that "
        "reaches the threshold."
    ),
    "suppressed_small_3": N_(
        "Hold a dialogue-only round: use the dilemmas and the guide for the team meeting below, without figures."
    ),
    "suppressed_pillars_heading": N_("The pillars of the survey"),
    "suppressed_pillars_intro": N_(
        "The survey looks at psychological safety through these pillars. They build on each other, and "
        "you can talk about them without figures."
    ),
    "suppressed_dilemmas_intro": N_(
        "The dilemmas hold no figures and can be used although this round gave none: pick one and talk about it."
    ),
    "process_planned": N_("Planned: {when}, {place}"),
    "process_unplanned": N_("Not planned yet: the facilitator plans it on the team's page in Tryghed."),
}


def section_labels(lang: str) -> dict[str, str]:
    """All labels for ``lang``: the base labels plus those of the newer sections."""
    return {**labels(lang), **translate_table(SECTION_LABELS, lang)}


def format_interval(low: float, high: float, lang: str) -> str:
    """A 95 % interval of a change as "−0,12 til +1,02" / "−0.12 to +1.02"."""
    text = translate_table({"interval": SECTION_LABELS["interval"]}, lang)["interval"]
    return text.format(low=format_delta(low, lang), high=format_delta(high, lang))
