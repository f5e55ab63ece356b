"""Part of the status page (templates/public/status/_support.html): support granted to an
initiative from its wijk budget. The initiators see that the municipality supports them and
since when; the amount only where the accountmanager chose to show it. Nothing while a grant
waits for approval, nor for one refused, withdrawn or wholly corrected; never who decided."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_currency, format_date

from portal.domain.initiatives import ledger
from portal.extensions import db
from portal.models import Signal
from portal.public import bp
from portal.vocabulary import Kind


@dataclass(frozen=True)
class SupportLine:
    day: str  # in the page's language: 3 december 2026
    amount: str | None  # € 750,00, or None when not shown


def support_part(signal: Signal) -> list[SupportLine]:
    if signal.kind != Kind.INITIATIEF.value:
        return []
    return [
        SupportLine(
            day=format_date(line.granted_on, "d MMMM y"),
            amount=(
                format_currency(line.amount_cents / 100, "EUR")
                if line.amount_cents is not None
                else None
            ),
        )
        for line in ledger.public_support(db.session, signal)
    ]


@bp.context_processor
def _support_globals() -> dict[str, object]:
    # A function, not its result: nothing is queried on pages that do not use it.
    return {"support_part": support_part}
