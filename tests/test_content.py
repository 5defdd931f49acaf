"""The toolkit content: the built-in TOML files, the loader's validation and extra content folders."""

from __future__ import annotations

import pickle
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from survey.content import (
    CONTENT_DIR_ENV,
    DEFAULT_DIR,
    PILLAR_ORDER,
    ContentError,
    Text,
    clear_content_cache,
    get_content,
    load_content,
)

FIXTURES = Path(__file__).parent / "fixtures" / "content"

MINIMAL_INSTRUMENT = """
[instrument]
name = "mini"
title = { da = "Mini", en = "Mini" }
intro = { da = "Kort intro.", en = "Short intro." }

[[instrument.items]]
key = "a1"
pillar = "inkludere"
text = { da = "Udsagn 1", en = "Statement 1" }

[[instrument.items]]
key = "a2"
pillar = "laere"
text = { da = "Udsagn 2", en = "Statement 2" }

[[instrument.items]]
key = "a3"
pillar = "bidrage"
text = { da = "Udsagn 3", en = "Statement 3" }

[[instrument.items]]
key = "a4"
pillar = "udfordre"
reverse = true
text = { da = "Udsagn 4", en = "Statement 4" }
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str, name: str = "extra.toml") -> str:
    write(tmp_path, name, text)
    with pytest.raises(ContentError) as info:
        load_content(tmp_path)
    return str(info.value)


# --- the built-in content -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def content():
    return load_content()


def test_default_instrument_has_16_items_4_per_pillar_one_reversed(content):
    instrument = content.instrument()
    assert instrument.name == "tryghedsbarometer" == content.default_instrument
    assert tuple(p.key for p in instrument.pillars) == PILLAR_ORDER
    assert [p.name.da for p in instrument.pillars] == ["Inkludere", "Lære", "Bidrage", "Udfordre"]
    assert [p.name.en for p in instrument.pillars] == ["Inclusion", "Learning", "Contributing", "Challenging"]
    assert len(instrument.items) == 16
    prefixes = {"inkludere": "ink", "laere": "lae", "bidrage": "bid", "udfordre": "udf"}
    for pillar in PILLAR_ORDER:
        items = instrument.items_of(pillar)
        assert [i.key for i in items] == [f"{prefixes[pillar]}{n}" for n in range(1, 5)]
        assert sum(i.reverse for i in items) == 1


def test_default_scale_and_bands(content):
    instrument = content.instrument()
    assert (instrument.scale_min, instrument.scale_max) == (1, 5)
    assert [t.da for t in instrument.scale_labels] == [
        "Helt uenig",
        "Uenig",
        "Hverken enig eller uenig",
        "Enig",
        "Helt enig",
    ]
    assert instrument.scale_labels[0].en == "Strongly disagree"
    assert (instrument.bands.red_below, instrument.bands.green_from) == (3.0, 4.0)
    assert "anonym" in instrument.intro.da and "3 minutter" in instrument.intro.da


def test_hacks_and_dilemmas_per_pillar(content):
    assert len(content.hacks) == 12
    assert len({h.key for h in content.hacks}) == 12
    for pillar in PILLAR_ORDER:
        assert len(content.hacks_for(pillar)) == 3
        dilemmas = content.dilemmas_for(pillar)
        assert len(dilemmas) >= 2
        assert all(2 <= len(d.questions) <= 3 for d in dilemmas)


def test_advice_traps_roles_steps_links(content):
    assert len(content.advice) == 5
    assert len(content.traps) >= 5
    assert any("søde" in t.title.da for t in content.traps)
    assert {r.key for r in content.roles} >= {"leader", "employees", "facilitator", "trio"}
    assert [(s.number, s.key) for s in content.steps] == [
        (1, "faelles_viden"),
        (2, "tag_temperaturen"),
        (3, "det_goer_vi"),
        (4, "vi_holder_fast"),
    ]
    assert content.step("det_goer_vi").url == "https://skab-psykologisk-tryghed.dk/det-goer-vi/"
    assert content.links["site"] == "https://skab-psykologisk-tryghed.dk/"
    assert content.links["barometer"].endswith("/wp-content/uploads/Tryghedsbarometer3.pdf")
    assert content.links["iglo"].startswith("https://www.apvportalen.dk/")
    expected = {
        "faelles_viden",
        "det_goer_vi",
        "dilemmas",
        "hacks_inkludere",
        "hacks_laere",
        "hacks_bidrage",
        "hacks_udfordre",
        "facilitation",
        "advice",
        "responsibility",
    }
    assert set(content.links) >= expected


# The toolkit's material online: exactly the addresses PRODUCT.md names, no others are known to exist.
_SITE = "https://skab-psykologisk-tryghed.dk/"
_UPLOADS = _SITE + "wp-content/uploads/"
KNOWN_URLS = {
    _SITE,
    _SITE + "faelles-viden/",
    _SITE + "det-goer-vi/",
    *(
        _UPLOADS + name
        for name in (
            "Tryghedsbarometer3.pdf",
            "Dilemmaer-faerdig.pdf",
            "HacksSojle1.pdf",
            "HacksSojle2.pdf",
            "HacksSojle3.pdf",
            "HacksSojle4.pdf",
            "Faciliteringsguide.pdf",
            "Gode-Rad.pdf",
        )
    ),
    "https://www.lederweb.dk/vaerktoej-faa-styr-paa-hvem-der-tager-ansvar/",
    "https://www.apvportalen.dk/psykisk-arbejdsmiljoe-i-apv-processen/apv-og-psykisk-arbejdsmiljoe/iglo-hvem-kan-goere-hvad",
}


def test_every_link_is_a_known_address_of_the_toolkit(content):
    urls = {*content.links.values(), *(s.url for s in content.steps)}
    urls |= {i.official_url for i in content.instruments.values() if i.official_url}
    assert urls <= KNOWN_URLS, urls - KNOWN_URLS
    # one sheet of hacks per pillar, in the pillars' order
    pillar_keys = [p.key for p in content.instrument().pillars]
    sheets = [content.links[f"hacks_{key}"] for key in pillar_keys]
    assert sheets == [f"{_UPLOADS}HacksSojle{n}.pdf" for n in range(1, len(pillar_keys) + 1)]


def test_content_says_whose_texts_it_ships(content):
    """The barometer is the product's own, built on the toolkit's pillars, with the official one linked."""
    default = content.instrument()
    assert default.about is not None and default.official_url == _UPLOADS + "Tryghedsbarometer3.pdf"
    assert "fire søjler" in default.about.da and "four pillars" in default.about.en
    assert content.about is not None and "forråelse" in content.about.purpose.da
    facilitated = content.track("facilitated")
    assert facilitated is not None and content.track("selfguided") is not None
    # the toolkit's own process: pre-meeting, briefing, the screening, debriefing; each one can be planned
    assert [m.key for m in facilitated.sessions] == ["premeeting", "briefing", "measurement", "debriefing"]
    # the length as PRODUCT.md gives it (three sessions of 1.5-4 hours), no split of our own shown as fact
    assert "tre sessioner" in facilitated.text.da and "1,5-4 timer hver" in facilitated.text.da
    assert "three sessions" in facilitated.text.en and "1.5-4 hours each" in facilitated.text.en
    assert "udkanten" in facilitated.text.da and "edge of the team" in facilitated.text.en
    trio = next(r for r in content.roles if r.key == "trio")
    assert "Lederen er selv med i TRIO" in trio.responsibility.da


def test_the_product_names_its_own_instrument_and_the_toolkits_measures(content):
    """The shipped instrument has a name of its own (the toolkit's document is the Tryghedsbarometer), says
    its wording is the product's own on the toolkit's four pillars, and the facilitated track's measures
    are Amy Edmondson's four, as the toolkit lists them."""
    default = content.instrument()
    for lang in ("da", "en"):
        assert "tryghedsbarometer" not in default.title.get(lang).lower()
    assert default.title.da == "Tryghed-barometeret" and default.title.en == "The Tryghed barometer"
    assert default.about is not None
    assert "egen ordlyd" in default.about.da and "fire søjler" in default.about.da
    assert "own wording" in default.about.en and "four pillars" in default.about.en
    measures = content.measures
    assert measures is not None and "Edmondson" in measures.title.da and "Edmondson" in measures.title.en
    assert [n.da.lower() for n in measures.names] == [
        "villighed til at hjælpe",
        "holdning til risiko og fejl",
        "inklusion og diversitet",
        "åbne samtaler",
    ]
    assert "licens" in measures.text.da and "licensed" in measures.text.en
    assert "instrumentfil" in measures.text.da and "instrument file" in measures.text.en


def test_traps_say_which_is_the_toolkits_and_which_are_ours(content):
    """PRODUCT.md knows one trap of the toolkit's (psychological safety is not just being nice); every other
    trap is the programme's own, and the content labels both."""
    toolkit = [t for t in content.traps if t.origin == "toolkit"]
    assert [t.key for t in toolkit] == ["bare_soede"]
    assert "søde" in toolkit[0].title.da and "nice" in toolkit[0].title.en
    assert len(content.traps) > 1 and all(t.origin == "tryghed" for t in content.traps if t is not toolkit[0])
    assert content.about is not None
    assert content.about.origin("toolkit") == content.about.origin_toolkit
    assert content.about.origin_tryghed is not None and "egen" in content.about.origin_tryghed.da


def test_answer_groups_follow_the_scale(content):
    """The report's three answer groups use the instrument's scale words: agree/disagree only on an
    agree/disagree scale; a file without group names gets its own labels as ranges."""
    assert content.instrument().answer_groups("da") == ("Uenig", "Hverken/eller", "Enig")
    seven = load_content(FIXTURES).instrument("edmondson7")
    assert seven.answer_groups("da") == ("Passer ikke", "Hverken eller", "Passer")
    assert seven.answer_groups("en") == ("Inaccurate", "In between", "Accurate")
    bare = replace(seven, scale_groups=None)
    assert bare.answer_groups("da") == (
        "Passer slet ikke – passer kun lidt",
        "Hverken eller",
        "Passer nogenlunde – passer helt",
    )
    four = replace(bare, scale_labels=bare.scale_labels[:2] + bare.scale_labels[-2:])
    assert four.answer_groups("en") == ("Very inaccurate – inaccurate", "", "Accurate – very accurate")


def _all_texts(content) -> list[Text]:
    texts: list[Text] = []
    for instrument in content.instruments.values():
        texts += [instrument.title, instrument.intro, *instrument.scale_labels]
        texts += [t for p in instrument.pillars for t in (p.name, p.description)]
        texts += [i.text for i in instrument.items]
        texts += [instrument.about] if instrument.about else []
    texts += [t for h in content.hacks for t in (h.title, h.summary, h.how_to_start)]
    texts += [t for d in content.dilemmas for t in (d.title, d.situation, *d.questions)]
    texts += [t for x in (*content.advice, *content.traps) for t in (x.title, x.text)]
    texts += [t for r in content.roles for t in (r.title, r.responsibility)]
    texts += [t for s in content.steps for t in (s.title, s.summary)]
    texts += [
        t for tr in content.tracks for t in (tr.title, tr.text, *(x for m in tr.sessions for x in (m.title, m.text)))
    ]
    if content.measures:
        texts += [content.measures.title, content.measures.text, *content.measures.names]
    if content.about:
        texts += [t for t in (content.about.origin_toolkit, content.about.origin_tryghed) if t]
    texts += [g for i in content.instruments.values() for g in (i.scale_groups or ())]
    return texts


@pytest.mark.parametrize(
    ("lang", "banned"),
    [
        (
            "da",
            re.compile(r"\bfx\b|\bDannet\b|nærved|Tryghedsbarometret\b|\b1-1-samtal|\bMUS-samtale\b(?!r)|\bMUS\b(?!-)"),
        ),
        ("en", re.compile(r"\bWe hold on\b|\bIncluding\b|\bmanager")),
    ],
)
def test_language_is_consistent(content, lang, banned):
    """One spelling and one word for each thing, in the content files and the report's own labels."""
    from pipeline.report_text import labels

    texts = [t.get(lang) for t in _all_texts(content)] + list(labels(lang).values())
    found = [text for text in texts if banned.search(text)]
    assert not found, found


def test_every_text_has_both_languages(content):
    texts: list[Text] = []
    for instrument in content.instruments.values():
        texts += [instrument.title, instrument.intro, *instrument.scale_labels]
        texts += [t for p in instrument.pillars for t in (p.name, p.description)]
        texts += [i.text for i in instrument.items]
    texts += [t for h in content.hacks for t in (h.title, h.summary, h.how_to_start)]
    texts += [t for d in content.dilemmas for t in (d.title, d.situation, *d.questions)]
    texts += [t for x in (*content.advice, *content.traps) for t in (x.title, x.text)]
    texts += [t for r in content.roles for t in (r.title, r.responsibility)]
    texts += [t for s in content.steps for t in (s.title, s.summary)]
    assert len(texts) > 140
    for text in texts:
        assert text.da.strip() and text.en.strip()
        assert text.da != text.en or len(text.da) < 20  # translated, not copied


def test_default_folder_has_only_toml_files():
    assert sorted(p.suffix for p in DEFAULT_DIR.iterdir()) == [".toml"] * len(list(DEFAULT_DIR.iterdir()))
    for path in DEFAULT_DIR.glob("*.toml"):
        tomllib.loads(path.read_text(encoding="utf-8"))


# --- extra content folders ------------------------------------------------------------------------


def test_extra_instrument_is_added_and_inherits_pillars_and_scale(tmp_path):
    write(tmp_path, "mini.toml", MINIMAL_INSTRUMENT)
    content = load_content(tmp_path)
    assert set(content.instruments) == {"tryghedsbarometer", "mini"}
    assert content.default_instrument == "tryghedsbarometer"
    mini = content.instrument("mini")
    assert [i.key for i in mini.items] == ["a1", "a2", "a3", "a4"]
    assert mini.items[3].reverse and not mini.items[0].reverse
    assert tuple(p.key for p in mini.pillars) == PILLAR_ORDER
    assert (mini.scale_min, mini.scale_max, len(mini.scale_labels)) == (1, 5, 5)
    assert len(content.hacks) == 12  # the rest is untouched


def test_extra_instrument_replaces_by_name_and_can_become_default(tmp_path):
    replacement = MINIMAL_INSTRUMENT.replace('name = "mini"', 'name = "tryghedsbarometer"')
    write(tmp_path, "official.toml", replacement)
    content = load_content(tmp_path)
    assert list(content.instruments) == ["tryghedsbarometer"]
    assert len(content.instrument().items) == 4

    write(tmp_path, "official.toml", 'default_instrument = "mini"\n' + MINIMAL_INSTRUMENT)
    assert load_content(tmp_path).instrument().name == "mini"


def test_extra_instrument_with_own_pillars_scale_and_bands(tmp_path):
    text = """
[instrument]
name = "edm"
title = { da = "Eget", en = "Own" }
intro = { da = "Intro", en = "Intro" }
pillars = [
  "inkludere",
  { key = "risiko", name = { da = "Risiko", en = "Risk" }, description = { da = "R", en = "R" } },
]
bands = { red_below = 2.5, green_from = 5 }

[instrument.scale]
min = 1
max = 7
labels = [
  { da = "1", en = "1" }, { da = "2", en = "2" }, { da = "3", en = "3" }, { da = "4", en = "4" },
  { da = "5", en = "5" }, { da = "6", en = "6" }, { da = "7", en = "7" },
]

[[instrument.items]]
key = "q1"
pillar = "inkludere"
text = { da = "A", en = "A" }

[[instrument.items]]
key = "q2"
pillar = "risiko"
text = { da = "B", en = "B" }

[[hacks]]
key = "risiko_hack"
pillar = "risiko"
title = { da = "T", en = "T" }
summary = { da = "S", en = "S" }
how_to_start = { da = "H", en = "H" }
"""
    write(tmp_path, "edm.toml", text)
    content = load_content(tmp_path)
    edm = content.instrument("edm")
    assert [p.key for p in edm.pillars] == ["inkludere", "risiko"]
    assert (edm.scale_min, edm.scale_max, edm.bands.red_below, edm.bands.green_from) == (1, 7, 2.5, 5.0)
    assert [h.key for h in content.hacks_for("risiko")] == ["risiko_hack"]


def test_extra_file_overrides_hack_in_place_and_adds_links(tmp_path):
    text = """
[[hacks]]
key = "ink_taletid"
pillar = "inkludere"
title = { da = "Ny titel", en = "New title" }
summary = { da = "S", en = "S" }
how_to_start = { da = "H", en = "H" }

[links]
local = "https://intra.example.dk/tryghed"
"""
    write(tmp_path, "local.toml", text)
    content = load_content(tmp_path)
    hacks = content.hacks_for("inkludere")
    assert [h.key for h in hacks] == ["ink_tjek_ind", "ink_modtagelse", "ink_taletid"]
    assert hacks[2].title.da == "Ny titel"
    assert content.links["local"] == "https://intra.example.dk/tryghed"
    assert content.links["site"] == "https://skab-psykologisk-tryghed.dk/"


def test_get_content_is_cached_per_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(CONTENT_DIR_ENV, raising=False)
    clear_content_cache()
    base = get_content()
    assert get_content() is base
    assert list(base.instruments) == ["tryghedsbarometer"]

    write(tmp_path, "mini.toml", MINIMAL_INSTRUMENT)
    monkeypatch.setenv(CONTENT_DIR_ENV, str(tmp_path))
    extra = get_content()
    assert extra is not base and "mini" in extra.instruments
    assert get_content() is extra

    monkeypatch.setenv(CONTENT_DIR_ENV, "")
    assert get_content() is base
    clear_content_cache()
    assert get_content() is not base


def test_missing_content_folder(tmp_path, monkeypatch):
    clear_content_cache()
    monkeypatch.setenv(CONTENT_DIR_ENV, str(tmp_path / "nope"))
    with pytest.raises(ContentError, match="nope: content folder does not exist"):
        get_content()
    clear_content_cache()


def test_non_toml_files_are_ignored(tmp_path):
    write(tmp_path, "README.md", "not toml [")
    assert list(load_content(tmp_path).instruments) == ["tryghedsbarometer"]


# --- validation errors ----------------------------------------------------------------------------


def test_error_is_value_error_with_parts_and_pickles(tmp_path):
    bad = MINIMAL_INSTRUMENT.replace('pillar = "laere"', 'pillar = "laer"')
    path = write(tmp_path, "instrument.toml", bad)
    with pytest.raises(ValueError) as info:
        load_content(tmp_path)
    error = info.value
    assert isinstance(error, ContentError)
    assert str(error) == (
        f"{path}: instrument.items[1].pillar: unknown pillar 'laer' (known: inkludere, laere, bidrage, udfordre)"
    )
    assert (error.file, error.path) == (str(path), "instrument.items[1].pillar")
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_toml_syntax_error_names_file(tmp_path):
    message = load_error(tmp_path, "[instrument\nname = 1\n", "broken.toml")
    assert message.startswith(f"{tmp_path / 'broken.toml'}: invalid TOML:")
    assert "line 1" in message


def test_not_utf8(tmp_path):
    (tmp_path / "latin.toml").write_bytes('[links]\nx = "æ"\n'.encode("latin-1"))
    with pytest.raises(ContentError, match="latin.toml: not valid UTF-8"):
        load_content(tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "path", "problem"),
    [
        ('name = "mini"\n', "", "instrument.name", "required key is missing"),
        (
            'title = { da = "Mini", en = "Mini" }',
            'title = { da = "Mini" }',
            "instrument.title.en",
            "required",
        ),
        (
            'title = { da = "Mini", en = "Mini" }',
            'title = { da = "Mini", en = " " }',
            "instrument.title.en",
            "empty",
        ),
        ('title = { da = "Mini", en = "Mini" }', 'title = "Mini"', "instrument.title", "expected a table"),
        (
            'title = { da = "Mini", en = "Mini" }',
            'title = { da = "M", en = "M", de = "M" }',
            "instrument.title.de",
            "unknown key",
        ),
        ('name = "mini"', 'name = "Mini Barometer"', "instrument.name", "invalid key 'Mini Barometer'"),
        (
            'key = "a1"',
            'key = "a2"',
            "instrument.items[1].key",
            "duplicate key 'a2' (also at instrument.items[0])",
        ),
        ('key = "a1"', 'key = "1a"', "instrument.items[0].key", "invalid key '1a'"),
        ('key = "a1"', 'key = "a-1"', "instrument.items[0].key", "invalid key 'a-1'"),
        ('key = "a1"', f'key = "a{"x" * 32}"', "instrument.items[0].key", "invalid key"),
        ('key = "a1"', 'key = "csrf_token"', "instrument.items[0].key", "reserved"),
        ('pillar = "laere"', 'pillar = "laer"', "instrument.items[1].pillar", "unknown pillar 'laer'"),
        ('pillar = "laere"', 'pillar = "inkludere"', "instrument.items", "pillar 'laere' has no items"),
        ("reverse = true", 'reverse = "yes"', "instrument.items[3].reverse", "expected true or false"),
        ("reverse = true", "revers = true", "instrument.items[3].revers", "unknown key"),
        ('key = "a1"\n', "", "instrument.items[0].key", "required key is missing"),
        ('key = "a1"', "key = 1", "instrument.items[0].key", "expected a string, got an integer"),
        (
            'name = "mini"',
            'name = "mini"\nofficial_url = "barometer.pdf"',
            "instrument.official_url",
            "not an http(s) URL",
        ),
        ('name = "mini"', 'name = "mini"\nabout = "Vores egen"', "instrument.about", "expected a table"),
    ],
)
def test_instrument_errors(tmp_path, old, new, path, problem):
    assert old in MINIMAL_INSTRUMENT
    message = load_error(tmp_path, MINIMAL_INSTRUMENT.replace(old, new, 1))
    assert message.startswith(f"{tmp_path / 'extra.toml'}: {path}: ")
    assert problem in message


