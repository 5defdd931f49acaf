"""The web app's forms (Flask-WTF: every form carries a CSRF token). Labels are gettext texts, translated
when the page is rendered."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from survey.domain.passwords import WeakPassword
from survey.domain.teams import check_email
from survey.domain.validation import InvalidText, clean_text
from survey.errors import UserError
from survey.web.form_texts import FORM_TEXTS, FormTexts

Pairs = list[tuple[str, str]]


def options(pairs: Pairs) -> list[SelectChoice]:
    """WTForms 3.3+ wants ``SelectChoice`` objects; the pairs stay handy for lookups in templates."""
    return [SelectChoice(value, label) for value, label in pairs]


def lang_choices() -> Pairs:
    return [("da", "Dansk"), ("en", "English")]


def status_choices() -> Pairs:
    return [
        ("planned", str(_l("Planned"))),
        ("ongoing", str(_l("Ongoing"))),
        ("done", str(_l("Done"))),
        ("dropped", str(_l("Dropped"))),
    ]


def track_choices() -> Pairs:
    return [("selfguided", str(_l("Self-guided"))), ("facilitated", str(_l("Facilitated")))]


def role_choices() -> Pairs:
    return [("facilitator", str(_l("Facilitator"))), ("leader", str(_l("Leader"))), ("admin", str(_l("Administrator")))]


def level_choices() -> Pairs:
    return [
        ("individ", str(_l("Individual"))),
        ("gruppe", str(_l("Group"))),
        ("ledelse", str(_l("Leadership"))),
        ("organisation", str(_l("Organisation"))),
    ]


def request_choices() -> Pairs:
    return [
        ("premeeting", str(_l("Pre-meeting with the leader"))),
        ("briefing", str(_l("Briefing of the staff"))),
        ("measurement", str(_l("The screening (the survey round)"))),
        ("debriefing", str(_l("The debriefing"))),
        ("sparring", str(_l("Sparring on the work"))),
        ("followup", str(_l("A follow-up process"))),
    ]


ONE_LINE = _l("Write this on one line, without control characters or invisible text-direction characters")
PLAIN_TEXT = _l("Remove the control characters or invisible text-direction characters from this text")


class CheckedForm(FlaskForm):
    """A form whose every text field passes the domain's input check (``survey.domain.validation``)
    before anything reaches a database: NUL, control and bidi characters are refused at the field, the
    same on SQLite and PostgreSQL, and the value is trimmed as the domain would store it.

    WTForms' own messages come from Tryghed's catalogs in the page's language (``form_texts``)."""

    class Meta:
        def get_translations(self, form: Any) -> FormTexts:
            return FORM_TEXTS

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if not isinstance(field, StringField) or isinstance(field, PasswordField) or not field.data:
                continue
            multiline = isinstance(field, TextAreaField)
            try:
                field.data = clean_text(field.data, field.name, max_len=10**6, multiline=multiline, required=False)
            except InvalidText as exc:
                field.errors = [*field.errors, PLAIN_TEXT if multiline or "line" not in exc.problem else ONE_LINE]
                valid = False
        return valid


class Prefixed(CheckedForm):
    """A form that shares its page with others: a prefix keeps field names and ids apart."""

    PREFIX = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.PREFIX)
        super().__init__(*args, **kwargs)


REQUIRED = _l("Fill in this field")
BAD_EMAIL = _l("Write a valid email address")


class Email:
    """The same email rule as the domain (``survey.domain.teams.check_email``), without an extra dependency."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: Any) -> None:
        try:
            check_email(field.data or "")
        except UserError as exc:
            raise ValidationError(self.message) from exc


class LoginForm(CheckedForm):
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Email(BAD_EMAIL)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])


# Why a new password was refused (survey.domain.passwords reasons) and how to choose a better one.
PASSWORD_ADVICE = {
    "too_short": _l(
        "Use at least 12 characters. A few unrelated words make a password that is long and easy to remember."
    ),
    "too_long": _l("Use at most 1024 characters."),
    "common": _l(
        "This password is on a list of common and leaked passwords that attackers try first. Choose something "
        "nobody else would, for example a few unrelated words."
    ),
    "personal": _l(
        "The password is mostly your email address, your name or the name of this product, which anyone can "
        "guess. Leave them out."
    ),
    "pattern": _l(
        "The password is a repetition or a sequence (like aaaa, abcabc, 1234 or qwerty) that is guessed at "
        "once. Use a few unrelated words instead."
    ),
}
PASSWORD_HINT = _l("At least 12 characters. No special characters needed: a few unrelated words are best.")


def password_advice(exc: WeakPassword) -> str:
    return str(PASSWORD_ADVICE[exc.reason])


class PasswordForm(CheckedForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])
    new = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED), Length(max=1024)])


class LanguageForm(Prefixed):
    PREFIX = "ui"
    lang = SelectField(_l("Language"), choices=lambda: options(lang_choices()))


class UserForm(CheckedForm):
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Email(BAD_EMAIL)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=lambda: options(role_choices()))
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=1024)])


class RoleForm(CheckedForm):
    role = SelectField(_l("Role"), choices=lambda: options(role_choices()))


class TeamForm(CheckedForm):
    name = StringField(_l("Team name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    leader_email = EmailField(_l("Leader's email"), validators=[DataRequired(REQUIRED), Email(BAD_EMAIL)])
    leader_name = StringField(_l("Leader's name"), validators=[Optional(), Length(max=200)])
    lang = SelectField(_l("Language"), choices=lambda: options(lang_choices()))
    track = SelectField(_l("Track"), choices=lambda: options(track_choices()))


class SettingsForm(Prefixed):
    PREFIX = "settings"
    lang = SelectField(_l("Language"), choices=lambda: options(lang_choices()))
    track = SelectField(_l("Track"), choices=lambda: options(track_choices()))
    instrument = SelectField(_l("Instrument"), choices=[])
    trio_emails = StringField(
        _l("TRIO notice to (TR and AMR emails, separated by commas)"), validators=[Optional(), Length(max=2000)]
    )


class UploadForm(Prefixed):
    PREFIX = "csv"
    file = FileField(_l("CSV file (email,name[,lang])"), validators=[FileRequired(_l("Choose a file"))])


class ParticipantForm(Prefixed):
    PREFIX = "person"
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Email(BAD_EMAIL)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    lang = SelectField(_l("Language"), choices=lambda: options(lang_choices()))


class EmptyForm(CheckedForm):
    """A button that changes something: only the CSRF token."""


class PaperEntryForm(CheckedForm):
    """The spare card whose code a typed-in paper form uses up; the statements' answers are checked by the
    barometer form's own rule (``survey.web.barometer_form.valid_answers``)."""

    code = StringField(_l("The code of a spare answer card"), validators=[DataRequired(REQUIRED), Length(max=40)])


