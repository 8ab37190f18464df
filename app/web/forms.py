"""The HTML forms (Flask-WTF: every POST carries a CSRF token bound to the session)."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError


class WaiverForm(FlaskForm):
    check_id = SelectField("Check", validators=[DataRequired()])
    expires = DateField("Expires on", validators=[DataRequired(message="Choose the day the waiver ends.")])
    reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired(message="Say why the check is waived."),
            Length(min=10, max=2000, message="Give a reason of 10 to 2000 characters."),
        ],
    )
    today: date | None = None  # the portal's clock; set by the page before validating

    def validate_expires(self, field: DateField) -> None:
        today = self.today or date.today()
        if field.data and field.data <= today:
            raise ValidationError("The expiry must be after today.")


class AttestationForm(FlaskForm):
    check_id = SelectField("Manual check", validators=[DataRequired()])
    answer = RadioField(
        "Answer",
        choices=[SelectChoice("yes", "Yes, done"), SelectChoice("no", "No, not done")],
        validators=[InputRequired(message="Answer yes or no.")],
    )
    evidence_url = URLField(
        "Evidence link",
        validators=[Optional(), URL(require_tld=False, message="Give an http(s) link."), Length(max=2048)],
    )
    valid_days = IntegerField("Valid for (days)", validators=[Optional(), NumberRange(min=1, max=730)])

    def validate_evidence_url(self, field: URLField) -> None:
        if field.data and not field.data.lower().startswith(("http://", "https://")):
            raise ValidationError("Give an http(s) link.")


class SignOffForm(FlaskForm):
    decision = RadioField(
        "Decision",
        choices=[SelectChoice("go", "Go"), SelectChoice("no-go", "No-go")],
        validators=[InputRequired(message="Choose go or no-go.")],
    )
    notes = TextAreaField("Notes", validators=[Length(max=5000)])
    # The status version the page showed (a changed verdict refuses the decision) and a key that
    # makes a resent form record nothing twice.
    status_version = HiddenField(
        validators=[InputRequired()], filters=[lambda v: int(v) if str(v or "").isdigit() else v]
    )
    idempotency_key = HiddenField(validators=[InputRequired(), Length(min=8, max=64)])

    def validate_status_version(self, field: HiddenField) -> None:
        if not isinstance(field.data, int):
            raise ValidationError("The form lost the verdict it was made on; reload the page.")


class SignInForm(FlaskForm):
    token = PasswordField("API token", validators=[DataRequired(message="Paste your API token.")])
    next = HiddenField()
