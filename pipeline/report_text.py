"""The report's own words: number formatting, UI labels and the plain sentence per pillar.

Pure functions over plain values (no Flask, no WeasyPrint). Long texts (items, hacks, dilemmas, advice)
come from the content files; this module only holds the short labels the report layout needs, in Danish
and English, and the rules for how a figure is said in words.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton

from survey.locales import babel_locale

# Dates come from Babel's locale data (CLDR), not from month tables of our own.


def format_month(value: datetime, lang: str) -> str:
    """A month and year as "marts 2026" / "March 2026"."""
    return format_skeleton("yMMMM", value, locale=babel_locale(lang))


LABELS: dict[str, dict[str, str]] = {
    "da": {
        "report_title": "Psykologisk tryghed i teamet",
        "baseline_kicker": "Tag temperaturen · Rapport til teammødet",
        "followup_kicker": "Vi holder fast · Opfølgning til teammødet",
        "round": "Runde",
        "period": "Periode",
        "answered": "{n} af {total} har svaret",
        "responses": "Besvarelser",
        "leader": "Leder",
        "generated": "Udarbejdet",
        "confidential": ("Rapporten viser kun samlede tal for teamet. Ingen kan se, hvad den enkelte har svaret."),
        "summary": "Overblik",
        "summary_intro": "Gennemsnit pr. søjle på en skala fra {min} til {max}. Jo højere, jo mere tryghed.",
        "how_to_read": "Sådan læser du rapporten",
        "pillar": "Søjle",
        "statement": "Udsagn",
        "mean": "Gennemsnit",
        "band": "Zone",
        "band_red": "rød",
        "band_yellow": "gul",
        "band_green": "grøn",
        "reverse_mark": "Omvendt udsagn",
        "answers": "svar",
        "focus": "Fokussøjle",
        "focus_heading": "Jeres fokus: {pillar}",
        "focus_intro": (
            "Søjlerne bygger oven på hinanden, så I begynder med den første søjle i rækken, der ligger "
            "i rød zone, ellers den første i gul, og er alle grønne, den laveste."
        ),
        "focus_hacks": "Her er hacks, der passer til netop den søjle.",
        "focus_no_hacks": (
            "Til dette måleredskab følger der ingen hacks med. Værktøjskassens materiale (se links "
            "bagerst) kan give idéer til, hvad I vil prøve."
        ),
        "how_to_start": "Sådan kommer I i gang",
        "dilemmas": "Dilemmaer til dialogen",
        "dilemmas_intro": (
            "Brug et eller flere af dilemmaerne på teammødet. Der er ikke ét rigtigt svar; pointen er at "
            "høre, hvordan I hver især ser situationen."
        ),
        "iglo_heading": "Handleplan (IGLO)",
        "iglo_intro": (
            "Aftal, hvad I gør på hvert niveau: hvad, hvem og hvornår. Skriv det ned på mødet, og "
            "tag planen med til næste måling."
        ),
        "iglo_what": "Hvad gør vi?",
        "iglo_who": "Hvem?",
        "iglo_when": "Hvornår?",
        "iglo_individ": "Individ",
        "iglo_gruppe": "Gruppe",
        "iglo_ledelse": "Ledelse",
        "iglo_organisation": "Organisation",
        "iglo_read_more": "Mere om IGLO",
        "review_heading": "Sidste gang aftalte I",
        "review_intro": (
            "Gennemgå handlingerne fra sidst, før I aftaler nye: Blev det gjort? Gjorde det en forskel? "
            "Skal det fortsætte, ændres eller stoppes?"
        ),
        "review_done": "Gjort?",
        "review_keep": "Fortsætte?",
        "action_status_done": "Gjort",
        "action_status_ongoing": "I gang",
        "action_status_dropped": "Droppet",
        "review_none": "Der er ikke registreret handlinger fra sidste runde.",
        "change_heading": "Udvikling siden sidst",
        "change_intro": "Ændring i gennemsnit pr. søjle. Et plus betyder mere tryghed.",
        "this_round": "Denne runde",
        "trend_heading": "Søjlerne over tid",
        "trend_gap": "Et hul i en linje betyder, at runden havde for få svar til at vise tal.",
        "advice_heading": "Fem råd til at holde fast",
        "next_steps": "Næste skridt",
        "next_steps_intro": "Materialet til hvert trin i forløbet ligger på nettet:",
        "links_heading": "Materiale",
        "link_site": "Værktøjskassens forside",
        "link_barometer": "Tryghedsbarometeret fra værktøjskassen (PDF)",
        "link_dilemmas": "Dilemmaer til dialogen (PDF)",
        "link_hacks_inkludere": "Hacks til søjlen Inkludere (PDF)",
        "link_hacks_laere": "Hacks til søjlen Lære (PDF)",
        "link_hacks_bidrage": "Hacks til søjlen Bidrage (PDF)",
        "link_hacks_udfordre": "Hacks til søjlen Udfordre (PDF)",
        "link_facilitation": "Faciliteringsguide (PDF)",
        "link_advice": "Gode råd til at holde fast (PDF)",
        "link_iglo": "IGLO: hvem kan gøre hvad",
        "link_responsibility": "Hvem tager ansvar: et værktøj fra Lederweb",
        "suppressed_heading": "For få svar til at vise tal",
        "suppressed_lead": "{n} af {total} har svaret. Der skal mindst {k} svar til, før vi viser tal.",
        "suppressed_why": (
            "Grænsen beskytter den enkeltes anonymitet. Med så få svar ville et gennemsnit eller en "
            "fordeling kunne afsløre, hvad enkelte personer har svaret. Derfor viser rapporten hverken "
            "gennemsnit, zoner, fordelinger eller anbefalede hacks for denne runde."
        ),
        "suppressed_now": "Hvad gør I nu?",
        "suppressed_todo_1": (
            "Tal i teamet om, hvorfor få har svaret. Var tidspunktet dårligt, nåede mailen ikke frem, "
            "eller er der tvivl om anonymiteten? Det er i sig selv vigtig viden."
        ),
        "suppressed_todo_2": (
            "Aftal en ny runde med facilitatoren, når flere kan være med, og giv tid til at svare, "
            "for eksempel i starten af et møde."
        ),
        "suppressed_todo_3": (
            "Gæt ikke på, hvem der har svaret, eller hvad de har svaret, og spørg ikke den enkelte. "
            "Det ville bryde den tillid, som målingen bygger på."
        ),
        "suppressed_todo_4": (
            "Brug ventetiden på fælles viden: læs om søjlerne og faldgruberne, og tal om dem i teamet."
        ),
        "process_heading": "Sådan foregår forløbet",
        "roles_heading": "Roller og ansvar",
        "roles_intro": "Psykologisk tryghed er ikke lederens projekt alene. Sådan er ansvaret fordelt i forløbet.",
        "traps_heading": "Faldgruber",
        "traps_intro": "Det er let at træde forkert, når et team arbejder med tryghed. Kend faldgruberne på forhånd.",
        "read_scale": "Skalaen",
        "read_scale_text": (
            "Hvert udsagn besvares fra {min} ({min_label}) til {max} ({max_label}). Et gennemsnit "
            "på {max_fmt} betyder, at alle har svaret »{max_label}« til de positive udsagn og »{min_label}« "
            "til de omvendte."
        ),
        "read_reverse": "Omvendte udsagn",
        "read_reverse_text": (
            "Nogle udsagn er formuleret negativt (mærket ↺). Her vendes svaret om, før gennemsnittet "
            "regnes ud ({sum} minus svaret), så et højt tal altid betyder mere tryghed. Fordelingen viser "
            "svarene, som de blev givet."
        ),
        "read_bands": "Zoner",
        "read_bands_text": (
            "Rød zone er under {red}, gul zone fra {red} til under {green}, grøn zone fra {green} og op. "
            "Zonerne er en hjælp til samtalen, ikke en dom over teamet."
        ),
        "read_anonymity": "Anonymitet",
        "read_anonymity_text": (
            "Tal vises kun, når mindst {k} har svaret. Rapporten viser kun samlede tal for hele "
            "teamet; ingen kan se den enkeltes svar."
        ),
        "read_small": "Små teams",
        "read_small_text": (
            "I et lille team kan én persons svar flytte et gennemsnit flere tiendedele. Se på mønstre "
            "og brug tallene som afsæt for en samtale, ikke som en karakter. Antal svar i denne runde: {n}."
        ),
        "read_pillars": "Søjlerne",
        "read_pillars_text": (
            "Søjlerne bygger oven på hinanden: uden at føle sig inkluderet tager man ikke chancen for at "
            "lære, bidrage eller udfordre."
        ),
        # for an instrument with pillars of its own, whose order says nothing about stages
        "read_pillars_other": (
            "Udsagnene er samlet i søjler. Rækkefølgen nedenfor er den, forslaget til fokus følger."
        ),
        "focus_intro_other": (
            "Forslaget følger søjlernes rækkefølge: den første søjle i rød zone, ellers den første i gul, "
            "og er alle grønne, den laveste."
        ),
        "legend": "Svarfordeling",
        "page": "Side",
        "chart_pillars_title": "Gennemsnit pr. søjle med zoner",
        "chart_trend_title": "Gennemsnit pr. søjle over runderne",
        "hacks_step": "Det gør vi",
        "step_baseline_note": (
            "Denne rapport hører til trin 2, Tag temperaturen. Næste trin er Det gør vi: vælg hacks, "
            "aftal handleplanen og følg op ved næste måling."
        ),
        "step_followup_note": (
            "Denne rapport hører til trin 4, Vi holder fast: se, hvad der har flyttet sig, gennemgå "
            "sidste handleplan, og aftal hvad I fortsætter med."
        ),
    },
    "en": {
        "report_title": "Psychological safety in the team",
        "baseline_kicker": "Take the temperature · Report for the team meeting",
        "followup_kicker": "Keeping it going · Follow-up for the team meeting",
        "round": "Round",
        "period": "Period",
        "answered": "{n} of {total} answered",
        "responses": "Responses",
        "leader": "Leader",
        "generated": "Generated",
        "confidential": (
            "This report shows only figures for the team as a whole. Nobody can see what anyone answered."
        ),
        "summary": "Summary",
        "summary_intro": "Mean per pillar on a scale from {min} to {max}. Higher means more safety.",
        "how_to_read": "How to read this report",
        "pillar": "Pillar",
        "statement": "Statement",
        "mean": "Mean",
        "band": "Band",
        "band_red": "red",
        "band_yellow": "yellow",
        "band_green": "green",
        "reverse_mark": "Reverse-worded",
        "answers": "answers",
        "focus": "Focus pillar",
        "focus_heading": "Your focus: {pillar}",
        "focus_intro": (
            "The pillars build on each other, so you start with the first pillar in the order that is "
            "red, otherwise the first that is yellow, and if all are green, the lowest."
        ),
        "focus_hacks": "Here are hacks that suit that pillar.",
        "focus_no_hacks": (
            "This instrument comes with no hacks. The toolkit's material (see the links at the end) can "
            "give ideas for what to try."
        ),
        "how_to_start": "How to start",
        "dilemmas": "Dilemmas for the dialogue",
        "dilemmas_intro": (
            "Use one or more of the dilemmas at the team meeting. There is no single right answer; the "
            "point is to hear how each of you sees the situation."
        ),
        "iglo_heading": "Action plan (IGLO)",
        "iglo_intro": (
            "Agree what you do at each level: what, who and by when. Write it down at the meeting and "
            "bring the plan to the next round."
        ),
        "iglo_what": "What do we do?",
        "iglo_who": "Who?",
        "iglo_when": "By when?",
        "iglo_individ": "Individual",
        "iglo_gruppe": "Group",
        "iglo_ledelse": "Leadership",
        "iglo_organisation": "Organisation",
        "iglo_read_more": "More about IGLO",
        "review_heading": "What you agreed last time",
        "review_intro": (
            "Review last time's actions before agreeing new ones: Was it done? Did it make a difference? "
            "Continue, change or stop?"
        ),
        "review_done": "Done?",
        "review_keep": "Continue?",
        "action_status_done": "Done",
        "action_status_ongoing": "Ongoing",
        "action_status_dropped": "Dropped",
        "review_none": "No actions were recorded after the last round.",
        "change_heading": "Change since last time",
        "change_intro": "Change in the mean per pillar. A plus means more safety.",
        "this_round": "This round",
        "trend_heading": "The pillars over time",
        "trend_gap": "A gap in a line means that round had too few answers to show figures.",
        "advice_heading": "Five pieces of advice for holding on",
        "next_steps": "Next steps",
        "next_steps_intro": "The material for each step of the process is online:",
        "links_heading": "Material",
        "link_site": "The toolkit's front page",
        "link_barometer": "The toolkit's own safety barometer (PDF, Danish)",
        "link_dilemmas": "Dilemmas for the dialogue (PDF, Danish)",
        "link_hacks_inkludere": "Hacks for the pillar Inclusion (PDF, Danish)",
        "link_hacks_laere": "Hacks for the pillar Learning (PDF, Danish)",
        "link_hacks_bidrage": "Hacks for the pillar Contributing (PDF, Danish)",
        "link_hacks_udfordre": "Hacks for the pillar Challenging (PDF, Danish)",
        "link_facilitation": "Facilitation guide (PDF, Danish)",
        "link_advice": "Advice for holding on (PDF, Danish)",
        "link_iglo": "IGLO: who can do what (Danish)",
        "link_responsibility": "Who takes responsibility: a tool from Lederweb (Danish)",
        "suppressed_heading": "Too few answers to show figures",
        "suppressed_lead": ("{n} of {total} answered. At least {k} answers are needed before figures are shown."),
        "suppressed_why": (
            "The threshold protects each person's anonymity. With so few answers a mean or a distribution "
            "could reveal what individuals answered. So this report shows no means, bands, distributions "
            "or recommended hacks for this round."
        ),
        "suppressed_now": "What to do now",
        "suppressed_todo_1": (
            "Talk in the team about why few answered. Was the timing bad, did the email get lost, or is "
            "there doubt about anonymity? That is important to know in itself."
        ),
        "suppressed_todo_2": (
            "Agree a new round with the facilitator when more people can take part, and make time to "
            "answer, for example at the start of a meeting."
        ),
        "suppressed_todo_3": (
            "Do not guess who answered or what they answered, and do not ask individuals. That would "
            "break the trust the survey depends on."
        ),
        "suppressed_todo_4": (
            "Use the time for shared knowledge: read about the pillars and the traps, and talk about them in the team."
        ),
        "process_heading": "How the process works",
        "roles_heading": "Roles and responsibility",
        "roles_intro": "Psychological safety is not the leader's project alone. This is how the work is shared.",
        "traps_heading": "Traps",
        "traps_intro": "It is easy to misstep when a team works on safety. Know the traps in advance.",
        "read_scale": "The scale",
        "read_scale_text": (
            "Each statement is answered from {min} ({min_label}) to {max} ({max_label}). A mean of "
            "{max_fmt} means everyone answered ‘{max_label}’ to the positive statements and ‘{min_label}’ "
            "to the reverse-worded ones."
        ),
        "read_reverse": "Reverse-worded statements",
        "read_reverse_text": (
            "Some statements are worded negatively (marked ↺). Their answers are turned around before the "
            "mean is computed ({sum} minus the answer), so a high number always means more safety. The "
            "distribution shows the answers as given."
        ),
        "read_bands": "Bands",
        "read_bands_text": (
            "Red is below {red}, yellow from {red} to below {green}, green from {green} up. The bands "
            "help the conversation; they are not a verdict on the team."
        ),
        "read_anonymity": "Anonymity",
        "read_anonymity_text": (
            "Figures are shown only when at least {k} have answered. The report shows only figures for "
            "the whole team; nobody can see an individual's answers."
        ),
        "read_small": "Small teams",
        "read_small_text": (
            "In a small team one person's answers can move a mean by several tenths. Look for patterns "
            "and use the figures to start a conversation, not as a grade. Answers this round: {n}."
        ),
        "read_pillars": "The pillars",
        "read_pillars_text": (
            "The pillars build on each other: without feeling included, people do not take the risk of "
            "learning, contributing or challenging."
        ),
        "read_pillars_other": (
            "The statements are grouped in pillars. The order below is the one the focus suggestion follows."
        ),
        "focus_intro_other": (
            "The suggestion follows the order of the pillars: the first pillar that is red, otherwise the "
            "first that is yellow, and if all are green, the lowest."
        ),
        "legend": "Answers",
        "page": "Page",
        "chart_pillars_title": "Mean per pillar with bands",
        "chart_trend_title": "Mean per pillar over the rounds",
        "hacks_step": "What we do",
        "step_baseline_note": (
            "This report belongs to step 2, Take the temperature. The next step is What we do: choose "
            "hacks, agree the action plan and follow up at the next round."
        ),
        "step_followup_note": (
            "This report belongs to step 4, Keeping it going: see what has moved, review the last action plan "
            "and agree what you keep doing."
        ),
    },
}

_BAND_SENTENCES = {
    "da": {
        "green": "{name} står stærkt med {mean} i grøn zone. Hold fast i det, der virker.",
        "yellow": "{name} ligger på {mean} i gul zone: et godt grundlag med plads til at blive bedre.",
        "red": "{name} ligger på {mean} i rød zone.",
    },
    "en": {
        "green": "{name} is strong at {mean}, in the green band. Keep doing what works.",
        "yellow": "{name} is at {mean}, in the yellow band: a good base with room to grow.",
        "red": "{name} is at {mean}, in the red band.",
    },
}

# The rule is explained once, on the focus page; the pillar pages only point to it, so two red pillars
# are never both "the place to start".
_FOCUS_SUFFIX = {
    "da": " Den foreslår vi som fokus (se hvorfor på fokussiden).",
    "en": " We suggest it as the focus (see why on the focus page).",
}


def labels(lang: str) -> dict[str, str]:
    """The UI labels for ``lang``, falling back to Danish like ``Text.get`` does."""
    return LABELS.get(lang, LABELS["da"])


def format_mean(value: float | None, lang: str) -> str:
    """A mean with two decimals, decimal comma in Danish ("3,75") and point in English ("3.75").

    ``None`` (suppressed or unknown) becomes an en dash, so a table never shows a made-up zero.
    """
    if value is None:
        return "–"
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "da" else text


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


def format_share(n: int, total: int, lang: str) -> str:
    """``percent`` with its sign, spaced the way both languages write it ("71 %")."""
    return f"{percent(n, total)} %"


def format_number(value: float, lang: str) -> str:
    """A scale value such as 3 or 3.5 without trailing zeros, in the language's decimal style."""
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "da" else text


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
    table = _BAND_SENTENCES.get(lang, _BAND_SENTENCES["da"])
    sentence = table[band].format(name=name, mean=format_mean(mean, lang))
    return sentence + (_FOCUS_SUFFIX.get(lang, _FOCUS_SUFFIX["da"]) if focus else "")


