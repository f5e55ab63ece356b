"""A status change for all signals of a dossier at once: each open signal goes through
casework's own status change (timeline, audit, resident mail, followers), closed ones and
those already there are left alone, and it is all or nothing - a refusing signal, a hidden
one, or a colleague's write landing halfway leave every signal as it was. SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal.domain import casework, following, sensitive
from portal.domain.casework import Actor, CaseworkError
from portal.domain.dossiers import bulk, dossiers
from portal.domain.dossiers.bulk import SignalRefused
from portal.models import AuditRecord, Dossier, OutboxMessage, Signal, SignalEvent, User
from tests.factories import (
    ANNA,
    SANNE,
    SINT_VITUSBUURT,
    db_session,
    intake_settings,
    make_signal,
    user_id,
)

MESSAGE = "De handhavers komen vanaf volgende week elke avond langs."


def actor(app: Flask, email: str = SANNE) -> Actor:
    return Actor(user_id(app, email), datetime.now(UTC))


def signal_of(session: Session, reference: str) -> Signal:
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def dossier_of(session: Session, reference: str) -> Dossier:
    return session.scalars(select(Dossier).where(Dossier.reference == reference)).one()


def set_status(app: Flask, reference: str, status: str, message: str | None = None) -> None:
    with db_session(app) as session:
        signal = signal_of(session, reference)
        casework.change_status(
            session,
            signal,
            status,
            message=message,
            seen_version=signal.version,
            actor=actor(app),
            mail=intake_settings(app).mail,
        )
        session.commit()


@pytest.fixture
def setting(app: Flask) -> dict[str, str]:
    """Four Sint Vitusbuurt signals in one dossier: two new, one already planned, one resolved."""
    refs = {
        name: make_signal(app, buurt=SINT_VITUSBUURT, email=f"{name}@example.nl", title=name)[0]
        for name in ("eerste", "tweede", "ingepland", "opgelost")
    }
    set_status(app, refs["ingepland"], "planned")
    set_status(app, refs["opgelost"], "resolved", "Het is opgelost.")
    with db_session(app) as session:
        dossier = dossiers.create_dossier(
            session,
            title="Integrale handhaving Sint Vitusbuurt",
            description="",
            owner_id=user_id(app, SANNE),
            wijk_code="WK040201",
            actor=actor(app),
            reference_prefix="DOS",
        )
        for reference in refs.values():
            dossiers.add_signal(session, dossier, signal_of(session, reference), actor=actor(app))
        following.start_following(
            session,
            signal_of(session, refs["eerste"]),
            email="buurman@example.nl",
            locale="nl",
            mail=intake_settings(app).mail,
        )
        session.commit()
        refs["dossier"] = dossier.reference
    return refs


def seen_versions(session: Session, dossier: Dossier) -> dict[int, int]:
    """The versions of its signals as the page showed them."""
    return {
        s.id: s.version
        for s in session.scalars(select(Signal).where(Signal.dossier_id == dossier.id))
    }


def apply(app: Flask, session: Session, reference: str, target: str, **overrides):  # type: ignore[no-untyped-def]
    dossier = dossier_of(session, reference)
    arguments = {
        "message": MESSAGE,
        "seen_version": dossier.version,
        "seen_signal_versions": seen_versions(session, dossier),
        "actor": actor(app),
        "mail": intake_settings(app).mail,
        **overrides,
    }
    return bulk.apply_status(session, dossier, target, **arguments)


def state(app: Flask) -> dict[str, object]:
    """What a refused change must leave as it was."""
    with db_session(app) as session:
        return {
            "signals": sorted(
                session.execute(select(Signal.reference, Signal.status, Signal.version)).all()
            ),
            "events": session.scalar(select(func.count(SignalEvent.id))),
            "mail": session.scalar(select(func.count(OutboxMessage.id))),
            "audit": session.scalar(select(func.count(AuditRecord.id))),
        }


def test_each_open_signal_gets_the_status_through_casework(
    app: Flask, setting: dict[str, str]
) -> None:
    with db_session(app) as session:
        plan = apply(app, session, setting["dossier"], "planned")
        session.commit()
        assert [s.reference for s in plan.changing] == [setting["eerste"], setting["tweede"]]
        assert [s.reference for s in plan.already] == [setting["ingepland"]]
        assert [s.reference for s in plan.closed] == [setting["opgelost"]]
    with db_session(app) as session:
        statuses = {
            name: signal_of(session, setting[name]).status
            for name in ("eerste", "tweede", "ingepland", "opgelost")
        }
        assert statuses == {
            "eerste": "planned",
            "tweede": "planned",
            "ingepland": "planned",
            "opgelost": "resolved",
        }
        for name in ("eerste", "tweede"):
            signal = signal_of(session, setting[name])
            step = [e for e in signal.events if e.kind == "status_changed"][-1]
            assert (step.to_status, step.message, step.is_public) == ("planned", MESSAGE, True)
            mails = session.scalars(
                select(OutboxMessage.recipient).where(
                    OutboxMessage.signal_id == signal.id,
                    OutboxMessage.purpose == "public_status_changed",
                )
            ).all()
            assert mails == [f"{name}@example.nl"]
        # Audited each, the follower told, and the step on the dossier's timeline.
        changed = session.scalars(
            select(AuditRecord.signal_id).where(
                AuditRecord.action == "signal.status_changed",
                AuditRecord.details["to_status"].as_string() == "planned",
            )
        ).all()
        assert sorted(changed) == sorted(
            signal_of(session, setting[n]).id for n in ("eerste", "tweede", "ingepland")
        )
        follower_mail = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "follow_status")
        ).all()
        assert [m.recipient for m in follower_mail] == ["buurman@example.nl"]
        dossier = dossier_of(session, setting["dossier"])
        last = dossier.events[-1]
        assert (last.kind, last.to_status, last.message) == ("status_applied", "planned", MESSAGE)
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "dossier.status_applied")
        ).one()
        assert len(record.details["signal_ids"]) == 2 and len(record.details["closed"]) == 1


def stale_second(app: Flask, setting: dict[str, str]) -> Callable[[Session], object]:
    """A colleague answered the second resident after the page was loaded."""

    def run(session: Session) -> object:
        dossier = dossier_of(session, setting["dossier"])
        seen = seen_versions(session, dossier)
        with db_session(app) as colleague:
            signal = signal_of(colleague, setting["tweede"])
            casework.internal_note(
                colleague,
                signal,
                message="Gebeld.",
                seen_version=signal.version,
                actor=actor(app, ANNA),
            )
            colleague.commit()
        session.expire_all()
        return apply(app, session, setting["dossier"], "in_progress", seen_signal_versions=seen)

    return run


@pytest.mark.parametrize("case", ["transition", "stale", "hidden", "message"])
def test_one_refusal_changes_nothing_and_names_the_signal(
    app: Flask, setting: dict[str, str], case: str
) -> None:
    if case == "hidden":
        with db_session(app) as session:
            signal = signal_of(session, setting["tweede"])
            sensitive.mark(
                session, signal, reason="Zorgsignaal", seen_version=signal.version, actor=actor(app)
            )
            session.commit()
    operation = {
        # Crafted: no open signal may go back to "Heropend".
        "transition": lambda s: apply(app, s, setting["dossier"], "reopened"),
        "stale": stale_second(app, setting),
        # Anna may not open the sensitive one, so she may not change "all" of them.
        "hidden": lambda s: apply(
            app, s, setting["dossier"], "in_progress", actor=actor(app, ANNA)
        ),
        "message": lambda s: apply(app, s, setting["dossier"], "resolved", message=" "),
    }[case]
    with db_session(app) as session:
        before = None if case == "stale" else state(app)
        with pytest.raises(CaseworkError) as refused:
            operation(session)
        session.rollback()
    if before is None:  # the colleague's note is the only change
        before = state(app)
    assert state(app) == before
    error = refused.value
    if case == "transition":
        assert isinstance(error, SignalRefused)
        assert (error.reference, error.reason) == (setting["eerste"], "transition_not_allowed")
    elif case == "stale":
        assert isinstance(error, SignalRefused)
        assert (error.reference, error.reason) == (setting["tweede"], "stale")
    else:
        assert error.code == {"hidden": "hidden_signals", "message": "message_required"}[case]


def test_a_write_landing_halfway_rolls_every_signal_back(
    app: Flask, setting: dict[str, str]
) -> None:
    """The checks pass, the first signals change, then the last one's UPDATE finds a
    colleague's newer version: the caller's rollback undoes the ones before it too."""
    with db_session(app) as session:
        dossier = dossier_of(session, setting["dossier"])
        # Loaded as they are now, and held: the session keeps only what someone holds.
        loaded = list(session.scalars(select(Signal).where(Signal.dossier_id == dossier.id)))
        seen = {signal.id: signal.version for signal in loaded}
        with db_session(app) as colleague:
            signal = signal_of(colleague, setting["tweede"])
            casework.internal_note(
                colleague,
                signal,
                message="Gebeld.",
                seen_version=signal.version,
                actor=actor(app, ANNA),
            )
            colleague.commit()
        before = state(app)
        with pytest.raises(StaleDataError):
            apply(app, session, setting["dossier"], "in_progress", seen_signal_versions=seen)
        session.rollback()
    assert state(app) == before
    with db_session(app) as session:
        assert signal_of(session, setting["eerste"]).status == "received"


def test_nothing_to_change_and_a_stale_dossier_are_refused(
    app: Flask, setting: dict[str, str]
) -> None:
    set_status(app, setting["eerste"], "planned")
    set_status(app, setting["tweede"], "planned")
    with db_session(app) as session:
        with pytest.raises(CaseworkError) as refused:
            apply(app, session, setting["dossier"], "planned")
        assert refused.value.code == "nothing_to_change"
        dossier = dossier_of(session, setting["dossier"])
        with pytest.raises(CaseworkError) as refused:
            apply(app, session, setting["dossier"], "in_progress", seen_version=dossier.version - 1)
        assert refused.value.code == "stale"


def test_the_plan_and_the_targets_offered(app: Flask, setting: dict[str, str]) -> None:
    assert [s.value for s in bulk.bulk_targets()] == [
        "in_progress",
        "awaiting_resident",
        "forwarded",
        "planned",
        "resolved",
        "declined",
    ]
    with db_session(app) as session:
        dossier = dossier_of(session, setting["dossier"])
        plan, text = bulk.check_status(session, dossier, "declined", " Dubbel. ", actor(app))
        assert text == "Dubbel."
        assert (len(plan.changing), len(plan.already), len(plan.closed)) == (3, 0, 1)
        anna = session.get_one(User, user_id(app, ANNA))
        assert dossiers.membership(session, dossier, anna).hidden_count == 0
