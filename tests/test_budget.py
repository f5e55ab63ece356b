"""The wijk budget ledger: typed amounts, yearly amounts set by an admin, grants (with the
second person above the threshold), withdrawals, corrections, admin overrides, what the
initiators see, and totals that always reconcile with the rows. SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import casework, sensitive
from portal.domain.casework import Actor, CaseworkError, StaleSignal
from portal.domain.initiatives import budget, ledger
from portal.domain.initiatives.budget import BudgetRefused
from portal.domain.initiatives.money import MoneyError, parse_amount
from portal.domain.working_days import local_date
from portal.models import AuditRecord, BudgetChange, Grant, Signal, SignalEvent, User, WijkBudget
from portal.seeding import demo_email
from portal.vocabulary import Kind, Status, Theme
from tests.factories import (
    ADMIN,
    ANNA,
    MANAGEMENT,
    SANNE,
    db_session,
    intake_settings,
    make_signal,
    user_id,
)

MEENT = "WK040208"
MEENT_BUURT = "BU04020801"
KEES = demo_email("Kees Mulder")
THRESHOLD = 100_000  # the config's default: EUR 1,000
NOW = datetime.now(UTC)
TODAY = local_date(NOW)
YEAR = TODAY.year


# --- helpers (also used by the view and concurrency tests) -----------------------------------


def initiative(app: Flask, title: str = "Kinderboerderij in de Meent", **kwargs: object) -> str:
    reference, _token = make_signal(
        app,
        kind=Kind.INITIATIEF,
        themes=(Theme.SOCIAAL,),
        title=title,
        description="Wij willen een kleine kinderboerderij beginnen bij de speeltuin.",
        buurt=MEENT_BUURT,
        **kwargs,  # type: ignore[arg-type]
    )
    return reference


def signal_of(session: Session, reference: str) -> Signal:
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def actor(app: Flask, email: str, now: datetime = NOW) -> Actor:
    return Actor(user_id(app, email), now)


def set_amount(app: Flask, cents: int, *, wijk: str = MEENT, year: int = YEAR) -> None:
    with db_session(app) as session:
        budget.set_budget(
            session,
            wijk,
            year,
            cents,
            reason="Vastgesteld door het college.",
            actor=actor(app, ADMIN),
        )
        session.commit()


def grant(
    session: Session,
    app: Flask,
    reference: str,
    cents: int,
    *,
    by: str = KEES,
    decided_on: date = TODAY,
    show_amount: bool = False,
    override: str | None = None,
    purpose: str = "Hekwerk en voer voor de dieren",
) -> Grant:
    signal = signal_of(session, reference)
    return budget.record_grant(
        session,
        signal,
        amount_cents=cents,
        purpose=purpose,
        decided_on=decided_on,
        show_amount=show_amount,
        override_reason=override,
        actor=actor(app, by),
        seen_version=signal.version,
        threshold_cents=THRESHOLD,
    )


def figures(session: Session, wijk: str = MEENT, year: int = YEAR) -> ledger.Totals:
    """The pages' figures, after checking they equal the sum of the rows."""
    found = ledger.budget_for(session, wijk, year)
    assert found is not None
    shown = ledger.totals(session, found)
    assert ledger.recompute(session, found) == shown
    return shown


def refused(operation, *args, **kwargs) -> CaseworkError:  # type: ignore[no-untyped-def]
    with pytest.raises(CaseworkError) as raised:
        operation(*args, **kwargs)
    return raised.value


