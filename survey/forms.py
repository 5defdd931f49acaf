"""The barometer form, built from the instrument: one radio group per statement, values on the scale."""

from __future__ import annotations

from functools import lru_cache

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

from survey.content import Instrument
from survey.i18n import t


@lru_cache(maxsize=64)  # built once per (instrument, language): the class is the same for every request
def barometer_form_class(instrument: Instrument, lang: str) -> type[FlaskForm]:
    """A FlaskForm subclass with a required radio field per item (name = item key)."""
    choices = [SelectChoice(value, label) for value, label in scale_choices(instrument, lang)]
    fields = {
        item.key: RadioField(
            item.text.get(lang),
            choices=choices,
            coerce=int,
            validators=[InputRequired(message=t("required", lang))],
        )
        for item in instrument.items
    }
    return type("BarometerForm", (FlaskForm,), fields)


def scale_choices(instrument: Instrument, lang: str) -> list[tuple[int, str]]:
    """(value, label) for each point of the answer scale, low to high."""
    values = range(instrument.scale_min, instrument.scale_max + 1)
    return [(value, label.get(lang)) for value, label in zip(values, instrument.scale_labels, strict=True)]


def answers_of(form: FlaskForm, instrument: Instrument) -> dict[str, int]:
    return {item.key: int(form[item.key].data) for item in instrument.items}
