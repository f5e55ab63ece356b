"""The participation ladder: an initiative moves between rungs with a reason, every step kept
(who, when, why), a knelpunt never has a rung, and a stale form changes nothing. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from portal.domain.casework import Actor, CaseworkError, StaleSignal
from portal.domain.initiatives import ladder
from portal.models import AuditRecord, Signal, SignalEvent
from portal.vocabulary import RUNG_LABELS, RUNG_MEANINGS, Kind, Rung
from tests.factories import ANNA, db_session, make_signal, user_id

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def signal_of(session, reference: str) -> Signal:
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def initiative(app: Flask) -> str:
    reference, _token = make_signal(
        app, kind=Kind.INITIATIEF, title="Kinderboerderij in de Meent", buurt=None
    )
    return reference


def test_every_rung_has_a_name_and_a_sentence_for_the_initiators() -> None:
    # Lowest first, as DOMAIN.md lists them.
    assert [r.value for r in Rung] == [
        "informeren",
        "raadplegen",
        "adviseren",
        "coproduceren",
        "meebeslissen",
        "zelf_organiseren",
    ]
    assert set(RUNG_LABELS) == set(RUNG_MEANINGS) == set(Rung)


def test_moves_are_kept_with_who_when_and_why(app: Flask) -> None:
    reference = initiative(app)
    anna = user_id(app, ANNA)
    with db_session(app) as session:
        signal = signal_of(session, reference)
        assert signal.participation_rung is None
        ladder.move(
            session,
            signal,
            "adviseren",
            reason="De bewoners adviseren over de plek.",
            actor=Actor(anna, START),
            seen_version=signal.version,
        )
        ladder.move(
            session,
            signal,
            "zelf_organiseren",
            reason="De vereniging draait de boerderij nu zelf.",
            actor=Actor(anna, START + timedelta(days=30)),
            seen_version=signal.version,
        )
        session.commit()
    with db_session(app) as session:
        signal = signal_of(session, reference)
        assert signal.participation_rung == "zelf_organiseren"
        steps = ladder.history(session, signal)
        assert [(s.from_rung, s.to_rung) for s in steps] == [
            (None, "adviseren"),
            ("adviseren", "zelf_organiseren"),
        ]
        assert [s.actor_id for s in steps] == [anna, anna]
        assert steps[1].reason == "De vereniging draait de boerderij nu zelf."
        assert steps[1].created_at == START + timedelta(days=30)
        # A staff-only timeline step and an audit record each time.
        events = session.scalars(
            select(SignalEvent).where(
                SignalEvent.signal_id == signal.id, SignalEvent.kind == "ladder_moved"
            )
        ).all()
        assert len(events) == 2 and not any(e.is_public for e in events)
        audits = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "signal.ladder_moved")
        ).all()
        assert len(audits) == 2


@pytest.mark.parametrize(
    ("rung", "reason", "code"),
    [
        ("adviseren", "  ", "reason_required"),
        ("adviseren", "x" * (ladder.REASON_MAX + 1), "reason_too_long"),
        ("bovenaan", "Omdat het kan.", "unknown_rung"),
    ],
)
def test_a_move_needs_a_known_rung_and_a_reason(app: Flask, rung: str, reason: str, code: str):
    reference = initiative(app)
    with db_session(app) as session:
        signal = signal_of(session, reference)
        with pytest.raises(CaseworkError) as raised:
            ladder.move(
                session,
                signal,
                rung,
                reason=reason,
                actor=Actor(user_id(app, ANNA), START),
                seen_version=signal.version,
            )
        assert raised.value.code == code
        assert signal.participation_rung is None and ladder.history(session, signal) == []


def test_a_knelpunt_has_no_rung_and_the_same_rung_twice_is_refused(app: Flask) -> None:
    knelpunt, _token = make_signal(app)
    reference = initiative(app)
    actor = Actor(user_id(app, ANNA), START)
    with db_session(app) as session:
        problem = signal_of(session, knelpunt)
        with pytest.raises(CaseworkError) as raised:
            ladder.move(
                session, problem, "adviseren", reason="r", actor=actor, seen_version=problem.version
            )
        assert raised.value.code == "not_an_initiative"
        signal = signal_of(session, reference)
        ladder.move(
            session, signal, "raadplegen", reason="r", actor=actor, seen_version=signal.version
        )
        with pytest.raises(CaseworkError) as again:
            ladder.move(
                session, signal, "raadplegen", reason="r", actor=actor, seen_version=signal.version
            )
        assert again.value.code == "same_rung"


def test_a_stale_form_changes_nothing(app: Flask) -> None:
    reference = initiative(app)
    with db_session(app) as session:
        signal = signal_of(session, reference)
        with pytest.raises(StaleSignal):
            ladder.move(
                session,
                signal,
                "adviseren",
                reason="Gezien op een oude pagina.",
                actor=Actor(user_id(app, ANNA), START),
                seen_version=signal.version - 1,
            )
        assert signal.participation_rung is None
