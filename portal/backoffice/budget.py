"""Back office: the wijk budgets for initiatives (``domain.initiatives.budget``).

- /backoffice/budget: every wijk's budget for a year - every staff member reads it,
  management too. Accountmanagers see all wijken, not only their own: the figures are no
  personal data, and a second person must be able to find the requests waiting for them.
- /backoffice/budget/<wijk>/<year>: the figures, the history of the yearly amount, every
  grant per initiative, the admin's form to set the amount, approve buttons.
- /backoffice/budget/toekenningen/<id>: one grant, to approve or refuse, withdraw or correct.
- The grants part of an initiative's signal page (templates/backoffice/signal/_grants.html)
  with the grant form, which posts to /backoffice/signalen/<reference>/steun.

Who may open a sensitive initiative decides who sees its grants: anyone else sees only the
amount and state on the budget page (so the figures still add up), and gets a 404 for the
grant's own page, as for the signal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, WORKER_ROLES, roles_required
from portal.backoffice.budget_forms import (
    BudgetForm,
    GrantForm,
    ReverseForm,
    ReviewForm,
    WithdrawForm,
    euros,
    refusal,
)
from portal.domain import visibility
from portal.domain.casework import Actor, CaseworkError
from portal.domain.initiatives import budget, ledger
from portal.domain.initiatives.ledger import GrantEntry, Totals
from portal.domain.working_days import local_date
from portal.extensions import db
from portal.models import Grant, Role, Signal, Wijk, WijkBudget
from portal.public.form_base import PortalForm
from portal.vocabulary import GRANT_STATE_LABELS, Kind, Status

GRANT = "grant"


# The signal page's modules import each other in one order (signal_access first, see
# portal/backoffice/__init__.py); this module is loaded before them, so it reaches them
# only when a request runs.
def _flow():  # type: ignore[no-untyped-def]
    from portal.backoffice import signal_flow

    return signal_flow


def actor() -> Actor:
    return Actor(user_id=current_user.id, now=datetime.now(UTC))


def _this_year() -> int:
    return local_date(datetime.now(UTC)).year


def _threshold() -> int:
    return int(current_app.config["BUDGET_APPROVAL_THRESHOLD_CENTS"])


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
    year = _this_year()
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
        threshold_cents=_threshold(),
        is_admin=current_user.role == Role.ADMIN,
    )


@bp.post("/signalen/<reference>/steun")
@roles_required(*WORKER_ROLES)
def signal_grant(reference: str):  # type: ignore[no-untyped-def]
    signal = _flow().signal_or_404(reference)
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
            other_year=day.year != _this_year(),
            is_admin=current_user.role == Role.ADMIN,
        )

    response, made = _flow().act_explained(
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
            threshold_cents=_threshold(),
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
        if made.amount_cents <= _threshold():  # the initiative's total made it a request
            message += " " + _(
                "Samen met wat dit initiatief dit jaar al kreeg of aanvroeg is het meer dan "
                "%(threshold)s.",
                threshold=euros(_threshold()),
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


# --- the overview and the budget of one wijk and year ---------------------------------------


def _year(value: int | None) -> int:
    if value is None or not budget.MIN_YEAR <= value <= budget.MAX_YEAR:
        return _this_year()
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
        this_year=_this_year(),
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
            threshold_cents=_threshold(),
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


# --- one grant: review, withdraw, correct ---------------------------------------------------


def _grant_or_404(grant_id: int) -> tuple[Grant, Signal | None]:
    grant = db.session.get(Grant, grant_id)
    if grant is None or grant.reverses_id is not None:  # a correction shows on its original
        abort(404)
    signal = db.session.get(Signal, grant.signal_id) if grant.signal_id is not None else None
    if signal is not None and not visibility.can_open(db.session, current_user, signal):
        abort(404)
    return grant, signal


def _render_grant(  # type: ignore[no-untyped-def]
    grant: Grant,
    signal: Signal | None,
    bound: tuple[str, PortalForm] | None = None,
    errors=None,
    code: int = 200,
):
    entry = next(
        e for e in ledger.entries(db.session, budget=grant.budget) if e.grant.id == grant.id
    )
    figures = ledger.totals(db.session, grant.budget)
    forms: dict[str, PortalForm] = {
        "review": ReviewForm(formdata=None),
        "withdraw": WithdrawForm(formdata=None),
        "reverse": ReverseForm(formdata=None),
    }
    if bound is not None:
        forms[bound[0]] = bound[1]
    user = current_user
    may = {
        "review": signal is not None and budget.may_review(user, grant),
        "approve": signal is not None and budget.may_approve(user, grant, signal),
        "withdraw": signal is not None and budget.may_withdraw(user, grant),
        "reverse": (
            signal is not None
            and entry.left_cents > 0
            and budget.may_grant(db.session, user, signal)
        ),
    }
    return (
        render_template(
            "backoffice/budget/grant.html",
            grant=grant,
            entry=entry,
            signal=signal,
            totals=figures,
            forms=forms,
            may=may,
            # Only while the wijk is over its budget must an admin give a reason to approve.
            needs_override=figures.remaining_cents < 0 and grant.override_reason is None,
            is_admin=user.role == Role.ADMIN,
            active_action=bound[0] if bound is not None else None,
            errors=errors or [],
            nav="budget",
        ),
        code,
        {"Cache-Control": "private, no-store"},
    )


def _grant_action(  # type: ignore[no-untyped-def]
    grant: Grant,
    signal: Signal | None,
    name: str,
    form: PortalForm,
    operation: Callable[[], Grant],
    done: Callable[[Grant], str],
    back: str | None = None,
):
    """Check the form, run the operation, commit once and redirect; or the grant's page
    again with what was typed (422 refused, 409 when a colleague's change came first)."""
    if not form.validate_on_submit():
        return _render_grant(grant, signal, (name, form), form.error_summary(), 422)
    try:
        result = operation()
        db.session.commit()
    except StaleDataError:  # the initiative changed under us: show the fresh state
        db.session.rollback()
        db.session.expire_all()
        problem = [(f"actie-{name}", _flow().stale_message())]
        return _render_grant(grant, signal, (name, form), problem, 409)
    except CaseworkError as error:
        db.session.rollback()
        if error.code == "not_allowed":
            abort(403)
        field, message = refusal(
            error.code,
            form,
            available=euros(getattr(error, "available", 0)),
            year=grant.budget.year,
            is_admin=current_user.role == Role.ADMIN,
        )
        field.errors = [*field.errors, message]
        return _render_grant(grant, signal, (name, form), form.error_summary(), 422)
    flash(done(result), "ok")
    return redirect(back or url_for(".grant_page", grant_id=grant.id), code=303)


@bp.get("/budget/toekenningen/<int:grant_id>")
@roles_required(*STAFF_ROLES)
def grant_page(grant_id: int):  # type: ignore[no-untyped-def]
    return _render_grant(*_grant_or_404(grant_id))


@bp.post("/budget/toekenningen/<int:grant_id>/beoordelen")
@roles_required(*WORKER_ROLES)
def grant_review(grant_id: int):  # type: ignore[no-untyped-def]
    grant, signal = _grant_or_404(grant_id)
    form = ReviewForm()
    back = None
    if form.back.data == "budget":
        back = url_for(".budget_page", code=grant.budget.wijk_code, year=grant.budget.year)

    def done(row: Grant) -> str:
        if row.state == "granted":
            return _("De toekenning van %(amount)s is goedgekeurd.", amount=euros(row.amount_cents))
        return _("De aanvraag van %(amount)s is afgewezen.", amount=euros(row.amount_cents))

    return _grant_action(
        grant,
        signal,
        "review",
        form,
        lambda: budget.review_grant(
            db.session,
            grant,
            approve=form.approve,
            reason=form.reason.data,
            override_reason=form.override_reason.data,
            actor=actor(),
        ),
        done,
        back,
    )


@bp.post("/budget/toekenningen/<int:grant_id>/intrekken")
@roles_required(*WORKER_ROLES)
def grant_withdraw(grant_id: int):  # type: ignore[no-untyped-def]
    grant, signal = _grant_or_404(grant_id)
    form = WithdrawForm()
    return _grant_action(
        grant,
        signal,
        "withdraw",
        form,
        lambda: budget.withdraw_grant(
            db.session, grant, reason=form.reason.data or "", actor=actor()
        ),
        lambda row: _("De aanvraag van %(amount)s is ingetrokken.", amount=euros(row.amount_cents)),
    )


@bp.post("/budget/toekenningen/<int:grant_id>/corrigeren")
@roles_required(*WORKER_ROLES)
def grant_reverse(grant_id: int):  # type: ignore[no-untyped-def]
    grant, signal = _grant_or_404(grant_id)
    form = ReverseForm()
    return _grant_action(
        grant,
        signal,
        "reverse",
        form,
        lambda: budget.reverse_grant(
            db.session,
            grant,
            amount_cents=form.cents(),
            reason=form.reason.data or "",
            actor=actor(),
        ),
        lambda row: _(
            "%(amount)s is teruggezet naar het wijkbudget.", amount=euros(-row.amount_cents)
        ),
    )