class RoundForm(Prefixed):
    PREFIX = "round"
    opens = DateTimeLocalField(_l("Opens (Copenhagen time; empty: open by hand)"), validators=[Optional()])
    closes = DateTimeLocalField(_l("Closes (Copenhagen time)"), validators=[Optional()])
    min_responses = IntegerField(
        _l("Minimum answers before figures are shown"),
        validators=[Optional(), NumberRange(min=3, max=1000, message=_l("At least 3"))],
    )
    channel = SelectField(_l("How people answer"), choices=lambda: options(channel_choices()), default="email")
    cards = IntegerField(
        _l("Number of answer cards"),
        validators=[Optional(), NumberRange(min=1, max=400, message=_l("Between 1 and 400 cards"))],
    )

    def validate_cards(self, field: IntegerField) -> None:
        if field.data is not None and self.channel.data != "cards":
            raise ValidationError(_l("A number of cards goes with answer cards; choose them above or leave it empty"))


def channel_choices() -> Pairs:
    return [
        ("email", str(_l("A personal link by email"))),
        ("cards", str(_l("Answer cards handed out in a meeting (tied to no person)"))),
    ]


class FollowupForm(Prefixed):
    PREFIX = "followup"
    after_days = IntegerField(
        _l("Open the follow-up after (days)"),
        validators=[InputRequired(REQUIRED), NumberRange(min=1, max=730, message=_l("Between 1 and 730 days"))],
        default=90,
    )
    duration_days = IntegerField(
        _l("Keep it open for (days)"),
        validators=[InputRequired(REQUIRED), NumberRange(min=1, max=60, message=_l("Between 1 and 60 days"))],
        default=14,
    )


class FocusForm(Prefixed):
    PREFIX = "focus"
    pillar = SelectField(_l("The focus the team chose"), choices=[])


class ActionForm(Prefixed):
    """One IGLO action; ``hack.choices`` are set by the view (the hacks of the round's instrument)."""

    PREFIX = "action"
    level = SelectField(_l("Level"), choices=lambda: options(level_choices()))
    what = TextAreaField(_l("What will be done"), validators=[DataRequired(REQUIRED), Length(max=2000)])
    who = StringField(_l("Who does it"), validators=[DataRequired(REQUIRED), Length(max=200)])
    due = DateField(_l("Due date"), validators=[Optional()])
    owner_email = EmailField(
        _l("Owner's email for reminders (optional)"), validators=[Optional(), Email(BAD_EMAIL), Length(max=254)]
    )
    hack = SelectField(_l("The hack it puts into practice (optional)"), choices=[], validate_choice=True)
    status = SelectField(_l("Status"), choices=lambda: options(status_choices()), default="planned")


class ActionStatusForm(CheckedForm):
    status = SelectField(
        _l("Status"),
        choices=lambda: options(status_choices()),
    )


class RequestForm(Prefixed):
    PREFIX = "request"
    kind = SelectField(_l("What do you need a facilitator for?"), choices=lambda: options(request_choices()))
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])


class PlanForm(CheckedForm):
    when = DateTimeLocalField(_l("Date and time (Copenhagen time)"), validators=[InputRequired(REQUIRED)])
    # the toolkit's sessions last 1.5-4 hours each, as needed: the facilitator sets the end, Tryghed invents none
    ends = TimeField(_l("Ends at (optional, same day)"), validators=[Optional()])
    place = StringField(_l("Place"), validators=[DataRequired(REQUIRED), Length(max=200)])
    bring = TextAreaField(_l("What to bring"), validators=[Optional(), Length(max=2000)])
