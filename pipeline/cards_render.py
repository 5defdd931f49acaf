"""Render a round's answer cards (``survey.domain.cards.Card``) to a tagged PDF: 8 cards to an A4 sheet.

Each card: a QR code of its link (segno, inline SVG with its alternative text), the same link as short
text grouped for reading aloud, the team, the closing time, one line on anonymity and where to read more.
WeasyPrint and segno are imported inside ``cards_pdf``: the ``tryghed`` command loads this module only
when it prints cards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

from pipeline import report_text
from survey.locales import LANGS, N_, babel_locale, translate, translate_table
from survey.paths import TEMPLATES_DIR

if TYPE_CHECKING:
    from survey.domain.cards import Card

CARDS_DIR = TEMPLATES_DIR / "cards"
PER_SHEET = 8

LABELS: dict[str, str | tuple[str, str]] = {
    "title": N_("Answer cards – {team}"),
    "heading": N_("Psychological safety survey – {team}"),
    "scan": N_("Scan the code with your phone's camera, or type the address:"),
    "type": N_("Or go to {entry} and type the code:"),
    "closes": N_("Answer by {when}."),
    "closes_open": N_("The round closes when the meeting takes it up."),
    "anonymous": N_("This card is tied to no one: Tryghed never knows who holds which card."),
    "more": N_("Read more about the cards and your anonymity at {entry}"),
    "qr_alt": N_("QR code with the link {url}"),
    "single_use": N_("The card can be used once."),
}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def qr_svg(url: str, label: str) -> Markup:
    """The QR code of ``url`` as inline SVG, an image with ``label`` as its alternative text."""
    import segno

    svg = segno.make(url, error="m").svg_inline(scale=1, omitsize=True, border=2)
    attrs = f'role="img" aria-label="{escape(label)}" width="100%"'
    return Markup(svg.replace("<svg ", f"<svg {attrs} ", 1).replace(">", f"><title>{escape(label)}</title>", 1))


def _when(closes: datetime | None, ui: dict[str, str], lang: str) -> str:
    if closes is None:
        return ui["closes_open"]
    from babel.dates import format_time

    time = format_time(closes, "short", locale=babel_locale(lang))
    when = translate(lang, "%(day)s, %(time)s", day=report_text.format_date(closes, lang), time=time)
    return ui["closes"].format(when=when)


def cards_html(cards: Sequence[Card], *, team: str, closes: datetime | None, lang: str, entry_url: str) -> str:
    """The cards as one HTML document for WeasyPrint (A4, 2 x 4 cards with cut lines)."""
    lang = lang if lang in LANGS else "da"
    ui = translate_table(LABELS, lang)
    entry = entry_url.split("://", 1)[-1].rstrip("/")  # what people type: no scheme
    items: list[dict[str, Any]] = [
        {
            "qr": qr_svg(card.url, ui["qr_alt"].format(url=card.url)),
            "link": card.url.split("://", 1)[-1],
            "code": card.code,
        }
        for card in cards
    ]
    sheets = [items[i : i + PER_SHEET] for i in range(0, len(items), PER_SHEET)]
    return (
        _environment()
        .get_template("cards/cards.html")
        .render(
            lang=lang,
            title=ui["title"].format(team=team),
            heading=ui["heading"].format(team=team),
            ui=ui,
            when=_when(closes, ui, lang),
            type_line=ui["type"].format(entry=entry),
            more=ui["more"].format(entry=entry),
            sheets=sheets,
            css=Markup((CARDS_DIR / "cards.css").read_text(encoding="utf-8")),
        )
    )


def cards_pdf(
    cards: Sequence[Card], *, team: str, closes: datetime | None, lang: str, entry_url: str, timeout_s: float = 120.0
) -> bytes:
    """The cards as tagged PDF bytes (PDF/UA-1). Raises ``RenderTimeout`` past ``timeout_s``."""
    return tagged_pdf(cards_html(cards, team=team, closes=closes, lang=lang, entry_url=entry_url), timeout_s)


def tagged_pdf(html: str, timeout_s: float) -> bytes:
    """A document of ``templates/cards/`` as tagged PDF bytes (PDF/UA-1), within ``timeout_s``."""
    from weasyprint import HTML

    from pipeline.render import PDF_VARIANT, ReportAssetFetcher, _bounded, _scope_table_headers

    def work() -> bytes:
        document = HTML(string=html, base_url=CARDS_DIR.as_uri() + "/", url_fetcher=ReportAssetFetcher(CARDS_DIR))
        # the paper form's table headers get their /Scope as in the leader's report
        return bytes(document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True, finisher=_scope_table_headers))

    return _bounded(work, timeout_s)
