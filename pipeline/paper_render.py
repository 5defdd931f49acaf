"""Render the paper barometer for a card round: the instrument's statements and scale on A4, to fill in by
hand (for those without a phone). A facilitator types a collected form in with a spare card's code, so it
goes through the same validation and storage as any answer (``survey.domain.cards``).

WeasyPrint is imported only when a PDF is made (``cards_render.tagged_pdf``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup

from pipeline.cards_render import CARDS_DIR, _environment, tagged_pdf
from survey.locales import LANGS, N_, translate_table

if TYPE_CHECKING:
    from survey.content.model import Instrument

LABELS: dict[str, str | tuple[str, str]] = {
    "title": N_("{instrument} – paper form for {team}"),
    "lead": N_("Tick one box for each statement. Do not write your name. Put the form on the facilitator's pile."),
    "typed": N_(
        "The facilitator types the form in with one of the spare answer cards, so it is stored and "
        "counted like every other answer. Whoever types it sees this one form, and the form is shredded "
        "afterwards."
    ),
    "statement": N_("Statement"),
}


def paper_html(instrument: Instrument, *, team: str, lang: str) -> str:
    """The paper form as one HTML document for WeasyPrint."""
    lang = lang if lang in LANGS else "da"
    ui = translate_table(LABELS, lang)
    return (
        _environment()
        .get_template("cards/paper.html")
        .render(
            lang=lang,
            ui=ui,
            title=ui["title"].format(instrument=instrument.title.get(lang), team=team),
            intro=instrument.intro.get(lang),
            scale=[label.get(lang) for label in instrument.scale_labels],
            items=[item.text.get(lang) for item in instrument.items],
            css=Markup((CARDS_DIR / "paper.css").read_text(encoding="utf-8")),
        )
    )


def paper_pdf(instrument: Instrument, *, team: str, lang: str, timeout_s: float = 60.0) -> bytes:
    """The paper form as tagged PDF bytes (PDF/UA-1)."""
    return tagged_pdf(paper_html(instrument, team=team, lang=lang), timeout_s)
