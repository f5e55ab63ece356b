"""The dashboard at a million signals, checked at a few dozen: ``steering_counts`` (kept by
database triggers) always equals a count of the signals per local day, event, wijk, owner,
kind, sensitivity and verdict on the target, whoever writes them; and its day is the day in
Hilversum, summer time or not. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from portal.domain import sensitive
from portal.domain.inbox import NONE, InboxFilter
from portal.domain.steering.counting import ListCounter, SummaryCounter
from portal.domain.working_days import LOCAL_TIMEZONE
from portal.extensions import db
from portal.models import Signal, SteeringCount, User
from portal.models.inbox_counts import CLOSED
from portal.vocabulary import Kind, Status
from tests.factories import ADMIN, ANNA, KERKELANDEN, MANAGEMENT, SINT_VITUSBUURT
from tests.test_backoffice_inbox import OOST, TZ, ZUID, actor, give_to, move, submit
from tests.test_inbox_counts import PIETER, _deadlines, arrange_a_varied_inbox

TRIGGERS = {"steering_counts_insert", "steering_counts_update", "steering_counts_delete"}


def _day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIMEZONE).date()


def real_counts(session: Session) -> Counter[tuple[object, ...]]:
    """What steering_counts must hold, counted here in Python from the signals themselves."""
    counted: Counter[tuple[object, ...]] = Counter()
    rows = session.execute(
        select(
            Signal.created_at,
            Signal.responded_at,
            Signal.responded_in_time,
            Signal.closed_at,
            Signal.handled_in_time,
            Signal.status,
            Signal.wijk_code,
            Signal.owner_id,
            Signal.kind,
            Signal.sensitive,
        )
    )
    for created, responded, responded_ok, closed, handled_ok, status, *key in rows:
        wijk, owner, kind, secret = key
        rest = (wijk or "", owner or 0, kind, bool(secret))
        counted[(_day(created), "came_in", *rest, False)] += 1
        if responded is not None:
            counted[(_day(responded), "responded", *rest, bool(responded_ok))] += 1
        if closed is not None and status in CLOSED:
            counted[(_day(closed), "closed", *rest, bool(handled_ok))] += 1
    return counted


def kept_counts(session: Session) -> Counter[tuple[object, ...]]:
    kept: Counter[tuple[object, ...]] = Counter()
    for row in session.scalars(select(SteeringCount)):
        assert row.signals >= 0, row
        if row.signals:
            key = (row.day, row.event, row.wijk_code, row.owner_id, row.kind)
            kept[(*key, bool(row.sensitive), bool(row.in_time))] = row.signals
    return kept


def assert_kept(app: Flask) -> None:
    with app.app_context():
        db.session.expire_all()
        assert kept_counts(db.session) == real_counts(db.session)


def test_the_triggers_are_there_at_head(app):
    with app.app_context():
        if db.engine().dialect.name == "postgresql":
            query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'signals'::regclass"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'signals'"
        assert set(db.session.scalars(text(query))) >= TRIGGERS


def test_the_counts_follow_every_way_of_writing_signals(app):
    references = [
        submit(app, buurt=buurt, kind=kind)
        for buurt, kind in [
            (KERKELANDEN, Kind.KNELPUNT),
            (SINT_VITUSBUURT, Kind.INITIATIEF),
            (ZUID, Kind.KNELPUNT),
            (OOST, Kind.INITIATIEF),
            (None, Kind.KNELPUNT),
        ]
    ]
    assert_kept(app)  # the intake (ORM inserts)

    move(app, references[0], Status.IN_PROGRESS)  # the first public response
    move(app, references[1], Status.RESOLVED)  # responded and closed
    move(app, references[1], Status.REOPENED)  # open again: out of "closed"
    move(app, references[2], Status.DECLINED)
    give_to(app, references[3], ANNA)
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == references[4])).one()
        sensitive.mark(
            db.session, signal, reason="Zorg", seen_version=signal.version, actor=actor(app)
        )
        db.session.commit()
    assert_kept(app)  # the casework operations (ORM updates)

    with app.app_context():
        session = db.session
        first = session.scalar(select(Signal.id).where(Signal.reference == references[2]))
        # Hand-written SQL: another closing moment, a verdict, a wijk taken away.
        session.execute(
            update(Signal)
            .where(Signal.id == first)
            .values(closed_at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC), handled_in_time=True)
        )
        session.execute(text("UPDATE signals SET wijk_code = NULL WHERE id = :id"), {"id": first})
        session.commit()
    assert_kept(app)

    with app.app_context():
        session = db.session
        template = session.scalars(select(Signal).where(Signal.reference == references[0])).one()
        anna = session.scalar(select(User.id).where(User.email == ANNA))
        now = datetime.now(UTC)
        statuses = ["received", "in_progress", "resolved", "declined"]
        rows = [  # a bulk load, as bench/seed.py makes it
            {
                "reference": f"HLV-2020-{900000 + i:06d}",
                "kind": (Kind.KNELPUNT if i % 3 else Kind.INITIATIEF).value,
                "title": "Bulk",
                "description": "Geladen in bulk.",
                "status": statuses[i % 4],
                "wijk_code": template.wijk_code if i % 5 else None,
                "location_source": "wijk",
                "owner_id": anna if i % 2 else None,
                "sensitive": i % 7 == 0,
                # Round the clock and round the year: both sides of midnight and of the
                # changes to and from summer time.
                "created_at": now - timedelta(hours=37 * i),
                "responded_at": now - timedelta(hours=37 * i - 5) if i % 3 else None,
                "responded_in_time": [True, False, None][i % 3],
                "closed_at": now - timedelta(hours=37 * i - 30) if i % 4 >= 2 else None,
                "handled_in_time": i % 5 == 0,
                "updated_at": now,
            }
            for i in range(300)
        ]
        session.execute(insert(Signal), rows)
        session.commit()
    assert_kept(app)

    with app.app_context():
        session = db.session
        bulk = select(Signal.id).where(Signal.title == "Bulk")
        session.execute(
            update(Signal)
            .where(Signal.id.in_(bulk), Signal.status == "received")
            .values(status="resolved", closed_at=datetime(2025, 10, 26, 0, 59, tzinfo=UTC))
        )
        session.execute(update(Signal).where(Signal.id.in_(bulk)).values(owner_id=None))
        session.commit()
        assert_kept(app)
        session.execute(delete(Signal).where(Signal.id.in_(bulk), Signal.id % 2 == 0))
        session.commit()
        assert_kept(app)

    with app.app_context():
        session = db.session
        if db.engine().dialect.name == "postgresql":
            session.execute(text("TRUNCATE signals CASCADE"))
        else:
            session.execute(text("DELETE FROM signals"))
        session.commit()
        assert kept_counts(session) == Counter()


def test_the_day_is_the_day_in_hilversum_around_summer_time(app):
    """Moments either side of midnight and of the clock changes, 2020-2035."""
    moments = []
    for year in range(2020, 2036):
        for month, day in [(3, 31), (10, 31)]:
            last_sunday = date(year, month, day)
            last_sunday -= timedelta(days=(last_sunday.weekday() + 1) % 7)
            change = datetime(last_sunday.year, month, last_sunday.day, 1, 0, tzinfo=UTC)
            moments += [change - timedelta(minutes=1), change, change + timedelta(minutes=1)]
            # 22:30 UTC is 23:30 on the same day in winter, 00:30 the next day in summer.
            moments += [
                change + timedelta(days=days, hours=21, minutes=30) for days in range(-3, 3)
            ]
        for hour in (21, 22, 23, 0):  # midnight in winter (23:00 UTC) and summer (22:00)
            moments += [datetime(year, m, 15, hour, 59, tzinfo=UTC) for m in (1, 7)]
    moments.append(datetime(2026, 12, 31, 23, 0, tzinfo=UTC))  # New Year's night
    with app.app_context():
        session = db.session
        session.execute(delete(Signal))
        rows = [
            {
                "reference": f"HLV-2020-{800000 + i:06d}",
                "kind": Kind.KNELPUNT.value,
                "title": "Klok",
                "description": "Om de klok.",
                "status": "received",
                "location_source": "wijk",
                "sensitive": False,
                "created_at": moment,
                "updated_at": moment,
            }
            for i, moment in enumerate(moments)
        ]
        session.execute(insert(Signal), rows)
        session.commit()
        expected = Counter(_day(moment) for moment in moments)
        kept = Counter()
        for day, n in session.execute(
            select(SteeringCount.day, SteeringCount.signals).where(SteeringCount.event == "came_in")
        ):
            kept[day] += n
        assert +kept == expected


# --- the dashboard's counts from the summary against the lists themselves -------------------

SELECTIONS = [
    {"scope": "all"},
    {"scope": "mine"},
    {"scope": "all", "wijk": "WK040203"},
    {"scope": "all", "wijk": NONE},
    {"scope": "all", "owner": NONE},
    {"scope": "mine", "kind": "initiatief"},
]


def _spread_the_moments(app: Flask) -> None:
    """Responses and closings of the varied inbox days to weeks after coming in, some at
    22:30 UTC (the next day in Hilversum in summer, the same day in winter), within the
    target or not."""
    with app.app_context():
        session = db.session
        for i, (signal_id, created, status) in enumerate(
            session.execute(select(Signal.id, Signal.created_at, Signal.status).order_by(Signal.id))
        ):
            responded = created + timedelta(days=i % 6, hours=10 * (i % 3)) if i % 4 else None
            closed = None
            if status in CLOSED:
                closed = (created + timedelta(days=3 * i % 40)).replace(hour=22, minute=30)
            session.execute(
                update(Signal)
                .where(Signal.id == signal_id)
                .values(
                    responded_at=responded,
                    responded_in_time=(i % 3 == 0) if responded else None,
                    closed_at=closed,
                    handled_in_time=(i % 2 == 0) if closed else None,
                )
            )
        session.commit()


def _questions(selection: InboxFilter, today: date) -> list[InboxFilter]:
    """Every list the dashboard asks of the summary, for months and weeks around a year."""
    questions = []
    for months_back in range(0, 15, 2):
        first = (today.replace(day=1) - timedelta(days=31 * months_back)).replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        for first_day, last_day in ((first, last), (first, first + timedelta(days=6))):
            questions += [
                replace(selection, created_from=first_day, created_to=last_day),
                replace(selection, responded_from=first_day, responded_to=last_day),
                replace(
                    selection,
                    responded_from=first_day,
                    responded_to=last_day,
                    responded_in_time=True,
                ),
                replace(selection, status="closed", closed_from=first_day, closed_to=last_day),
                replace(
                    selection,
                    status="closed",
                    closed_from=first_day,
                    closed_to=last_day,
                    handled_in_time=True,
                ),
            ]
        questions.append(replace(selection, open_on=last))
    return questions


def test_the_summary_counts_equal_the_lists_for_every_role(app):
    arrange_a_varied_inbox(app)
    _spread_the_moments(app)
    assert_kept(app)
    deadlines = _deadlines(app, datetime.now(TZ))
    with app.app_context():
        session = db.session
        asked = 0
        for email in (ADMIN, MANAGEMENT, ANNA, PIETER):
            user = session.scalars(select(User).where(User.email == email)).one()
            for args in SELECTIONS:
                selection = InboxFilter.from_args(args, default_scope="all")
                summary = SummaryCounter(session, user, deadlines, selection.scope)
                lists = ListCounter(session, user, deadlines, selection.scope)
                for question in _questions(selection, deadlines.today):
                    assert summary.answers(question), question  # not a fallback to the list
                    expected = {k: n for k, n in lists.by_wijk(question).counts.items() if n}
                    found = summary.by_wijk(question).counts
                    assert {k: n for k, n in found.items() if n} == expected, (email, question)
                    assert summary.count(question).value == sum(expected.values())
                    asked += 1
        assert asked == 4 * len(SELECTIONS) * 8 * 11
