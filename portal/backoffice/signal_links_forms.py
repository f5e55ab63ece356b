"""The forms of the signal page's links part: relate to another signal, mark as duplicate of
another, remove a link. Each carries the version the user saw (VersionedForm); the rules
about the pair live in ``domain.dossiers.links``, so a form checks only the input's shape."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import HiddenInput

from portal.backoffice.signal_forms import VersionedForm
from portal.domain.casework import MESSAGE_MAX
from portal.domain.dossiers.links import REASON_MAX
from portal.domain.ids import parse_id
from portal.public.form_base import strip_text

REFERENCE_MAX = 40  # a reference is 15 characters; typed with spaces a few more


def _reference_field(label: str, field_id: str) -> StringField:
    return StringField(
        label,
        id=field_id,
        filters=[strip_text],
        validators=[
            DataRequired(_l("Vul het meldnummer van de andere melding in.")),
            Length(
                max=REFERENCE_MAX,
                message=_l("Een meldnummer ziet eruit als HLV-2026-000123. Controleer het nummer."),
            ),
        ],
    )


class LinkForm(VersionedForm):
    reference = _reference_field(_l("Meldnummer van de andere melding"), "link-reference")
    reason = TextAreaField(
        _l("Waarom horen ze bij elkaar? (niet verplicht)"),
        id="link-reason",
        filters=[strip_text],
        validators=[
            Length(max=REASON_MAX, message=_l("Gebruik hoogstens %(max)d tekens.", max=REASON_MAX))
        ],
    )


class DuplicateForm(VersionedForm):
    reference = _reference_field(_l("Meldnummer van de eerdere melding"), "duplicate-reference")
    message = TextAreaField(
        _l("Uw eigen bericht aan de melder (niet verplicht)"),
        id="duplicate-message",
        filters=[strip_text],
        validators=[
            Length(
                max=MESSAGE_MAX,
                message=_l(
                    "Dit bericht is te lang: het mag hoogstens %(max)d tekens hebben.",
                    max=MESSAGE_MAX,
                ),
            )
        ],
    )


class UnlinkForm(VersionedForm):
    # Written by hand in the template (one small form per link, no duplicate ids); errors
    # point at the list of links (#actie-unlink).
    link = StringField(widget=HiddenInput(), id="actie-unlink", filters=[strip_text])

    def link_id(self) -> int | None:
        return parse_id(self.link.data)