# --- typed amounts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("750", 75_000),
        ("750,00", 75_000),
        ("1.250,50", 125_050),
        ("€ 750", 75_000),
        ("€750,-", 75_000),
        ("\u20ac\xa04.250,00", 425_000),  # as the page writes it, copied back
        ("1,250.50", 125_050),
        ("1.250", 125_000),
        ("12,5", 1_250),
        ("12,345", 1_234_500),  # three digits after the comma: thousands, not cents
        ("0,05", 5),
        (" 20 euro ", 2_000),
        ("EUR 750", 75_000),
        ("EUR750", 75_000),
        ("eur 1.250,50", 125_050),
        ("750 EUR", 75_000),
        ("0750", 75_000),  # a leading zero on a plain number changes nothing
        ("0" * 60 + "750", 75_000),  # ... nor do many
    ],
)
def test_typed_amounts_become_cents(typed: str, cents: int) -> None:
    assert parse_amount(typed) == cents


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "amount_required"),
        ("€ ", "amount_required"),
        ("veel", "amount_invalid"),
        ("1.250.50", "amount_invalid"),
        ("1.2345", "amount_invalid"),
        ("-50", "amount_not_positive"),
        ("0,00", "amount_not_positive"),
        ("10.000.000,01", "amount_too_large"),
        # More digits than any amount: refused before int() (which fails above 4300 digits).
        ("9" * 5000, "amount_too_large"),
        ("€ " + "9" * 40 + ",00", "amount_too_large"),
        ("9" * 12, "amount_too_large"),
        # More than two decimals is no amount in euros; a thousands group never starts with 0.
        ("0,001", "amount_invalid"),
        ("0.001", "amount_invalid"),
        ("0.750", "amount_invalid"),
        ("012.500", "amount_invalid"),
        ("1.250,505", "amount_invalid"),
        ("750,5050", "amount_invalid"),
        # Digits in other scripts look like numbers but are none we accept.
        ("١٢", "amount_invalid"),  # Arabic-Indic 12
        ("１２", "amount_invalid"),  # full-width 12
        ("1٢,50", "amount_invalid"),
        ("12,٥٠", "amount_invalid"),
        ("1" + " " * 5000 + "2", "amount_invalid"),
    ],
)
def test_what_is_no_amount_says_why(typed: str, code: str) -> None:
    with pytest.raises(MoneyError) as raised:
        parse_amount(typed)
    assert raised.value.code == code


def test_a_zero_budget_can_be_typed_where_allowed() -> None:
    assert parse_amount("0", allow_zero=True) == 0
    assert parse_amount("€ 0,00", allow_zero=True) == 0


# --- the yearly amount ----------------------------------------------------------------------


def test_only_an_admin_sets_a_budget_and_every_change_is_kept(app: Flask) -> None:
    with db_session(app) as session:
        error = refused(
            budget.set_budget, session, MEENT, YEAR, 500_000, reason="r", actor=actor(app, KEES)
        )
        assert error.code == "not_allowed"
        assert ledger.budget_for(session, MEENT, YEAR) is None
        assert (
            refused(
                budget.set_budget,
                session,
                MEENT,
                YEAR,
                500_000,
                reason=" ",
                actor=actor(app, ADMIN),
            ).code
            == "reason_required"
        )
    set_amount(app, 500_000)
    with db_session(app) as session:
        budget.set_budget(
            session,
            MEENT,
            YEAR,
            650_000,
            reason="Extra geld na de voorjaarsnota.",
            actor=actor(app, ADMIN),
        )
        session.commit()
    with db_session(app) as session:
        found = ledger.budget_for(session, MEENT, YEAR)
        assert found is not None and found.amount_cents == 650_000
        changes = session.scalars(select(BudgetChange).order_by(BudgetChange.id)).all()
        assert [(c.previous_cents, c.amount_cents) for c in changes] == [
            (0, 500_000),
            (500_000, 650_000),
        ]
        assert changes[1].reason == "Extra geld na de voorjaarsnota."
        assert changes[1].actor_id == user_id(app, ADMIN)
        assert figures(session).remaining_cents == 650_000
        same = refused(
            budget.set_budget, session, MEENT, YEAR, 650_000, reason="r", actor=actor(app, ADMIN)
        )
        assert same.code == "nothing_changed"
        audits = session.scalars(select(AuditRecord).where(AuditRecord.action == "budget.set"))
        assert [a.details["amount_cents"] for a in audits] == [500_000, 650_000]


def test_a_budget_cannot_be_lowered_below_what_is_granted_and_requested(app: Flask) -> None:
    set_amount(app, 500_000)
    first, second = initiative(app), initiative(app, title="Buurtmoestuin")
    with db_session(app) as session:
        grant(session, app, first, 75_000)
        grant(session, app, second, 150_000)  # above the threshold: requested, held back
        session.commit()
    with db_session(app) as session:
        error = refused(
            budget.set_budget,
            session,
            MEENT,
            YEAR,
            200_000,
            reason="Bezuiniging",
            actor=actor(app, ADMIN),
        )
        assert isinstance(error, BudgetRefused) and error.code == "below_committed"
        assert error.available == 225_000
    with db_session(app) as session:
        budget.set_budget(
            session, MEENT, YEAR, 225_000, reason="Bezuiniging", actor=actor(app, ADMIN)
        )
        session.commit()
        assert figures(session).remaining_cents == 0


