"""The barometer form, built from the instrument: one radio group per statement, values on the scale."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import InputRequired

from survey.content import Instrument
from survey.locales import translate


class ScaleField(Field):
    """A radio group that accepts exactly one of the scale's values, written as the browser writes them.

    A plain ``Field``, not WTForms' ``RadioField``: the template writes the radio buttons itself, and the
    check is here, so the choice machinery was only cost (a form is built on every POST; with 16 statements
    ``RadioField`` doubled the time it takes, docs/benchmarks.md).

    WTForms' ``coerce=int`` would take " 3", "+3", "00003" and any Unicode digit ("٣", "３", "𝟑"); here the
    raw value must equal one of the choices' ASCII strings ("1" … "5"), sent once. Errors are in the
    participant's language (WTForms' own "Not a valid choice." is English).
    """

    def __init__(self, *args: Any, values: list[int], lang: str = "da", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lang = lang
        self.allowed = {str(value): value for value in values}

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = scale_value(valuelist, self.allowed, self.lang)


def scale_value(valuelist: list[Any], allowed: dict[str, int], lang: str) -> int | None:
    """The answer a radio group sent: None when nothing was chosen; ValueError (the participant's
    language) for more than one value or one that is not exactly one of ``allowed``'s strings."""
    if not valuelist or valuelist == [""]:
        return None  # nothing chosen: InputRequired says so
    if len(valuelist) > 1:
        raise ValueError(translate(lang, "Choose only one answer"))
    raw = valuelist[0]
    if not isinstance(raw, str) or raw not in allowed:
        raise ValueError(translate(lang, "Choose one of the answers on the scale"))
    return allowed[raw]


def valid_answers(formdata: Any, instrument: Instrument, lang: str) -> dict[str, int] | None:
    """The answers when every statement has a valid one (what the form would accept), else None.

    The same rule as ``ScaleField`` + ``InputRequired`` (``scale_value``), without building a form: the
    respondent's POST checks this first and builds the form (for its error messages) only when it fails.
    A value is required: a field that validates has a non-empty raw value, which ``scale_value`` maps to
    a scale point or refuses.
    """
    allowed = {str(value): value for value, _label in scale_choices(instrument, lang)}
    answers = {}
    for item in instrument.items:
        try:
            value = scale_value(formdata.getlist(item.key), allowed, lang)
        except ValueError:
            return None
        if value is None:
            return None
        answers[item.key] = value
    return answers


@lru_cache(maxsize=64)  # built once per (instrument, language): the class is the same for every request
def barometer_form_class(instrument: Instrument, lang: str) -> type[FlaskForm]:
    """A FlaskForm subclass with a required radio field per item (name = item key), without a CSRF field:
    the personal link is the secret, and the respondent's pages keep no session (docs/privacy.md)."""
    scale = scale_choices(instrument, lang)
    fields = {
        item.key: ScaleField(
            item.text.get(lang),
            validators=[InputRequired(message=translate(lang, "Please choose an answer"))],
            values=[value for value, _label in scale],
            lang=lang,
        )
        for item in instrument.items
    }
    return type("BarometerForm", (FlaskForm,), {**fields, "Meta": type("Meta", (), {"csrf": False})})


def scale_choices(instrument: Instrument, lang: str) -> list[tuple[int, str]]:
    """(value, label) for each point of the answer scale, low to high."""
    values = range(instrument.scale_min, instrument.scale_max + 1)
    return [(value, label.get(lang)) for value, label in zip(values, instrument.scale_labels, strict=True)]
