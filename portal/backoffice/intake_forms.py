"""The forms staff use to register a signal themselves (by phone, mail, at the counter, from
social media, on a schouw) and to run a schouw.

What the resident's form checks is checked here the same way: those fields are made from
the resident's form's own definitions (``_as_on_the_public_form``), so a rule changed there
holds here too. Only the questions differ: staff say how it came in and who brought it."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.domain import organisations
from portal.domain.dossiers.dossiers import TITLE_MAX as DOSSIER_TITLE_MAX
from portal.public.form_base import PortalForm, strip_text
from portal.public.forms import ReportForm
from portal.vocabulary import (
    CHANNEL_LABELS,
    KIND_NAMES,
    STAFF_CHANNELS,
    SUBMITTER_KIND_LABELS,
    Kind,
    SubmitterKind,
)

# The languages the portal mails in (config LANGUAGES), by their own names.
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


def _as_on_the_public_form(name: str, label: str | None = None, **changes: object) -> Field:
    """A new field with the class, filters and validators of the resident's form's field
    ``name``, in this form's order; ``label`` (and ``changes``) as staff read it."""
    unbound = getattr(ReportForm, name)
    args = tuple(unbound.args)
    if label is not None:
        args = (label, *args[1:])
    return unbound.field_class(*args, **{**unbound.kwargs, **changes})


def _kind_field(default: str | None = None) -> RadioField:
    return RadioField(
        _l("Soort melding"),
        choices=[SelectChoice(k.value, KIND_NAMES[k]) for k in Kind],
        default=default,
        validators=[InputRequired(_l("Kies of het een knelpunt of een initiatief is."))],
    )


def _language_field() -> SelectField:
    """The language of the resident's mail (and status page), named in itself."""
    return SelectField(
        _l("Taal voor e-mail aan de melder"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        default="nl",
        # A page from before the list existed sends none: Dutch, as it was then.
        filters=[lambda value: value or "nl"],
        validators=[DataRequired(_l("Kies een taal uit de lijst."))],
    )


class StaffIntakeForm(PortalForm):
    channel = RadioField(
        _l("Hoe kwam de melding binnen?"),
        choices=[SelectChoice(c.value, CHANNEL_LABELS[c]) for c in STAFF_CHANNELS],
        validators=[InputRequired(_l("Kies hoe de melding binnenkwam."))],
    )
    kind = _kind_field()
    themes = _as_on_the_public_form("themes")
    description = _as_on_the_public_form("description")
    title = _as_on_the_public_form("title")
    wijk = _as_on_the_public_form("wijk")
    buurt = _as_on_the_public_form("buurt")
    street = _as_on_the_public_form("street")
    house_number = _as_on_the_public_form("house_number")
    postcode = _as_on_the_public_form("postcode")
    lat = _as_on_the_public_form("lat")
    lon = _as_on_the_public_form("lon")
    photos = _as_on_the_public_form("photos")
    submitter_kind = RadioField(
        _l("Wie doet de melding?"),
        choices=[SelectChoice(k.value, SUBMITTER_KIND_LABELS[k]) for k in SubmitterKind],
        default=SubmitterKind.RESIDENT.value,
        validators=[InputRequired(_l("Kies of een inwoner of een organisatie dit meldt."))],
    )
    organisation_name = StringField(
        _l("Naam van de organisatie of het bedrijf"), filters=[strip_text]
    )
    kvk_number = StringField(_l("KvK-nummer (niet verplicht)"), filters=[strip_text])
    name = _as_on_the_public_form("name", _l("Naam"))
    email = _as_on_the_public_form("email")
    phone = _as_on_the_public_form("phone")
    language = _language_field()
    may_contact = BooleanField(
        _l("De melder vindt het goed dat we contact opnemen over deze melding.")
    )
    may_share_with_partners = BooleanField(
        _l(
            "De melder vindt het goed dat we de gegevens delen met partners (politie, Versa "
            "Welzijn, woningcorporatie) als dat helpt om de melding op te lossen."
        )
    )
    submission_key = HiddenField()

    # The resident's form's own checks, word for word.
    validate_postcode = ReportForm.validate_postcode
    pin = ReportForm.pin

    @property
    def is_organisation(self) -> bool:
        return self.submitter_kind.data == SubmitterKind.ORGANISATION.value

    def organisation(self) -> organisations.OrganisationCheck:
        """The organisation part, by the same rules as the public form's."""
        return organisations.check_organisation(
            self.is_organisation, self.organisation_name.data, self.kvk_number.data
        )

    def _organisation_problem(self, *problems: organisations.Problem) -> None:
        found = [p for p in self.organisation().problems if p in problems]
        if not found:
            return
        if found[0] is organisations.Problem.NOT_ON_BEHALF:
            # The public form's words name its own choice ("Ik meld namens …"); these ours.
            raise ValidationError(
                _(
                    "U vulde een organisatie of bedrijf in. Kies 'Organisatie of bedrijf', "
                    "of maak de naam en het KvK-nummer leeg."
                )
            )
        raise ValidationError(
            _(organisations.PROBLEM_MESSAGES[found[0]], max=organisations.NAME_MAX)
        )

    def validate_submitter_kind(self, field: RadioField) -> None:
        self._organisation_problem(organisations.Problem.NOT_ON_BEHALF)

    def validate_organisation_name(self, field: StringField) -> None:
        self._organisation_problem(
            organisations.Problem.NAME_MISSING, organisations.Problem.NAME_TOO_LONG
        )

    def validate_kvk_number(self, field: StringField) -> None:
        self._organisation_problem(organisations.Problem.KVK_INVALID)


class SchouwStartForm(PortalForm):
    buurt = StringField(
        _l("In welke buurt is de schouw?"),
        id="schouw-buurt",
        filters=[strip_text],
        validators=[InputRequired(_l("Kies de buurt van de schouw."))],
    )
    in_dossier = BooleanField(_l("Zet alle meldingen van deze schouw in één nieuw dossier"))
    dossier_title = StringField(
        _l("Titel van het dossier"),
        filters=[strip_text],
        validators=[
            Optional(),
            Length(
                max=DOSSIER_TITLE_MAX,
                message=_l("Gebruik hoogstens %(max)d tekens.", max=DOSSIER_TITLE_MAX),
            ),
        ],
    )

    def validate_dossier_title(self, field: StringField) -> None:
        if self.in_dossier.data and not field.data:
            raise ValidationError(_l("Geef het dossier een titel, of zet het vinkje uit."))


class SchouwEntryForm(PortalForm):
    """One signal of the schouw: few questions, the buurt already chosen, the form empty again
    for the next one."""

    schouw = HiddenField()
    # What a walk-through mostly finds; an initiative is one tap away.
    kind = _kind_field(default=Kind.KNELPUNT.value)
    themes = _as_on_the_public_form("themes")
    description = _as_on_the_public_form("description", _l("Wat is er aan de hand?"))
    buurt = _as_on_the_public_form("buurt")
    street = _as_on_the_public_form("street", _l("Straat (niet verplicht)"))
    lat = _as_on_the_public_form("lat")
    lon = _as_on_the_public_form("lon")
    photos = _as_on_the_public_form("photos", _l("Foto (niet verplicht)"))
    email = _as_on_the_public_form("email", _l("E-mailadres van de bewoner (niet verplicht)"))
    language = _language_field()
    submission_key = HiddenField()

    pin = ReportForm.pin

    def validate_buurt(self, field: StringField) -> None:
        if not field.data and self.pin() is None:
            raise ValidationError(_l("Kies de buurt, of gebruik uw locatie."))
