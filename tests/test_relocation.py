"""Staff correct a signal's place and its public title (portal/domain/relocation.py), on
SQLite and PostgreSQL: a point decides buurt and wijk, a point outside Hilversum is refused, a
buurt alone keeps the point only where it fits, a move to another wijk is not re-routed, and
every step is on the staff timeline only and in the audit log."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from portal.domain import casework, relocation
from portal.domain.casework import Actor, CaseworkError, StaleSignal
from portal.domain.geography import default_geography
from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.routing import LocationInput
from portal.models import AuditRecord, Signal, SignalEvent
from portal.vocabulary import Kind, Theme
from tests.factories import ANNA, KERKELANDEN, MANAGEMENT, db_session, intake_settings, user_id

ZEVERIJN = "BU04020303"  # also wijk Zuidwest
HAVENKWARTIER = "BU04020301"  # also wijk Zuidwest
SINT_VITUSBUURT = "BU04020103"  # wijk Centrum
IN_KERKELANDEN = (5.140466, 52.215599)  # (lon, lat)
IN_ZEVERIJN = (5.151241, 52.216462)
IN_SINT_VITUSBUURT = (5.181514, 52.222504)
AMSTERDAM = (4.8952, 52.3702)


def submit(
    app: Flask,
    *,
    point: tuple[float, float] | None = None,
    buurt: str | None = None,
    title: str = "Afval bij de glasbak",
) -> str:
    """A signal through the intake operation, with a pin or a buurt (or neither)."""
    lon, lat = point if point is not None else (None, None)
    with db_session(app) as session:
        result = submit_signal(
            session,
            Submission(
                kind=Kind.KNELPUNT,
                themes=[Theme.SCHOON],
                title=title,
                description="Er ligt al dagen afval naast de glasbak.",
                location=LocationInput(lon=lon, lat=lat, buurt_code=buurt),
                reporter=ReporterInput(name="Jan Jansen", email=None),
            ),
            replace(intake_settings(app), now=datetime.now(UTC)),
        )
        session.commit()
        return result.signal.reference


def actor_for(app: Flask, email: str = ANNA) -> Actor:
    return Actor(user_id=user_id(app, email), now=datetime.now(UTC))


def correct(app: Flask, reference: str, *, email: str = ANNA, **where: object):  # type: ignore[no-untyped-def]
    """correct_location in its own transaction; returns (wijk changed, wijk code)."""
    lon, lat = where.pop("point", (None, None))  # type: ignore[misc]
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        moved = relocation.correct_location(
            session,
            signal,
            actor=actor_for(app, email),
            lon=lon,  # type: ignore[arg-type]
            lat=lat,  # type: ignore[arg-type]
            buurt_code=where.pop("buurt", None),  # type: ignore[arg-type]
            geography=default_geography(),
            seen_version=where.pop("seen_version", signal.version),  # type: ignore[arg-type]
        )
        session.commit()
        return moved.wijk_changed, moved.wijk.code if moved.wijk else None


def refused(app: Flask, reference: str, **where: object) -> str:
    with pytest.raises(CaseworkError) as raised:
        correct(app, reference, **where)
    return raised.value.code


def state(app: Flask, reference: str) -> dict[str, object]:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        return {
            "lon": signal.lon,
            "lat": signal.lat,
            "buurt": signal.buurt_code,
            "wijk": signal.wijk_code,
            "source": signal.location_source,
            "flagged": signal.location_flagged,
            "owner_id": signal.owner_id,
            "version": signal.version,
            "public_title": signal.public_title,
        }


def events(app: Flask, reference: str, kind: str) -> list[SignalEvent]:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        found = list(
            session.scalars(
                select(SignalEvent).where(
                    SignalEvent.signal_id == signal.id, SignalEvent.kind == kind
                )
            )
        )
        session.expunge_all()
        return found


def audits(app: Flask, reference: str, action: str) -> list[dict]:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        return [
            {"actor_id": a.actor_id, **a.details}
            for a in session.scalars(
                select(AuditRecord)
                .where(AuditRecord.signal_id == signal.id, AuditRecord.action == action)
                .order_by(AuditRecord.id)
            )
        ]


# --- the place ------------------------------------------------------------------------------


def test_a_point_decides_the_buurt_and_wijk_and_leaves_a_staff_note_and_an_audit(app):
    reference = submit(app, point=IN_KERKELANDEN)
    before = state(app, reference)
    assert before["buurt"] == KERKELANDEN and before["source"] == "pin"

    wijk_changed, wijk = correct(app, reference, point=IN_ZEVERIJN)

    after = state(app, reference)
    assert (after["lon"], after["lat"]) == IN_ZEVERIJN
    assert after["buurt"] == ZEVERIJN and after["wijk"] == wijk == "WK040203"
    assert not wijk_changed
    assert after["source"] == relocation.STAFF_PIN
    assert after["version"] == before["version"] + 1
    [event] = events(app, reference, relocation.LOCATION_CORRECTED)
    assert not event.is_public  # never on the resident's status page
    assert event.author_id == user_id(app, ANNA)
    assert event.message == (
        "Kerkelanden (Zuidwest), 52.215599, 5.140466 → Zeverijn (Zuidwest), 52.216462, 5.151241"
    )
    [record] = audits(app, reference, "signal.location_corrected")
    assert record["actor_id"] == user_id(app, ANNA)
    assert record["before"]["buurt"] == KERKELANDEN and record["before"]["source"] == "pin"
    assert record["after"] == {
        "lon": IN_ZEVERIJN[0],
        "lat": IN_ZEVERIJN[1],
        "buurt": ZEVERIJN,
        "wijk": "WK040203",
        "source": relocation.STAFF_PIN,
        "flagged": False,
    }


def test_a_point_outside_hilversum_is_refused_and_nothing_changes(app):
    reference = submit(app, point=IN_KERKELANDEN)
    before = state(app, reference)
    assert refused(app, reference, point=AMSTERDAM) == "outside_hilversum"
    assert refused(app, reference, point=(5.14, float("nan"))) == "point_invalid"
    assert refused(app, reference, point=(5.14, 95.0)) == "point_invalid"
    assert refused(app, reference, point=(5.14, None)) == "point_incomplete"
    assert state(app, reference) == before
    assert events(app, reference, relocation.LOCATION_CORRECTED) == []


def test_a_buurt_alone_clears_a_point_that_lies_elsewhere(app):
    reference = submit(app, point=IN_KERKELANDEN)
    correct(app, reference, buurt=HAVENKWARTIER)
    after = state(app, reference)
    assert after["buurt"] == HAVENKWARTIER and after["wijk"] == "WK040203"
    assert after["lon"] is None and after["lat"] is None
    assert after["source"] == relocation.STAFF_BUURT
    [event] = events(app, reference, relocation.LOCATION_CORRECTED)
    assert event.message == (
        "Kerkelanden (Zuidwest), 52.215599, 5.140466 → Havenkwartier (Zuidwest)"
    )


def test_a_buurt_alone_keeps_a_point_that_lies_in_it(app):
    # A pin in Zeverijn, then moved to Kerkelanden by "Verplaatsen" (which keeps the pin):
    # choosing Zeverijn again keeps that pin.
    reference = submit(app, point=IN_ZEVERIJN)
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        casework.reassign(
            session,
            signal,
            wijk_code=None,
            buurt_code=KERKELANDEN,
            owner_id=None,
            reason="Volgens de melder is het bij de Kerkelandenlaan.",
            seen_version=signal.version,
            actor=actor_for(app),
            mail=intake_settings(app).mail,
        )
        session.commit()
    assert state(app, reference)["buurt"] == KERKELANDEN

    correct(app, reference, buurt=ZEVERIJN.lower())  # a code as typed is fine

    after = state(app, reference)
    assert after["buurt"] == ZEVERIJN
    assert (after["lon"], after["lat"]) == IN_ZEVERIJN
    assert after["source"] == relocation.STAFF_PIN
    assert refused(app, reference, buurt=ZEVERIJN) == "nothing_changed"


def test_a_point_and_a_buurt_that_disagree_are_refused(app):
    reference = submit(app, buurt=KERKELANDEN)
    assert refused(app, reference, point=IN_ZEVERIJN, buurt=HAVENKWARTIER) == "point_not_in_buurt"
    assert refused(app, reference, buurt="BU99999999") == "unknown_buurt"
    assert refused(app, reference) == "location_required"
    assert refused(app, reference, buurt=KERKELANDEN) == "nothing_changed"
    assert state(app, reference)["source"] == "buurt"


def test_another_wijk_is_not_re_routed(app):
    reference = submit(app, point=IN_KERKELANDEN)
    owner = state(app, reference)["owner_id"]
    assert owner == user_id(app, ANNA)  # routed to Zuidwest's accountmanager on intake

    wijk_changed, wijk = correct(app, reference, point=IN_SINT_VITUSBUURT)

    after = state(app, reference)
    assert wijk_changed and wijk == "WK040201"
    assert after["buurt"] == SINT_VITUSBUURT and after["wijk"] == "WK040201"
    assert after["owner_id"] == owner  # handing it over is a person's decision
    [event] = events(app, reference, relocation.LOCATION_CORRECTED)
    assert "→ Sint Vitusbuurt (Centrum)" in (event.message or "")


def test_a_signal_without_a_place_is_placed_and_no_longer_flagged(app):
    reference = submit(app)
    before = state(app, reference)
    assert before["flagged"] and before["wijk"] is None
    correct(app, reference, buurt=KERKELANDEN)
    after = state(app, reference)
    assert not after["flagged"]
    assert after["buurt"] == KERKELANDEN and after["wijk"] == "WK040203"
    [event] = events(app, reference, relocation.LOCATION_CORRECTED)
    assert event.message == "— → Kerkelanden (Zuidwest)"


def test_a_stale_form_and_management_are_refused(app):
    reference = submit(app, point=IN_KERKELANDEN)
    version = state(app, reference)["version"]
    with pytest.raises(StaleSignal):
        correct(app, reference, point=IN_ZEVERIJN, seen_version=version - 1)
    assert refused(app, reference, point=IN_ZEVERIJN, email=MANAGEMENT) == "not_allowed"
    assert state(app, reference)["buurt"] == KERKELANDEN


# --- the public title -----------------------------------------------------------------------


def set_title(app: Flask, reference: str, title: str | None, *, email: str = ANNA) -> None:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        relocation.set_public_title(
            session,
            signal,
            title=title,
            seen_version=signal.version,
            actor=actor_for(app, email),
        )
        session.commit()


def test_the_public_title_is_set_cleaned_and_cleared_with_staff_notes(app):
    reference = submit(app, point=IN_KERKELANDEN, title="Afval bij nummer 12 van Jansen")
    assert state(app, reference)["public_title"] == "Afval bij nummer 12 van Jansen"

    set_title(app, reference, "  Afval naast   de glasbak ")
    assert state(app, reference)["public_title"] == "Afval naast de glasbak"
    set_title(app, reference, "")
    assert state(app, reference)["public_title"] is None

    notes = events(app, reference, relocation.PUBLIC_TITLE_SET)
    assert [e.message for e in notes] == [
        "Afval bij nummer 12 van Jansen → Afval naast de glasbak",
        "Afval naast de glasbak → —",
    ]
    assert not any(e.is_public for e in notes)
    records = audits(app, reference, "signal.public_title_set")
    assert [(r["before"], r["after"]) for r in records] == [
        ("Afval bij nummer 12 van Jansen", "Afval naast de glasbak"),
        ("Afval naast de glasbak", None),
    ]


def test_a_public_title_too_long_unchanged_or_by_management_is_refused(app):
    reference = submit(app, point=IN_KERKELANDEN, title="Afval")
    for title, code, email in [
        ("x" * (relocation.PUBLIC_TITLE_MAX + 1), "title_too_long", ANNA),
        (" Afval ", "nothing_changed", ANNA),
        ("Afval naast de glasbak", "not_allowed", MANAGEMENT),
    ]:
        with pytest.raises(CaseworkError) as raised:
            set_title(app, reference, title, email=email)
        assert raised.value.code == code
    set_title(app, reference, "x" * relocation.PUBLIC_TITLE_MAX)  # exactly the maximum is fine
    assert state(app, reference)["public_title"] == "x" * relocation.PUBLIC_TITLE_MAX
