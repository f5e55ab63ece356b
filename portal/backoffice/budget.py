"""Back office: the wijk budgets for initiatives (``domain.initiatives.budget``).

- /backoffice/budget: every wijk's budget for a year - every staff member reads it,
  management too. Accountmanagers see all wijken, not only their own: the figures are no
  personal data, and a second person must be able to find the requests waiting for them.
- /backoffice/budget/<wijk>/<year>: the figures, the history of the yearly amount, every
  grant per initiative, the admin's form to set the amount, approve buttons.
- One grant's page and actions: budget_grants.py; the grants part of an initiative's signal
  page: signal_grants.py.

Who may open a sensitive initiative decides who sees its grants: anyone else sees only the
amount and state on the budget page (so the figures still add up), and gets a 404 for the
grant's own page, as for the signal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, roles_required
from portal.backoffice.budget_forms import (
    BudgetForm,
    euros,
    refusal,
)
from portal.domain import visibility
from portal.domain.casework import Actor, CaseworkError
from portal.domain.initiatives import budget, ledger
from portal.domain.initiatives.ledger import GrantEntry, Totals
from portal.domain.working_days import local_date
from portal.extensions import db
from portal.models import Role, Signal, Wijk, WijkBudget

GRANT = "grant"


def actor() -> Actor:
    return Actor(user_id=current_user.id, now=datetime.now(UTC))


def this_year() -> int:
    return local_date(datetime.now(UTC)).year


def threshold() -> int:
    return int(current_app.config["BUDGET_APPROVAL_THRESHOLD_CENTS"])


# --- the overview and the budget of one wijk and year ---------------------------------------


def _year(value: int | None) -> int:
    if value is None or not budget.MIN_YEAR <= value <= budget.MAX_YEAR:
        return this_year()
    return value


@bp.get("/budget")
@roles_required(*STAFF_ROLES)
def budgets():  # type: ignore[no-untyped-def]
    year = _year(request.args.get("jaar", type=int))
    by_wijk = ledger.totals_by_wijk(db.session, year)
    rows = [(w, by_wijk.get(w.code)) for w in db.session.scalars(select(Wijk).order_by(Wijk.name))]
    counted = list(by_wijk.values())
    total = Totals(
        sum(t.budget_cents for t in counted),
        sum(t.granted_cents for t in counted),
        sum(t.requested_cents for t in counted),
    )
    years = sorted(set(db.session.scalars(select(WijkBudget.year).distinct())) | {year})
    return render_template(
        "backoffice/budget/overview.html",
        year=year,
        rows=rows,
        total=total if counted else None,
        years=years,
        this_year=this_year(),
        nav="budget",
    )


@dataclass(frozen=True)
class Initiative:
    """The grants of one initiative on a budget page; ``signal`` None when this user may
    not open it, or when it was removed (``removed``): then only the amounts are shown."""

    signal: Signal | None
    entries: list[GrantEntry]
    removed: bool = False


def _wijk_or_404(code: str, year: int) -> Wijk:
    wijk = db.session.get(Wijk, code)
    if wijk is None or not budget.MIN_YEAR <= year <= budget.MAX_YEAR:
        abort(404)
    return wijk


def _openable(ids: set[int]) -> dict[int, Signal]:
    if not ids:
        return {}
    conditions = visibility.inbox_conditions(current_user)
    query = select(Signal).where(Signal.id.in_(ids), *conditions)
    return {s.id: s for s in db.session.scalars(query)}


def _render_budget(wijk: Wijk, year: int, form: BudgetForm, errors=None, code: int = 200):  # type: ignore[no-untyped-def]
    found = ledger.budget_for(db.session, wijk.code, year)
    entries = ledger.entries(db.session, budget=found) if found is not None else []
    signals = _openable({e.grant.signal_id for e in entries if e.grant.signal_id is not None})
    groups: dict[int | None, list[GrantEntry]] = {}
    for entry in entries:  # newest grant first, so the group with the newest grant too
        groups.setdefault(entry.grant.signal_id, []).append(entry)
    initiatives = [
        Initiative(signals.get(key) if key else None, rows, removed=key is None)
        for key, rows in groups.items()
    ]
    reviewable = {
        e.grant.id
        for e in entries
        if e.grant.signal_id in signals and budget.may_review(current_user, e.grant)
    }
    approvable = {
        e.grant.id
        for e in entries
        if e.grant.id in reviewable
        and budget.may_approve(current_user, e.grant, signals[e.grant.signal_id])
    }
    if found is not None and form.amount.data is None:
        form.amount.data = f"{found.amount_cents // 100},{found.amount_cents % 100:02d}"
    return (
        render_template(
            "backoffice/budget/budget.html",
            wijk=wijk,
            year=year,
            budget=found,
            totals=ledger.totals(db.session, found) if found is not None else None,
            initiatives=initiatives,
            reviewable=reviewable,
            approvable=approvable,
            changes=found.changes if found is not None else [],
            form=form,
            is_admin=current_user.role == Role.ADMIN,
            threshold_cents=threshold(),
            errors=errors or [],
            nav="budget",
        ),
        code,
        {"Cache-Control": "private, no-store"},
    )


@bp.get("/budget/<code>/<int:year>")
@roles_required(*STAFF_ROLES)
def budget_page(code: str, year: int):  # type: ignore[no-untyped-def]
    return _render_budget(_wijk_or_404(code, year), year, BudgetForm(formdata=None))


@bp.post("/budget/<code>/<int:year>")
@roles_required(Role.ADMIN)
def budget_set(code: str, year: int):  # type: ignore[no-untyped-def]
    wijk = _wijk_or_404(code, year)
    form = BudgetForm()
    if not form.validate_on_submit():
        return _render_budget(wijk, year, form, form.error_summary(), 422)
    try:
        change = budget.set_budget(
            db.session, wijk.code, year, form.cents(), reason=form.reason.data or "", actor=actor()
        )
        db.session.commit()
    except CaseworkError as error:
        db.session.rollback()
        field, message = refusal(error.code, form, available=euros(getattr(error, "available", 0)))
        field.errors = [*field.errors, message]
        return _render_budget(wijk, year, form, form.error_summary(), 422)
    flash(
        _(
            "Het wijkbudget %(year)s van %(wijk)s is nu %(amount)s.",
            year=year,
            wijk=wijk.name,
            amount=euros(change.amount_cents),
        ),
        "ok",
    )
    return redirect(url_for(".budget_page", code=wijk.code, year=year), code=303)
