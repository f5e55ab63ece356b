"""Asking for a fresh status link."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Email, Length

from portal.public.form_base import PortalForm


def _clean(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class StatusLookupForm(PortalForm):
    reference = StringField(
        _l("Meldnummer"),
        filters=[_clean, lambda v: v.upper() if isinstance(v, str) else v],
        validators=[
            DataRequired(_l("Vul uw meldnummer in, bijvoorbeeld HLV-2026-000123.")),
            Length(max=32, message=_l("Vul uw meldnummer in, bijvoorbeeld HLV-2026-000123.")),
        ],
    )
    email = StringField(
        _l("E-mailadres"),
        filters=[_clean],
        validators=[
            DataRequired(_l("Vul het e-mailadres in dat u bij uw melding gaf.")),
            Email(
                message=_l("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl."),
                check_deliverability=False,
            ),
        ],
    )