# --- grants ---------------------------------------------------------------------------------


def test_a_grant_below_the_threshold_counts_at_once(app: Flask) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    with db_session(app) as session:
        made = grant(session, app, reference, 75_000, show_amount=True)
        session.commit()
        assert made.state == "granted" and made.decided_by_id == user_id(app, KEES)
        assert made.show_amount and made.decided_on == TODAY
        shown = figures(session)
        assert (shown.budget_cents, shown.granted_cents, shown.requested_cents) == (
            500_000,
            75_000,
            0,
        )
        assert shown.remaining_cents == 425_000
        signal = signal_of(session, reference)
        event = session.scalars(
            select(SignalEvent).where(
                SignalEvent.signal_id == signal.id, SignalEvent.kind == "grant_recorded"
            )
        ).one()
        assert not event.is_public
        # Only what the accountmanager typed: the page words the rest in the reader's language.
        assert event.message == "Hekwerk en voer voor de dieren"
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "grant.recorded")
        ).one()
        assert record.signal_id == signal.id and record.details["amount_cents"] == 75_000


def test_exactly_the_threshold_needs_no_second_person_one_cent_more_does(app: Flask) -> None:
    set_amount(app, 500_000)
    reference, other = initiative(app), initiative(app, title="Buurtmoestuin")
    with db_session(app) as session:
        assert grant(session, app, reference, THRESHOLD).state == "granted"
        assert grant(session, app, other, THRESHOLD + 1).state == "requested"
        session.commit()
        shown = figures(session)
        assert shown.requested_cents == THRESHOLD + 1
        assert shown.remaining_cents == 500_000 - 2 * THRESHOLD - 1


def test_splitting_an_amount_does_not_dodge_the_second_person(app: Flask) -> None:
    """The threshold counts the initiative's total in the budget: granted (less its
    corrections) and requested, plus the new grant; not the one grant on its own."""
    set_amount(app, 500_000)
    set_amount(app, 500_000, year=YEAR - 1)
    reference, other = initiative(app), initiative(app, title="Buurtmoestuin")
    with db_session(app) as session:
        first = grant(session, app, reference, 60_000)
        assert first.state == "granted"
        assert grant(session, app, reference, THRESHOLD - 60_000).state == "granted"  # exactly
        split = grant(session, app, reference, 1)
        assert split.state == "requested"
        # Another initiative and another year's budget have their own totals.
        assert grant(session, app, other, 90_000).state == "granted"
        last_year = date(YEAR - 1, 12, 20)
        assert grant(session, app, reference, 90_000, decided_on=last_year).state == "granted"
        # What is requested counts too: a second small grant waits as well.
        assert grant(session, app, reference, 1).state == "requested"
        # A correction lowers the total, a withdrawn request no longer counts.
        budget.reverse_grant(
            session, first, amount_cents=50_000, reason="r", actor=actor(app, KEES)
        )
        budget.withdraw_grant(session, split, reason="Dubbel", actor=actor(app, KEES))
        assert grant(session, app, reference, 49_999).state == "granted"  # 100_000 with the 1
        assert grant(session, app, reference, 1).state == "requested"
        session.commit()
        shown = figures(session)
        assert shown.requested_cents == 2


def test_what_a_grant_needs(app: Flask) -> None:
    reference = initiative(app)
    knelpunt, _token = make_signal(app, buurt=MEENT_BUURT)
    with db_session(app) as session:
        assert refused(grant, session, app, reference, 75_000).code == "no_budget"
    set_amount(app, 500_000)
    with db_session(app) as session:
        assert refused(grant, session, app, knelpunt, 75_000).code == "not_an_initiative"
        assert refused(grant, session, app, reference, 0).code == "amount_invalid"
        assert refused(grant, session, app, reference, 75_000, purpose=" ").code == (
            "purpose_required"
        )
        tomorrow = TODAY + timedelta(days=1)
        assert refused(grant, session, app, reference, 75_000, decided_on=tomorrow).code == (
            "date_in_future"
        )
        assert refused(grant, session, app, reference, 75_000, by=MANAGEMENT).code == (
            "not_allowed"
        )
        # Only an admin overrides; an accountmanager cannot even ask for it.
        assert refused(grant, session, app, reference, 75_000, override="Want").code == (
            "override_not_allowed"
        )
        assert figures(session).granted_cents == 0


