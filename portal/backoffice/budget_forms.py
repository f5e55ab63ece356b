"""The forms of the wijk budget (the yearly amount, a grant, its review, withdrawal and
correction) and the Dutch sentences for what the ledger refuses. A form checks only the shape
of what was typed; the rules about the money live in ``domain.initiatives.budget``."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_currency
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Field, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import HiddenInput

from portal.backoffice.signal_forms import DATE_FORMATS, VersionedForm
from portal.domain.initiatives.budget import MAX_YEAR, MIN_YEAR, TEXT_MAX
from portal.domain.initiatives.money import MoneyError, parse_amount
from portal.public.form_base import PortalForm, strip_text


def euros(cents: int | None) -> str:
    """An amount as the page's language writes it: € 4.250,00 (nl), €4,250.00 (en)."""
    return format_currency((cents or 0) / 100, "EUR")


def _parse_day(value: str) -> date | None:
    # <input type="date"> sends 2026-12-31; someone typing (no date picker) writes 31-12-2026.
    for fmt in DATE_FORMATS:
        try:
            day = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        return day if MIN_YEAR <= day.year <= MAX_YEAR else None  # far off: a typing error
    return None


def money_message(code: str, *, budget: bool = False) -> str:
    if code == "amount_required":
        return _("Vul een bedrag in, bijvoorbeeld 750 of 1.250,50.")
    if code == "amount_not_positive":
        if budget:
            return _("Een budget kan niet negatief zijn.")
        return _("Vul een bedrag in dat hoger is dan € 0.")
    if code == "amount_too_large":
        return _("Dit bedrag is te hoog. Controleer of u het goed heeft ingevuld.")
    return _("Vul het bedrag in euro’s in, bijvoorbeeld 750 of 1.250,50.")


def _length() -> Length:
    return Length(max=TEXT_MAX, message=_l("Gebruik hoogstens %(max)d tekens.", max=TEXT_MAX))


# Room for "€ 1.000.000,00" with spaces to spare; longer is no amount (and is not parsed).
AMOUNT_TYPED_MAX = 30


def _amount_length() -> Length:
    return Length(
        max=AMOUNT_TYPED_MAX,
        message=_l(
            "Dit bedrag is te lang. Vul het in met hoogstens %(max)d tekens, bijvoorbeeld 750 "
            "of 1.250,50.",
            max=AMOUNT_TYPED_MAX,
        ),
    )


class AmountMixin:
    """An amount field named ``amount``; ``cents`` after a successful ``validate``."""

    allow_zero = False

    def validate_amount(self, field: StringField) -> None:
        if field.errors:  # already too long: one message is enough
            return
        try:
            parse_amount(field.data, allow_zero=self.allow_zero)
        except MoneyError as error:
            raise ValidationError(money_message(error.code, budget=self.allow_zero)) from None

    def cents(self) -> int:
        return parse_amount(self.amount.data, allow_zero=self.allow_zero)  # type: ignore[attr-defined]


class BudgetForm(AmountMixin, PortalForm):
    allow_zero = True
    amount = StringField(
        _l("Budget voor het hele jaar"),
        id="budget-amount",
        filters=[strip_text],
        validators=[_amount_length()],
    )
    reason = TextAreaField(
        _l("Waarom dit bedrag?"),
        id="budget-reason",
        filters=[strip_text],
        validators=[
            DataRequired(_l("Schrijf waarom het budget dit bedrag is, bijvoorbeeld het besluit.")),
            _length(),
        ],
    )


class GrantForm(AmountMixin, VersionedForm):
    amount = StringField(
        _l("Bedrag"), id="grant-amount", filters=[strip_text], validators=[_amount_length()]
    )
    purpose = TextAreaField(
        _l("Waarvoor is het geld?"),
        id="grant-purpose",
        filters=[strip_text],
        validators=[DataRequired(_l("Schrijf waarvoor het geld is.")), _length()],
    )
    decided_on = StringField(
        _l("Datum van het besluit"), id="grant-decided_on", filters=[strip_text]
    )
    show_amount = BooleanField(
        _l("Laat het bedrag zien aan de initiatiefnemers"), id="grant-show_amount"
    )
    override_reason = TextAreaField(
        _l("Reden om meer toe te kennen dan er nog beschikbaar is (alleen beheerders)"),
        id="grant-override_reason",
        filters=[strip_text],
        validators=[_length()],
    )

    def validate_decided_on(self, field: StringField) -> None:
        if not field.data:
            raise ValidationError(_l("Vul de datum van het besluit in, zoals 31-12-2026."))
        if _parse_day(field.data) is None:
            raise ValidationError(_l("Vul de datum in zoals 31-12-2026."))

    def decision_date(self) -> date:
        found = _parse_day(self.decided_on.data or "")
        assert found is not None  # validated
        return found


