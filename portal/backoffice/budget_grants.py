"""Back office: one grant from a wijk budget (/backoffice/budget/toekenningen/<id>): approve
or refuse a request, withdraw it, correct a grant (``domain.initiatives.budget``)."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from portal.backoffice import bp, signal_flow
from portal.backoffice.access import STAFF_ROLES, WORKER_ROLES, roles_required
from portal.backoffice.budget import actor
from portal.backoffice.budget_forms import (
    ReverseForm,
    ReviewForm,
    WithdrawForm,
    euros,
    refusal,
)
from portal.domain import visibility
from portal.domain.casework import CaseworkError
from portal.domain.initiatives import budget, ledger
from portal.extensions import db
from portal.models import Grant, Role, Signal
from portal.public.form_base import PortalForm

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
        problem = [(f"actie-{name}", signal_flow.stale_message())]
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
