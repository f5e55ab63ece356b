"""Concurrent operations on one wijk budget cannot overspend it, and the interleaving is not
left to chance: operation A runs in its own thread up to (not including) its commit, so it
holds the budget's lock with its grant written; only then does B start in another thread,
and A commits only once B has reached the lock - or, were the lock gone, has read the figures
it decides on. With the lock, B waits for A's commit and then sees A's spend; without it, B
decides on figures without A's spend and each test that could overspend (or decide
twice) fails, every time. Each thread has its own app context, so its own session and
connection. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import event, select

from portal.domain.casework import CaseworkError
from portal.domain.initiatives import budget, ledger
from portal.domain.initiatives.budget import BudgetRefused
from portal.extensions import db
from portal.models import Grant, SignalEvent
from tests.factories import ADMIN, ANNA, db_session
from tests.test_budget import (
    KEES,
    MEENT,
    THRESHOLD,
    TODAY,
    YEAR,
    actor,
    figures,
    initiative,
    set_amount,
    signal_of,
)

WAIT = 30  # seconds; only reached when something is broken (then the test fails)
# How long A, holding the lock, gives B the chance to finish anyway. With the lock B cannot,
# however long this is; it only lets a broken lock show itself as a finished B.
HOLD = 0.3

# What B does for an operation: loads what a request would have loaded, then returns the
# operation itself (watched from the moment it is called).
Prepared = Callable[[], Callable[[], object]]


@dataclass
class Outcome:
    first: object  # the result of A, or the CaseworkError it raised
    second: object  # the same for B
    second_finished_while_first_held_the_lock: bool


def _reached(statement: str) -> tuple[bool, bool]:
    """(before, after): B is at the lock's UPDATE (it may block there), or has read grants
    (what a decision rests on: the budget's sums, the grant's state)."""
    text = " ".join(statement.split())
    return text.startswith("UPDATE wijk_budgets"), (
        text.startswith("SELECT") and " FROM grants " in f"{text} "
    )


@contextmanager
def _watching(app: Flask, reached: threading.Event) -> Iterator[threading.local]:
    """Sets ``reached`` when the watched thread's operation gets to the lock or its read."""
    armed = threading.local()

    def before(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if getattr(armed, "on", False) and _reached(statement)[0]:
            reached.set()

    def after(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if getattr(armed, "on", False) and _reached(statement)[1]:
            reached.set()

    engine = db.engine(app)
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield armed
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def interleave(app: Flask, first: Prepared, second: Prepared) -> Outcome:
    holding, reached, second_done = threading.Event(), threading.Event(), threading.Event()
    results: list[object] = [None, None]
    done_early: list[bool] = []
    crashes: list[BaseException] = []

    def run(index: int, prepared: Prepared, armed: threading.local) -> None:
        with app.app_context():
            try:
                if index == 1 and not holding.wait(WAIT):
                    raise AssertionError("A never got to hold the lock")
                operation = prepared()
                if index == 1:
                    armed.on = True
                try:
                    results[index] = operation()
                except CaseworkError as error:
                    results[index] = error
                    db.session.rollback()
                if index == 0:  # A: holding the lock now, uncommitted; B may start
                    holding.set()
                    if not reached.wait(WAIT):
                        raise AssertionError("B never reached the lock nor read the figures")
                    done_early.append(second_done.wait(HOLD))
                else:
                    second_done.set()
                db.session.commit()
            except BaseException as error:  # anything else fails the test below
                crashes.append(error)
                db.session.rollback()
            finally:
                holding.set()  # never leave the other thread waiting out its timeout
                reached.set()

    threads: list[threading.Thread] = []
    with _watching(app, reached) as armed:
        threads = [
            threading.Thread(target=run, args=(i, prepared, armed))
            for i, prepared in enumerate((first, second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=4 * WAIT)
    assert not any(t.is_alive() for t in threads), "a thread hangs"
    assert not crashes, crashes
    return Outcome(results[0], results[1], done_early == [True])


def granting(app: Flask, reference: str, cents: int, email: str) -> Prepared:
    def prepare() -> Callable[[], object]:
        # The signal and its version as the request's form showed them.
        signal = signal_of(db.session, reference)
        return lambda: budget.record_grant(
            db.session,
            signal,
            amount_cents=cents,
            purpose="Materiaal voor het hok",
            decided_on=TODAY,
            show_amount=False,
            override_reason=None,
            actor=actor(app, email),
            seen_version=signal.version,
            threshold_cents=THRESHOLD,
        )

    return prepare


def lowering(app: Flask, cents: int) -> Prepared:
    def prepare() -> Callable[[], object]:
        return lambda: budget.set_budget(
            db.session, MEENT, YEAR, cents, reason="Bezuiniging", actor=actor(app, ADMIN)
        )

    return prepare


def test_a_concurrent_grant_cannot_overspend(app: Flask) -> None:
    """EUR 5,000; A and B each grant EUR 3,000 to another initiative: B is refused."""
    set_amount(app, 500_000)
    first, second = initiative(app), initiative(app, title="Buurtmoestuin")
    outcome = interleave(
        app, granting(app, first, 300_000, KEES), granting(app, second, 300_000, ANNA)
    )
    assert isinstance(outcome.first, Grant), outcome
    assert not outcome.second_finished_while_first_held_the_lock  # B waited for A's commit
    refused = outcome.second
    assert isinstance(refused, BudgetRefused) and refused.code == "over_budget", outcome
    assert refused.available == 200_000  # B saw A's spend
    with db_session(app) as session:
        shown = figures(session)
        assert shown.requested_cents == 300_000  # above the threshold: held back
        assert shown.remaining_cents == 200_000
        assert len(session.scalars(select(Grant)).all()) == 1


def test_two_concurrent_grants_that_fit_both_go_through(app: Flask) -> None:
    """The lock serialises, it does not refuse: two grants that fit are both kept."""
    set_amount(app, 500_000)
    first, second = initiative(app), initiative(app, title="Buurtmoestuin")
    outcome = interleave(
        app, granting(app, first, 90_000, KEES), granting(app, second, 90_000, ANNA)
    )
    assert isinstance(outcome.first, Grant) and isinstance(outcome.second, Grant), outcome
    assert not outcome.second_finished_while_first_held_the_lock
    with db_session(app) as session:
        assert figures(session).granted_cents == 180_000


@pytest.mark.parametrize("grant_first", [True, False], ids=["grant-first", "lower-first"])
def test_a_grant_and_a_lowered_budget_cannot_both_win(app: Flask, grant_first: bool) -> None:
    """EUR 5,000 lowered to EUR 2,000 while EUR 3,000 is granted: whichever comes second
    is refused, with the figure that the first one left."""
    set_amount(app, 500_000)
    reference = initiative(app)
    grant_op, lower_op = granting(app, reference, 300_000, KEES), lowering(app, 200_000)
    if grant_first:
        outcome = interleave(app, grant_op, lower_op)
        refused, code, available = outcome.second, "below_committed", 300_000
    else:
        outcome = interleave(app, lower_op, grant_op)
        refused, code, available = outcome.second, "over_budget", 200_000
    assert not isinstance(outcome.first, CaseworkError), outcome
    assert not outcome.second_finished_while_first_held_the_lock
    assert isinstance(refused, BudgetRefused) and refused.code == code, outcome
    assert refused.available == available
    with db_session(app) as session:
        found = ledger.budget_for(session, MEENT, YEAR)
        assert found is not None
        assert ledger.totals(session, found).remaining_cents >= 0
        assert ledger.recompute(session, found) == ledger.totals(session, found)


def test_two_reviewers_at_once_decide_a_request_only_once(app: Flask) -> None:
    """One approves while the other refuses: the second finds it decided."""
    set_amount(app, 500_000)
    reference = initiative(app)
    with app.app_context():
        made = granting(app, reference, 150_000, KEES)()()
        db.session.commit()
        assert isinstance(made, Grant) and made.state == "requested"
        grant_id = made.id

    def deciding(email: str, approve: bool) -> Prepared:
        def prepare() -> Callable[[], object]:
            row = db.session.get(Grant, grant_id)  # as the grant's page loaded it
            return lambda: budget.review_grant(
                db.session,
                row,
                approve=approve,
                reason=None if approve else "Te duur",
                override_reason=None,
                actor=actor(app, email),
            )

        return prepare

    outcome = interleave(app, deciding(ANNA, True), deciding(ADMIN, False))
    assert isinstance(outcome.first, Grant) and outcome.first.state == "granted", outcome
    assert not outcome.second_finished_while_first_held_the_lock
    lost = outcome.second
    assert isinstance(lost, CaseworkError) and lost.code == "not_requested", outcome
    with db_session(app) as session:
        row = session.get(Grant, grant_id)
        assert row is not None and row.state == "granted"
        kinds = session.scalars(
            select(SignalEvent.kind).where(SignalEvent.signal_id == row.signal_id)
        ).all()
        assert kinds.count("grant_reviewed") == 1
        figures(session)  # still reconciles
