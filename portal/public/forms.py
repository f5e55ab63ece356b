"""The resident's form. Field rules live here; where-is-it and photos are checked in the view
with the domain's help because they need the geography and the photo store."""

from __future__ import annotations

import math

from flask_babel import gettext as _
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
from wtforms.fields.core import Label
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

from portal.domain import organisations
from portal.domain.geography import normalise_postcode
from portal.public.form_base import PortalForm, strip_text
from portal.vocabulary import KIND_LABELS, N_, THEME_LABELS, Kind, SubmitterKind, Theme

TITLE_MAX = 120
DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 5000


# "Meldt u als inwoner of namens een organisatie?" (the macro translates option labels and hints).
SUBMITTER_CHOICES = {
    SubmitterKind.RESIDENT: N_("Ik meld als inwoner"),
    SubmitterKind.ORGANISATION: N_("Ik meld namens een organisatie of bedrijf"),
}
SUBMITTER_HINTS = {
    SubmitterKind.ORGANISATION.value: N_(
        "Bijvoorbeeld een winkel, school, vereniging, stichting of woningcorporatie."
    ),
}
CONTACT_NAME_LABELS = {
    SubmitterKind.RESIDENT: _l("Naam"),
    SubmitterKind.ORGANISATION: _l("Naam van de contactpersoon"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ReportForm(PortalForm):
    submitter_hints = SUBMITTER_HINTS  # for the template's radio group

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
        filters=[strip_text],
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
        filters=[strip_text],
        validators=[
            Optional(),
            Length(max=TITLE_MAX, message=_l("De titel mag maximaal 120 tekens lang zijn.")),
        ],
    )
    # Options come from the database (names can be renamed); unknown codes are ignored later.
    wijk = StringField(_l("Wijk"), filters=[strip_text])
    buurt = StringField(_l("Buurt"), filters=[strip_text])
    street = StringField(
        _l("Straat"), filters=[strip_text], validators=[Optional(), Length(max=200)]
    )
    house_number = StringField(
        _l("Huisnummer"),
        filters=[strip_text],
        validators=[
            Optional(),
            Regexp(
                r"^\d{1,5}(?:\s?[a-zA-Z]{1,4})?(?:(?:\s|-)\s?[0-9a-zA-Z]{1,6})?$",
                message=_l("Vul een huisnummer in, bijvoorbeeld 12 of 12a."),
            ),
        ],
    )
    postcode = StringField(_l("Postcode"), filters=[strip_text], validators=[Optional()])
    lat = HiddenField()
    lon = HiddenField()
    photos = MultipleFileField(_l("Foto's (niet verplicht)"))
    # Absent (an older page, a script) counts as a resident: most reports come from residents.
    submitter = RadioField(
        _l("Meldt u als inwoner of namens een organisatie?"),
        choices=[SelectChoice(k.value, label) for k, label in SUBMITTER_CHOICES.items()],
        default=SubmitterKind.RESIDENT.value,
        validate_choice=False,
    )
    organisation_name = StringField(
        _l("Naam van de organisatie of het bedrijf"), filters=[strip_text]
    )
    kvk_number = StringField(_l("KvK-nummer (niet verplicht)"), filters=[strip_text])
    # For an organisation: its contact person (the label says so, see __init__).
    name = StringField(
        CONTACT_NAME_LABELS[SubmitterKind.RESIDENT],
        filters=[strip_text],
        validators=[Optional(), Length(max=200)],
    )
    email = StringField(
        _l("E-mailadres"),
        filters=[strip_text],
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
        filters=[strip_text],
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

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.name.label = Label(self.name.id, CONTACT_NAME_LABELS[self.submitter_kind()])

    def submitter_kind(self) -> SubmitterKind:
        """What the radio says; anything but 'organisation' counts as a resident."""
        if self.submitter.data == SubmitterKind.ORGANISATION.value:
            return SubmitterKind.ORGANISATION
        return SubmitterKind.RESIDENT

    def organisation(self) -> organisations.OrganisationCheck:
        """The organisation part, checked by the domain's rules (the same as staff intake)."""
        return organisations.check_organisation(
            self.submitter_kind() is SubmitterKind.ORGANISATION,
            self.organisation_name.data,
            self.kvk_number.data,
        )

    def _organisation_problem(self, *problems: organisations.Problem) -> None:
        found = [p for p in self.organisation().problems if p in problems]
        if found:
            message = organisations.PROBLEM_MESSAGES[found[0]]
            raise ValidationError(_(message, max=organisations.NAME_MAX))

    def validate_submitter(self, field: RadioField) -> None:
        self._organisation_problem(organisations.Problem.NOT_ON_BEHALF)

    def validate_organisation_name(self, field: StringField) -> None:
        self._organisation_problem(
            organisations.Problem.NAME_MISSING, organisations.Problem.NAME_TOO_LONG
        )

    def validate_kvk_number(self, field: StringField) -> None:
        self._organisation_problem(organisations.Problem.KVK_INVALID)

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
