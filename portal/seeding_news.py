"""Demo wijk news."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_demo_news(session: Session) -> int:
    """A few news items per demo wijk; returns how many were added."""
    return 0
