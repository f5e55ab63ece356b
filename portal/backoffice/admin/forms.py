"""The admin screens' forms. Field rules live here; rules that need the database (a unique
e-mail address, who may own a wijk, known placeholders) are the domain's, and the view puts
its errors next to the right field."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.domain.routing_admin import NAME_MAX as PLACE_NAME_MAX
from portal.domain.standard_texts import BODY_MAX, TITLE_MAX
from portal.domain.users import EMAIL_MAX, NAME_MAX
from portal.models import Role
from portal.public.form_base import PortalForm, strip_text
from portal.vocabulary import KIND_NAMES, N_, STATUS_LABELS

ROLE_LABELS = {
    Role.ACCOUNTMANAGER: N_("Accountmanager"),
    Role.ADMIN: N_("Beheerder"),
    Role.MANAGEMENT: N_("Management"),
}
ROLE_HINTS = {
    Role.ACCOUNTMANAGER: N_("Behandelt signalen, vooral die van de eigen wijken."),
    Role.ADMIN: N_("Behandelt signalen en beheert gebruikers, routering, teksten en wijken."),
    Role.MANAGEMENT: N_("Kan alles lezen, maar niets wijzigen."),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: object) -> None:
        # Unknown codes are the domain's to report (with the codes it did not know).
        pass


def _name_field() -> StringField:
    return StringField(
        _l("Naam"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Vul de naam in.")),
            Length(max=NAME_MAX, message=_l("De naam mag hoogstens %(max)d tekens hebben.")),
        ],
    )


def _email_field() -> StringField:
    return StringField(
        _l("E-mailadres"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Vul het e-mailadres in.")),
            Length(max=EMAIL_MAX, message=_l("Het e-mailadres is te lang.")),
            Email(
                message=_l("Vul een geldig e-mailadres in, bijvoorbeeld naam@hilversum.nl."),
                check_deliverability=False,
            ),
        ],
    )


def _role_field() -> RadioField:
    return RadioField(
        _l("Rol"),
        choices=[SelectChoice(role.value, ROLE_LABELS[role]) for role in ROLE_LABELS],
        validators=[InputRequired(_l("Kies een rol."))],
    )


def _wijken_field() -> MultiCheckboxField:
    return MultiCheckboxField(_l("Wijken"), choices=[], validators=[Optional()])


class NewUserForm(PortalForm):
    name = _name_field()
    email = _email_field()
    role = _role_field()
    wijken = _wijken_field()


class EditUserForm(PortalForm):
    name = _name_field()
    email = _email_field()
    role = _role_field()
    wijken = _wijken_field()
    active = BooleanField(_l("Actief: deze persoon kan inloggen"))


def set_wijk_choices(field: Field, wijken: Sequence[tuple[str, str]]) -> None:
    field.choices = [SelectChoice(code, name) for code, name in wijken]  # type: ignore[attr-defined]


def routing_field_name(scope: str) -> str:
    return f"owner_{scope}"


def make_routing_form(
    scopes: Sequence[tuple[str, str, Sequence[tuple[str, str]]]],
) -> PortalForm:
    """The routing page is one form with a select per scope: (scope, label, choices), the
    choices as (user id, name) with "" for "no rule". Values are parsed by the view."""

    class RoutingForm(PortalForm):
        pass

    for scope, label, choices in scopes:
        options = [SelectChoice(value, text) for value, text in choices]
        field = SelectField(label, choices=options, validate_choice=False)
        setattr(RoutingForm, routing_field_name(scope), field)
    return RoutingForm()


class StandardTextForm(PortalForm):
    title = StringField(
        _l("Titel"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Vul een titel in.")),
            Length(max=TITLE_MAX, message=_l("De titel mag hoogstens %(max)d tekens hebben.")),
        ],
    )
    body = TextAreaField(
        _l("Tekst"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Vul de tekst in.")),
            Length(max=BODY_MAX, message=_l("De tekst mag hoogstens %(max)d tekens hebben.")),
        ],
    )
    status = SelectField(
        _l("Voor welke status?"),
        choices=[
            SelectChoice("", _l("Alle statussen")),
            *(SelectChoice(s.value, lazy_gettext(label)) for s, label in STATUS_LABELS.items()),
        ],
        validate_choice=False,  # the domain refuses an unknown status with its own message
    )
    kind = SelectField(
        _l("Voor welke soort signaal?"),
        choices=[
            SelectChoice("", _l("Alle soorten")),
            *(SelectChoice(k.value, lazy_gettext(label)) for k, label in KIND_NAMES.items()),
        ],
        validate_choice=False,
    )
    active = BooleanField(_l("Actief: accountmanagers kunnen deze tekst kiezen"))


class RenameForm(PortalForm):
    """One per wijk and per buurt on the wijken page; ``prefix`` keeps their ids apart."""

    name = StringField(
        _l("Naam"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Vul een naam in.")),
            Length(max=PLACE_NAME_MAX, message=_l("De naam mag hoogstens %(max)d tekens hebben.")),
        ],
    )