@pytest.mark.parametrize(
    ("extra", "path", "problem"),
    [
        ("bands = { red_below = 4.5, green_from = 4.0 }", "instrument.bands.red_below", "must not exceed"),
        ("bands = { red_below = 0.5 }", "instrument.bands.red_below", "outside the scale 1..5"),
        ("bands = { green_from = 6 }", "instrument.bands.green_from", "outside the scale 1..5"),
        ("bands = { red_below = true }", "instrument.bands.red_below", "expected a number"),
        ("bands = { red = 3 }", "instrument.bands.red", "unknown key"),
        ("scale = { min = 5, max = 1, labels = [] }", "instrument.scale.max", "must be greater than min"),
        ("scale = { min = 1, max = 5.0, labels = [] }", "instrument.scale.max", "expected an integer"),
        (
            'scale = { min = 1, max = 3, labels = [{ da = "a", en = "a" }, { da = "b", en = "b" }] }',
            "instrument.scale.labels",
            "expected 3 labels for 1..3, got 2",
        ),
        ('pillars = ["inkludere", "laer"]', "instrument.pillars[1]", "unknown pillar 'laer'"),
        ('pillars = ["inkludere", "inkludere"]', "instrument.pillars[1].key", "duplicate key"),
        ("pillars = []", "instrument.pillars", "must not be empty"),
    ],
)
def test_scale_band_and_pillar_errors(tmp_path, extra, path, problem):
    text = MINIMAL_INSTRUMENT.replace("[[instrument.items]]", extra + "\n\n[[instrument.items]]", 1)
    message = load_error(tmp_path, text)
    assert f": {path}: " in message
    assert problem in message