def test_the_decision_date_chooses_the_year(app: Flask) -> None:
    set_amount(app, 300_000, year=YEAR - 1)
    set_amount(app, 500_000)
    reference = initiative(app)
    with db_session(app) as session:
        made = grant(session, app, reference, 50_000, decided_on=date(YEAR - 1, 12, 20))
        session.commit()
        assert figures(session, year=YEAR - 1).granted_cents == 50_000
        assert figures(session).granted_cents == 0
        found = session.get(WijkBudget, made.budget_id)
        assert found is not None and found.year == YEAR - 1


def test_a_grant_above_what_remains_is_refused_unless_an_admin_overrides(app: Flask) -> None:
    set_amount(app, 100_000)
    reference, other = initiative(app), initiative(app, title="Buurtmoestuin")
    with db_session(app) as session:
        grant(session, app, reference, 60_000)
        error = refused(grant, session, app, other, 50_000)
        assert isinstance(error, BudgetRefused) and error.code == "over_budget"
        assert error.available == 40_000
        made = grant(session, app, other, 50_000, by=ADMIN, override="Raadsbesluit 12")
        assert made.override_reason == "Raadsbesluit 12" and made.state == "granted"
        # Within the budget an override reason is not kept: nothing was overridden.
        session.commit()
        assert figures(session).remaining_cents == -10_000


def test_no_grant_on_an_initiative_the_user_cannot_open(app: Flask) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    with db_session(app) as session:
        signal = signal_of(session, reference)
        sensitive.mark(
            session,
            signal,
            reason="Gaat over een kwetsbaar gezin.",
            seen_version=signal.version,
            actor=actor(app, KEES),
        )
        session.commit()
    with db_session(app) as session:
        assert refused(grant, session, app, reference, 10_000, by=ANNA).code == "not_allowed"
        assert grant(session, app, reference, 10_000, by=KEES).state == "granted"


def test_a_stale_signal_is_not_granted(app: Flask) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    with db_session(app) as session:
        signal = signal_of(session, reference)
        with pytest.raises(StaleSignal):
            budget.record_grant(
                session,
                signal,
                amount_cents=10_000,
                purpose="Voer",
                decided_on=TODAY,
                show_amount=False,
                override_reason=None,
                actor=actor(app, KEES),
                seen_version=signal.version - 1,
                threshold_cents=THRESHOLD,
            )


# --- the second person ----------------------------------------------------------------------


def requested(app: Flask, cents: int = 150_000) -> tuple[str, int]:
    set_amount(app, 500_000)
    reference = initiative(app)
    with db_session(app) as session:
        made = grant(session, app, reference, cents)
        session.commit()
        assert made.state == "requested"
        return reference, made.id


def test_a_second_person_approves_never_the_one_who_decided(app: Flask) -> None:
    _reference, grant_id = requested(app)
    with db_session(app) as session:
        row = session.get(Grant, grant_id)
        kwargs = {"approve": True, "reason": None, "override_reason": None}
        assert refused(
            budget.review_grant, session, row, actor=actor(app, KEES), **kwargs
        ).code == ("own_grant")
        assert (
            refused(budget.review_grant, session, row, actor=actor(app, MANAGEMENT), **kwargs).code
            == "not_allowed"
        )
        budget.review_grant(session, row, actor=actor(app, ANNA), **kwargs)
        session.commit()
        assert row.state == "granted" and row.reviewed_by_id == user_id(app, ANNA)
        assert row.reviewed_at is not None
        shown = figures(session)
        assert (shown.granted_cents, shown.requested_cents) == (150_000, 0)
        again = refused(budget.review_grant, session, row, actor=actor(app, SANNE), **kwargs)
        assert again.code == "not_requested"
        kinds = session.scalars(
            select(SignalEvent.kind).where(SignalEvent.signal_id == row.signal_id)
        ).all()
        assert kinds.count("grant_reviewed") == 1


