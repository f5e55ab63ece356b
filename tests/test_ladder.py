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


# --- the back office and the initiators' page -------------------------------------------------


def move_on_page(client, app: Flask, reference: str, rung: str, reason: str):  # type: ignore[no-untyped-def]
    from tests.test_backoffice_signal import page_url, token_for, version_of

    return client.post(
        f"{page_url(reference)}/participatieladder",
        data={
            "csrf_token": token_for(client, reference),
            "version": str(version_of(app, reference)),
            "rung": rung,
            "reason": reason,
        },
    )


def test_the_accountmanager_moves_it_and_the_initiators_see_what_it_means(app: Flask) -> None:
    from tests.test_backoffice_signal import logged_in, page_url

    reference, token = make_signal(app, kind=Kind.INITIATIEF, title="Kinderboerderij")
    anna = logged_in(app, ANNA)
    page = anna.get(page_url(reference)).get_data(as_text=True)
    assert "Participatieladder" in page and "nog niet gekozen" in page
    assert (
        move_on_page(anna, app, reference, "adviseren", "Advies over de plek.").status_code == 303
    )
    response = move_on_page(anna, app, reference, "zelf_organiseren", "Ze doen het nu zelf.")
    assert response.status_code == 303
    page = anna.get(page_url(reference)).get_data(as_text=True)
    assert "Van Adviseren naar Zelf organiseren" in page and "Ze doen het nu zelf." in page
    status = app.test_client().get(f"/status/{token}").get_data(as_text=True)
    assert "Uw rol" in status and "Zelf organiseren: U organiseert het zelf." in status
    assert "Ze doen het nu zelf." not in status  # the reason is for staff


def test_the_form_explains_what_is_missing_and_management_only_looks(app: Flask) -> None:
    from tests.factories import MANAGEMENT
    from tests.test_backoffice_signal import logged_in, page_url

    reference, _token = make_signal(app, kind=Kind.INITIATIEF, title="Kinderboerderij")
    anna = logged_in(app, ANNA)
    refused = move_on_page(anna, app, reference, "adviseren", "")
    assert refused.status_code == 422
    assert "Schrijf kort waarom het initiatief op deze trede staat." in refused.get_data(
        as_text=True
    )
    unknown = move_on_page(anna, app, reference, "bovenaan", "Omdat het kan.")
    assert unknown.status_code == 422
    assert "Kies een trede uit de lijst." in unknown.get_data(as_text=True)
    manager = logged_in(app, MANAGEMENT)
    assert "Trede wijzigen" not in manager.get(page_url(reference)).get_data(as_text=True)
    assert move_on_page(manager, app, reference, "adviseren", "Ik wil ook.").status_code == 403
    knelpunt, _token = make_signal(app)
    assert "Participatieladder" not in anna.get(page_url(knelpunt)).get_data(as_text=True)