HACK = """
[[hacks]]
key = "h1"
pillar = "inkludere"
title = { da = "T", en = "T" }
summary = { da = "S", en = "S" }
how_to_start = { da = "H", en = "H" }
"""

DILEMMA = """
[[dilemmas]]
key = "d1"
pillar = "laere"
title = { da = "T", en = "T" }
situation = { da = "S", en = "S" }
questions = [{ da = "Q", en = "Q" }]
"""

STEP = """
[[steps]]
key = "s5"
number = 5
title = { da = "T", en = "T" }
summary = { da = "S", en = "S" }
url = "https://example.dk/"
"""


TRACK = """
[[tracks]]
key = "kort"
title = { da = "T", en = "T" }
text = { da = "T", en = "T" }
[[tracks.sessions]]
key = "briefing"
title = { da = "S", en = "S" }
text = { da = "S", en = "S" }
"""

SCALE_GROUPS = """
[scale]
min = 1
max = 4
labels = [{ da = "1", en = "1" }, { da = "2", en = "2" }, { da = "3", en = "3" }, { da = "4", en = "4" }]
groups = [{ da = "L", en = "L" }, { da = "M", en = "M" }, { da = "H", en = "H" }]
"""


@pytest.mark.parametrize(
    ("text", "path", "problem"),
    [
        (
            HACK.replace('"inkludere"', '"laer"'),
            "hacks[0].pillar",
            "unknown pillar 'laer' (known: inkludere,",
        ),
        (HACK.replace("how_to_start", "how_to"), "hacks[0].how_to_start", "required key is missing"),
        (HACK + HACK, "hacks[1].key", "duplicate key 'h1' (also at hacks[0])"),
        (DILEMMA.replace('"laere"', '"x"'), "dilemmas[0].pillar", "unknown pillar 'x'"),
        (DILEMMA.replace('[{ da = "Q", en = "Q" }]', "[]"), "dilemmas[0].questions", "must not be empty"),
        (
            DILEMMA.replace('{ da = "Q", en = "Q" }', '{ da = "Q" }'),
            "dilemmas[0].questions[0].en",
            "required",
        ),
        (STEP.replace("number = 5", "number = 2"), "steps", "step numbers must be unique"),
        (STEP.replace("number = 5", "number = 0"), "steps[0].number", "must be 1 or more"),
        (STEP.replace("https://example.dk/", "example.dk"), "steps[0].url", "not an http(s) URL"),
        ('[links]\nsite = "ftp://x"\n', "links.site", "not an http(s) URL"),
        ('[links]\nSite = "https://x.dk/"\n', "links.Site", "invalid key"),
        ("links = 3\n", "links", "expected a table, got an integer"),
        ('[[advice]]\nkey = "a"\ntitle = { da = "T", en = "T" }\n', "advice[0].text", "required"),
        (
            '[[traps]]\nkey = "t"\ntitle = { da = "", en = "T" }\ntext = { da = "T", en = "T" }\n',
            "traps[0].title.da",
            "empty",
        ),
        ('[[roles]]\nkey = "r"\ntitle = { da = "T", en = "T" }\n', "roles[0].responsibility", "required"),
        ("hacks = {}\n", "hacks", "expected a list, got a table"),
        ('[[hack]]\nkey = "h"\n', "hack", "unknown top-level key"),
        (
            'default_instrument = "nope"\n',
            "default_instrument",
            "unknown instrument 'nope' (known: tryghedsbarometer)",
        ),
        ('[[pillars]]\nkey = "ny"\nname = { da = "N", en = "N" }\n', "pillars[0].description", "required"),
        (TRACK.replace('"briefing"', '"kaffe"'), "tracks[0].sessions[0].key", "unknown session kind 'kaffe'"),
        # a per-session length is no longer content: the toolkit's length is said in the track's text
        (TRACK + "hours_min = 1.5\n", "tracks[0].sessions[0].hours_min", "unknown key"),
        (
            '[[traps]]\nkey = "t"\norigin = "book"\ntitle = { da = "T", en = "T" }\ntext = { da = "T", en = "T" }\n',
            "traps[0].origin",
            "unknown origin 'book' (known: toolkit, tryghed)",
        ),
        (SCALE_GROUPS, "scale.groups", "expected 2 group names for a 4-point scale, got 3"),
        (
            '[measures]\ntitle = { da = "T", en = "T" }\ntext = { da = "T", en = "T" }\nnames = []\n',
            "measures.names",
            "must not be empty",
        ),
        (
            '[about]\npurpose = { da = "P", en = "P" }\nown_texts = { da = "O", en = "O" }\norigin_toolkit = "x"\n',
            "about.origin_toolkit",
            "expected a table",
        ),
        ('[about]\npurpose = { da = "P", en = "P" }\n', "about.own_texts", "required key is missing"),
    ],
)
def test_other_errors(tmp_path, text, path, problem):
    message = load_error(tmp_path, text)
    assert re.match(rf"^\S+: {re.escape(path)}: ", message), message
    assert problem in message


def test_new_toolkit_pillar_is_inherited_only_by_instruments_without_pillars(tmp_path):
    pillar = '[[pillars]]\nkey = "ny"\nname = { da = "N", en = "N" }\ndescription = { da = "D", en = "D" }\n'
    write(tmp_path, "pillar.toml", pillar)
    content = load_content(tmp_path)
    assert tuple(p.key for p in content.instrument().pillars) == PILLAR_ORDER
    write(tmp_path, "zz_mini.toml", MINIMAL_INSTRUMENT)
    message = load_error(tmp_path, MINIMAL_INSTRUMENT, "zz_mini.toml")
    assert message == f"{tmp_path / 'zz_mini.toml'}: instrument.items: pillar 'ny' has no items"
