"""The forms on the signal page: one small form per action, each with its own button.

Every form carries the signal's ``version`` as the user saw it, so that a save on top of a
colleague's change is refused instead of overwriting it. The field names are plain (status,
message, wijk ...); the HTML ids are unique on the page, because five forms share it. The
rules about the content (which moves are allowed, when a message is required, how long it
may be) live in the domain, so a form only checks what it alone can: the shape of the input.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput

from portal.domain.casework import FOLLOW_UP_REASON_MAX
from portal.domain.ids import parse_id
from portal.public.form_base import PortalForm, strip_text

DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")


class VersionedForm(PortalForm):
    # Text, not IntegerField: a missing or garbled version is no error the user can fix; the
    # view treats it as a stale form (nothing is saved on top of an unknown state).
    version = StringField(widget=HiddenInput(), filters=[strip_text])

    def seen_version(self) -> int | None:
        """The version the user saw, or None when the form did not say."""
        return parse_id(self.version.data)  # versions count from 1, as ids do


class StatusForm(VersionedForm):
    status = StringField(_l("Nieuwe status"), id="status-status", filters=[strip_text])
    standard_text = StringField(
        _l("Begin met een standaardtekst (niet verplicht)"), id="status-standard_text"
    )
    message = TextAreaField(_l("Bericht bij de nieuwe status"), id="status-message")


class ReplyForm(VersionedForm):
    standard_text = StringField(
        _l("Begin met een standaardtekst (niet verplicht)"), id="reply-standard_text"
    )
    message = TextAreaField(_l("Bericht aan de melder"), id="reply-message")


class NoteForm(VersionedForm):
    message = TextAreaField(_l("Interne notitie"), id="note-message")


class ReassignForm(VersionedForm):
    wijk = StringField(_l("Wijk"), id="reassign-wijk", filters=[strip_text])
    buurt = StringField(_l("Buurt"), id="reassign-buurt", filters=[strip_text])
    owner = StringField(_l("Eigenaar"), id="reassign-owner", filters=[strip_text])
    reason = TextAreaField(_l("Reden"), id="reassign-reason")

    def owner_id(self) -> int | None:
        return parse_id(self.owner.data)

    def validate_owner(self, field: StringField) -> None:
        if field.data and parse_id(field.data) is None:
            raise ValidationError(_l("Kies een eigenaar uit de lijst."))


class FollowUpForm(VersionedForm):
    follow_up_on = StringField(_l("Opvolgdatum"), id="follow_up_on", filters=[strip_text])
    follow_up_reason = StringField(
        _l("Waarom? (niet verplicht)"),
        id="follow_up_reason",
        filters=[strip_text],
        validators=[
            Length(
                max=FOLLOW_UP_REASON_MAX,
                message=_l(
                    "Schrijf de reden in hoogstens %(max)d tekens.", max=FOLLOW_UP_REASON_MAX
                ),
            )
        ],
    )

    def follow_up_date(self) -> date | None:
        """The chosen day, or None to clear it (only after ``validate``)."""
        return _parse_date(self.follow_up_on.data or "")

    def validate_follow_up_on(self, field: StringField) -> None:
        if field.data and _parse_date(field.data) is None:
            raise ValidationError(_l("Vul een datum in zoals 31-12-2026."))


def _parse_date(value: str) -> date | None:
    # <input type="date"> sends 2026-12-31; someone typing (no date picker) writes 31-12-2026.
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


class ReopenDecisionForm(VersionedForm):
    """The owner's answer to a resident who is not satisfied."""

    decision = RadioField(
        _l("Wat doet u met het verzoek?"),
        id="reopen-decision",
        choices=[
            SelectChoice("reopen", _l("Melding heropenen")),
            SelectChoice("keep_closed", _l("Melding gesloten laten")),
        ],
        validators=[InputRequired(_l("Kies of u de melding heropent of gesloten laat."))],
    )
    explanation = TextAreaField(_l("Uitleg aan de melder"), id="reopen-explanation")


class ReplyAddressForm(PortalForm):
    """Only the CSRF token: revoking needs no input."""
