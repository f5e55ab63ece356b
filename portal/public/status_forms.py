"""The forms around the status page: asking for a fresh link, a message from the resident,
and the satisfaction question."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import MultipleFileField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from portal.domain.dialogue.resident import TEXT_MAX
from portal.domain.dialogue.satisfaction import COMMENT_MAX
from portal.public.form_base import PortalForm, strip_text


class StatusLookupForm(PortalForm):
    reference = StringField(
        _l("Meldnummer"),
        filters=[strip_text, lambda v: v.upper() if isinstance(v, str) else v],
        validators=[
            DataRequired(_l("Vul uw meldnummer in, bijvoorbeeld HLV-2026-000123.")),
            Length(max=32, message=_l("Vul uw meldnummer in, bijvoorbeeld HLV-2026-000123.")),
        ],
    )
    email = StringField(
        _l("E-mailadres"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Vul het e-mailadres in dat u bij uw melding gaf.")),
            Email(
                message=_l("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl."),
                check_deliverability=False,
            ),
        ],
    )


class ResidentMessageForm(PortalForm):
    """An answer to the accountmanager's question, or information added while it is open."""

    message = TextAreaField(
        _l("Uw bericht"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Schrijf uw bericht.")),
            Length(
                max=TEXT_MAX,
                message=_l("Uw bericht mag maximaal 5000 tekens lang zijn."),
            ),
        ],
    )
    photos = MultipleFileField(_l("Foto's (niet verplicht)"))


class SatisfactionForm(PortalForm):
    satisfied = RadioField(
        _l("Bent u tevreden over hoe uw melding is afgehandeld?"),
        choices=[
            SelectChoice("ja", _l("Ja, ik ben tevreden")),
            SelectChoice("nee", _l("Nee, ik ben niet tevreden")),
        ],
        validators=[InputRequired(_l("Kies ja of nee."))],
    )
    comment = TextAreaField(
        _l("Wilt u iets toelichten? (niet verplicht)"),
        filters=[strip_text],
        validators=[
            Optional(),
            Length(
                max=COMMENT_MAX, message=_l("Uw toelichting mag maximaal 5000 tekens lang zijn.")
            ),
        ],
    )
