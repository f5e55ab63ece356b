"""The forms of the signal page's outreach part: escalating to a functionary, closing an
escalation, sharing with wijkteam partners, revoking a share; what they offer to choose and
how they word a refusal.

As on the rest of the signal page, the forms check only the shape of the input; which
functionary, partner, date or field is allowed is the domain's to say."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from portal.backoffice.admin.forms import MultiCheckboxField
from portal.backoffice.signal_forms import DATE_FORMATS, VersionedForm
from portal.domain import partners
from portal.domain.escalations import HIGH, NORMAL, URGENCY_LABELS
from portal.domain.ids import parse_id
from portal.domain.reply_links import (
    ADDRESS,
    CONTACT,
    PHOTOS,
    SHARE_FIELDS,
    TEXT_MAX,
    form_photos,
    may_share_contact,
)
from portal.extensions import db
from portal.models import Partner, Signal
from portal.public.form_base import strip_text
from portal.vocabulary import N_


def parse_day(value: str) -> date | None:
    # <input type="date"> sends 2026-12-31; someone typing (no date picker) writes 31-12-2026.
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


class EscalateForm(VersionedForm):
    functionary = StringField(_l("Aan wie vraagt u het?"), id="escalate-functionary")
    question = TextAreaField(_l("Uw vraag of advies"), id="escalate-question")
    urgency = RadioField(
        _l("Hoe dringend is het?"),
        id="escalate-urgency",
        choices=[SelectChoice(code, URGENCY_LABELS[code]) for code in (NORMAL, HIGH)],
        default=NORMAL,
        validate_choice=False,  # the domain refuses an unknown urgency in its own words
    )
    reply_by = StringField(
        _l("Antwoord graag uiterlijk op"), id="escalate-reply_by", filters=[strip_text]
    )

    def functionary_id(self) -> int | None:
        return parse_id(self.functionary.data)

    def reply_by_date(self) -> date | None:
        return parse_day(self.reply_by.data or "")

    def validate_reply_by(self, field: StringField) -> None:
        if field.data and parse_day(field.data) is None:
            raise ValidationError(_l("Vul een datum in zoals 31-12-2026."))


class CloseEscalationForm(VersionedForm):
    """One per escalation on the page; the view gives each its own field id."""

    outcome = TextAreaField(_l("Uitkomst"))


class ShareForm(VersionedForm):
    partners = MultiCheckboxField(_l("Met welke partner deelt u de melding?"), id="share-partners")
    purpose = TextAreaField(_l("Waarom deelt u de melding?"), id="share-purpose")
    shared = MultiCheckboxField(_l("Wat deelt u?"), id="share-shared")

    def partner_ids(self) -> list[int | None]:
        return [parse_id(value) for value in self.partners.data or []]


class RevokeShareForm(VersionedForm):
    """Only the version and the CSRF token: revoking needs no input."""


def set_share_choices(form: ShareForm, signal: Signal) -> dict[str, str]:
    """The partners (who works in this signal's wijk first) and the parts of the signal
    there are to share; the contact details only with the resident's consent. Returns the
    hint per partner."""
    active = partners.active_partners(db.session)
    local = [p for p in active if signal.wijk_code in {w.code for w in p.wijken}]
    citywide = [p for p in active if not p.wijken]  # no wijken chosen: the whole city
    others = [p for p in active if p not in local and p not in citywide]
    ordered = local + citywide + others
    form.partners.choices = [(str(p.id), _partner_label(p)) for p in ordered]  # type: ignore[assignment]
    hints = {str(p.id): N_("Werkt in deze wijk") for p in local}
    hints |= {str(p.id): N_("Werkt in alle wijken") for p in citywide}
    available = []
    for name in SHARE_FIELDS:
        if name == ADDRESS and not (signal.address_line or signal.lat is not None):
            continue
        if name == PHOTOS and not form_photos(signal):
            continue
        if name == CONTACT and not may_share_contact(signal):
            continue
        available.append((name, partners.FIELD_LABELS[name]))
    form.shared.choices = available  # type: ignore[assignment]
    return hints


def _partner_label(partner: Partner) -> str:
    return f"{partner.organisation} ({partner.contact_name})"


def close_form(escalation_id: int, **kwargs: Any) -> CloseEscalationForm:
    form = CloseEscalationForm(**kwargs)
    form.outcome.id = f"close-{escalation_id}-outcome"
    return form


def explain(form: Any, code: str) -> tuple[Any, str]:
    """The Dutch sentence for a refused request, and the field it belongs to."""
    too_long = _("Dit is te lang: gebruik hoogstens %(max)d tekens.", max=TEXT_MAX)
    messages = {
        "unknown_functionary": ("functionary", _("Kies een functionaris uit de lijst.")),
        "question_required": ("question", _("Schrijf uw vraag of advies.")),
        "question_too_long": ("question", too_long),
        "unknown_urgency": ("urgency", _("Kies hoe dringend het is.")),
        "reply_by_required": (
            "reply_by",
            _("Vul de datum in waarop u uiterlijk antwoord wilt, bijvoorbeeld 31-12-2026."),
        ),
        "date_in_past": ("reply_by", _("Kies vandaag of een dag in de toekomst.")),
        "date_too_far": ("reply_by", _("Kies een datum binnen een jaar.")),
        "outcome_required": ("outcome", _("Schrijf de uitkomst van de escalatie.")),
        "outcome_too_long": ("outcome", too_long),
        "already_closed": ("outcome", _("Deze escalatie is al afgesloten.")),
        "partner_required": ("partners", _("Kies minstens één partner.")),
        "unknown_partner": ("partners", _("Kies een partner uit de lijst.")),
        "purpose_required": ("purpose", _("Schrijf waarom u de melding deelt.")),
        "purpose_too_long": (
            "purpose",
            _("Dit is te lang: gebruik hoogstens %(max)d tekens.", max=partners.PURPOSE_MAX),
        ),
        "fields_required": ("shared", _("Kies wat u deelt.")),
        "unknown_field": ("shared", _("Kies uit de lijst wat u deelt.")),
        "no_consent": (
            "shared",
            _(
                "De melder heeft geen toestemming gegeven om naam, e-mailadres en "
                "telefoonnummer met partners te delen. Die kunt u niet meesturen."
            ),
        ),
    }
    name, message = messages.get(code, ("", _("Dit kan niet. Controleer wat u heeft ingevuld.")))
    target = getattr(form, name, None) if name else None
    if target is None:
        target = next(f for f in form if f.name not in ("csrf_token", "version"))
    return target, message
