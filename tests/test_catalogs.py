"""One language system: every text in the code is in the catalogs, translated in Danish and English, and no
template shows a text that is not marked for translation.

- ``pybabel extract`` with the project's own settings (babel.cfg, the Makefile's keywords) finds every
  msgid in the Python code and the templates; each must be in the committed ``messages.pot`` and in both
  catalogs with a non-empty, non-fuzzy translation (every plural form).
- Every template of the web app, the respondent's pages, the report, the unit overview, the answer cards
  and the emails (HTML and plain text) is parsed: text between tags and the visible attributes (alt,
  title, aria-label, placeholder) must come from a Jinja expression or a ``{% trans %}`` block, except for
  the few words in ``NOT_TRANSLATED``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
# Words a template may show as they are (whole words): the product's name, and each language's name in that language
# (the language switch), and IGLO (the name of the toolkit's model of levels, the same in both languages).
NOT_TRANSLATED = re.compile(r"\b(Tryghed|Dansk|English|IGLO)\b")
TEMPLATE_DIRS = ("web", "survey", "report", "unit", "cards", "email")
VISIBLE_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "aria-roledescription"}
# Jinja's blocks become "0": no letters of their own, and still a valid part of a tag name (<h{{ n }}>); a
# {% trans %} block is one of them, its text being the msgid that the catalogs translate
JINJA = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
LETTERS = re.compile(r"[^\W\d_]")


def _keywords() -> list[str]:
    """The ``-k`` options of ``make extract-messages``, so the test extracts exactly as the Makefile does."""
    line = next(x for x in (ROOT / "Makefile").read_text().splitlines() if "pybabel extract" in x)
    words = shlex.split(line)
    return [arg for i, word in enumerate(words) if word == "-k" for arg in ("-k", words[i + 1])]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[object, object]:
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    cmd = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", *_keywords()]
    subprocess.run([*cmd, "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        return {m.id: m for m in read_po(f) if m.id}


def test_the_makefile_extracts_every_kind_of_call() -> None:
    assert {"_l", "N_", "translate:2", "translate_plural:2,3", "Text", "text_pattern"} <= set(_keywords()[1::2])


def test_every_text_in_the_code_is_in_the_pot(extracted: dict[object, object]) -> None:
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        committed = {m.id for m in read_po(f) if m.id}
    missing = set(extracted) - committed
    assert not missing, f"run `make extract-messages`: {sorted(map(str, missing))[:5]}"
    assert len(extracted) > 400


@pytest.mark.parametrize("lang", ["da", "en"])
def test_every_text_is_translated(extracted: dict[object, object], lang: str) -> None:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = {m.id: m for m in read_po(f) if m.id}
    missing = [str(msgid) for msgid in extracted if msgid not in catalog]
    assert not missing, f"{lang}: run `make extract-messages` and translate: {missing[:5]}"
    untranslated = [
        str(m.id)
        for m in catalog.values()
        if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple | list) else m.string)
    ]
    assert not untranslated, f"{lang}: empty or fuzzy: {untranslated[:5]}"


def test_danish_differs_from_english_where_it_should(extracted: dict[object, object]) -> None:
    """A Danish catalog that copied the English msgids would pass the test above; the texts a respondent
    and a staff member meet most must really be Danish."""
    with (TRANSLATIONS / "da" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        danish = {m.id: m.string for m in read_po(f) if m.id}
    for msgid in ("Send my answers", "The page does not exist", "the closing time is in the past", "Hello"):
        assert danish[msgid] and danish[msgid] != msgid, msgid


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in ("style", "script")
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value and LETTERS.search(value):
                self.found.append((self.getpos()[0], f"{name}={value!r}"))

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        text = " ".join(data.replace("0", " ").split())  # without the Jinja placeholders
        if not self.hidden and LETTERS.search(NOT_TRANSLATED.sub("", text)):
            self.found.append((self.getpos()[0], text))


def unmarked_texts(source: str) -> list[tuple[int, str]]:
    """(line, text) of every visible text in a template that no Jinja expression produces."""
    parser = _Visible()
    parser.feed(JINJA.sub(lambda m: "0" + "\n" * m.group(0).count("\n"), source))
    parser.close()
    return parser.found


def test_the_template_check_finds_unmarked_text() -> None:
    assert unmarked_texts('<p>{{ _("Hej") }}</p><p class="x">Velkommen</p>') == [(1, "Velkommen")]
    assert unmarked_texts('<img alt="Logo" src="x">') == [(1, "alt='Logo'")]
    assert unmarked_texts('<h{{ n }} id="a">{{ t }}</h{{ n }}><a aria-label="{{ _("Menu") }}">Tryghed</a>') == []
    assert unmarked_texts("<title>{{ a }} ({{ b }}/{{ c }}) – Tryghed</title><p>Tryghed og venner</p>") == [
        (1, "Tryghed og venner")
    ]
    assert unmarked_texts("{% trans %}Hello {{ team }}{% endtrans %}\n\nVenlig hilsen\n{{ org }}") == [
        (1, "Venlig hilsen")
    ]


def test_no_template_holds_unmarked_text() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text[:80]}"
        for folder in TEMPLATE_DIRS
        for path in sorted((ROOT / "templates" / folder).rglob("*.*"))
        if path.suffix in (".html", ".txt")
        for line, text in unmarked_texts(path.read_text())
    ]
    assert not found, "\n".join(found)