# --- Labels of the report's newer sections (change with uncertainty, chosen focus, grouped answers,
# strongest and weakest statements, debrief guide, suppressed report). Kept in their own table so that
# wording edits of the labels above and structural additions here merge apart.
SECTION_LABELS: dict[str, dict[str, str]] = {
    "da": {
        "agree_share": "{share} % er enige",
        "safe_share": "{share} % svarer trygt",
        "legend_unsafe": "Svar på den utrygge side",
        "legend_neutral": "Hverken enig eller uenig",
        "legend_safe": "Svar på den trygge side",
        "legend_note": (
            "Svarene er samlet i tre grupper og vist som andele. Farven følger, hvad svaret betyder for "
            "trygheden: ved et omvendt udsagn (↺) er det at være enig den utrygge side."
        ),
        "extremes_heading": "Stærkeste og svageste udsagn",
        "strongest": "Stærkest",
        "weakest": "Svagest",
        "extremes_note": (
            "Ordnet efter gennemsnit, hvor omvendte udsagn (↺) er vendt: højt betyder altid mere tryghed. "
            "Andelen er dem, der svarede på den trygge side: enig i et positivt udsagn, uenig i et omvendt."
        ),
        "change_explain": (
            "Hver runde er en ny måling: alle svarer forfra. Intervallet viser, hvor meget ændringen kan "
            "svinge alene på grund af antallet af svar og spredningen i dem (95 %). Rummer intervallet 0, "
            "kan ændringen skyldes tilfældigheder, og vi læser den som uændret."
        ),
        "change_since": "Siden {label} ({n} svar)",
        "change_none": "Ingen tidligere runde havde svar nok til at sammenligne med.",
        "col_then": "Dengang",
        "col_now": "Nu",
        "col_change": "Ændring",
        "col_interval": "95 %-interval",
        "col_reading": "Læses som",
        "reading_unchanged": "uændret",
        "reading_up": "steget",
        "reading_down": "faldet",
        "interval": "{low} til {high}",
        "summary_change": "Siden {label}: {delta} (95 %-interval {interval}), {reading}.",
        "followed_heading": "Jeres valgte fokus: {pillar}",
        "followed_moved": "Ved sidste teammøde valgte I at arbejde med {pillar}. Siden {label}: {delta} "
        "(95 %-interval {interval}), {reading}.",
        "followed_no_change": "Ved sidste teammøde valgte I at arbejde med {pillar}.",
        "plan_heading": "Allerede i jeres handleplan",
        "plan_intro": "Disse hacks har I allerede aftalt. Tal om, hvordan de virker, før I tager nye op.",
        "new_hacks_heading": "Nye hacks at prøve",
        "no_new_hacks": "I har allerede alle hacks til denne søjle i planen. Hold fast i dem.",
        "suggestion_heading": "Forslag til fokus: {pillar}",
        "reason_red": (
            "Søjlerne bygger oven på hinanden ({order}), og {pillar} er den første i rækken i rød zone. "
            "Derfor foreslår vi at begynde der."
        ),
        "reason_yellow": (
            "Søjlerne bygger oven på hinanden ({order}). Ingen søjle er i rød zone, og {pillar} er den "
            "første i rækken i gul zone. Derfor foreslår vi at begynde der."
        ),
        "reason_lowest": "Alle søjler er i grøn zone, og {pillar} har det laveste gennemsnit.",
        "reason_lowest_differs": (
            "Lavest ligger {lowest} ({mean}). Den kommer senere i rækken, så forslaget begynder med "
            "{pillar}, men I kan sagtens vælge {lowest}."
        ),
        "not_verdict": (
            "Forslaget er et udgangspunkt, ikke en dom. I vælger selv jeres fokus på teammødet, og næste "
            "rapport følger jeres valg."
        ),
        "debrief_heading": "Guide til teammødet",
        "debrief_intro": (
            "En dagsorden til mødet, hvor I taler om resultaterne, bygget på netop jeres tal. Den kan "
            "bruges af lederen alene i det selvstyrede forløb. Dagsordenen og tiderne er Tryghed-programmets eget "
            "forslag: afsæt {minutes} minutter."
        ),
        "debrief_minutes": "{n} min.",
        "debrief_questions": "Spørgsmål til teamet",
        "debrief_print": "Udskriv guiden",
        # a suppressed round of a team smaller than its threshold: no one "answered too little"
        "suppressed_lead_small": (
            "{n} af {total} har svaret ({rate}). Teamet har færre deltagere end grænsen på {k} svar, så "
            "runden kunne ikke vise tal, uanset hvor mange der svarede."
        ),
        "suppressed_small_1": (
            "Sænk grænsen til næste runde, dog aldrig under 3 svar. Jo lavere grænsen er, jo mere kan "
            "et gennemsnit sige om den enkelte, så tal om det i teamet først."
        ),
        "suppressed_small_2": (
            "Mål sammen med et søsterteam i enheden, så jeres svar indgår i et fælles tal, der når grænsen."
        ),
        "suppressed_small_3": (
            "Hold en runde med dialog alene: brug dilemmaerne og guiden til teammødet nedenfor, uden tal."
        ),
        "suppressed_pillars_heading": "Søjlerne i målingen",
        "suppressed_pillars_intro": (
            "Målingen ser på psykologisk tryghed gennem disse søjler. De bygger oven på hinanden, og I kan "
            "tale om dem uden tal."
        ),
        "suppressed_dilemmas_intro": (
            "Dilemmaerne rummer ingen tal og kan bruges, selv om runden ikke gav tal: vælg et og tal om det."
        ),
        "process_planned": "Planlagt: {when}, {place}",
        "process_unplanned": "Ikke planlagt endnu: facilitatoren planlægger den på teamets side i Tryghed.",
    },
    "en": {
        "agree_share": "{share} % agree",
        "safe_share": "{share} % answer on the safe side",
        "legend_unsafe": "Answers on the unsafe side",
        "legend_neutral": "Neither agree nor disagree",
        "legend_safe": "Answers on the safe side",
        "legend_note": (
            "Answers are grouped in three and shown as shares. The colour follows what an answer means for "
            "safety: for a reverse-worded statement (↺), agreeing is the unsafe side."
        ),
        "extremes_heading": "Strongest and weakest statements",
        "strongest": "Strongest",
        "weakest": "Weakest",
        "extremes_note": (
            "Ordered by mean, with reverse-worded statements (↺) turned: higher always means more safety. The "
            "share is those who answered on the safe side: agreeing with a positive statement, disagreeing "
            "with a reverse-worded one."
        ),
        "change_explain": (
            "Every round is a new measurement: everyone answers afresh. The interval shows how much the "
            "change can vary just because of the number of answers and their spread (95 %). When it "
            "includes 0, chance can explain the change, and we read it as unchanged."
        ),
        "change_since": "Since {label} ({n} answers)",
        "change_none": "No earlier round had enough answers to compare with.",
        "col_then": "Then",
        "col_now": "Now",
        "col_change": "Change",
        "col_interval": "95 % interval",
        "col_reading": "Read as",
        "reading_unchanged": "unchanged",
        "reading_up": "risen",
        "reading_down": "fallen",
        "interval": "{low} to {high}",
        "summary_change": "Since {label}: {delta} (95 % interval {interval}), {reading}.",
        "followed_heading": "Your chosen focus: {pillar}",
        "followed_moved": "At the last team meeting you chose to work on {pillar}. Since {label}: {delta} "
        "(95 % interval {interval}), {reading}.",
        "followed_no_change": "At the last team meeting you chose to work on {pillar}.",
        "plan_heading": "Already in your action plan",
        "plan_intro": "You have already agreed these hacks. Talk about how they work before taking on new ones.",
        "new_hacks_heading": "New hacks to try",
        "no_new_hacks": "All the hacks for this pillar are already in your plan. Keep them going.",
        "suggestion_heading": "Suggested focus: {pillar}",
        "reason_red": (
            "The pillars build on each other ({order}), and {pillar} is the first in that order in the red "
            "band. So we suggest starting there."
        ),
        "reason_yellow": (
            "The pillars build on each other ({order}). No pillar is red, and {pillar} is the first in "
            "that order in the yellow band. So we suggest starting there."
        ),
        "reason_lowest": "All pillars are green, and {pillar} has the lowest mean.",
        "reason_lowest_differs": (
            "The lowest is {lowest} ({mean}). It comes later in the order, so the suggestion starts with "
            "{pillar}, but you may well choose {lowest}."
        ),
        "not_verdict": (
            "The suggestion is a starting point, not a verdict. You choose your own focus at the team "
            "meeting, and the next report follows your choice."
        ),
        "debrief_heading": "Guide for the team meeting",
        "debrief_intro": (
            "An agenda for the meeting where you discuss the results, built from your own figures. A leader "
            "can use it alone in the self-guided track. The agenda and its times are the Tryghed programme's own "
            "suggestion: set aside {minutes} minutes."
        ),
        "debrief_minutes": "{n} min",
        "debrief_questions": "Questions for the team",
        "debrief_print": "Print the guide",
        "suppressed_lead_small": (
            "{n} of {total} answered ({rate}). The team has fewer members than the threshold of {k} answers, "
            "so the round could not show figures however many answered."
        ),
        "suppressed_small_1": (
            "Lower the threshold for the next round, never below 3 answers. The lower it is, the more a mean "
            "can say about one person, so talk about it in the team first."
        ),
        "suppressed_small_2": (
            "Measure together with a sibling team in the unit, so your answers count in a shared figure that "
            "reaches the threshold."
        ),
        "suppressed_small_3": (
            "Hold a dialogue-only round: use the dilemmas and the guide for the team meeting below, without figures."
        ),
        "suppressed_pillars_heading": "The pillars of the survey",
        "suppressed_pillars_intro": (
            "The survey looks at psychological safety through these pillars. They build on each other, and "
            "you can talk about them without figures."
        ),
        "suppressed_dilemmas_intro": (
            "The dilemmas hold no figures and can be used although this round gave none: pick one and talk about it."
        ),
        "process_planned": "Planned: {when}, {place}",
        "process_unplanned": "Not planned yet: the facilitator plans it on the team's page in Tryghed.",
    },
}


def section_labels(lang: str) -> dict[str, str]:
    """All labels for ``lang``: the base labels plus those of the newer sections."""
    return {**labels(lang), **SECTION_LABELS.get(lang, SECTION_LABELS["da"])}


def format_interval(low: float, high: float, lang: str) -> str:
    """A 95 % interval of a change as "−0,12 til +1,02" / "−0.12 to +1.02"."""
    table = SECTION_LABELS.get(lang, SECTION_LABELS["da"])
    return table["interval"].format(low=format_delta(low, lang), high=format_delta(high, lang))
