"""Escalation to a functionary with authority (horzelfunctie)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from portal.domain.notifications import MailContext


def remind_due(session: Session, *, now: datetime, mail: MailContext) -> str:
    """Reminds functionaries of escalations due today and unanswered; one line for jobs run."""
    return "not built yet"
