"""Working days in Hilversum (portal/domain/working_days.py) and the deadline arithmetic built
on them (portal/domain/deadlines.py): weekends and Dutch public holidays never count, a King's
Day on a Sunday moves to the Saturday before (and so costs no working day), and the helpers
are each other's inverse. Pure functions: no app, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.deadlines import (
    far_overdue_cutoff,
    working_days_before,
    working_days_between,
)
from portal.domain.working_days import (
    LOCAL_TIMEZONE,
    add_working_days,
    end_of_working_days,
    is_working_day,
    local_date,
)

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))


@pytest.mark.parametrize(
    ("start", "count", "expected", "why"),
    [
        # King's Day, Monday 27 April 2026.
        (date(2026, 4, 24), 1, date(2026, 4, 28), "Friday, then King's Day Monday"),
        (date(2026, 4, 24), 3, date(2026, 4, 30), "three working days over King's Day"),
        # 27 April 2025 is a Sunday: King's Day is Saturday 26 April, Monday is a working day.
        (date(2025, 4, 25), 1, date(2025, 4, 28), "King's Day on Saturday costs nothing"),
        # Easter 2026: Good Friday 3 April (the holidays package lists it) and Monday 6 April.
        (date(2026, 4, 2), 1, date(2026, 4, 7), "Good Friday and Easter Monday"),
        (date(2026, 4, 3), 1, date(2026, 4, 7), "from Good Friday itself"),
        # Ascension Day, Thursday 14 May 2026.
        (date(2026, 5, 13), 1, date(2026, 5, 15), "Ascension Day"),
        # Whit Monday, 25 May 2026.
        (date(2026, 5, 22), 1, date(2026, 5, 26), "Whit Monday"),
        # Christmas 2026 on Friday and Saturday; 2027 on Saturday and Sunday (no Monday off).
        (date(2026, 12, 24), 1, date(2026, 12, 28), "Christmas on Friday"),
        (date(2027, 12, 24), 1, date(2027, 12, 27), "Christmas in the weekend"),
        (date(2026, 12, 24), 5, date(2027, 1, 4), "Christmas and New Year's Day"),
        # Nothing special: Wednesday plus three is Monday.
        (date(2026, 3, 4), 3, date(2026, 3, 9), "an ordinary weekend"),
        (date(2026, 3, 7), 0, date(2026, 3, 7), "zero days is the day itself"),
    ],
)
def test_add_working_days_skips_weekends_and_dutch_holidays(start, count, expected, why):
    assert add_working_days(start, count) == expected, why
    if count:
        assert working_days_between(start, expected) == count, why
        assert working_days_before(expected, count) <= start, why


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 4, 27), False),  # King's Day
        (date(2025, 4, 26), False),  # King's Day on the Saturday
        (date(2025, 4, 28), True),  # the Monday after it is not moved
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 5, 14), False),  # Ascension Day
        (date(2026, 5, 25), False),  # Whit Monday
        (date(2026, 12, 25), False),  # Christmas Day
        (date(2027, 1, 1), False),  # New Year's Day
        (date(2026, 5, 5), True),  # Liberation Day: a day off only every fifth year
        (date(2025, 5, 5), False),  # ... such as 2025
        (date(2026, 12, 1), True),
    ],
)
def test_which_days_are_working_days(day, working):
    assert is_working_day(day) is working


def test_working_days_before_and_between_around_holidays():
    # Back from Tuesday 28 April 2026 over King's Day: Friday 24 April is one working day.
    assert working_days_before(date(2026, 4, 28), 1) == date(2026, 4, 24)
    assert working_days_between(date(2026, 4, 24), date(2026, 4, 28)) == 1
    # Back over Christmas and New Year's Day 2026/2027.
    assert working_days_before(date(2027, 1, 4), 5) == date(2026, 12, 24)
    assert working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 5
    # Not later: nothing between.
    assert working_days_between(date(2026, 3, 9), date(2026, 3, 9)) == 0
    assert working_days_between(date(2026, 3, 9), date(2026, 3, 2)) == 0


def test_local_days_are_hilversum_days():
    # 23:30 UTC on 28 March 2026 is already 29 March in Amsterdam (the night summer time begins).
    assert local_date(datetime(2026, 3, 28, 23, 30, tzinfo=UTC)) == date(2026, 3, 29)
    assert local_date(datetime(2026, 7, 1, 21, 59, tzinfo=UTC)) == date(2026, 7, 1)
    assert local_date(datetime(2026, 7, 1, 22, 0, tzinfo=UTC)) == date(2026, 7, 2)
    # Asked Friday evening before King's Day 2026 with one working day: due at the end of
    # Tuesday 28 April, local time.
    asked = datetime(2026, 4, 24, 19, 0, tzinfo=UTC)
    assert end_of_working_days(asked, 1) == datetime(2026, 4, 29, 0, 0, tzinfo=LOCAL_TIMEZONE)


@given(DAYS, st.integers(min_value=0, max_value=80))
def test_between_is_the_inverse_of_add(start, count):
    assert working_days_between(start, add_working_days(start, count)) == count


@given(DAYS, st.integers(min_value=1, max_value=80))
def test_before_is_the_inverse_of_add_on_working_days(day, count):
    if is_working_day(day):
        assert add_working_days(working_days_before(day, count), count) == day
    assert is_working_day(working_days_before(day, count))


@given(DAYS, DAYS, st.integers(min_value=1, max_value=60))
def test_the_far_overdue_cutoff_is_exact(due, today, handle_days):
    """'Ver over tijd' is: the due date plus twice the target lies before today. The inbox
    compares the stored due date with one cutoff instead; both must always agree."""
    past = add_working_days(due, 2 * handle_days) < today
    assert past == (due < far_overdue_cutoff(today, handle_days))


def test_three_times_the_target_counts_from_the_day_it_came_in():
    came_in = date(2026, 4, 24)
    due = add_working_days(came_in, 20)
    assert due == date(2026, 5, 27)  # King's Day, Ascension Day and Whit Monday skipped
    last_day = add_working_days(due, 40)
    assert last_day == add_working_days(came_in, 60)
    assert not (due < far_overdue_cutoff(last_day, 20))
    day_after = last_day + timedelta(days=1)
    assert due < far_overdue_cutoff(day_after, 20)


def test_working_days_before_mirrors_adding_them() -> None:
    from datetime import date

    from portal.domain.working_days import add_working_days, working_days_before

    # Tuesday after King's Day (Monday 27 April 2026): one working day back is Friday 24.
    assert working_days_before(date(2026, 4, 28), 1) == date(2026, 4, 24)
    # From a working day, going back undoes going forward, across Christmas and New Year.
    for start in (date(2026, 12, 24), date(2026, 4, 24), date(2027, 5, 3)):
        for count in range(12):
            assert working_days_before(add_working_days(start, count), count) == start
            assert add_working_days(working_days_before(start, count), count) == start
