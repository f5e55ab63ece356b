""" "Bent u tevreden over hoe uw melding is afgehandeld?" — asked once per resolution, open
for a configurable number of days, answerable once. "No" becomes a reopen request that the
owner decides on: reopen, or keep it closed with an explanation the resident receives."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.notifications import MailContext, owner_reopen_request
from portal.domain.working_days import LOCAL_TIMEZONE, local_date
from portal.models import ReopenRequest, SatisfactionSurvey, Signal, SignalEvent
from portal.vocabulary import Status

COMMENT_MAX = 5000
REOPENED = "reopened"
KEPT_CLOSED = "kept_closed"


class SatisfactionError(ValueError):
    """``code``: not_open (nothing to answer, already answered or expired), too_long,
    already_decided, explanation_required."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def open_survey(
    session: Session, signal: Signal, resolving_event: SignalEvent, *, now: datetime, days: int
) -> SatisfactionSurvey:
    # Open through the whole last day in Hilversum: "tot en met 15 december" means that.
    last_day = local_date(now) + timedelta(days=days)
    open_until = datetime.combine(last_day, time(23, 59, 59), LOCAL_TIMEZONE)
    survey = SatisfactionSurvey(
        signal_id=signal.id, event_id=resolving_event.id, asked_at=now, open_until=open_until
    )
    session.add(survey)
    session.flush()
    return survey


def latest_survey(session: Session, signal: Signal) -> SatisfactionSurvey | None:
    return session.scalars(
        select(SatisfactionSurvey)
        .where(SatisfactionSurvey.signal_id == signal.id)
        .order_by(SatisfactionSurvey.id.desc())
    ).first()


def answerable_survey(session: Session, signal: Signal, now: datetime) -> SatisfactionSurvey | None:
    """The question the resident may still answer: the latest resolution's, unanswered, not
    expired, while the signal is still resolved."""
    if signal.status != Status.RESOLVED:
        return None
    survey = latest_survey(session, signal)
    if survey is None or survey.answered_at is not None or now >= survey.open_until:
        return None
    return survey


def answer(
    session: Session,
    signal: Signal,
    *,
    satisfied: bool,
    comment: str | None,
    now: datetime,
    mail: MailContext,
) -> ReopenRequest | None:
    """Stores the answer (once). Not satisfied: a reopen request for the owner, returned."""
    text = (comment or "").strip() or None
    if text is not None and len(text) > COMMENT_MAX:
        raise SatisfactionError("too_long")
    survey = answerable_survey(session, signal, now)
    if survey is None:
        raise SatisfactionError("not_open")
    survey.answered_at, survey.satisfied, survey.comment = now, satisfied, text
    audit.record(session, "signal.satisfaction_answered", signal_id=signal.id, satisfied=satisfied)
    request = None
    if not satisfied:
        request = ReopenRequest(
            signal_id=signal.id, survey_id=survey.id, created_at=now, comment=text
        )
        session.add(request)
        # On the staff timeline, so the request is seen where the signal's story is told.
        event = SignalEvent(
            kind="reopen_requested",
            is_public=False,
            origin="status_page",
            created_at=now,
            message=text,
        )
        with session.no_autoflush:
            signal.events.append(event)
        signal.updated_at = now
        session.flush()
        owner_reopen_request(session, signal, request, mail)
    session.flush()
    return request


def pending_request(session: Session, signal: Signal) -> ReopenRequest | None:
    return session.scalars(
        select(ReopenRequest)
        .where(ReopenRequest.signal_id == signal.id, ReopenRequest.decided_at.is_(None))
        .order_by(ReopenRequest.id)
    ).first()


def record_decision(
    request: ReopenRequest, *, decision: str, explanation: str | None, actor_id: int, now: datetime
) -> None:
    """Marks the request decided; the caller does the matching casework step (reopening, or
    the public explanation) in the same transaction."""
    if request.decided_at is not None:
        raise SatisfactionError("already_decided")
    request.decided_at, request.decision = now, decision
    request.explanation, request.decided_by_id = explanation, actor_id
