"""The public wijk thermometer (issue 13): the figures of the twelve months before this one
against a hand-computed story, small numbers never shown (nor given away by a city total),
no sensitive signal counted, stored by the nightly job and read back by /cijfers and the wijk
page. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from portal.domain import sensitive
from portal.domain.casework import Actor
from portal.domain.initiatives import budget
from portal.domain.steering import thermometer
from portal.domain.working_days import local_date
from portal.extensions import db
from portal.jobs import wijk_thermometer
from portal.models import Signal, ThermometerSnapshot
from portal.vocabulary import Kind, Status, Theme
from tests.factories import ADMIN, KERKELANDEN, SINT_VITUSBUURT, db_session, make_signal, user_id
from tests.test_deadlines import admin_actor, local, move

ZUIDWEST, CENTRUM = "WK040203", "WK040201"
NOW = local(date(2026, 12, 3))  # the twelve months: December 2025 to November 2026
S, H, V, SO = Theme.SCHOON, Theme.HEEL, Theme.VEILIG, Theme.SOCIAAL


def signal(app: Flask, day: date, themes, *, buurt=KERKELANDEN, kind=Kind.KNELPUNT) -> str:  # type: ignore[no-untyped-def]
    reference, _token = make_signal(app, buurt=buurt, themes=themes, kind=kind, now=local(day))
    return reference


def closed(app: Flask, reference: str, day: date) -> None:
    move(app, reference, Status.RESOLVED, at=local(day))


def granted(app: Flask, reference: str, day: date) -> None:
    now = datetime.now(UTC)
    with db_session(app) as session:
        item = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        budget.record_grant(
            session,
            item,
            amount_cents=25_000,
            purpose="Buurtfeest",
            decided_on=day,
            show_amount=False,
            override_reason=None,
            actor=Actor(user_id(app, ADMIN), now),
            seen_version=item.version,
            threshold_cents=app.config["BUDGET_APPROVAL_THRESHOLD_CENTS"],
        )
        session.commit()


@pytest.fixture
def zuidwest(app: Flask) -> None:
    """Zuidwest (Kerkelanden), days from coming in to closing in brackets, the default
    targets (handling within 20 working days):

    1  10 Jan 2026  schoon         closed 14 Jan (4)
    2   5 Mar 2026  schoon, heel   closed 15 Mar (10)
    3   1 Jun 2026  schoon, heel   closed  3 Jun (2)
    4   1 Sep 2026  schoon, veilig closed  1 Oct (30; due Tue 29 Sep: late)
    5  20 Nov 2026  schoon, sociaal closed 21 Nov (1)
    6  25 Nov 2026  schoon         open
    7   1 May 2026  schoon         sensitive, closed 2 May: never counted
    8  15 Nov 2025  schoon         closed 1 Dec 2025 (16): came in before, closed within
    9   1 Dec 2026  schoon         after the twelve months
    I1-I5  1 Jul 2026 initiatives (sociaal), support granted 15 Jul; I6 without support

    Came in within: 1-6 and I1-I6 = 12. Schoon 6 (1-6), heel 2, veilig 1, sociaal 7 (5, I1-I6).
    Closed within: 1-5 and 8 = 6, of which 5 in time (83%); days 1, 2, 4, 10, 16, 30: the
    median (4 + 10) / 2 = 7.0. Initiatives supported: 5."""
    with db_session(app) as session:
        budget.set_budget(
            session,
            ZUIDWEST,
            2026,
            1_000_000,
            reason="Wijkbudget",
            actor=Actor(user_id(app, ADMIN), datetime.now(UTC)),
        )
        session.commit()
    made = {
        1: signal(app, date(2026, 1, 10), (S,)),
        2: signal(app, date(2026, 3, 5), (S, H)),
        3: signal(app, date(2026, 6, 1), (S, H)),
        4: signal(app, date(2026, 9, 1), (S, V)),
        5: signal(app, date(2026, 11, 20), (S, SO)),
        6: signal(app, date(2026, 11, 25), (S,)),
        7: signal(app, date(2026, 5, 1), (S,)),
        8: signal(app, date(2025, 11, 15), (S,)),
        9: signal(app, date(2026, 12, 1), (S,)),
    }
    for n, day in [
        (1, date(2026, 1, 14)),
        (2, date(2026, 3, 15)),
        (3, date(2026, 6, 3)),
        (4, date(2026, 10, 1)),
        (5, date(2026, 11, 21)),
        (7, date(2026, 5, 2)),
        (8, date(2025, 12, 1)),
    ]:
        closed(app, made[n], day)
    with app.app_context():
        item = db.session.scalars(select(Signal).where(Signal.reference == made[7])).one()
        sensitive.mark(
            db.session, item, reason="Zorg", seen_version=item.version, actor=admin_actor(app)
        )
        db.session.commit()
    for n in range(6):
        initiative = signal(app, date(2026, 7, 1), (SO,), kind=Kind.INITIATIEF)
        if n < 5:
            granted(app, initiative, date(2026, 7, 15))


def figures(app: Flask) -> dict:  # type: ignore[type-arg]
    with app.app_context():
        return thermometer.compute(db.session, thermometer.window(local_date(NOW)))


def test_the_twelve_months_are_the_whole_months_before_this_one() -> None:
    period = thermometer.window(date(2026, 12, 3))
    assert (period.first, period.last) == (date(2025, 12, 1), date(2026, 11, 30))
    period = thermometer.window(date(2027, 1, 1))
    assert (period.first, period.last) == (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.usefixtures("zuidwest")
def test_a_wijk_against_the_hand_computed_story(app) -> None:
    found = figures(app)
    assert found["wijken"][ZUIDWEST] == {
        "received": 12,
        "themes": {"schoon": 6, "heel": None, "veilig": None, "sociaal": 7},
        "closed": 6,
        "in_time_percent": 83,
        "median_days": 7.0,
        "initiatives_supported": 5,
    }
    # Zuidwest is the only wijk with signals: the city's totals are its own.
    city = found["city"]
    assert city == found["wijken"][ZUIDWEST]
    assert set(found["wijken"]) == {ZUIDWEST}


@pytest.mark.usefixtures("zuidwest")
def test_small_numbers_are_never_shown_nor_given_away_by_the_city_total(app) -> None:
    for day in (date(2026, 2, 1), date(2026, 4, 1)):  # two in Centrum, one closed
        reference = signal(app, day, (S,), buurt=SINT_VITUSBUURT)
    closed(app, reference, date(2026, 4, 2))
    found = figures(app)
    assert found["wijken"][CENTRUM] == {
        "received": None,
        "themes": {"schoon": None, "heel": None, "veilig": None, "sociaal": None},
        "closed": None,
        "in_time_percent": None,  # fewer than five closed: no share, no median
        "median_days": None,
        "initiatives_supported": None,
    }
    # 14 came in, but 14 less Zuidwest's 12 would give Centrum's 2 away.
    city = found["city"]
    assert city["received"] is None and city["closed"] is None
    assert city["in_time_percent"] is None and city["median_days"] is None
    assert city["themes"] == {"schoon": None, "heel": None, "veilig": None, "sociaal": None}
    assert city["initiatives_supported"] is None  # Centrum's 0 is left out too
    # Nothing under five anywhere in what is stored.
    numbers = [v for w in (*found["wijken"].values(), city) for v in _counts(w)]
    assert numbers and all(n >= thermometer.MINIMUM for n in numbers)


@pytest.mark.usefixtures("zuidwest")
def test_a_lone_small_theme_takes_the_next_smallest_with_it(app) -> None:
    """Every signal has a theme: with only veilig left out, "Gemeld" less the others would
    give its count away (exactly, when each signal has one theme)."""
    for n in range(4):  # heel gets to 6, veilig stays at 1
        signal(app, date(2026, 8, 3 + n), (H,))
    themes = figures(app)["wijken"][ZUIDWEST]["themes"]
    assert themes["veilig"] is None  # 1
    # heel and schoon have 6 each: heel (first by name) is left out with it.
    assert themes == {"schoon": 6, "heel": None, "veilig": None, "sociaal": 7}


def _counts(figures: dict) -> list[int]:  # type: ignore[type-arg]
    values = [figures["received"], figures["closed"], figures["initiatives_supported"]]
    return [n for n in [*values, *figures["themes"].values()] if n is not None]


@pytest.mark.usefixtures("zuidwest")
def test_the_job_stores_them_once_the_months_move_and_the_pages_read_them(app) -> None:
    from portal.jobs import JobContext

    with app.app_context():
        context = JobContext(
            session=db.session,
            upload_folder=app.config["UPLOAD_FOLDER"],
            now=NOW,
            mail=None,
            question_reminder_working_days=5,
            alert_interval_days=7,
            secret_key="x",
            retention=None,  # type: ignore[arg-type]
            destruction=None,  # type: ignore[arg-type]
        )
        summary = wijk_thermometer(context)
        db.session.commit()
        assert summary == "figures for 2025-12-01 to 2026-11-30 stored"
        stored = db.session.scalars(select(ThermometerSnapshot)).all()
        assert len(stored) == 1 and stored[0].figures["wijken"][ZUIDWEST]["received"] == 12
        # jobs run is hourly: the same months are left alone, the next day too (a day's
        # difference would show what one signal's change did to a count).
        for later in (NOW + timedelta(hours=5), NOW + timedelta(days=20)):
            skipped = wijk_thermometer(replace(context, now=later))
            assert skipped == "skipped: the stored figures cover these months"
        # A page reads the stored figures, even after the months moved on: only the job
        # does that work.
        again = thermometer.current(db.session, local(date(2027, 1, 5)))
        assert again.computed_at == stored[0].computed_at
        assert again.period.first == date(2025, 12, 1)
        assert again.of(ZUIDWEST).median_days == 7.0
        # The months moved on: the job works them out again, and the old row is gone.
        moved = wijk_thermometer(replace(context, now=local(date(2027, 1, 5))))
        db.session.commit()
        assert moved == "figures for 2026-01-01 to 2026-12-31 stored"
        later = thermometer.current(db.session, local(date(2027, 1, 5)))
        # Number 9 (1 December 2026) comes in; number 8's closing (December 2025) goes out.
        assert later.of(ZUIDWEST).received == 13
        assert (later.of(ZUIDWEST).closed, later.of(ZUIDWEST).median_days) == (5, 4.0)
        assert len(db.session.scalars(select(ThermometerSnapshot)).all()) == 1
