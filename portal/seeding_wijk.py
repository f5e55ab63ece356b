"""Demo content for the wijk pages: accountmanager profiles (and initiatives shown there)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_demo_profiles(session: Session) -> int:
    """Public profiles for the demo accountmanagers; returns how many were added."""
    return 0