def decline(app: Flask, reference: str) -> None:
    """The initiative is not taken on (the status change staff make, with its mail)."""
    with db_session(app) as session:
        signal = signal_of(session, reference)
        casework.change_status(
            session,
            signal,
            Status.DECLINED.value,
            message="Dit past niet bij wat de gemeente kan steunen.",
            seen_version=signal.version,
            actor=actor(app, KEES),
            mail=intake_settings(app).mail,
        )
        session.commit()


def test_a_request_for_an_initiative_declined_meanwhile_is_not_approved(app: Flask) -> None:
    reference, grant_id = requested(app)
    decline(app, reference)
    with db_session(app) as session:
        row = session.get(Grant, grant_id)
        assert row is not None
        error = refused(
            budget.review_grant,
            session,
            row,
            approve=True,
            reason=None,
            override_reason=None,
            actor=actor(app, ANNA),
        )
        assert error.code == "initiative_declined"
        session.rollback()
        assert row.state == "requested" and figures(session).granted_cents == 0
        signal = signal_of(session, reference)
        assert not budget.may_approve(session.get(User, user_id(app, ANNA)), row, signal)
        # Refusing it (or the decider withdrawing it) frees the money.
        budget.review_grant(
            session,
            row,
            approve=False,
            reason="Het initiatief gaat niet door.",
            override_reason=None,
            actor=actor(app, ANNA),
        )
        session.commit()
        assert row.state == "refused" and figures(session).remaining_cents == 500_000
    other = initiative(app, title="Buurtmoestuin")
    with db_session(app) as session:
        withdrawn = grant(session, app, other, 150_000)
        session.commit()
    decline(app, other)
    with db_session(app) as session:
        row = session.get(Grant, withdrawn.id)
        budget.withdraw_grant(session, row, reason="Gaat niet door.", actor=actor(app, KEES))
        session.commit()
        assert row.state == "withdrawn"


def test_the_timeline_keeps_only_what_people_typed(app: Flask) -> None:
    """No Dutch sentence of ours in a stored step (it could not be translated): the purpose
    or the reason, or nothing when nobody typed anything."""
    set_amount(app, 200_000)
    farm, bench, garden = (initiative(app, title=t) for t in ("Boerderij", "Bankje", "Tuin"))
    with db_session(app) as session:
        waiting = grant(session, app, farm, 150_000)  # requested
        grant(session, app, bench, 100_000, by=ADMIN, override="Raadsbesluit 12")
        budget.review_grant(  # over budget now: only with the admin's reason
            session,
            waiting,
            approve=True,
            reason=None,
            override_reason="Ook goedgekeurd door de wethouder.",
            actor=actor(app, ADMIN),
        )
        budget.set_budget(session, MEENT, YEAR, 900_000, reason="Meer", actor=actor(app, ADMIN))
        small = grant(session, app, garden, 10_000)
        approved, refusal, withdrawn = (
            grant(session, app, farm, cents, by=ANNA) for cents in (20_000, 30_000, 40_000)
        )
        no_reason = {"reason": None, "override_reason": None}
        budget.review_grant(session, approved, approve=True, actor=actor(app, KEES), **no_reason)
        budget.review_grant(
            session,
            refusal,
            approve=False,
            reason="Te duur.",
            override_reason=None,
            actor=actor(app, KEES),
        )
        budget.withdraw_grant(session, withdrawn, reason="Dubbel.", actor=actor(app, ANNA))
        budget.reverse_grant(
            session, small, amount_cents=5_000, reason="Minder nodig.", actor=actor(app, KEES)
        )
        session.commit()
        steps = session.execute(
            select(SignalEvent.kind, SignalEvent.message)
            .where(SignalEvent.kind.like("grant_%"))
            .order_by(SignalEvent.id)
        ).all()
    purpose = "Hekwerk en voer voor de dieren"
    assert [tuple(step) for step in steps] == [
        ("grant_recorded", purpose),
        ("grant_recorded", purpose),  # the admin's override shows on the grant itself
        ("grant_reviewed", "Ook goedgekeurd door de wethouder."),
        ("grant_recorded", purpose),
        ("grant_recorded", purpose),
        ("grant_recorded", purpose),
        ("grant_recorded", purpose),
        ("grant_reviewed", None),  # approved: nothing typed
        ("grant_reviewed", "Te duur."),
        ("grant_reviewed", "Dubbel."),
        ("grant_reversed", "Minder nodig."),
    ]


