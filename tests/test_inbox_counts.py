"""The inbox at a million signals, checked at a few dozen: ``inbox_counts`` (kept by database
triggers) always equals a real count of the signals, whoever writes them - the operations, the
ORM, bulk Core statements, a DELETE, a TRUNCATE; the inbox's counts in parts (inbox_counts plus
the index over open signals) equal the plain queries for every role and filter; and a page
read from the far end of the order holds the same rows as the same page read from the front.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import cycle

import pytest
from flask import Flask
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from portal.domain import absences, sensitive
from portal.domain.deadlines import DeadlineRules, load_targets, save_target
from portal.domain.inbox import Deadlines, InboxFilter, search_signals
from portal.domain.inbox.deadlines import CONDITIONS
from portal.domain.inbox.filter import STATUS_ORDER
from portal.domain.inbox.search import list_conditions
from portal.extensions import db
from portal.models import InboxCount, Signal, User, Wijk
from portal.models.inbox_counts import CLOSED
from portal.seeding import demo_email
from portal.vocabulary import Kind, Status, Theme
from tests.factories import ADMIN, ANNA, EVA, KERKELANDEN, MANAGEMENT, SANNE, SINT_VITUSBUURT
from tests.test_backoffice_inbox import OOST, TZ, ZUID, actor, follow_up, give_to, move, submit

PIETER = demo_email("Pieter Jansen")  # accountmanager Zuid
TRIGGERS = {"inbox_counts_insert", "inbox_counts_update", "inbox_counts_delete"}


# --- inbox_counts against the signals -------------------------------------------------------


def real_counts(session: Session) -> Counter[tuple[object, ...]]:
    """What inbox_counts must hold, counted here in Python from the signals themselves."""
    counted: Counter[tuple[object, ...]] = Counter()
    rows = session.execute(
        select(
            Signal.status,
            Signal.kind,
            Signal.handle_due_on,
            Signal.sensitive,
            Signal.wijk_code,
            Signal.owner_id,
        )
    )
    for status, kind, due, secret, wijk, owner in rows:
        month = due.strftime("%Y-%m") if due is not None and status not in CLOSED else ""
        counted[(status, kind, month, bool(secret), wijk or "", owner or 0)] += 1
    return counted


def kept_counts(session: Session) -> Counter[tuple[object, ...]]:
    kept: Counter[tuple[object, ...]] = Counter()
    for row in session.scalars(select(InboxCount)):
        assert row.signals >= 0, row
        if row.signals:
            key = (row.status, row.kind, row.handle_due_month, bool(row.sensitive))
            kept[(*key, row.wijk_code, row.owner_id)] = row.signals
    return kept


def assert_kept(app: Flask) -> None:
    with app.app_context():
        db.session.expire_all()
        assert kept_counts(db.session) == real_counts(db.session)


def test_the_triggers_are_there_at_head(app):
    """A later migration that rebuilds signals on SQLite drops them with the old table."""
    with app.app_context():
        if db.engine().dialect.name == "postgresql":
            found = db.session.scalars(
                text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'signals'::regclass")
            )
        else:
            found = db.session.scalars(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'signals'"
                )
            )
        assert set(found) >= TRIGGERS


def test_the_counts_follow_every_way_of_writing_signals(app):
    references = [
        submit(app, buurt=buurt, kind=kind)
        for buurt, kind in zip(
            [KERKELANDEN, SINT_VITUSBUURT, ZUID, OOST, None, KERKELANDEN],
            cycle([Kind.KNELPUNT, Kind.INITIATIEF]),
            strict=False,
        )
    ]
    assert_kept(app)  # the intake operation (ORM inserts)

    move(app, references[0], Status.IN_PROGRESS)
    move(app, references[1], Status.RESOLVED)  # closed: out of its due month
    move(app, references[1], Status.REOPENED)  # open again: back in it
    give_to(app, references[2], ANNA)
    follow_up(app, references[3], datetime.now(TZ).date())
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == references[4])).one()
        sensitive.mark(
            db.session, signal, reason="Zorg", seen_version=signal.version, actor=actor(app)
        )
        db.session.commit()
    assert_kept(app)  # the casework operations (ORM updates)

    with app.app_context():
        session = db.session
        # Hand-written SQL: a due date into another month, a wijk taken away, a kind changed.
        first = session.scalar(select(Signal.id).where(Signal.reference == references[5]))
        session.execute(
            update(Signal).where(Signal.id == first).values(handle_due_on=date(2020, 2, 29))
        )
        session.execute(text("UPDATE signals SET wijk_code = NULL WHERE id = :id"), {"id": first})
        session.execute(update(Signal).where(Signal.id == first).values(kind=Kind.INITIATIEF.value))
        session.commit()
    assert_kept(app)

    with app.app_context():
        session = db.session
        # A bulk load: one executemany of Core inserts, as bench/seed.py makes them.
        template = session.scalars(select(Signal).where(Signal.reference == references[0])).one()
        anna = session.scalar(select(User.id).where(User.email == ANNA))
        now = datetime.now(UTC)
        rows = [
            {
                "reference": f"HLV-2020-{900000 + i:06d}",
                "kind": (Kind.KNELPUNT if i % 3 else Kind.INITIATIEF).value,
                "title": "Bulk",
                "description": "Geladen in bulk.",
                "status": ["received", "in_progress", "resolved", "declined"][i % 4],
                "wijk_code": template.wijk_code if i % 5 else None,
                "buurt_code": None,
                "location_source": "wijk",
                "owner_id": anna if i % 2 else None,
                "sensitive": i % 7 == 0,
                "handle_due_on": now.date() - timedelta(days=17 * i) if i % 6 else None,
                "created_at": now - timedelta(days=i),
                "updated_at": now,
            }
            for i in range(40)
        ]
        session.execute(insert(Signal), rows)
        session.commit()
    assert_kept(app)

    with app.app_context():
        session = db.session
        bulk = select(Signal.id).where(Signal.title == "Bulk")
        # Bulk changes: one UPDATE of many rows, then one DELETE of many rows.
        session.execute(
            update(Signal).where(Signal.id.in_(bulk), Signal.status == "received")
            .values(status="resolved", handle_due_on=None)
        )  # fmt: skip
        session.execute(update(Signal).where(Signal.id.in_(bulk)).values(owner_id=None))
        session.commit()
        assert_kept(app)
        session.execute(delete(Signal).where(Signal.id.in_(bulk), Signal.id % 2 == 0))
        session.commit()
        assert_kept(app)
        # The ORM's own delete of one signal (its timeline and reporter go with it).
        session.delete(
            session.scalars(select(Signal).where(Signal.reference == references[0])).one()
        )
        session.commit()
    assert_kept(app)

    with app.app_context():
        session = db.session
        if db.engine().dialect.name == "postgresql":
            session.execute(text("TRUNCATE signals CASCADE"))
        else:  # SQLite has no TRUNCATE: its DELETE without WHERE fires the row triggers
            session.execute(text("DELETE FROM signals"))
        session.commit()
        assert real_counts(session) == Counter()
        assert kept_counts(session) == Counter()


# --- the inbox's counts against the plain queries -------------------------------------------


def _deadlines(app: Flask, now: datetime) -> Deadlines:
    """'Now' as the inbox has it, with the admin's targets."""
    with app.app_context():
        rules = DeadlineRules(
            respond_working_days=app.config["RESPONSE_WORKING_DAYS"],
            handle_working_days=app.config["HANDLE_WORKING_DAYS"],
        )
        targets = load_targets(db.session, rules)
    return Deadlines.at(now, rules.respond_working_days, TZ, targets=targets)


