"""Signals destroyed by ``jobs run`` when the Archiefwet period after closing ends (a resolved
one after RETENTION_SIGNAL_YEARS, a declined one after RETENTION_DECLINED_SIGNAL_YEARS), on
SQLite and PostgreSQL: every row that hangs on them gone, the photo files with the sweep,
anonymous counts kept, a grant kept for the budget's books, the inbox counts right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from portal.domain.dossiers import links
from portal.models import (
    ArchivedSignalCount,
    Attachment,
    AuditRecord,
    Grant,
    InboxCount,
    OutboxMessage,
    Reporter,
    Signal,
    SignalEvent,
    SignalLink,
)
from portal.vocabulary import Status
from tests.factories import ADMIN, db_session, make_signal
from tests.test_backoffice_inbox import move
from tests.test_budget import actor, grant, initiative, set_amount, signal_of
from tests.test_jobs import make_old, stored_photo
from tests.test_retention import jobs_run

YEAR = timedelta(days=365.25)


def closed(app: Flask, status: Status, ago: timedelta, *, photo: bool = False, **kw) -> str:  # type: ignore[no-untyped-def]
    photos = [stored_photo(app)] if photo else []
    reference, _token = make_signal(app, photos=photos, now=datetime.now(UTC) - ago - YEAR, **kw)
    for stored in photos:
        make_old(Path(app.config["UPLOAD_FOLDER"]) / stored.stored_name)
    move(app, reference, status, at=datetime.now(UTC) - ago)
    return reference


def exists(app: Flask, reference: str) -> bool:
    with db_session(app) as session:
        return session.scalar(select(func.count()).where(Signal.reference == reference)) == 1


def inbox_counts_add_up(app: Flask) -> bool:
    with db_session(app) as session:
        counted = session.scalar(select(func.sum(InboxCount.signals))) or 0
        return counted == session.scalar(select(func.count()).select_from(Signal))


def test_signals_go_after_their_archive_period_and_only_counts_stay(app, runner):
    folder = Path(app.config["UPLOAD_FOLDER"])
    old = closed(app, Status.RESOLVED, 5 * YEAR + timedelta(days=1), photo=True)
    young = closed(app, Status.RESOLVED, 5 * YEAR - timedelta(days=1))
    declined = closed(app, Status.DECLINED, YEAR + timedelta(days=1))
    declined_young = closed(app, Status.DECLINED, YEAR - timedelta(days=1))
    still_open, _ = make_signal(app, now=datetime.now(UTC) - 8 * YEAR)
    with db_session(app) as session:  # the young one is related to the old one
        target, other = signal_of(session, old), signal_of(session, young)
        links.relate(
            session, other, target, reason=None, seen_version=other.version, actor=actor(app, ADMIN)
        )
        session.commit()
        old_id = target.id
        [photo] = session.scalars(
            select(Attachment.stored_name).where(Attachment.signal_id == old_id)
        )
        assert session.scalar(select(func.count()).where(OutboxMessage.signal_id == old_id))

    output = jobs_run(runner)

    assert "signal-destruction: 1 resolved and 1 declined signal(s) destroyed" in output
    assert not exists(app, old) and not exists(app, declined)
    assert all(exists(app, r) for r in (young, declined_young, still_open))
    assert not (folder / photo).exists()  # the sweep right after took the file
    with db_session(app) as session:
        for model in (Reporter, SignalEvent, Attachment, OutboxMessage):
            assert not session.scalar(select(func.count()).where(model.signal_id == old_id))
        assert not session.scalars(select(SignalLink)).all()  # the young one's link went
        counts = session.scalars(
            select(ArchivedSignalCount).order_by(ArchivedSignalCount.outcome)
        ).all()
        assert [(c.outcome, c.signals) for c in counts] == [("declined", 1), ("resolved", 1)]
        resolved = counts[1]
        assert (resolved.kind, resolved.themes, resolved.wijk_code) == (
            "knelpunt",
            "schoon",
            "WK040203",
        )
        assert resolved.buurt_code == "BU04020304" and len(resolved.created_month) == 7
        [record] = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "signals.destroyed")
        ).all()
        assert sorted(record.details["references"]) == sorted([old, declined])
    assert inbox_counts_add_up(app)

    again = jobs_run(runner)  # nothing more, and the counts are not added twice
    assert "signal-destruction: 0 resolved and 0 declined signal(s) destroyed" in again
    with db_session(app) as session:
        assert session.scalar(select(func.sum(ArchivedSignalCount.signals))) == 2


def test_signals_alike_add_to_one_count(app, runner):
    for _ in range(2):
        closed(app, Status.RESOLVED, 6 * YEAR)
    jobs_run(runner)
    closed(app, Status.RESOLVED, 6 * YEAR)
    jobs_run(runner)
    with db_session(app) as session:
        [row] = session.scalars(select(ArchivedSignalCount)).all()
        assert row.signals == 3


def test_a_destroyed_initiatives_grant_stays_in_the_books(app, runner):
    set_amount(app, 500_000)
    reference = initiative(app)
    with db_session(app) as session:
        grant(session, app, reference, 25_000)
        session.commit()
    move(app, reference, Status.RESOLVED, at=datetime.now(UTC) - 6 * YEAR)
    jobs_run(runner)
    assert not exists(app, reference)
    with db_session(app) as session:
        [kept] = session.scalars(select(Grant)).all()
        assert kept.signal_id is None and kept.amount_cents == 25_000


def test_a_period_below_the_floor_destroys_nothing(app, runner):
    reference = closed(app, Status.DECLINED, 3 * YEAR)
    app.config["RETENTION_DECLINED_SIGNAL_YEARS"] = 0
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 1
    assert "refused: the period for declined signals (0 years)" in result.output
    assert exists(app, reference)