def test_a_refusal_needs_a_reason_and_frees_the_money(app: Flask) -> None:
    _reference, grant_id = requested(app)
    with db_session(app) as session:
        row = session.get(Grant, grant_id)
        no_reason = refused(
            budget.review_grant,
            session,
            row,
            approve=False,
            reason="",
            override_reason=None,
            actor=actor(app, ADMIN),
        )
        assert no_reason.code == "reason_required"
        budget.review_grant(
            session,
            row,
            approve=False,
            reason="Past niet in het beleid.",
            override_reason=None,
            actor=actor(app, ADMIN),
        )
        session.commit()
        assert row.state == "refused" and row.reason == "Past niet in het beleid."
        assert figures(session).remaining_cents == 500_000


def test_the_decider_or_an_admin_withdraws_a_request(app: Flask) -> None:
    _reference, grant_id = requested(app)
    with db_session(app) as session:
        row = session.get(Grant, grant_id)
        assert (
            refused(budget.withdraw_grant, session, row, reason="Nee", actor=actor(app, ANNA)).code
            == "not_allowed"
        )
        budget.withdraw_grant(session, row, reason="Dubbel ingevoerd.", actor=actor(app, KEES))
        session.commit()
        assert row.state == "withdrawn" and row.reason == "Dubbel ingevoerd."
        assert figures(session).remaining_cents == 500_000
        assert (
            refused(
                budget.withdraw_grant, session, row, reason="Nog eens", actor=actor(app, ADMIN)
            ).code
            == "not_requested"
        )


def test_while_over_budget_only_an_admin_approves(app: Flask) -> None:
    reference, grant_id = requested(app, 300_000)
    with db_session(app) as session:
        grant(session, app, reference, 300_000, by=ADMIN, override="Raadsbesluit 12")
        session.commit()
        assert figures(session).remaining_cents == -100_000
        row = session.get(Grant, grant_id)
        kwargs = {"approve": True, "reason": None}
        error = refused(
            budget.review_grant,
            session,
            row,
            override_reason=None,
            actor=actor(app, ANNA),
            **kwargs,
        )
        assert isinstance(error, BudgetRefused) and error.code == "over_budget"
    with db_session(app) as session:
        row = session.get(Grant, grant_id)
        budget.review_grant(
            session,
            row,
            override_reason="Ook goedgekeurd door de wethouder.",
            actor=actor(app, ADMIN),
            **kwargs,
        )
        session.commit()
        assert (
            row.state == "granted" and row.override_reason == "Ook goedgekeurd door de wethouder."
        )


# --- corrections ----------------------------------------------------------------------------


def test_a_correction_reverses_at_most_what_is_left(app: Flask) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    with db_session(app) as session:
        original = grant(session, app, reference, 75_000)
        first = budget.reverse_grant(
            session,
            original,
            amount_cents=25_000,
            reason="Minder voer nodig.",
            actor=actor(app, KEES),
        )
        assert first.amount_cents == -25_000 and first.reverses_id == original.id
        assert first.state == "granted" and first.budget_id == original.budget_id
        too_much = refused(
            budget.reverse_grant,
            session,
            original,
            amount_cents=50_001,
            reason="r",
            actor=actor(app, ADMIN),
        )
        assert isinstance(too_much, BudgetRefused) and too_much.available == 50_000
        # A correction is not itself corrected.
        assert (
            refused(
                budget.reverse_grant,
                session,
                first,
                amount_cents=1,
                reason="r",
                actor=actor(app, KEES),
            ).code
            == "not_granted"
        )
        budget.reverse_grant(
            session, original, amount_cents=50_000, reason="Gaat niet door.", actor=actor(app, ANNA)
        )
        session.commit()
        shown = figures(session)
        assert shown.granted_cents == 0 and shown.remaining_cents == 500_000
        entry = ledger.entries(session, signal=signal_of(session, reference))[0]
        assert entry.left_cents == 0 and len(entry.reversals) == 2
        kinds = session.scalars(select(SignalEvent.kind)).all()
        assert kinds.count("grant_reversed") == 2


