"""The status model from DESIGN.md, walked completely: every (from, to) pair is either in the
transition table and allowed, or refused. No Flask, no database."""

from __future__ import annotations

import itertools

import pytest

from portal.domain import workflow
from portal.vocabulary import CLOSED_STATUSES, Status

ALL_PAIRS = list(itertools.product(Status, Status))

# The contract, written out by hand from DESIGN.md's status model (x = allowed, from the row
# to the column), so that a slip in the code's table cannot agree with itself. The columns
# are the codes in this order; their headings are the first letters.
COLUMNS = (
    "received",
    "in_progress",
    "awaiting_resident",
    "forwarded",
    "planned",
    "resolved",
    "declined",
    "reopened",
)
TABLE = """
                   rec in_ awa for pla res dec reo
received            .   x   x   x   x   x   x   .
in_progress         .   .   x   x   x   x   x   .
awaiting_resident   .   x   .   x   x   x   x   .
forwarded           .   x   x   .   x   x   x   .
planned             .   x   x   x   .   x   x   .
resolved            .   .   .   .   .   .   .   x
declined            .   .   .   .   .   .   .   x
reopened            .   x   x   x   x   x   x   .
"""


def _read_table() -> dict[str, set[str]]:
    header, *lines = TABLE.strip().splitlines()
    headings = header.split()
    assert len(headings) == len(COLUMNS)
    assert all(code.startswith(h) for code, h in zip(COLUMNS, headings, strict=True))
    table: dict[str, set[str]] = {}
    for line in lines:
        current, *marks = line.split()
        assert len(marks) == len(COLUMNS), line
        assert set(marks) <= {"x", "."}, line
        table[current] = {code for code, mark in zip(COLUMNS, marks, strict=True) if mark == "x"}
    return table


EXPECTED_CODES = _read_table()
EXPECTED = {
    Status(current): {Status(t) for t in targets} for current, targets in EXPECTED_CODES.items()
}


def test_the_written_table_names_every_status_once() -> None:
    assert list(EXPECTED_CODES) == list(COLUMNS) == [status.value for status in Status]
    assert sum(len(targets) for targets in EXPECTED_CODES.values()) == 34


def test_the_table_covers_every_status() -> None:
    assert set(workflow.TRANSITIONS) == set(Status)
    for targets in workflow.TRANSITIONS.values():
        assert targets <= set(Status)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda s: s.value)
def test_every_pair_is_allowed_exactly_when_the_table_says_so(
    current: Status, target: Status
) -> None:
    expected = target in EXPECTED[current]
    assert (target in workflow.TRANSITIONS[current]) is expected
    assert workflow.is_allowed(current, target) is expected
    # Plain strings (as stored in the database) answer the same.
    assert workflow.is_allowed(current.value, target.value) is expected
    assert (target in workflow.allowed_targets(current.value)) is expected


def test_allowed_pairs_are_counted() -> None:
    allowed = [(c, t) for c, t in ALL_PAIRS if workflow.is_allowed(c, t)]
    assert len(allowed) == sum(len(targets) for targets in EXPECTED.values()) == 34


def test_nothing_moves_to_itself_or_back_to_received() -> None:
    for status in Status:
        assert not workflow.is_allowed(status, status)
        assert not workflow.is_allowed(status, Status.RECEIVED)


def test_a_closed_signal_can_only_be_reopened() -> None:
    for closed in CLOSED_STATUSES:
        assert workflow.allowed_targets(closed) == [Status.REOPENED]


def test_every_status_is_reachable_from_received() -> None:
    seen, todo = {Status.RECEIVED}, [Status.RECEIVED]
    while todo:
        for target in workflow.allowed_targets(todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(Status)


def test_allowed_targets_follow_the_order_of_the_status_model() -> None:
    order = list(Status)
    for status in Status:
        targets = workflow.allowed_targets(status)
        assert targets == sorted(targets, key=order.index)
        assert all(isinstance(t, Status) for t in targets)


def test_a_message_is_required_exactly_for_closing_declining_reopening_and_asking() -> None:
    assert {
        Status.RESOLVED,
        Status.DECLINED,
        Status.REOPENED,
        Status.AWAITING_RESIDENT,
    } == workflow.MESSAGE_REQUIRED
    for status in Status:
        expected = status in {"resolved", "declined", "reopened", "awaiting_resident"}
        assert workflow.needs_message(status) is expected
        assert workflow.needs_message(status.value) is expected


@pytest.mark.parametrize("bad", ["", "closed", "RESOLVED", "in progress"])
def test_unknown_statuses_are_refused_loudly(bad: str) -> None:
    with pytest.raises(ValueError):
        workflow.is_allowed(Status.RECEIVED, bad)
    with pytest.raises(ValueError):
        workflow.allowed_targets(bad)
    with pytest.raises(ValueError):
        workflow.needs_message(bad)
