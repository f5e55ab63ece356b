"""The resident's form. Field rules live here; where-is-it and photos are checked in the view
with the domain's help because they need the geography and the photo store."""

from __future__ import annotations

import math

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.domain.geography import normalise_postcode
from portal.public.form_base import PortalForm
from portal.vocabulary import KIND_LABELS, THEME_LABELS, Kind, Theme

TITLE_MAX = 120
DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 5000


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ReportForm(PortalForm):
    kind = RadioField(
        _l("Wat wilt u doorgeven?"),
        choices=[SelectChoice(k.value, KIND_LABELS[k]) for k in Kind],
        validators=[InputRequired(_l("Kies wat u wilt doorgeven: een probleem of een idee."))],
    )
    themes = MultiCheckboxField(
        _l("Waar gaat het over?"),
        choices=[SelectChoice(t.value, THEME_LABELS[t]) for t in Theme],
        validators=[DataRequired(_l("Kies minstens één onderwerp."))],
    )
    description = TextAreaField(
        _l("Beschrijving"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Beschrijf wat er aan de hand is.")),
            Length(
                min=DESCRIPTION_MIN,
                max=DESCRIPTION_MAX,
                message=_l("De beschrijving moet tussen 10 en 5000 tekens lang zijn."),
            ),
        ],
    )
    title = StringField(
        _l("Korte titel (niet verplicht)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=TITLE_MAX, message=_l("De titel mag maximaal 120 tekens lang zijn.")),
        ],
    )
    # Options come from the database (names can be renamed); unknown codes are ignored later.
    wijk = StringField(_l("Wijk"), filters=[_strip])
    buurt = StringField(_l("Buurt"), filters=[_strip])
    street = StringField(_l("Straat"), filters=[_strip], validators=[Optional(), Length(max=200)])
    house_number = StringField(
        _l("Huisnummer"),
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(
                r"^\d{1,5}(?:\s?[a-zA-Z]{1,4})?(?:(?:\s|-)\s?[0-9a-zA-Z]{1,6})?$",
                message=_l("Vul een huisnummer in, bijvoorbeeld 12 of 12a."),
            ),
        ],
    )
    postcode = StringField(_l("Postcode"), filters=[_strip], validators=[Optional()])
    lat = HiddenField()
    lon = HiddenField()
    photos = MultipleFileField(_l("Foto's (niet verplicht)"))
    name = StringField(_l("Naam"), filters=[_strip], validators=[Optional(), Length(max=200)])
    email = StringField(
        _l("E-mailadres"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=320),
            Email(
                message=_l("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl."),
                check_deliverability=False,
            ),
        ],
    )
    phone = StringField(
        _l("Telefoonnummer"),
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(
                r"^\+?[\d\s()\-]{6,20}$",
                message=_l("Vul een geldig telefoonnummer in, bijvoorbeeld 035 123 45 67."),
            ),
        ],
    )
    may_contact = BooleanField(_l("U mag contact met mij opnemen over deze melding."))
    may_share_with_partners = BooleanField(
        _l(
            "U mag mijn gegevens delen met partners (politie, Versa Welzijn, "
            "woningcorporatie) als dat helpt om mijn melding op te lossen."
        )
    )
    public_display = BooleanField(
        _l(
            "Ons initiatief mag op de wijkpagina staan, zodat buurtbewoners het kunnen zien "
            "en kunnen meedoen."
        )
    )
    # Honeypot: hidden from people, filled in by bots.
    website = StringField(_l("Laat dit veld leeg"))
    submission_key = HiddenField()

    def validate_postcode(self, field: StringField) -> None:
        if field.data:
            normalised = normalise_postcode(field.data)
            if normalised is None:
                raise ValidationError(_l("Vul een geldige postcode in, bijvoorbeeld 1216 AB."))
            field.data = normalised

    def pin(self) -> tuple[float, float] | None:
        """The map pin, if both halves are real numbers; anything else counts as no pin."""
        try:
            lon, lat = float(self.lon.data), float(self.lat.data)
        except (TypeError, ValueError):
            return None
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return None
        return lon, lat
