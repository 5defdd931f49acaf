# ruff: noqa: E501 - the sample content below is long prose strings; wrapping them would not help a reader
"""Sample report data for docs, tests and the benchmark: made-up content and made-up answers.

Not used in production. The content here is a stand-in written for rendering (the real content lives in
TOML files read by ``survey.content``); the answers are generated and aggregated with the real
``pipeline.scoring.aggregate`` and ``pipeline.recommend.focus_pillars``, so the figures are consistent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.recommend import focus_pillars, recommended_hacks
from pipeline.report_data import HistoryPoint, IgloAction, ReportData, toolkit_material
from pipeline.scoring import aggregate
from survey.content.model import (
    PILLAR_ORDER,
    Advice,
    Bands,
    Content,
    Dilemma,
    Hack,
    Instrument,
    Item,
    Pillar,
    Role,
    Step,
    Text,
    Trap,
)

TZ = ZoneInfo("Europe/Copenhagen")
SITE = "https://skab-psykologisk-tryghed.dk"

T = Text  # short alias: the tables below are long


_PILLARS = (
    (
        "inkludere",
        T("Inkludere", "Inclusion"),
        T("At høre til og blive taget med.", "Belonging and being taken along."),
    ),
    (
        "laere",
        T("Lære", "Learning"),
        T("At kunne spørge, prøve og fejle.", "Being able to ask, try and fail."),
    ),
    (
        "bidrage",
        T("Bidrage", "Contributing"),
        T("At gøre en forskel med det, man kan.", "Making a difference with what you can."),
    ),
    (
        "udfordre",
        T("Udfordre", "Challenging"),
        T("At kunne sige fra og foreslå noget nyt.", "Being able to object and propose something new."),
    ),
)

_ITEMS = (
    (
        "inkludere",
        False,
        T("Jeg føler mig velkommen i teamet, som jeg er.", "I feel welcome in the team as I am."),
    ),
    (
        "inkludere",
        False,
        T("Mine kolleger interesserer sig for, hvordan jeg har det.", "My colleagues care how I am doing."),
    ),
    (
        "inkludere",
        True,
        T(
            "Jeg holder nogle gange mig selv udenfor for ikke at skille mig ud.",
            "I sometimes keep to myself so as not to stand out.",
        ),
    ),
    (
        "inkludere",
        False,
        T(
            "Nye kolleger bliver hurtigt en del af fællesskabet.",
            "New colleagues quickly become part of the group.",
        ),
    ),
    (
        "laere",
        False,
        T("Jeg kan stille spørgsmål uden at føle mig dum.", "I can ask questions without feeling stupid."),
    ),
    (
        "laere",
        True,
        T(
            "Hvis jeg laver en fejl, bliver det holdt imod mig.",
            "If I make a mistake, it is held against me.",
        ),
    ),
    (
        "laere",
        False,
        T(
            "Vi taler åbent om det, der ikke lykkedes, for at lære af det.",
            "We talk openly about what did not work, to learn from it.",
        ),
    ),
    ("laere", False, T("Jeg får hjælp, når jeg beder om den.", "I get help when I ask for it.")),
    ("bidrage", False, T("Mine idéer bliver taget alvorligt.", "My ideas are taken seriously.")),
    (
        "bidrage",
        False,
        T(
            "Jeg ved, hvordan mit arbejde gør en forskel for borgerne.",
            "I know how my work makes a difference to citizens.",
        ),
    ),
    (
        "bidrage",
        True,
        T(
            "Jeg holder ofte min viden for mig selv på møderne.",
            "I often keep what I know to myself at meetings.",
        ),
    ),
    ("bidrage", False, T("Jeg får lov til at bruge mine styrker.", "I get to use my strengths.")),
    (
        "udfordre",
        False,
        T(
            "Jeg kan sige fra over for en beslutning uden at frygte følgerne.",
            "I can object to a decision without fearing the consequences.",
        ),
    ),
    (
        "udfordre",
        True,
        T(
            "Det er risikabelt at stille spørgsmål ved, hvordan vi plejer at gøre.",
            "It is risky to question how we usually do things.",
        ),
    ),
    (
        "udfordre",
        False,
        T("Min leder vil gerne høre, når jeg er uenig.", "My leader wants to hear when I disagree."),
    ),
    (
        "udfordre",
        False,
        T("Vi tør prøve nye måder at løse opgaverne på.", "We dare to try new ways of doing the work."),
    ),
)

_HACKS = {
    "inkludere": (
        (
            T("Tjek-ind på mødet", "Check-in at the meeting"),
            T(
                "En kort runde, hvor alle siger én sætning om, hvordan de møder ind. Alle bliver hørt, før sagerne begynder.",
                "A short round where everyone says one sentence about how they arrive. Everyone is heard before the agenda starts.",
            ),
            T(
                "Start næste teammøde med en runde på højst et minut pr. person.",
                "Open the next team meeting with a round of at most one minute each.",
            ),
        ),
        (
            T("Makker til nye", "A buddy for newcomers"),
            T(
                "Nye kolleger får en fast makker de første uger, som viser de uskrevne regler.",
                "New colleagues get a buddy for the first weeks who shows the unwritten rules.",
            ),
            T(
                "Aftal, hvem der er makker for den næste, der starter.",
                "Agree who will be the buddy for the next person to start.",
            ),
        ),
        (
            T("Hvem har vi ikke hørt?", "Whom haven't we heard?"),
            T(
                "Mødelederen spørger før hver beslutning, om nogen ikke har sagt noget endnu.",
                "Before each decision the chair asks whether anyone has not spoken yet.",
            ),
            T(
                "Skriv spørgsmålet på dagsordenen ved hvert beslutningspunkt.",
                "Put the question on the agenda at every decision point.",
            ),
        ),
    ),
    "laere": (
        (
            T("Månedens læring", "Lesson of the month"),
            T(
                "Én fortæller om noget, der gik skævt, og hvad teamet kan lære af det. Lederen går forrest.",
                "One person tells about something that went wrong and what the team can learn. The leader goes first.",
            ),
            T(
                "Lederen fortæller sin egen historie på næste møde.",
                "The leader tells their own story at the next meeting.",
            ),
        ),
        (
            T("Dumme spørgsmål er velkomne", "Silly questions welcome"),
            T(
                "Et fast punkt, hvor man kan spørge om alt det, man troede, alle andre vidste.",
                "A standing item for asking all the things you thought everyone else knew.",
            ),
            T(
                "Sæt ti minutter af på næste møde og lad lederen stille det første spørgsmål.",
                "Set aside ten minutes at the next meeting; the leader asks the first question.",
            ),
        ),
        (
            T("Efter-handling-samtale", "After-action talk"),
            T(
                "Efter en svær sag: hvad skete der, hvad virkede, hvad gør vi anderledes? Uden at finde en syndebuk.",
                "After a hard case: what happened, what worked, what do we change? Without finding a scapegoat.",
            ),
            T(
                "Vælg en nylig sag og brug tre spørgsmål i et kvarter.",
                "Pick a recent case and spend fifteen minutes on three questions.",
            ),
        ),
    ),
    "bidrage": (
        (
            T("Styrkekort", "Strength cards"),
            T(
                "Hver skriver to styrker ned, og teamet ser på, hvor de kan bruges mere.",
                "Everyone writes down two strengths and the team looks at where they can be used more.",
            ),
            T(
                "Del kort ud på næste møde og hæng dem op bagefter.",
                "Hand out cards at the next meeting and put them up afterwards.",
            ),
        ),
        (
            T("Idérunde før beslutning", "Idea round before deciding"),
            T(
                "Alle skriver deres forslag ned hver for sig, før de bliver drøftet, så de stille også kommer til orde.",
                "Everyone writes their proposal down alone before discussion, so the quiet ones are heard too.",
            ),
            T(
                "Brug det ved den næste beslutning, I skal træffe sammen.",
                "Use it for the next decision you make together.",
            ),
        ),
        (
            T("Borgerhistorien", "The citizen's story"),
            T(
                "En kort fortælling om, hvordan teamets arbejde gjorde en forskel for en borger.",
                "A short story about how the team's work made a difference to a citizen.",
            ),
            T(
                "Lad en kollega fortælle en historie på næste møde.",
                "Ask a colleague to tell one story at the next meeting.",
            ),
        ),
    ),
    "udfordre": (
        (
            T("Djævlens advokat", "Devil's advocate"),
            T(
                "Én får til opgave at finde svagheder i et forslag, så uenighed bliver en rolle og ikke en risiko.",
                "One person is asked to find weaknesses in a proposal, so disagreement becomes a role, not a risk.",
            ),
            T(
                "Udpeg en djævlens advokat ved næste større beslutning.",
                "Appoint a devil's advocate for the next big decision.",
            ),
        ),
        (
            T("Lederen spørger først", "The leader asks first"),
            T(
                "Lederen beder om kritik af sin egen idé, før andre har sagt noget.",
                "The leader asks for criticism of their own idea before anyone else speaks.",
            ),
            T(
                "Lederen lægger et udkast frem og spørger: hvad er der galt med det?",
                "The leader presents a draft and asks: what is wrong with it?",
            ),
        ),
        (
            T("Stop en vane", "Stop a habit"),
            T(
                "Teamet vælger én vane eller regel, der ikke længere giver mening, og prøver at droppe den.",
                "The team picks one habit or rule that no longer makes sense and tries dropping it.",
            ),
            T(
                "Saml forslag på næste møde og vælg én at stoppe i en måned.",
                "Collect ideas at the next meeting and pick one to stop for a month.",
            ),
        ),
    ),
}

_DILEMMAS = {
    "inkludere": (
        (
            T("Frokosten", "The lunch"),
            T(
                "En kollega spiser altid alene ved skrivebordet. Nogle mener, det er et valg; andre er i tvivl.",
                "A colleague always eats alone at their desk. Some think it is a choice; others are unsure.",
            ),
            (
                T("Hvad ville du gøre?", "What would you do?"),
                T(
                    "Hvornår er det at blande sig, og hvornår er det at invitere?",
                    "When is it interfering, and when is it inviting?",
                ),
            ),
        ),
    ),
    "laere": (
        (
            T("Fejlen ingen så", "The mistake nobody saw"),
            T(
                "Du opdager, at du har sendt et brev med en fejl. Ingen har opdaget det endnu.",
                "You discover you sent a letter with a mistake. Nobody has noticed yet.",
            ),
            (
                T("Hvad gør du, og hvad afhænger det af?", "What do you do, and what does it depend on?"),
                T(
                    "Hvad skal der til, for at det føles trygt at sige det?",
                    "What would make it feel safe to say so?",
                ),
            ),
        ),
        (
            T("Den nye metode", "The new method"),
            T(
                "Teamet har prøvet en ny metode i en måned. Det går ikke godt, men ingen har sagt det højt.",
                "The team has tried a new method for a month. It is not going well, but nobody has said so.",
            ),
            (
                T("Hvem bør tage det op?", "Who should raise it?"),
                T(
                    "Hvordan kan man sige det uden at skyde skylden på nogen?",
                    "How can it be said without blaming anyone?",
                ),
            ),
        ),
    ),
    "bidrage": (
        (
            T("Den stille kollega", "The quiet colleague"),
            T(
                "En erfaren kollega siger sjældent noget på møderne, men har gode idéer i pausen.",
                "An experienced colleague rarely speaks at meetings but has good ideas in the break.",
            ),
            (
                T("Hvorfor tror I, det sker?", "Why do you think that happens?"),
                T("Hvad kunne vi ændre ved møderne?", "What could we change about the meetings?"),
            ),
        ),
    ),
    "udfordre": (
        (
            T("Beslutningen fra oven", "The decision from above"),
            T(
                "Ledelsen har besluttet en ændring, som mange i teamet tvivler på. Lederen skal føre den ud i livet.",
                "Management has decided a change many in the team doubt. The leader has to carry it out.",
            ),
            (
                T("Hvordan kan tvivlen komme frem?", "How can the doubts be voiced?"),
                T("Hvad er lederens rolle her?", "What is the leader's role here?"),
            ),
        ),
    ),
}

_ADVICE = (
    (
        T("Sæt det i kalenderen", "Put it in the calendar"),
        T(
            "Planlæg næste måling nu, fx hvert kvartal, så opfølgningen ikke afhænger af, at nogen husker den.",
            "Plan the next round now, for example every quarter, so follow-up does not depend on someone remembering.",
        ),
    ),
    (
        T("Gør det til hverdagssprog", "Make it everyday language"),
        T(
            "Tal om tryghed i 1:1-samtaler og på møder, ikke kun når der er målt.",
            "Talk about safety in one-to-ones and meetings, not only after a round.",
        ),
    ),
    (
        T("Afsæt tid", "Make time"),
        T(
            "Giv emnet plads på møder, temadage og i medarbejdersamtaler.",
            "Give it room at meetings, staff days and appraisal talks.",
        ),
    ),
    (
        T("Lederen går foran", "The leader leads by example"),
        T(
            "Når lederen fortæller om egne fejl og beder om kritik, bliver det lettere for andre.",
            "When the leader talks about their own mistakes and asks for criticism, it becomes easier for others.",
        ),
    ),
    (
        T("Fejr de små skridt", "Celebrate the small steps"),
        T(
            "Læg mærke til det, der lykkes, og sig det højt. Det holder motivationen oppe mellem målingerne.",
            "Notice what works and say it out loud. It keeps motivation up between rounds.",
        ),
    ),
)

_TRAPS = (
    (
        T("Tryghed er ikke bare at være søde", "Safety is not just being nice"),
        T(
            "Psykologisk tryghed handler om at kunne være sig selv og sige sin mening, også når den er ubekvem.",
            "Psychological safety is about being yourself and speaking up, also when it is uncomfortable.",
        ),
    ),
    (
        T("Målingen er ikke målet", "The survey is not the goal"),
        T(
            "Tallene er et afsæt for samtalen. Det er det, I gør bagefter, der tæller.",
            "The figures start the conversation. What you do afterwards is what counts.",
        ),
    ),
    (
        T("Jagten på de lave svar", "Hunting the low answers"),
        T(
            "Forsøg aldrig at finde ud af, hvem der svarede hvad. Det ødelægger tilliden med det samme.",
            "Never try to find out who answered what. It destroys trust at once.",
        ),
    ),
)

_ROLES = (
    (
        T("Leder", "Leader"),
        T("Ejer processen i teamet og går foran.", "Owns the process in the team and leads by example."),
    ),
    (
        T("Medarbejdere", "Employees"),
        T("Svarer ærligt og deltager i dialogen.", "Answer honestly and join the dialogue."),
    ),
    (
        T("Facilitator", "Facilitator"),
        T("Planlægger runder og støtter lederen.", "Plans rounds and supports the leader."),
    ),
)

_STEPS = (
    (
        "faelles_viden",
        T("Fælles viden", "Shared knowledge"),
        T(
            "Lær de fire søjler, rollerne og faldgruberne at kende.",
            "Learn the four pillars, the roles and the traps.",
        ),
        f"{SITE}/faelles-viden/",
    ),
    (
        "tag_temperaturen",
        T("Tag temperaturen", "Take the temperature"),
        T(
            "Besvar barometret og drøft resultatet i teamet.",
            "Answer the barometer and discuss the result in the team.",
        ),
        f"{SITE}/",
    ),
    (
        "det_goer_vi",
        T("Det gør vi", "What we do"),
        T(
            "Vælg hacks til den søjle, I vil styrke, og aftal en handleplan.",
            "Choose hacks for the pillar you want to strengthen and agree an action plan.",
        ),
        f"{SITE}/det-goer-vi/",
    ),
    (
        "vi_holder_fast",
        T("Vi holder fast", "We hold on"),
        T(
            "Følg op med nye målinger og hold fast i det, der virker.",
            "Follow up with new rounds and keep what works.",
        ),
        f"{SITE}/vi-holder-fast/",
    ),
)

LINKS = {
    "site": f"{SITE}/",
    "faelles_viden": f"{SITE}/faelles-viden/",
    "det_goer_vi": f"{SITE}/det-goer-vi/",
    "vi_holder_fast": f"{SITE}/vi-holder-fast/",
    "iglo": "https://www.apvportalen.dk/psykisk-arbejdsmiljoe-i-apv-processen/apv-og-psykisk-arbejdsmiljoe/iglo-hvem-kan-goere-hvad",
}


def sample_content() -> Content:
    """A complete, made-up ``Content`` built from the model classes."""
    pillars = tuple(Pillar(k, name, desc) for k, name, desc in _PILLARS)
    items = tuple(Item(f"i{n}", p, rev, text) for n, (p, rev, text) in enumerate(_ITEMS, start=1))
    scale = (
        T("Helt uenig", "Strongly disagree"),
        T("Uenig", "Disagree"),
        T("Hverken enig eller uenig", "Neither agree nor disagree"),
        T("Enig", "Agree"),
        T("Helt enig", "Strongly agree"),
    )
    instrument = Instrument(
        name="tryghedsbarometer",
        title=T("Tryghedsbarometer", "Safety barometer"),
        intro=T("Svar på, hvordan det er i teamet lige nu.", "Answer how things are in the team right now."),
        scale_min=1,
        scale_max=5,
        scale_labels=scale,
        pillars=pillars,
        items=items,
        bands=Bands(3.0, 4.0),
    )
    hacks = tuple(
        Hack(f"{p}-{n}", p, title, summary, start)
        for p in PILLAR_ORDER
        for n, (title, summary, start) in enumerate(_HACKS[p], start=1)
    )
    dilemmas = tuple(
        Dilemma(f"{p}-d{n}", p, title, situation, questions)
        for p in PILLAR_ORDER
        for n, (title, situation, questions) in enumerate(_DILEMMAS[p], start=1)
    )
    return Content(
        instruments={instrument.name: instrument},
        default_instrument=instrument.name,
        hacks=hacks,
        dilemmas=dilemmas,
        advice=tuple(Advice(f"a{n}", t, x) for n, (t, x) in enumerate(_ADVICE, start=1)),
        traps=tuple(Trap(f"t{n}", t, x) for n, (t, x) in enumerate(_TRAPS, start=1)),
        roles=tuple(Role(f"r{n}", t, x) for n, (t, x) in enumerate(_ROLES, start=1)),
        steps=tuple(Step(k, n, t, s, u) for n, (k, t, s, u) in enumerate(_STEPS, start=1)),
        links=dict(LINKS),
    )


def _answers(instrument: Instrument, n: int, level: dict[str, float], seed: int) -> list[dict[str, int]]:
    """Deterministic made-up answers around a target level per pillar (no randomness module needed)."""
    rows = []
    for person in range(n):
        row = {}
        for idx, item in enumerate(instrument.items):
            wobble = ((person * 7 + idx * 3 + seed) % 5 - 2) * 0.5  # -1.0 .. +1.0
            score = max(1, min(5, round(level[item.pillar] + wobble)))
            row[item.key] = 6 - score if item.reverse else score
        rows.append(row)
    return rows


BASELINE_LEVEL = {"inkludere": 4.2, "laere": 3.1, "bidrage": 3.7, "udfordre": 2.7}
MIDWAY_LEVEL = {"inkludere": 4.2, "laere": 3.4, "bidrage": 3.6, "udfordre": 2.9}
FOLLOWUP_LEVEL = {"inkludere": 4.3, "laere": 3.6, "bidrage": 3.8, "udfordre": 3.1}


def sample_report(
    kind: str = "baseline", lang: str = "da", *, suppressed: bool = False, content: Content | None = None
) -> ReportData:
    """A complete ``ReportData`` for a made-up team: baseline, follow-up, or a suppressed round."""
    content = content or sample_content()
    instrument = content.instrument()
    k = 5
    invited = 12
    # Equal counts across rounds: the differencing rule (pipeline.trend) withholds changes between rounds
    # whose respondent counts differ by 1..k-1, and the sample should show what a real report can show.
    n = 3 if suppressed else 9
    level = BASELINE_LEVEL if kind == "baseline" else FOLLOWUP_LEVEL
    pillar_keys = [p.key for p in instrument.pillars]
    result = aggregate(_answers(instrument, n, level, seed=1), instrument.items, pillar_keys, instrument.bands, k)
    focus = focus_pillars(result, pillar_keys)
    hacks = recommended_hacks(focus, content.hacks)
    dilemmas = [d for p in focus for d in content.dilemmas_for(p)]
    opens = datetime(2026, 3, 2, 8, 0, tzinfo=TZ) if kind == "baseline" else datetime(2026, 12, 1, 8, 0, tzinfo=TZ)
    closes = opens + timedelta(days=14)

    history: list[HistoryPoint] = []
    previous_actions: list[IgloAction] = []
    since_baseline: dict[str, float | None] = {}
    since_previous: dict[str, float | None] = {}
    round_number = 1
    if kind == "followup":
        # March: baseline; June: too few answers (a gap); September: a normal follow-up.
        earlier = [
            (201, (3, "marts", "March"), 9, BASELINE_LEVEL),
            (202, (6, "juni", "June"), 3, MIDWAY_LEVEL),
            (203, (9, "september", "September"), 9, MIDWAY_LEVEL),
        ]
        for round_id, (month, da_name, en_name), count, lvl in earlier:
            res = aggregate(
                _answers(instrument, count, lvl, round_id), instrument.items, pillar_keys, instrument.bands, k
            )
            history.append(
                HistoryPoint(
                    round_id,
                    f"{da_name if lang == 'da' else en_name} 2026",
                    datetime(2026, month, 15, 12, 0, tzinfo=TZ),
                    res.responses,
                    res.suppressed,
                    {p.key: p.mean for p in res.pillars},
                )
            )
        round_number = len(history) + 1
        for p in result.pillars:
            for target, point in ((since_baseline, history[0]), (since_previous, history[-1])):
                before = point.pillar_means.get(p.key)
                target[p.key] = None if p.mean is None or before is None else round(p.mean - before, 2)
        previous_actions = [
            IgloAction(
                "individ",
                "Alle stiller ét spørgsmål på hvert møde"
                if lang == "da"
                else "Everyone asks one question at each meeting",
                "Alle" if lang == "da" else "Everyone",
                "løbende" if lang == "da" else "ongoing",
            ),
            IgloAction(
                "gruppe",
                "Månedens læring på teammødet" if lang == "da" else "Lesson of the month at the team meeting",
                "Mette og Ali",
                "2026-10-31",
            ),
            IgloAction(
                "ledelse",
                "Lederen fortæller om egne fejl" if lang == "da" else "The leader shares own mistakes",
                "Lederen" if lang == "da" else "The leader",
                "2026-11-15",
            ),
        ]
    return ReportData(
        lang=lang,
        team_name="Team Nordbyen – Hjemmeplejen",
        leader_name="Sofie Jensen",
        round_id=204 if kind == "followup" else 101,
        round_number=round_number,
        kind=kind,
        opens_at=opens,
        closes_at=closes,
        invited=invited,
        responses=n,
        min_responses=k,
        suppressed=result.suppressed,
        instrument=instrument,
        result=result,
        focus_pillars=focus,
        hacks=hacks,
        dilemmas=dilemmas,
        **toolkit_material(content),
        history=history,
        previous_actions=previous_actions,
        change_since_baseline=since_baseline,
        change_since_previous=since_previous,
        generated_at=closes + timedelta(hours=1),
    )
