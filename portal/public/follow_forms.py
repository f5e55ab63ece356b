"""The form on "Deze melding volgen": only an email address, optional, checked as the report
form checks it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Email, Length, Optional

from portal.public.form_base import PortalForm, strip_text

EMAIL_INVALID = _l("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl.")


class FollowForm(PortalForm):
    # Named like the report form's field: arriving from the form, what was typed there is
    # filled in, and "Terug naar het formulier" takes it back.
    email = StringField(
        _l("E-mailadres (niet verplicht)"),
        filters=[strip_text],
        validators=[
            Optional(),
            Length(max=320, message=EMAIL_INVALID),
            Email(message=EMAIL_INVALID, check_deliverability=False),
        ],
    )
