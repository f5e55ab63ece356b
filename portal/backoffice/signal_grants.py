"""Part of the signal page (templates/backoffice/signal/_grants.html): an initiative's grants
from its wijk budget and the grant form, which posts to /backoffice/signalen/<ref>/steun."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.backoffice import bp, signal_flow
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.backoffice.budget import GRANT, this_year, threshold
from portal.backoffice.budget_forms import (
    GrantForm,
    euros,
    refusal,
)
from portal.domain.initiatives import budget, ledger
from portal.domain.initiatives.ledger import GrantEntry, Totals
from portal.domain.working_days import local_date
from portal.extensions import db
from portal.models import Grant, Role, Signal
from portal.vocabulary import GRANT_STATE_LABELS, Kind, Status


@bp.context_processor
def _budget_globals() -> dict[str, object]:
    # Functions, not results: nothing is queried on pages that do not use them.
    return {"grants_part": grants_part, "euros": euros, "grant_state_labels": GRANT_STATE_LABELS}


# --- the part of the signal page ------------------------------------------------------------


@dataclass(frozen=True)
class GrantsPart:
    entries: list[GrantEntry]
    year: int
    totals: Totals | None  # this year's budget of the initiative's wijk, if set
    initiative_cents: int  # what the initiative has from it: granted and requested
    budget_url: str | None
    form: GrantForm | None  # None: no grant can be made here now (or not by this user)
    threshold_cents: int
    is_admin: bool


def grants_part(signal: Signal) -> GrantsPart | None:
    """An initiative's grants and a blank grant form; nothing for a knelpunt."""
    if signal.kind != Kind.INITIATIEF.value:
        return None
    year = this_year()
    found = ledger.budget_for(db.session, signal.wijk_code, year)
    figures = ledger.totals(db.session, found) if found is not None else None
    form = None
    may = budget.may_grant(db.session, current_user, signal)
    if figures is not None and signal.status != Status.DECLINED.value and may:
        form = GrantForm(formdata=None, version=str(signal.version))
        form.decided_on.data = local_date(datetime.now(UTC)).isoformat()
    return GrantsPart(
        entries=ledger.entries(db.session, signal=signal),
        year=year,
        totals=figures,
        initiative_cents=ledger.initiative_total(db.session, found, signal) if found else 0,
        budget_url=(
            url_for(".budget_page", code=signal.wijk_code, year=year) if signal.wijk_code else None
        ),
        form=form,
        threshold_cents=threshold(),
        is_admin=current_user.role == Role.ADMIN,
    )


@bp.post("/signalen/<reference>/steun")
@roles_required(*WORKER_ROLES)
def signal_grant(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_flow.signal_or_404(reference)
    form = GrantForm()

    def explain(code: str):  # type: ignore[no-untyped-def]
        day = form.decision_date()  # the form was valid before the domain was asked
        found = ledger.budget_for(db.session, signal.wijk_code, day.year)
        available = ledger.totals(db.session, found).remaining_cents if found else 0
        return refusal(
            code,
            form,
            available=euros(available),
            year=day.year,
            wijk=signal.wijk.name if signal.wijk else "",
            other_year=day.year != this_year(),
            is_admin=current_user.role == Role.ADMIN,
        )

    response, made = signal_flow.act_explained(
        signal,
        GRANT,
        form,
        lambda who, seen: budget.record_grant(
            db.session,
            signal,
            amount_cents=form.cents(),
            purpose=form.purpose.data or "",
            decided_on=form.decision_date(),
            show_amount=bool(form.show_amount.data),
            override_reason=form.override_reason.data,
            actor=who,
            seen_version=seen,
            threshold_cents=threshold(),
        ),
        explain,
    )
    if response is not None:
        return response
    assert isinstance(made, Grant)
    if made.state == "requested":
        message = _(
            "%(amount)s aangevraagd. Een andere accountmanager of een beheerder moet de "
            "toekenning nog goedkeuren; tot dan houden we het bedrag apart.",
            amount=euros(made.amount_cents),
        )
        if made.amount_cents <= threshold():  # the initiative's total made it a request
            message += " " + _(
                "Samen met wat dit initiatief dit jaar al kreeg of aanvroeg is het meer dan "
                "%(threshold)s.",
                threshold=euros(threshold()),
            )
        flash(message, "ok")
    else:
        left = ledger.totals(db.session, made.budget).remaining_cents
        flash(
            _(
                "%(amount)s toegekend. Nog beschikbaar in het wijkbudget %(year)s: %(left)s.",
                amount=euros(made.amount_cents),
                year=made.budget.year,
                left=euros(left),
            ),
            "ok",
        )
    return redirect(url_for(".signal_detail", reference=signal.reference), code=303)
