"""The daily digest mail per accountmanager (sent by ``jobs run``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from portal.domain.notifications import MailContext


def send_digests(session: Session, *, now: datetime, mail: MailContext) -> str:
    return "not built yet"
