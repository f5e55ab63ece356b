"""Reference numbers (HLV-2026-000123): format, per-year sequence, prefix from the config, and
no duplicates or gaps when many residents submit at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import event, insert, select

from portal import create_app
from portal.domain.references import format_reference, next_reference
from portal.extensions import db
from portal.models import ReferenceCounter, Signal
from tests.factories import db_session
from tests.test_report_form import post_report, submit, valid_form

THIS_YEAR = datetime.now(UTC).year


def test_format():
    assert format_reference("HLV", 2026, 123) == "HLV-2026-000123"
    assert format_reference("HLV", 2026, 1) == "HLV-2026-000001"
    assert format_reference("HLV", 2026, 999_999) == "HLV-2026-999999"
    assert re.fullmatch(r"HLV-\d{4}-\d{6}", format_reference("HLV", 2031, 42))


def test_sequence_per_year_and_prefix(app):
    with db_session(app) as session:
        taken = [next_reference(session, "HLV", 2026) for _ in range(3)]
        taken += [next_reference(session, "HLV", 2027), next_reference(session, "HLV", 2026)]
        taken += [next_reference(session, "TST", 2026)]
        session.commit()
    assert taken == [
        "HLV-2026-000001",
        "HLV-2026-000002",
        "HLV-2026-000003",
        "HLV-2027-000001",  # a new year starts again at 1
        "HLV-2026-000004",
        "TST-2026-000001",  # every prefix has its own sequence
    ]
    with db_session(app) as session:
        counters = {
            (c.prefix, c.year): c.last_value for c in session.scalars(select(ReferenceCounter))
        }
    assert counters == {("HLV", 2026): 4, ("HLV", 2027): 1, ("TST", 2026): 1}


def test_a_rolled_back_number_is_given_out_again(app):
    with db_session(app) as session:
        assert next_reference(session, "HLV", 2030) == "HLV-2030-000001"
        session.rollback()
        assert next_reference(session, "HLV", 2030) == "HLV-2030-000001"
        session.commit()
    with db_session(app) as session:
        assert next_reference(session, "HLV", 2030) == "HLV-2030-000002"
        session.commit()


def test_a_failed_submission_leaves_no_gap(app, client):
    assert post_report(client, valid_form(kind=None)).status_code == 422
    assert post_report(client, valid_form(postcode="3511 AB", wijk="", buurt="")).status_code == 422
    assert submit(client) == f"HLV-{THIS_YEAR}-000001"


def test_prefix_comes_from_the_config(app_config):
    app = create_app({**app_config, "REFERENCE_PREFIX": "HVS"})
    try:
        client = app.test_client()
        assert submit(client) == f"HVS-{THIS_YEAR}-000001"
        assert submit(client) == f"HVS-{THIS_YEAR}-000002"
        with db_session(app) as session:
            assert session.scalars(select(Signal.reference).order_by(Signal.id)).all() == [
                f"HVS-{THIS_YEAR}-000001",
                f"HVS-{THIS_YEAR}-000002",
            ]
    finally:
        with app.app_context():
            db.engine().dispose()


def run_in_threads(count: int, work: Callable[[int], list[str]]) -> list[str]:
    """Runs ``work(i)`` in ``count`` threads that start together; all their results."""
    barrier = threading.Barrier(count)
    results: list[list[str]] = [[] for _ in range(count)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hangs"
    assert not errors, errors
    return [reference for batch in results for reference in batch]


@pytest.mark.parametrize("year", [THIS_YEAR, 2999], ids=["existing-counter", "new-year"])
def test_concurrent_numbers_are_unique_and_consecutive(app: Flask, year: int):
    """8 threads x 5 numbers, each number in its own transaction; for a year without a counter
    row all threads also race to create it."""
    if year == THIS_YEAR:  # make sure the counter row exists before the race
        with db_session(app) as session:
            assert next_reference(session, "HLV", year) == format_reference("HLV", year, 1)
            session.commit()
        offset = 1
    else:
        offset = 0

    def work(_i: int) -> list[str]:
        taken = []
        with app.app_context():
            for _ in range(5):
                taken.append(next_reference(db.session, "HLV", year))
                db.session.commit()
        return taken

    references = run_in_threads(8, work)
    assert len(references) == 40
    assert sorted(references) == [format_reference("HLV", year, n + offset) for n in range(1, 41)]


def test_concurrent_submissions_through_the_form_get_unique_references(app: Flask):
    def work(_i: int) -> list[str]:
        client = app.test_client()
        return [submit(client) for _ in range(3)]

    references = run_in_threads(4, work)
    assert sorted(references) == [format_reference("HLV", THIS_YEAR, n) for n in range(1, 13)]
    with db_session(app) as session:
        stored = session.scalars(select(Signal.reference)).all()
    assert sorted(stored) == sorted(references)


def test_a_counter_row_made_meanwhile_by_another_submission_is_used(app: Flask):
    """Mutant: the first number of a year inserted without ``ON CONFLICT DO NOTHING``.

    The race above catches that on PostgreSQL only: SQLite lets one writer in at a time, so
    there the loser's UPDATE already sees the winner's row and never reaches the INSERT. Here
    the state the conflict handling is for is made certain on both: right before our INSERT
    of the year's counter runs, a competing submission's row (it took number 1) is put in
    place in the same transaction. We must carry on with number 2, not fail."""
    year = 2997
    engine = db.engine(app)
    competed: list[str] = []

    def competitor_first(conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if competed or not statement.lstrip().upper().startswith("INSERT INTO REFERENCE_COUNTERS"):
            return
        competed.append(statement)
        conn.execute(insert(ReferenceCounter).values(prefix="HLV", year=year, last_value=1))

    event.listen(engine, "before_cursor_execute", competitor_first)
    try:
        with db_session(app) as session:
            assert next_reference(session, "HLV", year) == format_reference("HLV", year, 2)
            session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", competitor_first)
    assert competed, "the counter row was never inserted: nothing was tested"
    with db_session(app) as session:
        counter = session.get(ReferenceCounter, {"prefix": "HLV", "year": year})
        assert counter is not None and counter.last_value == 2
        assert next_reference(session, "HLV", year) == format_reference("HLV", year, 3)
