"""Short interface texts in Danish and English (long texts live in the content files and templates)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from survey.locales import babel_locale

if TYPE_CHECKING:
    from flask import Flask

STRINGS: dict[str, dict[str, str]] = {
    "subject_invitation": {
        "da": "Hvordan er det at være i {team}? ({duration}, anonymt)",
        "en": "What is it like to be in {team}? ({duration}, anonymous)",
    },
    "subject_reminder": {
        "da": "Påmindelse: Målingen af tryghed i {team} lukker {closes}",
        "en": "Reminder: the safety survey for {team} closes {closes}",
    },
    "subject_reminder_open": {
        "da": "Påmindelse: Målingen af tryghed i {team} – dit link virker stadig",
        "en": "Reminder: the safety survey for {team} – your link still works",
    },
    "subject_report": {
        "da": "Rapport: psykologisk tryghed i {team}",
        "en": "Report: psychological safety in {team}",
    },
    "subject_trio": {
        "da": "Til orientering: tryghedsmåling i {team} er afsluttet",
        "en": "For information: the safety round in {team} has closed",
    },
    "subject_kickoff": {
        "da": "Før I går i gang: psykologisk tryghed i {team}",
        "en": "Before you start: psychological safety in {team}",
    },
    "submit": {"da": "Send mine svar", "en": "Send my answers"},
    "required": {"da": "Vælg et svar", "en": "Please choose an answer"},
    "form_errors": {
        "da": "Der mangler svar på et eller flere udsagn. Se de markerede nedenfor.",
        "en": "One or more statements have no answer yet. See the marked ones below.",
    },
    "anonymous_note": {
        "da": "Dine svar gemmes uden forbindelse til dit navn, din e-mail og dette link. Ingen – heller "
        "ikke din leder – kan se, hvad du har svaret. Resultater vises først, når runden er lukket, "
        "og kun hvis mindst {k} har svaret.",
        "en": "Your answers are stored with no connection to your name, your email or this link. No one – "
        "your leader included – can see what you answered. Results appear only after the round has "
        "closed, and only if at least {k} people answered.",
    },
    "closes": {"da": "Runden lukker {closes}.", "en": "The round closes {closes}."},
    "thanks_title": {"da": "Tak for dine svar", "en": "Thank you for your answers"},
    "thanks_body": {
        "da": "Dine svar er gemt anonymt. Når runden lukker, får lederen en samlet rapport, som I taler "
        "om sammen i teamet. Du kan lukke siden nu.",
        "en": "Your answers have been stored anonymously. When the round closes, the leader receives a "
        "combined report that you talk about together as a team. You can close this page now.",
    },
    "answered_title": {"da": "Du har allerede svaret", "en": "You have already answered"},
    "answered_body": {
        "da": "Der er allerede afgivet svar med dette link, og hvert link kan kun bruges én gang. "
        "Dine svar kan ikke ændres, fordi de ikke længere er knyttet til dig.",
        "en": "Answers have already been given with this link, and each link works only once. "
        "Your answers cannot be changed because they are no longer tied to you.",
    },
    "closed_title": {"da": "Runden er ikke åben", "en": "The round is not open"},
    "closed_body": {
        "da": "Denne måling tager ikke imod svar lige nu – enten er den afsluttet, eller den er ikke "
        "begyndt endnu. Spørg din leder eller facilitator, hvis du mener, det er en fejl.",
        "en": "This survey is not taking answers right now – either it has ended or it has not started "
        "yet. Ask your leader or facilitator if you think this is a mistake.",
    },
    "unknown_title": {"da": "Linket findes ikke", "en": "This link does not exist"},
    "unknown_body": {
        "da": "Vi kan ikke genkende linket. Tjek, at du har kopieret hele adressen fra e-mailen.",
        "en": "We do not recognise this link. Check that you copied the whole address from the email.",
    },
    "limited_title": {"da": "For mange forsøg", "en": "Too many attempts"},
    "limited_body": {
        "da": "Der er kommet mange forkerte links fra din forbindelse. Vent et par minutter, og brug "
        "linket fra din e-mail.",
        "en": "Many wrong links have come from your connection. Wait a few minutes and use the link from your email.",
    },
    "bad_request_title": {"da": "Noget gik galt med formularen", "en": "Something went wrong with the form"},
    "bad_request_body": {
        "da": "Siden var for gammel eller ufuldstændig. Åbn linket fra e-mailen igen.",
        "en": "The page was too old or incomplete. Open the link from the email again.",
    },
    "read_more": {"da": "Læs om psykologisk tryghed", "en": "Read about psychological safety"},
    # --- hostile or broken input (issue 8) ---
    "out_of_range": {
        "da": "Vælg et af svarene på skalaen",
        "en": "Choose one of the answers on the scale",
    },
    "one_answer": {"da": "Vælg kun ét svar", "en": "Choose only one answer"},
    "errors_heading": {"da": "Formularen er ikke sendt", "en": "The form has not been sent"},
    "unreadable_title": {"da": "Svarene kunne ikke læses", "en": "The answers could not be read"},
    "unreadable_body": {
        "da": "Det, der blev sendt, var ikke en udfyldt formular, så intet er gemt. Åbn linket fra e-mailen "
        "igen, og send svarene derfra.",
        "en": "What was sent was not a filled-in form, so nothing was stored. Open the link from the email "
        "again and send your answers from there.",
    },
    "too_large_title": {"da": "For meget data", "en": "Too much data"},
    "too_large_body": {
        "da": "Der blev sendt langt mere, end formularen kan rumme, så intet er gemt. Åbn linket fra e-mailen igen.",
        "en": "Far more was sent than the form can hold, so nothing was stored. Open the link from the email again.",
    },
    "not_allowed_title": {"da": "Det kan siden ikke", "en": "This page cannot do that"},
    "not_allowed_body": {
        "da": "Siden kan kun vises og udfyldes. Åbn linket fra e-mailen igen.",
        "en": "This page can only be shown and filled in. Open the link from the email again.",
    },
    "card_title": {"da": "Har du et svarkort?", "en": "Do you have an answer card?"},
    "card_body": {
        "da": "Skriv koden fra dit kort (12 tegn; store eller små bogstaver, med eller uden bindestreger).",
        "en": "Type the code from your card (12 characters; capitals or not, with or without the dashes).",
    },
    "card_label": {"da": "Koden fra kortet", "en": "The code from the card"},
    "card_go": {"da": "Videre til spørgsmålene", "en": "On to the questions"},
    "card_error": {
        "da": "Det ligner ikke en kode fra et svarkort. Tjek de 12 tegn og prøv igen.",
        "en": "That does not look like a code from an answer card. Check the 12 characters and try again.",
    },
    "card_privacy_title": {"da": "Sådan er du anonym med et svarkort", "en": "How an answer card keeps you anonymous"},
    "card_privacy": {
        "da": "Kortene er ikke knyttet til nogen person. Tryghed laver et antal kort med hver sin kode og "
        "gemmer kun en nøglet fingeraftryk af koden, ingen navne og ingen e-mailadresser. Facilitatoren blander "
        "kortene og deler dem ud, så hverken Tryghed eller nogen, der har adgang til databasen, kan vide, hvem "
        "der har hvilket kort, eller hvem der har svaret. Tallene vises først, når runden er lukket, og kun "
        "hvis mindst så mange har svaret, at ingen kan genkendes.",
        "en": "The cards are tied to no person. Tryghed makes a number of cards, each with its own code, and "
        "stores only a keyed fingerprint of the code: no names and no email addresses. The facilitator "
        "shuffles the cards and hands them out, so neither Tryghed nor anyone with access to the database can "
        "know who holds which card, or who has answered. Figures are shown only once the round is closed, and "
        "only if enough people answered that nobody can be recognised.",
    },
    "card_privacy_limit": {
        "da": "Det, kortet ikke kan beskytte: viser du dit kort til andre, eller noterer nogen, hvem der fik "
        "hvilket kort, kan de vide, at det er dig, der har brugt det. Hold koden for dig selv.",
        "en": "What the card cannot protect: if you show your card to others, or someone notes who got which "
        "card, they can know it was you who used it. Keep the code to yourself.",
    },
    "server_error_title": {"da": "Der skete en fejl hos os", "en": "Something went wrong on our side"},
    "server_error_body": {
        "da": "Intet er gået tabt af det, der allerede er gemt. Prøv igen om lidt, og kontakt din facilitator, "
        "hvis det bliver ved.",
        "en": "Nothing already stored has been lost. Try again in a little while, and contact your facilitator "
        "if it keeps happening.",
    },
    "upgrade_pending_title": {"da": "Tryghed bliver opdateret", "en": "Tryghed is being updated"},
    "upgrade_pending_body": {
        "da": "Vi er ved at opdatere systemet, så siden kan ikke bruges lige nu. Intet af det, der allerede er "
        "gemt, går tabt. Har du lige sendt dine svar, blev de ikke gemt: prøv igen om et par minutter med "
        "det samme link.",
        "en": "We are updating the system, so this page cannot be used right now. Nothing already stored is "
        "lost. If you just sent your answers, they were not stored: try again in a few minutes with the "
        "same link.",
    },
}


def t(key: str, lang: str, **values: Any) -> str:
    """The interface text ``key`` in ``lang`` (Danish fallback), with ``values`` filled in."""
    texts = STRINGS[key]
    return texts.get(lang, texts["da"]).format(**values)


def format_when(value: datetime | None, lang: str, tz: ZoneInfo) -> str:
    """A moment in local time the way people write it: '3. december 2026 kl. 16:00'."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    # Babel's locale data: the long date and the short time ("3. marts 2026" + "16.00"; "3 March 2026, 16:00")
    from babel.dates import format_date, format_time  # Babel's locale data loads only when a date is shown

    day = format_date(local, "long", locale=babel_locale(lang))
    time = format_time(local, "short", locale=babel_locale(lang))
    return f"{day} kl. {time}" if lang == "da" else f"{day}, {time}"


def init_app(app: Flask) -> None:
    """Expose ``t`` to templates; the page language is chosen per request in ``g.lang``."""
    from flask import g
    from flask_babel import Babel

    from survey.web.i18n import TRANSLATIONS_DIR

    Babel(
        app,
        locale_selector=lambda: getattr(g, "lang", "da"),
        default_translation_directories=str(TRANSLATIONS_DIR),
        default_timezone=str(app.config["TIMEZONE"]),
    )
    app.jinja_env.globals["t"] = lambda key, **values: t(key, getattr(g, "lang", "da"), **values)
    app.jinja_env.globals["t_in"] = t  # a text in a named language (the bilingual 503 page)
