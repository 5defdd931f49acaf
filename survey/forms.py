"""The barometer form, built from the instrument: one radio group per statement, values on the scale."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

from survey.content import Instrument
from survey.i18n import t


class ScaleField(RadioField):
    """A radio group that accepts exactly one of the scale's values, written as the browser writes them.

    WTForms' ``coerce=int`` would take " 3", "+3", "00003" and any Unicode digit ("٣", "３", "𝟑"); here the
    raw value must equal one of the choices' ASCII strings ("1" … "5"), sent once. Errors are in the
    participant's language (WTForms' own "Not a valid choice." is English).
    """

    def __init__(self, *args: Any, values: list[int], lang: str = "da", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lang = lang
        self.allowed = {str(value): value for value in values}

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        if not valuelist or valuelist == [""]:
            return  # nothing chosen: InputRequired says so
        if len(valuelist) > 1:
            raise ValueError(t("one_answer", self.lang))
        raw = valuelist[0]
        if not isinstance(raw, str) or raw not in self.allowed:
            raise ValueError(t("out_of_range", self.lang))
        self.data = self.allowed[raw]

    def pre_validate(self, form: Any) -> None:
        """Checked in ``process_formdata`` already."""


@lru_cache(maxsize=64)  # built once per (instrument, language): the class is the same for every request
def barometer_form_class(instrument: Instrument, lang: str) -> type[FlaskForm]:
    """A FlaskForm subclass with a required radio field per item (name = item key)."""
    scale = scale_choices(instrument, lang)
    choices = [SelectChoice(value, label) for value, label in scale]
    fields = {
        item.key: ScaleField(
            item.text.get(lang),
            choices=choices,
            coerce=int,
            validators=[InputRequired(message=t("required", lang))],
            values=[value for value, _label in scale],
            lang=lang,
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