def expected_counts(
    session: Session, user: User, flt: InboxFilter, moment: Deadlines
) -> tuple[dict[str, int], dict[str, int]]:
    """Per status and per deadline filter, from the list's own conditions (no inbox_counts)."""
    every_status = replace(flt, status=None)
    per_status = dict.fromkeys((s.value for s in Status), 0)
    where = list_conditions(session, user, every_status, moment)
    for status, n in session.execute(
        select(Signal.status, func.count()).where(*where).group_by(Signal.status)
    ):
        per_status[status] = n
    per_deadline = {}
    for name in CONDITIONS:
        late = replace(flt.without_deadlines(), **{name: True})
        where = list_conditions(session, user, late, moment)
        per_deadline[name] = session.scalar(select(func.count()).select_from(Signal).where(*where))
    return per_status, per_deadline


def arrange_a_varied_inbox(app: Flask) -> None:
    """Some forty signals over four wijken, both kinds, open and closed, sensitive ones
    (one Anna was let into, one of a colleague she stands in for), with due dates and
    follow-up days spread over a year and a half around today."""
    places = cycle([KERKELANDEN, SINT_VITUSBUURT, ZUID, OOST, None])
    kinds = cycle([Kind.KNELPUNT, Kind.KNELPUNT, Kind.INITIATIEF])
    themes = cycle([(Theme.SCHOON,), (Theme.HEEL, Theme.VEILIG), (Theme.SOCIAAL,)])
    references = [
        submit(app, buurt=next(places), kind=next(kinds), themes=next(themes)) for _ in range(40)
    ]
    for i, reference in enumerate(references):
        if i % 5 == 1:
            move(app, reference, Status.RESOLVED)
        elif i % 5 == 2:
            move(app, reference, Status.IN_PROGRESS)
        elif i % 5 == 3:
            move(app, reference, Status.AWAITING_RESIDENT)
    follow_up(app, references[2], datetime.now(TZ).date())
    follow_up(app, references[7], datetime.now(TZ).date() + timedelta(days=3))
    today = datetime.now(TZ).date()
    with app.app_context():
        session = db.session
        ids = list(session.scalars(select(Signal.id).order_by(Signal.id)))
        # Due dates every eleven days from 400 days back to 40 ahead (a bulk UPDATE), some
        # without; the response due date a few days before; some follow-up days passed.
        for i, signal_id in enumerate(ids):
            due = today - timedelta(days=400 - 11 * i) if i % 9 else None
            session.execute(
                update(Signal)
                .where(Signal.id == signal_id)
                .values(
                    handle_due_on=due,
                    respond_due_on=(due - timedelta(days=25)) if due and i % 4 else None,
                    created_at=datetime.combine(
                        (due or today) - timedelta(days=30), time(12), tzinfo=UTC
                    ),
                    follow_up_on=today - timedelta(days=i % 4) if i % 6 == 0 else None,
                )
            )
        session.commit()
        # Sensitive: Pieter's (Anna let in), Eva's (not), Sanne's (Anna stands in for her).
        who = actor(app)
        users = {u.email: u for u in session.scalars(select(User))}
        signals = list(session.scalars(select(Signal).order_by(Signal.id)))
        for signal, owner, let_in in (
            (signals[4], PIETER, ANNA),
            (signals[9], EVA, None),
            (signals[14], SANNE, None),
        ):
            signal.owner_id = users[owner].id
            session.flush()
            sensitive.mark(session, signal, reason="Zorg", seen_version=signal.version, actor=who)
            if let_in:
                sensitive.let_in(
                    session,
                    signal,
                    user_id=users[let_in].id,
                    seen_version=signal.version,
                    actor=who,
                )
        absences.record_absence(
            session,
            user_id=users[SANNE].id,
            stand_in_id=users[ANNA].id,
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=60),
            actor_id=who.user_id,
            today=today,
        )
        session.commit()


