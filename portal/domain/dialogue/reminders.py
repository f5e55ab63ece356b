"""A question to the resident that stays unanswered: after N working days one reminder mail,
after N more a note on the timeline for the owner, who decides (ask again, phone, close).
Run by ``flask --app portal jobs run``; each step is written once, so running it often is
harmless."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.dialogue.resident import open_question
from portal.domain.notifications import MailContext, question_reminder
from portal.domain.working_days import end_of_working_days
from portal.models import Signal, SignalEvent
from portal.vocabulary import Status

REMINDED = "question_reminded"
UNANSWERED = "question_unanswered"


@dataclass
class ReminderReport:
    reminded: int = 0
    noted: int = 0

    def __str__(self) -> str:
        return f"{self.reminded} reminder(s) sent, {self.noted} unanswered question(s) noted"


def _steps_since(signal: Signal, question: SignalEvent) -> set[str]:
    return {e.kind for e in signal.events if e.id > question.id}


def _note(session: Session, signal: Signal, kind: str, now: datetime) -> None:
    """A staff-only timeline step. The signal row itself is not changed, so its version stays
    and a colleague's open page does not turn stale because a job ran."""
    with session.no_autoflush:
        signal.events.append(SignalEvent(kind=kind, is_public=False, created_at=now))
    session.flush()


def remind_unanswered(
    session: Session, *, now: datetime, working_days: int, mail: MailContext
) -> ReminderReport:
    report = ReminderReport()
    waiting = session.scalars(
        select(Signal).where(Signal.status == Status.AWAITING_RESIDENT.value).order_by(Signal.id)
    )
    for signal in waiting:
        question = open_question(signal)
        if question is None:
            continue
        later = [e for e in signal.events if e.id > question.id]
        kinds = {e.kind for e in later}
        if UNANSWERED in kinds:
            continue
        if REMINDED not in kinds:
            if now < end_of_working_days(question.created_at, working_days):
                continue
            if question_reminder(session, signal, question, mail):
                _note(session, signal, REMINDED, now)
                audit.record(session, "signal.question_reminded", signal_id=signal.id)
                report.reminded += 1
            else:  # no address to remind: the owner decides now
                _note(session, signal, UNANSWERED, now)
                report.noted += 1
            continue
        reminded_at = max(e.created_at for e in later if e.kind == REMINDED)
        if now >= end_of_working_days(reminded_at, working_days):
            _note(session, signal, UNANSWERED, now)
            report.noted += 1
    return report
