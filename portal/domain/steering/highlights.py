"""Notable cases for the monthly report: an accountmanager (or an admin) picks a signal that
shows what Bureau Wijkzaken does, chooses the month's report it belongs in (this month or the
one before: a report is written in the first days of the next month) and writes a short
summary the college - and the public, for the report may be shared - can read. Only the
summary goes into the report, never the resident's words or details; a sensitive signal, or
an initiative its initiators kept off the wijk page, cannot be picked.

Each step is checked against the version the user saw and lands on the staff timeline and in
the audit log, like every casework operation."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from portal.domain import audit, visibility
from portal.domain.casework import Actor, CaseworkError, add_event, check_version
from portal.domain.working_days import local_date
from portal.models import Role, Signal, User

SUMMARY_MAX = 600
WHO = (Role.ACCOUNTMANAGER, Role.ADMIN)


def may_highlight(user: User, signal: Signal) -> bool:
    """Accountmanagers and admins, for a signal the public may see (not sensitive, not an
    initiative its initiators kept off the wijk page)."""
    return user.role in WHO and visibility.is_public(signal)


def months_offered(today: date) -> list[date]:
    """The reports a case may go into: this month's and last month's (their first days)."""
    this_month = today.replace(day=1)
    return [this_month, (this_month - timedelta(days=1)).replace(day=1)]


def highlight(
    session: Session,
    signal: Signal,
    *,
    summary: str,
    month: date | None,
    seen_version: int,
    actor: Actor,
) -> None:
    """Into the report of ``month`` (the first day of one of ``months_offered``).
    CaseworkError: ``not_allowed``, ``not_public``, ``month_invalid``, ``summary_required``,
    ``summary_too_long``, ``nothing_changed``."""
    _check(session, signal, seen_version, actor)
    if month not in months_offered(local_date(actor.now)):
        raise CaseworkError("month_invalid")
    text = (summary or "").strip()
    if not text:
        raise CaseworkError("summary_required")
    if len(text) > SUMMARY_MAX:
        raise CaseworkError("summary_too_long")
    if (text, month) == (signal.highlight_summary, signal.highlight_month):
        raise CaseworkError("nothing_changed")
    signal.highlight_summary, signal.highlight_month = text, month
    add_event(session, signal, actor, "highlighted", public=False, message=text)
    audit.record(
        session,
        "signal.highlighted",
        actor_id=actor.user_id,
        signal_id=signal.id,
        month=month.isoformat(),  # type: ignore[union-attr]
    )


def unhighlight(session: Session, signal: Signal, *, seen_version: int, actor: Actor) -> None:
    """Out of the report again. CaseworkError: ``not_allowed``, ``not_highlighted``."""
    check_version(signal, seen_version)
    user = session.get(User, actor.user_id)
    if user is None or user.role not in WHO:
        raise CaseworkError("not_allowed")
    if signal.highlight_month is None:
        raise CaseworkError("not_highlighted")
    signal.highlight_summary = signal.highlight_month = None
    add_event(session, signal, actor, "unhighlighted", public=False)
    audit.record(session, "signal.unhighlighted", actor_id=actor.user_id, signal_id=signal.id)


def _check(session: Session, signal: Signal, seen_version: int, actor: Actor) -> None:
    check_version(signal, seen_version)
    user = session.get(User, actor.user_id)
    if user is None or user.role not in WHO:
        raise CaseworkError("not_allowed")
    if not visibility.is_public(signal):
        raise CaseworkError("not_public")