FILTERS = [
    {"scope": "all"},
    {"scope": "mine"},
    {"scope": "all", "status": "open", "wijk": "WK040203"},
    {"scope": "all", "wijk": "none"},
    {"scope": "all", "owner": "none", "status": "closed"},
    {"scope": "mine", "kind": "initiatief", "status": "awaiting_resident"},
    {"scope": "all", "overdue": "1"},
    {"scope": "mine", "overdue": "1", "status": "open"},
    {"scope": "all", "handle_late": "1"},
    {"scope": "all", "far_overdue": "1", "kind": "knelpunt"},
    {"scope": "all", "respond_late": "1"},
    {"scope": "all", "theme": "heel"},  # not on the counts' key: counted from the signals
    # A text search: every count from one pass over what it found (counts._in_one_pass).
    {"scope": "all", "q": "glasbak"},
    {"scope": "mine", "q": "afval glasbak", "status": "open", "overdue": "1"},
    {"scope": "all", "q": "glasbak", "handle_late": "1", "respond_late": "1"},
    {"scope": "all", "q": "glasbak", "status": "closed", "far_overdue": "1"},
    {"scope": "all", "q": "zwembad"},
]


@pytest.mark.parametrize("targets", ["settings", "per kind", "per theme"])
def test_the_counts_in_parts_equal_the_plain_queries(app, targets):
    arrange_a_varied_inbox(app)
    with app.app_context():
        admin = db.session.scalar(select(User.id).where(User.email == ADMIN))
        if targets != "settings":  # another far-overdue cutoff for initiatives, or a theme
            theme = Theme.HEEL.value if targets == "per theme" else None
            save_target(
                db.session,
                None,
                kind=Kind.INITIATIEF.value,
                theme=theme,
                respond_working_days=2,
                handle_working_days=5,
                actor_id=admin,
            )
            db.session.commit()
    this_month = datetime.now(TZ).date().replace(day=1)
    days = [
        datetime.now(UTC),
        datetime.combine(this_month, time(9), tzinfo=TZ),  # the first: no days this month
        datetime.combine(this_month + timedelta(days=17), time(9), tzinfo=TZ),
        datetime.combine(this_month - timedelta(days=1), time(9), tzinfo=TZ),  # a month's end
    ]
    with app.app_context():
        session = db.session
        users = {u.email: u for u in session.scalars(select(User))}
        for now in days:
            moment = _deadlines(app, now.astimezone(UTC))
            for email in (ADMIN, MANAGEMENT, ANNA):
                for args in FILTERS:
                    flt = InboxFilter.from_args(args)
                    found = search_signals(session, users[email], flt, 50, deadlines=moment)
                    per_status, per_deadline = expected_counts(session, users[email], flt, moment)
                    where = (now.date(), email, args)
                    assert found.status_counts == per_status, where
                    assert found.deadline_counts == per_deadline, where
                    shown = list_conditions(session, users[email], flt, moment)
                    assert found.total == session.scalar(
                        select(func.count()).select_from(Signal).where(*shown)
                    )


