"""Back-office forms (each action its own small form, each with its own button)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo

from portal.domain.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from portal.public.form_base import PortalForm


class LoginForm(PortalForm):
    email = StringField(_l("E-mailadres"), validators=[DataRequired(_l("Vul uw e-mailadres in."))])
    password = PasswordField(
        _l("Wachtwoord"), validators=[DataRequired(_l("Vul uw wachtwoord in."))]
    )


class NewPasswordForm(PortalForm):
    new_password = PasswordField(
        _l("Nieuw wachtwoord"), validators=[DataRequired(_l("Vul een nieuw wachtwoord in."))]
    )
    repeat_password = PasswordField(
        _l("Herhaal het nieuwe wachtwoord"),
        validators=[
            DataRequired(_l("Vul het nieuwe wachtwoord nog een keer in.")),
            EqualTo("new_password", _l("De twee nieuwe wachtwoorden zijn niet hetzelfde.")),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Huidig wachtwoord"), validators=[DataRequired(_l("Vul uw huidige wachtwoord in."))]
    )


class CodeForm(PortalForm):
    code = StringField(
        _l("Code"), validators=[DataRequired(_l("Vul de code uit uw app of een herstelcode in."))]
    )


def _confirm_password_field(field_id: str) -> PasswordField:
    return PasswordField(
        _l("Uw wachtwoord"), id=field_id, validators=[DataRequired(_l("Vul uw wachtwoord in."))]
    )


class NewRecoveryCodesForm(PortalForm):
    """Asks the password again: someone at an unlocked screen must not take the codes."""

    password = _confirm_password_field("codes-password")


class TwoFactorOffForm(PortalForm):
    password = _confirm_password_field("off-password")


class ConfirmForm(PortalForm):
    """A button that changes something: only the CSRF token."""


def password_rule_text(code: str) -> str:
    """The sentence for a password the rules refuse (``UserError.code``)."""
    if code == "password_personal":
        return _("Het wachtwoord mag niet uw naam of uw e-mailadres bevatten.")
    if code == "password_common":
        return _(
            "Dit wachtwoord wordt veel gebruikt en is makkelijk te raden. Kies een ander, "
            "bijvoorbeeld een zin van een paar woorden."
        )
    return _("Het wachtwoord moet minstens %(min)d tekens hebben.", min=MIN_PASSWORD_LENGTH)


def password_hint() -> str:
    return _(
        "Minstens %(min)d tekens, niet uw naam of e-mailadres en geen veelgebruikt wachtwoord. "
        "Een zin van een paar woorden is sterk en goed te onthouden.",
        min=MIN_PASSWORD_LENGTH,
    )
