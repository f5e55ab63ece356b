"""Demo data for initiatives (``flask seed demo``): the letter's kinderboerderij in the
Hilversumse Meent on the rung "Adviseren", with a wijk budget of EUR 5,000 for this year set by
the demo admin; and Zuidwest's budget with one small grant to the demo's playground
initiative. Everything goes through the domain operations, and a second run adds nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.casework import Actor
from portal.domain.initiatives import budget, ladder, ledger
from portal.domain.intake import IntakeSettings, ReporterInput, Submission, submit_signal
from portal.domain.routing import LocationInput
from portal.domain.working_days import local_date
from portal.models import Grant, Signal, User
from portal.seeding import DEMO_ADMIN, demo_email
from portal.vocabulary import Kind, Rung, Theme

MEENT, ZUIDWEST = "WK040208", "WK040203"
KINDERBOERDERIJ = "Kinderboerderij in de Meent"
PLAYGROUND = "Samen de speeltuin opknappen"  # one of portal.seeding.DEMO_SIGNALS
# The config's default approval threshold; the demo's grant (EUR 250) is far below any.
THRESHOLD_CENTS = 100_000


def _user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.email == demo_email(name)))


def _initiative(session: Session, title: str) -> Signal | None:
    return session.scalars(
        select(Signal).where(Signal.kind == Kind.INITIATIEF.value, Signal.title == title)
    ).first()


def seed_demo_initiatives(session: Session, settings: IntakeSettings) -> int:
    """Returns how many things were added (budgets, initiative, ladder step, grant)."""
    admin, kees, anna = (_user(session, n) for n in (DEMO_ADMIN, "Kees Mulder", "Anna de Vries"))
    if admin is None or kees is None:
        return 0  # no demo staff (seed_demo_data did not run)
    year = local_date(settings.now).year
    by_admin = Actor(admin.id, settings.now)
    added = 0
    for wijk, cents, reason in (
        (MEENT, 500_000, f"Wijkbudget voor initiatieven {year}, uit de begroting."),
        (ZUIDWEST, 400_000, f"Wijkbudget voor initiatieven {year}, uit de begroting."),
    ):
        if ledger.budget_for(session, wijk, year) is None:
            budget.set_budget(session, wijk, year, cents, reason=reason, actor=by_admin)
            added += 1

    farm = _initiative(session, KINDERBOERDERIJ)
    if farm is None:
        farm = submit_signal(
            session,
            Submission(
                kind=Kind.INITIATIEF,
                themes=[Theme.SOCIAAL],
                title=KINDERBOERDERIJ,
                description=(
                    "Met een groep buren willen we een kleine kinderboerderij beginnen bij de "
                    "speeltuin in de Meent: een paar geiten, kippen en konijnen, verzorgd door "
                    "vrijwilligers en kinderen uit de wijk. We zoeken een plek, advies over de "
                    "vergunning en een bijdrage voor het hekwerk en het voer."
                ),
                location=LocationInput(wijk_code=MEENT),
                reporter=ReporterInput(
                    name="Fenna de Groot",
                    email="initiatiefnemers.kinderboerderij@example.org",
                    may_contact=True,
                ),
                submission_key="demo-initiative-kinderboerderij",
            ),
            settings,
        ).signal
        added += 1
    if farm.participation_rung is None:
        ladder.move(
            session,
            farm,
            Rung.ADVISEREN.value,
            reason=(
                "De initiatiefnemers adviseren ons over de plek en de opzet; wij zoeken de "
                "vergunning en het budget uit."
            ),
            actor=Actor(kees.id, settings.now),
            seen_version=farm.version,
        )
        added += 1

    playground = _initiative(session, PLAYGROUND)
    has_grant = playground is not None and session.scalar(
        select(Grant.id).where(Grant.signal_id == playground.id).limit(1)
    )
    if playground is not None and anna is not None and not has_grant:
        budget.record_grant(
            session,
            playground,
            amount_cents=25_000,
            purpose="Verf, kwasten en plantjes voor de opknapdag in de speeltuin.",
            decided_on=local_date(settings.now),
            show_amount=True,
            override_reason=None,
            actor=Actor(anna.id, settings.now),
            seen_version=playground.version,
            threshold_cents=THRESHOLD_CENTS,
        )
        added += 1
    session.flush()
    return added
