"""Sending a fresh status link to a resident who lost theirs."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import audit, notifications
from portal.domain.references import normalise_reference
from portal.domain.tokens import issue_status_token
from portal.models import Reporter, Signal


def send_fresh_link(
    session: Session, reference: str, email: str, ctx: notifications.MailContext
) -> bool:
    """Queues a mail with a new link if reference and address belong together. The caller
    must answer the same either way; the return value is for tests and logs only."""
    signal = session.scalars(
        select(Signal)
        .join(Reporter)
        .where(
            Signal.reference == normalise_reference(reference),
            func.lower(Reporter.email) == email.strip().lower(),
        )
    ).first()
    if signal is None or signal.reporter is None or not signal.reporter.email:
        return False
    # The resident lost their link, or someone else may have it: the old ones stop working.
    token = issue_status_token(session, signal, revoke_others=True)
    session.flush()
    notifications.status_link(session, signal, signal.reporter.email, token, ctx)
    audit.record(session, "status_link.sent", signal_id=signal.id)
    return True
