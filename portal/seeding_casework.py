"""Demo casework data: the targets Bureau Wijkzaken works with (local use, like the rest of
``seed demo``). Safe to run again: a kind that has a target already keeps it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import ResponseTarget
from portal.vocabulary import Kind

# (kind, respond within, handled within) in working days: a problem gets an answer within
# three days and is handled within four weeks; an initiative takes longer (talks, budget).
DEMO_TARGETS = [
    (Kind.KNELPUNT, 3, 20),
    (Kind.INITIATIEF, 5, 40),
]


def seed_demo_targets(session: Session) -> int:
    """The kinds' own targets (no theme); returns how many were added."""
    existing = set(
        session.scalars(select(ResponseTarget.kind).where(ResponseTarget.theme.is_(None)))
    )
    added = 0
    for kind, respond, handle in DEMO_TARGETS:
        if kind.value in existing:
            continue
        session.add(
            ResponseTarget(
                kind=kind.value,
                theme=None,
                respond_working_days=respond,
                handle_working_days=handle,
            )
        )
        added += 1
    session.flush()
    return added
