"""The checks at the door (survey.domain.validation), and that teams and CSV imports use them."""

from __future__ import annotations

import pytest

from survey.domain.teams import parse_participants_csv
from survey.domain.validation import InvalidText, clean_email, clean_optional, clean_text
from survey.errors import UserError


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Team\r\nBcc: x@y.dk", "must be one line"),
        ("Team\u2028B", "must be one line"),
        ("Team\u2029B", "must be one line"),
        ("Team\x85B", "must be one line"),
        ("Team\x0bB", "must be one line"),
        ("An\x00na", "control character (U+0000"),
        ("Esc\x1b[31m", "control character (U+001B"),
        ("Tab\there", "control character (U+0009"),
        ("Abc\u202edcba", "text-direction character (U+202E RIGHT-TO-LEFT OVERRIDE)"),
        ("Abc\u2067x\u2069", "text-direction character (U+2067"),
        ("bad\udcffbyte", "not text (U+DCFF"),
        ("   ", "must not be empty"),
        ("x" * 201, "201 characters long; at most 200"),
    ],
)
def test_single_line_text_refuses_what_cannot_be_stored(value: str, problem: str) -> None:
    with pytest.raises(InvalidText) as caught:
        clean_text(value, "team name")
    assert caught.value.message.startswith("team name: ") and problem in caught.value.message
    assert isinstance(caught.value, UserError) and caught.value.details == {"field": "team name"}


def test_ordinary_names_pass_and_are_trimmed() -> None:
    for name in ("Team Æblegården", "Søren O'Brien-Østergaard", "محمد", "שרה", "Zoë 🙂", "x" * 200):
        assert clean_text(f"  {name} ", "name") == name
    assert clean_optional("   ", "name") is None and clean_optional(None, "name") is None


def test_multiline_free_text_keeps_line_breaks_only() -> None:
    assert clean_text("a\r\nb\rc\n\td", "--what", multiline=True) == "a\nb\nc\n\td"
    for bad in ("a\u2028b", "a\x00b", "a\u202eb"):
        with pytest.raises(InvalidText):
            clean_text(bad, "--what", multiline=True)


@pytest.mark.parametrize(
    "bad",
    [
        "nope",
        "a@b",
        "a b@example.org",
        "a@example.org\r\nBcc: x@y.dk",
        "a@exam\u2028ple.org",
        "Lis <lis@example.org>",
        "a,b@example.org",
        "a..b@example.org",
        ("x" * 65) + "@example.org",
        "a@" + "b" * 250 + ".dk",
        "a\u202e@example.org",
    ],
)
def test_email_syntax(bad: str) -> None:
    with pytest.raises(InvalidText) as caught:
        clean_email(bad, "leader email")
    assert caught.value.message.startswith("leader email: ")


def test_email_is_lower_cased() -> None:
    assert clean_email(" Lis.Leder+tryghed@Example.ORG ") == "lis.leder+tryghed@example.org"


def test_csv_rows_are_checked_with_their_line_numbers() -> None:
    text = 'email,name\nok@example.org,Ok\nb@example.org,Bo\u202eb\nc@example.org,"Two\nlines"\nd@example.org,D\x07\n'
    with pytest.raises(UserError) as caught:
        parse_participants_csv(text)
    errors = caught.value.details["errors"]
    assert [e["line"] for e in errors] == [3, 5, 6]
    assert all(e["error"].startswith("name: ") for e in errors)