class ReviewForm(PortalForm):
    """Approve (no reason needed) or refuse (reason required) a requested grant."""

    decision = StringField(widget=HiddenInput(), filters=[strip_text])
    reason = TextAreaField(_l("Waarom wijst u het af?"), id="review-reason", filters=[strip_text])
    override_reason = TextAreaField(
        _l("Reden om goed te keuren terwijl het budget overschreden is (alleen beheerders)"),
        id="review-override_reason",
        filters=[strip_text],
    )
    # Where the approval was clicked: back to the budget page, or else the grant's page.
    back = StringField(widget=HiddenInput(), filters=[strip_text])

    def validate_decision(self, field: StringField) -> None:
        if field.data not in ("approve", "refuse"):
            raise ValidationError(_l("Kies of u de aanvraag goedkeurt of afwijst."))

    @property
    def approve(self) -> bool:
        return self.decision.data == "approve"


class WithdrawForm(PortalForm):
    reason = TextAreaField(
        _l("Waarom trekt u de aanvraag in?"), id="withdraw-reason", filters=[strip_text]
    )


class ReverseForm(AmountMixin, PortalForm):
    amount = StringField(
        _l("Bedrag terug naar het wijkbudget"),
        id="reverse-amount",
        filters=[strip_text],
        validators=[_amount_length()],
    )
    reason = TextAreaField(
        _l("Waarom corrigeert u de toekenning?"), id="reverse-reason", filters=[strip_text]
    )


# Fields nobody types in: an error never belongs next to them.
UNTYPED = ("csrf_token", "version", "decision", "back")


def refusal(code: str, form: PortalForm, **figures: object) -> tuple[Field, str]:
    """The Dutch sentence for a refused budget operation, and the field of ``form`` it
    belongs to; ``figures`` fill in the sentence (available, year, wijk, is_admin)."""
    fields = {f.name: f for f in form if f.name not in UNTYPED}
    first = next(iter(fields.values()))

    def at(*names: str) -> Field:
        return next((fields[n] for n in names if n in fields), first)

    if code == "over_budget":
        message = _(
            "Er is nog %(available)s beschikbaar in het wijkbudget %(year)s. Kies een lager "
            "bedrag.",
            available=figures.get("available", ""),
            year=figures.get("year", ""),
        )
        if figures.get("is_admin"):
            message += " " + _("Of schrijf waarom u het budget bewust overschrijdt.")
        return at("amount", "override_reason"), message
    if code == "no_budget":
        field = at("decided_on") if figures.get("other_year") else at("amount")
        return field, _(
            "Voor wijk %(wijk)s is voor %(year)s nog geen budget vastgesteld. Een beheerder "
            "moet dat eerst doen.",
            wijk=figures.get("wijk", ""),
            year=figures.get("year", ""),
        )
    if code == "below_committed":
        return at("amount"), _(
            "Er is al %(committed)s toegekend of aangevraagd. Het budget kan niet lager "
            "worden dan dat.",
            committed=figures.get("available", ""),
        )
    if code == "initiative_declined" and "amount" not in fields:  # approving a request
        return at("reason"), _(
            "Dit initiatief is niet in behandeling genomen en krijgt geen steun. U kunt de "
            "aanvraag nog afwijzen; wie haar deed kan haar intrekken."
        )
    if code == "more_than_left":
        return at("amount"), _(
            "Van deze toekenning is nog %(left)s over. U kunt niet meer terugzetten.",
            left=figures.get("available", ""),
        )
    messages = {
        "date_in_future": (
            "decided_on",
            _("De datum van het besluit kan niet in de toekomst liggen."),
        ),
        "purpose_required": ("purpose", _("Schrijf waarvoor het geld is.")),
        "purpose_too_long": ("purpose", _("Gebruik hoogstens %(max)d tekens.", max=TEXT_MAX)),
        "reason_required": ("reason", _("Schrijf de reden op.")),
        "reason_too_long": ("reason", _("Gebruik hoogstens %(max)d tekens.", max=TEXT_MAX)),
        "override_not_allowed": (
            "override_reason",
            _("Alleen een beheerder kan het budget overschrijden."),
        ),
        "override_too_long": (
            "override_reason",
            _("Gebruik hoogstens %(max)d tekens.", max=TEXT_MAX),
        ),
        "nothing_changed": ("amount", _("Het budget is al dit bedrag.")),
        "amount_invalid": ("amount", money_message("amount_invalid")),
        "not_an_initiative": (
            "amount",
            _("Alleen een initiatief krijgt steun uit het wijkbudget."),
        ),
        "no_wijk": (
            "amount",
            _("Deze melding ligt nog in geen wijk. Zet eerst de plek, dan kunt u steun toekennen."),
        ),
        "initiative_declined": (
            "amount",
            _("Dit initiatief is niet in behandeling genomen en krijgt geen steun."),
        ),
        "own_grant": (
            "reason",
            _(
                "U heeft deze toekenning zelf besloten. Een andere accountmanager of een "
                "beheerder moet haar goedkeuren of afwijzen."
            ),
        ),
        "not_requested": (
            "reason",
            _("Over deze aanvraag is al besloten. Bekijk hieronder wat er is gebeurd."),
        ),
        "not_granted": ("amount", _("Alleen een toegekend bedrag kan worden gecorrigeerd.")),
    }
    name, message = messages.get(code, ("", _("Dit kan niet. Controleer wat u heeft ingevuld.")))
    return at(name), message
