"""Demo data for initiatives: wijk budgets and a grant (the seam; filled in by issue 10)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.domain.intake import IntakeSettings


def seed_demo_initiatives(session: Session, settings: IntakeSettings) -> int:
    return 0
