"""Writing the audit trail: every operation that changes something calls ``record``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.models import AuditRecord


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    signal_id: int | None = None,
    **details: object,
) -> None:
    session.add(AuditRecord(action=action, actor_id=actor_id, signal_id=signal_id, details=details))
