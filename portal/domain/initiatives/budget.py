"""The wijk budget for initiatives: a ledger that is never edited in place.

An admin sets a wijk's yearly amount (every change a BudgetChange with the reason). Staff who
may open an initiative grant it support from its wijk's budget for the year of the decision.
When an initiative's total from one budget would go above the approval threshold, its grant
is "aangevraagd" until a second person approves it (counting the total, not the one grant:
splitting an amount does not dodge the second person); its money is held back meanwhile, so
approving can never overspend. A correction is a new grant
with a negative amount that reverses (part of) the original. So:

    remaining = budget - granted (reversals included) - requested

Every operation first bumps the budget row's ``lock_version`` (UPDATE, before it reads any
sum): concurrent grants on one budget queue behind each other - a row lock on PostgreSQL, the
write lock on SQLite - and each reads what the one before it spent. The figures and lists
are read in ``ledger``.

A timeline step keeps only what a person typed (the purpose, a reason): the signal page titles
the step and shows the amounts and states in the reader's language."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.domain import audit, visibility
from portal.domain.casework import Actor, CaseworkError, add_event, check_version
from portal.domain.initiatives.ledger import (
    GRANTED,
    REQUESTED,
    budget_for,
    entries,
    initiative_total,
    totals,
)
from portal.domain.initiatives.money import AMOUNT_MAX_CENTS
from portal.domain.working_days import local_date
from portal.models import BudgetChange, Grant, Role, Signal, User, Wijk, WijkBudget
from portal.vocabulary import GrantState, Kind, Status

TEXT_MAX = 1000
MIN_YEAR, MAX_YEAR = 2000, 2999
WORKERS = (Role.ADMIN, Role.ACCOUNTMANAGER)


class BudgetRefused(CaseworkError):
    """Refused for the money: ``over_budget`` (more than remains), ``below_committed`` (a
    new yearly amount below what is granted and requested), ``more_than_left`` (a reversal
    larger than what is left of the grant). ``available`` is the figure the user needs."""

    def __init__(self, code: str, available: int) -> None:
        super().__init__(code)
        self.available = available


# --- who may ------------------------------------------------------------------------------


def may_grant(session: Session, user: User, signal: Signal) -> bool:
    return user.role in WORKERS and visibility.can_open(session, user, signal)


def may_review(user: User, grant: Grant) -> bool:
    """A second person: another accountmanager or an admin, never the one who decided."""
    return grant.state == REQUESTED and user.role in WORKERS and user.id != grant.decided_by_id


def may_approve(user: User, grant: Grant, signal: Signal) -> bool:
    """Reviewing, and the initiative still stands: a declined one gets no support (its
    request can still be refused or withdrawn)."""
    return may_review(user, grant) and signal.status != Status.DECLINED.value


def may_withdraw(user: User, grant: Grant) -> bool:
    return grant.state == REQUESTED and (user.role == Role.ADMIN or user.id == grant.decided_by_id)


# --- changing -----------------------------------------------------------------------------


def set_budget(
    session: Session, wijk_code: str, year: int, amount_cents: int, *, reason: str, actor: Actor
) -> BudgetChange:
    """The wijk's amount for ``year`` (the budget row is made the first time). Admins only.
    CaseworkError: ``not_allowed``, ``unknown_wijk``, ``unknown_year``, ``amount_invalid``,
    ``reason_required``, ``reason_too_long``, ``nothing_changed``; BudgetRefused
    ``below_committed`` when lowering it below what is granted and requested."""
    user = _user(session, actor)
    if user.role != Role.ADMIN:
        raise CaseworkError("not_allowed")
    if session.get(Wijk, wijk_code) is None:
        raise CaseworkError("unknown_wijk")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CaseworkError("unknown_year")
    if not 0 <= amount_cents <= AMOUNT_MAX_CENTS:
        raise CaseworkError("amount_invalid")
    text = _text(reason, "reason")
    if budget_for(session, wijk_code, year) is None:
        _create_budget(session, wijk_code, year)
    budget = _lock(session, _budget_id(session, wijk_code, year))
    now = totals(session, budget)
    previous = budget.amount_cents
    if amount_cents == previous:
        raise CaseworkError("nothing_changed")
    committed = now.granted_cents + now.requested_cents
    if amount_cents < previous and amount_cents < committed:
        raise BudgetRefused("below_committed", committed)
    budget.amount_cents = amount_cents
    change = BudgetChange(
        budget_id=budget.id,
        previous_cents=previous,
        amount_cents=amount_cents,
        reason=text,
        actor_id=actor.user_id,
        created_at=actor.now,
    )
    session.add(change)
    audit.record(
        session,
        "budget.set",
        actor_id=actor.user_id,
        wijk=wijk_code,
        year=year,
        previous_cents=previous,
        amount_cents=amount_cents,
    )
    session.flush()
    return change


def record_grant(
    session: Session,
    signal: Signal,
    *,
    amount_cents: int,
    purpose: str,
    decided_on: date,
    show_amount: bool,
    override_reason: str | None,
    actor: Actor,
    seen_version: int,
    threshold_cents: int,
) -> Grant:
    """Support for an initiative from its wijk's budget for the year of ``decided_on``;
    when the initiative's total in that budget (granted, corrections included, requested,
    and this one) goes above ``threshold_cents`` it is requested until a second person
    approves it. More than
    remains only by an admin, with ``override_reason``. CaseworkError: ``not_allowed``,
    ``not_an_initiative``, ``no_wijk``, ``initiative_declined``, ``amount_invalid``,
    ``purpose_required``, ``purpose_too_long``, ``date_in_future``, ``override_not_allowed``,
    ``override_too_long``, ``no_budget``; BudgetRefused ``over_budget``; StaleSignal."""
    user = _user(session, actor)
    if not may_grant(session, user, signal):
        raise CaseworkError("not_allowed")
    if signal.kind != Kind.INITIATIEF.value:
        raise CaseworkError("not_an_initiative")
    if signal.wijk_code is None:
        raise CaseworkError("no_wijk")
    if signal.status == Status.DECLINED.value:
        raise CaseworkError("initiative_declined")
    if not 0 < amount_cents <= AMOUNT_MAX_CENTS:
        raise CaseworkError("amount_invalid")
    text = _text(purpose, "purpose")
    if decided_on > local_date(actor.now):
        raise CaseworkError("date_in_future")
    override = _override(user, override_reason)
    found = budget_for(session, signal.wijk_code, decided_on.year)
    if found is None:
        raise CaseworkError("no_budget")
    budget = _lock(session, found.id)
    _fresh(session, signal)
    check_version(signal, seen_version)
    available = totals(session, budget).remaining_cents
    if amount_cents > available:
        if override is None:
            raise BudgetRefused("over_budget", available)
    else:
        override = None  # nothing was overridden
    running_total = initiative_total(session, budget, signal) + amount_cents
    grant = Grant(
        budget_id=budget.id,
        signal_id=signal.id,
        amount_cents=amount_cents,
        purpose=text,
        decided_on=decided_on,
        decided_by_id=actor.user_id,
        state=REQUESTED if running_total > threshold_cents else GRANTED,
        override_reason=override,
        show_amount=show_amount,
        created_at=actor.now,
    )
    session.add(grant)
    session.flush()
    add_event(session, signal, actor, "grant_recorded", public=False, message=text)
    _audit(session, "grant.recorded", grant, actor, override=override is not None)
    return grant


def review_grant(
    session: Session,
    grant: Grant,
    *,
    approve: bool,
    reason: str | None,
    override_reason: str | None,
    actor: Actor,
) -> Grant:
    """A second person approves a requested grant (it then counts as granted) or refuses it
    (``reason`` required). While the wijk is over its budget (after an admin's override
    elsewhere) only an admin approves, with ``override_reason``. An initiative declined
    meanwhile is not approved (refusing stays possible). CaseworkError: ``not_allowed``,
    ``not_requested``, ``own_grant``, ``initiative_declined``, ``reason_required``,
    ``reason_too_long``, ``override_not_allowed``; BudgetRefused ``over_budget``."""
    user = _user(session, actor)
    signal = _signal_of(session, user, grant)
    why = None if approve else _text(reason, "reason")
    override = _override(user, override_reason) if approve else None
    budget = _lock(session, grant.budget_id)
    _fresh(session, grant)
    _fresh(session, signal)
    if grant.state != REQUESTED:
        raise CaseworkError("not_requested")
    if user.id == grant.decided_by_id:
        raise CaseworkError("own_grant")
    if not may_review(user, grant):
        raise CaseworkError("not_allowed")
    message = why
    if approve:
        if signal.status == Status.DECLINED.value:
            raise CaseworkError("initiative_declined")
        available = totals(session, budget).remaining_cents  # this grant is held back in it
        if available < 0 and grant.override_reason is None:
            if override is None:
                raise BudgetRefused("over_budget", available + grant.amount_cents)
            grant.override_reason = message = override  # only when it was needed
        grant.state = GRANTED
    else:
        grant.state = GrantState.REFUSED.value
        grant.reason = why
    grant.reviewed_by_id = actor.user_id
    grant.reviewed_at = actor.now
    add_event(session, signal, actor, "grant_reviewed", public=False, message=message)
    _audit(session, "grant.approved" if approve else "grant.refused", grant, actor)
    return grant


def withdraw_grant(session: Session, grant: Grant, *, reason: str, actor: Actor) -> Grant:
    """The one who decided (or an admin) takes back a grant still waiting for approval; its
    money is free again. CaseworkError: ``not_allowed``, ``not_requested``,
    ``reason_required``, ``reason_too_long``."""
    user = _user(session, actor)
    signal = _signal_of(session, user, grant)
    text = _text(reason, "reason")
    _lock(session, grant.budget_id)
    _fresh(session, grant)
    _fresh(session, signal)
    if grant.state != REQUESTED:
        raise CaseworkError("not_requested")
    if not may_withdraw(user, grant):
        raise CaseworkError("not_allowed")
    grant.state = GrantState.WITHDRAWN.value
    grant.reason = text
    add_event(session, signal, actor, "grant_reviewed", public=False, message=text)
    _audit(session, "grant.withdrawn", grant, actor)
    return grant


def reverse_grant(
    session: Session, grant: Grant, *, amount_cents: int, reason: str, actor: Actor
) -> Grant:
    """Corrects a granted grant by (part of) its amount: a new entry with the negative
    amount pointing at it, dated today, in the same budget. Whoever may grant may correct.
    CaseworkError: ``not_allowed``, ``not_granted``, ``amount_invalid``, ``reason_required``,
    ``reason_too_long``; BudgetRefused ``more_than_left``."""
    user = _user(session, actor)
    signal = _signal_of(session, user, grant)
    if not may_grant(session, user, signal):
        raise CaseworkError("not_allowed")
    if amount_cents <= 0:
        raise CaseworkError("amount_invalid")
    text = _text(reason, "reason")
    budget = _lock(session, grant.budget_id)
    _fresh(session, grant)
    _fresh(session, signal)
    if grant.state != GRANTED or grant.reverses_id is not None:
        raise CaseworkError("not_granted")
    entry = next(e for e in entries(session, signal=signal) if e.grant.id == grant.id)
    if amount_cents > entry.left_cents:
        raise BudgetRefused("more_than_left", entry.left_cents)
    reversal = Grant(
        budget_id=budget.id,
        signal_id=signal.id,
        amount_cents=-amount_cents,
        purpose=grant.purpose,
        decided_on=local_date(actor.now),
        decided_by_id=actor.user_id,
        state=GRANTED,
        reason=text,
        reverses_id=grant.id,
        show_amount=grant.show_amount,
        created_at=actor.now,
    )
    session.add(reversal)
    session.flush()
    add_event(session, signal, actor, "grant_reversed", public=False, message=text)
    _audit(session, "grant.reversed", reversal, actor, reverses=grant.id)
    return reversal


# --- helpers ------------------------------------------------------------------------------


def _user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id)
    if user is None or not user.active:
        raise CaseworkError("not_allowed")
    return user


def _signal_of(session: Session, user: User, grant: Grant) -> Signal:
    signal = session.get(Signal, grant.signal_id) if grant.signal_id is not None else None
    if signal is None or user.role not in WORKERS:
        raise CaseworkError("not_allowed")
    if not visibility.can_open(session, user, signal):
        raise CaseworkError("not_allowed")
    return signal


def _text(value: str | None, name: str) -> str:
    text = (value or "").strip()
    if not text:
        raise CaseworkError(f"{name}_required")
    if len(text) > TEXT_MAX:
        raise CaseworkError(f"{name}_too_long")
    return text


def _override(user: User, reason: str | None) -> str | None:
    text = (reason or "").strip()
    if not text:
        return None
    if user.role != Role.ADMIN:
        raise CaseworkError("override_not_allowed")
    if len(text) > TEXT_MAX:
        raise CaseworkError("override_too_long")
    return text


def _budget_id(session: Session, wijk_code: str, year: int) -> int:
    found = session.scalar(
        select(WijkBudget.id).where(WijkBudget.wijk_code == wijk_code, WijkBudget.year == year)
    )
    assert found is not None
    return found


def _create_budget(session: Session, wijk_code: str, year: int) -> None:
    # Two admins setting a new wijk's first budget at once: the second one carries on with
    # the row the first one made. (No savepoints: pysqlite would commit early on RELEASE.)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(WijkBudget)
        .values(wijk_code=wijk_code, year=year, amount_cents=0, lock_version=0)
        .on_conflict_do_nothing()
    )


def _lock(session: Session, budget_id: int) -> WijkBudget:
    """The first write of every operation: from here on, other operations on this budget
    wait until this transaction ends; the budget as it is now."""
    session.execute(
        update(WijkBudget)
        .where(WijkBudget.id == budget_id)
        .values(lock_version=WijkBudget.lock_version + 1)
        .execution_options(synchronize_session=False)
    )
    budget = session.get(WijkBudget, budget_id, populate_existing=True)
    assert budget is not None
    return budget


def _fresh(session: Session, row: object) -> None:
    # Loaded before the lock: another operation may have changed it while we waited.
    session.refresh(row)


def _audit(session: Session, action: str, grant: Grant, actor: Actor, **details: object) -> None:
    audit.record(
        session,
        action,
        actor_id=actor.user_id,
        signal_id=grant.signal_id,
        grant_id=grant.id,
        budget_id=grant.budget_id,
        amount_cents=grant.amount_cents,
        state=grant.state,
        **details,
    )