# --- pages from either end ------------------------------------------------------------------


def _python_order(sort: str, wijk_names: dict[str | None, str]):  # type: ignore[no-untyped-def]
    """The inbox's orders, written out in Python (signals: id, created_at, status, wijk)."""
    wijken = sorted(code for code in wijk_names if code is not None)
    wijken.sort(key=lambda code: (wijk_names[code], code))
    position = {code: i for i, code in enumerate(wijken)}

    def newest(row):  # type: ignore[no-untyped-def]
        return (-row.created_at.timestamp(), -row.id)

    if sort == "oldest":
        return lambda row: (row.created_at.timestamp(), row.id)
    if sort == "status":
        return lambda row: (STATUS_ORDER.get(row.status, len(STATUS_ORDER)), *newest(row))
    if sort == "wijk":
        return lambda row: (position.get(row.wijk_code, len(position)), *newest(row))
    return newest


@pytest.mark.parametrize("sort", ["newest", "oldest", "status", "wijk"])
def test_every_page_holds_the_same_rows_read_from_either_end(app, sort):
    places = cycle([KERKELANDEN, SINT_VITUSBUURT, ZUID, OOST, None])
    moments = cycle([3, 40, 3, 400, 12])  # equal moments too: the id decides between them
    for i in range(23):
        reference = submit(
            app, buurt=next(places), when=datetime.now(UTC) - timedelta(days=next(moments))
        )
        if i % 4 == 1:
            move(app, reference, Status.RESOLVED)
    moment = _deadlines(app, datetime.now(UTC))
    with app.app_context():
        session = db.session
        wijk_names = dict(session.execute(select(Wijk.code, Wijk.name)).all())
        for email, args in ((ADMIN, {"scope": "all"}), (ANNA, {"scope": "mine"})):
            user = session.scalars(select(User).where(User.email == email)).one()
            for status in (None, "open"):
                flt = InboxFilter.from_args(
                    {**args, "sort": sort, **({"status": status} if status else {})}
                )
                where = [*list_conditions(session, user, flt, moment)]
                rows = session.execute(
                    select(Signal.id, Signal.created_at, Signal.status, Signal.wijk_code).where(
                        *where
                    )
                ).all()
                expected = [r.id for r in sorted(rows, key=_python_order(sort, wijk_names))]
                assert expected, (email, args)
                size = 4
                pages = -(-len(expected) // size)
                for number in range(1, pages + 2):  # one past the end gives the last page
                    found = search_signals(
                        session, user, replace(flt, page=number), size, deadlines=moment
                    )
                    shown = min(number, pages)
                    assert found.page == shown
                    wanted = expected[(shown - 1) * size : shown * size]
                    assert [r.signal.id for r in found.rows] == wanted, (email, status, number)
