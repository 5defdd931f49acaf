"""The page texts looked up once per request (``survey.web.i18n``, ``survey.web.labels``) read exactly as
Flask-Babel's own lookups did: the same translations, the same escaping, the same dates and percentages,
in both languages, and a second language in the next request is not served from the first one's cache.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import flask_babel
import pytest
from flask import Flask, g, render_template_string
from markupsafe import Markup

from survey.web import i18n, labels

MOMENTS = [
    datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # the hour before summer time starts in Copenhagen
    datetime(2026, 3, 29, 1, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # and around its end
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 15, tzinfo=UTC),
    datetime(2026, 6, 1, 12, 0),  # no zone: read as UTC, as Flask-Babel does
    datetime(2026, 5, 3, 7, 5, tzinfo=UTC) + timedelta(microseconds=7),
]


@pytest.mark.parametrize("lang", ["da", "en"])
def test_when_and_percent_read_as_flask_babel_formats_them(app: Flask, lang: str) -> None:
    with app.test_request_context("/"):
        g.lang = lang
        for moment in MOMENTS:
            expected_day = flask_babel.format_date(moment, "medium")
            assert i18n.when(moment, with_time=False) == expected_day
            assert i18n.when(moment) == f"{expected_day} {flask_babel.format_time(moment, 'short')}"
        for share in (0, 0.05, 1 / 3, 0.5, 2 / 3, 0.875, 1):
            assert i18n.percent(share) == flask_babel.format_percent(share)
        assert i18n.percent(None) == ""


@pytest.mark.parametrize("lang", ["da", "en"])
def test_cached_gettext_reads_as_flask_babels(app: Flask, lang: str) -> None:
    template = (
        '{{ _("Teams") }}|{{ _("Teams") }}|{{ _("Round %(n)s", n=3) }}|{{ _("Round %(n)s", n=4) }}|'
        '{{ _("PDF for %(unit)s", unit=name) }}|{{ _("%(n)s of %(total)s answered", n=2, total=7) }}'
    )
    with app.test_request_context("/"):
        g.lang = lang
        shown = render_template_string(template, name="<b>R&D</b>")
        gettext = flask_babel.gettext
        expected = [
            gettext("Teams"),
            gettext("Teams"),
            gettext("Round %(n)s", n=3),
            gettext("Round %(n)s", n=4),
            str(Markup(gettext("PDF for %(unit)s")) % {"unit": "<b>R&D</b>"}),
            gettext("%(n)s of %(total)s answered", n=2, total=7),
        ]
        assert shown.split("|") == expected
        assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in shown  # a name is escaped, as before
        # a text read once before a loop and filled per row (start.html's cards) reads as gettext's
        assert i18n.text_pattern("Round %(n)s") % {"n": 3} == gettext("Round %(n)s", n=3)
        answered = i18n.text_pattern("%(n)s of %(total)s answered") % {"n": 2, "total": 7}
        assert answered == gettext("%(n)s of %(total)s answered", n=2, total=7)
        assert labels.round_statuses()["reported"] == gettext("Reported")
        assert labels.attention_texts()["request"] == gettext("Asks for a facilitator")


def test_each_request_looks_up_its_own_language(app: Flask) -> None:
    shown = {}
    for lang in ("da", "en", "da"):
        with app.test_request_context("/"):
            g.lang = lang
            shown.setdefault(lang, set()).add(render_template_string('{{ _("Teams") }} {{ round_statuses()["open"] }}'))
    assert shown == {"da": {"Teams Åben"}, "en": {"Teams Open"}}


def test_english_is_british_english_on_pages_in_emails_and_in_pdfs(app: Flask) -> None:
    """One English: the pages' dates, Flask-Babel's, the emails' and the PDFs' all come from en_GB (not the
    US forms "Dec 3, 2026" and "4:00 PM"), and a share is written the English way ("13%")."""
    from zoneinfo import ZoneInfo

    from pipeline import report_text
    from pipeline.unit_render import _rate
    from survey.locales import format_when

    moment = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 16:00 in Copenhagen
    with app.test_request_context("/"):
        g.lang = "en"
        assert i18n.when(moment) == "3 Dec 2026 16:00"
        assert flask_babel.format_date(moment, "long") == report_text.format_date(moment, "en") == "3 December 2026"
    assert format_when(moment, "en", ZoneInfo("Europe/Copenhagen")) == "3 December 2026, 16:00"
    assert report_text.format_share(1, 8, "en") == _rate(1, 8, "en") == "13%"
