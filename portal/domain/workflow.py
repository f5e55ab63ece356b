"""The status model from DESIGN.md: which moves are allowed and which need a public message.
One table, walked completely by the tests."""

from __future__ import annotations

from portal.vocabulary import Status

_WORKING = {
    Status.IN_PROGRESS,
    Status.AWAITING_RESIDENT,
    Status.FORWARDED,
    Status.PLANNED,
    Status.RESOLVED,
    Status.DECLINED,
}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset(_WORKING),
    Status.IN_PROGRESS: frozenset(_WORKING - {Status.IN_PROGRESS}),
    Status.AWAITING_RESIDENT: frozenset(_WORKING - {Status.AWAITING_RESIDENT}),
    Status.FORWARDED: frozenset(_WORKING - {Status.FORWARDED}),
    Status.PLANNED: frozenset(_WORKING - {Status.PLANNED}),
    Status.REOPENED: frozenset(_WORKING),
    Status.RESOLVED: frozenset({Status.REOPENED}),
    Status.DECLINED: frozenset({Status.REOPENED}),
}

# The resident must be told why (closing, declining, reopening) or what is asked of them.
MESSAGE_REQUIRED = frozenset(
    {Status.RESOLVED, Status.DECLINED, Status.REOPENED, Status.AWAITING_RESIDENT}
)


def allowed_targets(current: Status | str) -> list[Status]:
    """In the order of the status model, for menus."""
    targets = TRANSITIONS[Status(current)]
    return [status for status in Status if status in targets]


def is_allowed(current: Status | str, target: Status | str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def needs_message(target: Status | str) -> bool:
    return Status(target) in MESSAGE_REQUIRED
