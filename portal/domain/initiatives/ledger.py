"""Reading the wijk budget ledger: the figures per budget (``totals``, summed by the
database, as the pages show them), the same figures added up again from the rows in plain
Python (``recompute``: the two must always agree), the grants of an initiative or a budget
with their reversals, and what the initiators see of them (``public_support``).

    remaining = budget - granted (reversals included) - requested"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.working_days import local_date
from portal.models import BudgetChange, Grant, Signal, WijkBudget
from portal.vocabulary import GrantState

GRANTED, REQUESTED = GrantState.GRANTED.value, GrantState.REQUESTED.value


@dataclass(frozen=True)
class Totals:
    budget_cents: int
    granted_cents: int  # reversals included (they are negative)
    requested_cents: int  # held back until approved, refused or withdrawn

    @property
    def remaining_cents(self) -> int:
        return self.budget_cents - self.granted_cents - self.requested_cents


@dataclass(frozen=True)
class GrantEntry:
    """A grant with the reversals of it, oldest first, and what is left of it."""

    grant: Grant
    reversals: list[Grant]

    @property
    def left_cents(self) -> int:
        if self.grant.state != GRANTED:
            return 0
        return self.grant.amount_cents + sum(r.amount_cents for r in self.reversals)


def budget_for(session: Session, wijk_code: str | None, year: int) -> WijkBudget | None:
    if wijk_code is None:
        return None
    return session.scalars(
        select(WijkBudget).where(WijkBudget.wijk_code == wijk_code, WijkBudget.year == year)
    ).first()


def totals(session: Session, budget: WijkBudget) -> Totals:
    """The figures the pages show, summed by the database."""
    sums = _sums(session, [budget.id]).get(budget.id, {})
    return Totals(budget.amount_cents, sums.get(GRANTED, 0), sums.get(REQUESTED, 0))


def initiative_total(session: Session, budget: WijkBudget, signal: Signal) -> int:
    """What one initiative has from one budget: granted (its corrections subtracted) and
    requested. The second person is needed when this total passes the threshold."""
    total = session.scalar(
        select(func.sum(Grant.amount_cents)).where(
            Grant.budget_id == budget.id,
            Grant.signal_id == signal.id,
            Grant.state.in_([GRANTED, REQUESTED]),
        )
    )
    return int(total or 0)


def totals_by_wijk(session: Session, year: int) -> dict[str, Totals]:
    """Every wijk with a budget for ``year``; one query for all sums."""
    budgets = list(session.scalars(select(WijkBudget).where(WijkBudget.year == year)))
    sums = _sums(session, [b.id for b in budgets])
    return {
        b.wijk_code: Totals(
            b.amount_cents, sums.get(b.id, {}).get(GRANTED, 0), sums.get(b.id, {}).get(REQUESTED, 0)
        )
        for b in budgets
    }


def recompute(session: Session, budget: WijkBudget) -> Totals:
    """The totals again from the rows themselves: the yearly amount is the last change, each
    grant counts by its state. Also checks the ledger's own rules; a broken one raises."""
    changes = list(
        session.scalars(
            select(BudgetChange)
            .where(BudgetChange.budget_id == budget.id)
            .order_by(BudgetChange.id)
        )
    )
    amount = 0
    for change in changes:
        if change.previous_cents != amount:
            raise AssertionError(f"budget change {change.id} does not follow the one before")
        amount = change.amount_cents
    if amount != budget.amount_cents:
        raise AssertionError(f"budget {budget.id} is not its last change")
    granted = requested = 0
    for entry in entries(session, budget=budget):
        grant = entry.grant
        granted += grant.amount_cents if grant.state == GRANTED else 0
        requested += grant.amount_cents if grant.state == REQUESTED else 0
        granted += sum(r.amount_cents for r in entry.reversals)
        if entry.reversals and (grant.state != GRANTED or entry.left_cents < 0):
            raise AssertionError(f"grant {grant.id} is reversed by more than was granted")
    return Totals(amount, granted, requested)


def entries(
    session: Session, *, signal: Signal | None = None, budget: WijkBudget | None = None
) -> list[GrantEntry]:
    """The grants (newest first) of one initiative or one budget, each with its reversals."""
    query = select(Grant).order_by(Grant.id)
    if signal is not None:
        query = query.where(Grant.signal_id == signal.id)
    if budget is not None:
        query = query.where(Grant.budget_id == budget.id)
    rows = list(session.scalars(query))
    reversals: dict[int, list[Grant]] = {}
    for row in rows:
        if row.reverses_id is not None:
            reversals.setdefault(row.reverses_id, []).append(row)
    found = [GrantEntry(g, reversals.get(g.id, [])) for g in rows if g.reverses_id is None]
    return found[::-1]


@dataclass(frozen=True)
class Support:
    """What the initiators see: support granted on a day, the amount only when shown."""

    granted_on: date
    amount_cents: int | None


def public_support(session: Session, signal: Signal) -> list[Support]:
    """Granted support that still stands (nothing requested, refused, withdrawn or wholly
    reversed), oldest first; the amount is what is left of it, and only where shown."""
    lines = []
    for entry in reversed(entries(session, signal=signal)):
        if entry.left_cents <= 0:
            continue
        grant = entry.grant
        day = local_date(grant.reviewed_at) if grant.reviewed_at else grant.decided_on
        lines.append(Support(day, entry.left_cents if grant.show_amount else None))
    return lines


def _sums(session: Session, budget_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    ids = list(budget_ids)
    if not ids:
        return {}
    result: dict[int, dict[str, int]] = {}
    for budget_id, state, total in session.execute(
        select(Grant.budget_id, Grant.state, func.sum(Grant.amount_cents))
        .where(Grant.budget_id.in_(ids), Grant.state.in_([GRANTED, REQUESTED]))
        .group_by(Grant.budget_id, Grant.state)
    ):
        result.setdefault(budget_id, {})[state] = int(total or 0)
    return result