def test_a_request_is_withdrawn_not_corrected(app: Flask) -> None:
    _reference, grant_id = requested(app)
    with db_session(app) as session:
        row = session.get(Grant, grant_id)
        assert (
            refused(
                budget.reverse_grant,
                session,
                row,
                amount_cents=1,
                reason="r",
                actor=actor(app, KEES),
            ).code
            == "not_granted"
        )


# --- what the initiators see ----------------------------------------------------------------


def test_the_initiators_see_standing_support_and_the_amount_only_when_shown(app: Flask) -> None:
    set_amount(app, 900_000)
    shown, hidden, nothing = initiative(app), initiative(app, title="B"), initiative(app, title="C")
    with db_session(app) as session:
        kept = grant(session, app, shown, 75_000, show_amount=True)
        budget.reverse_grant(session, kept, amount_cents=25_000, reason="r", actor=actor(app, KEES))
        grant(session, app, hidden, 20_000, decided_on=TODAY - timedelta(days=2))
        gone = grant(session, app, nothing, 30_000, show_amount=True)
        budget.reverse_grant(session, gone, amount_cents=30_000, reason="r", actor=actor(app, KEES))
        waiting = grant(session, app, nothing, 200_000, show_amount=True)
        no = grant(session, app, nothing, 150_000, show_amount=True)
        budget.review_grant(
            session, no, approve=False, reason="Nee", override_reason=None, actor=actor(app, ANNA)
        )
        session.commit()
        assert waiting.state == "requested"
        assert ledger.public_support(session, signal_of(session, shown)) == [
            ledger.Support(TODAY, 50_000)
        ]
        assert ledger.public_support(session, signal_of(session, hidden)) == [
            ledger.Support(TODAY - timedelta(days=2), None)
        ]
        assert ledger.public_support(session, signal_of(session, nothing)) == []
        # Approved later: the day it was approved is the day support was granted.
        budget.review_grant(
            session,
            waiting,
            approve=True,
            reason=None,
            override_reason=None,
            actor=Actor(user_id(app, ANNA), NOW + timedelta(days=3)),
        )
        session.commit()
        assert ledger.public_support(session, signal_of(session, nothing)) == [
            ledger.Support(local_date(NOW + timedelta(days=3)), 200_000)
        ]


# --- reconciliation -------------------------------------------------------------------------


def test_every_total_reconciles_with_the_rows_whatever_happens(app: Flask) -> None:
    """A long random run of every operation (allowed or refused); after each step the pages'
    figures equal the rows added up, and without overrides nothing is ever overspent."""
    set_amount(app, 1_000_000)
    references = [initiative(app, title=f"Initiatief {i}") for i in range(3)]
    people = [KEES, ANNA, ADMIN]
    rng = random.Random(20261201)
    outcomes: dict[str, int] = {}
    with db_session(app) as session:
        for _step in range(60):
            kind = rng.choice(["grant", "review", "withdraw", "reverse", "budget"])
            by = rng.choice(people)
            rows = session.scalars(select(Grant)).all()
            try:
                if kind == "grant" or not rows:
                    grant(session, app, rng.choice(references), rng.randint(1, 250_000), by=by)
                elif kind == "budget":
                    budget.set_budget(
                        session,
                        MEENT,
                        YEAR,
                        rng.randint(0, 1_500_000),
                        reason="r",
                        actor=actor(app, ADMIN),
                    )
                else:
                    row = rng.choice(rows)
                    if kind == "review":
                        budget.review_grant(
                            session,
                            row,
                            approve=rng.random() < 0.7,
                            reason="r",
                            override_reason=None,
                            actor=actor(app, by),
                        )
                    elif kind == "withdraw":
                        budget.withdraw_grant(session, row, reason="r", actor=actor(app, by))
                    else:
                        budget.reverse_grant(
                            session,
                            row,
                            amount_cents=rng.randint(1, 100_000),
                            reason="r",
                            actor=actor(app, by),
                        )
                session.commit()
                outcomes[kind] = outcomes.get(kind, 0) + 1
            except CaseworkError:
                session.rollback()
                outcomes["refused"] = outcomes.get("refused", 0) + 1
            assert figures(session).remaining_cents >= 0
    assert outcomes.get("refused", 0) > 0 and outcomes.get("grant", 0) > 3, outcomes
