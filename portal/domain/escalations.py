"""Escalation to a functionary with authority (horzelfunctie, doorzettingsmacht).

Bureau Wijkzaken has no formal power of its own: an accountmanager asks a named functionary
who does, with a question or advice, an urgency and a reply-by date. The functionary gets a
data-minimised summary and a one-time link to answer without an account; the answer lands
on the signal's timeline (internal) and the accountmanager hears of it. On the reply-by date
an unanswered escalation gets one reminder; after it, it is overdue. Each escalation ends
when the accountmanager closes it with an outcome (which also ends its link).

An escalation is *waiting* while nobody answered it and it is not closed; *overdue* when it
is waiting and its reply-by date has passed (in Hilversum's calendar)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import Session, selectinload

from portal.domain import audit
from portal.domain.casework import Actor, CaseworkError
from portal.domain.notifications import MailContext, answer_to_owner
from portal.domain.reply_links import (
    ANSWERED,
    ENDED,
    ESCALATION_FIELDS,
    OPEN,
    AnswerError,
    answer_url,
    build_summary,
    check_version,
    clean_answer,
    clean_text,
    find_by_token,
    new_token,
    outside_step,
    staff_step,
)
from portal.domain.working_days import LOCAL_TIMEZONE, local_date
from portal.models import Escalation, Functionary, Signal, SignalEvent, User
from portal.outbox import queue_mail
from portal.vocabulary import CLOSED_STATUSES, N_, Status

NORMAL = "normal"
HIGH = "high"
URGENCY_LABELS = {NORMAL: N_("Normaal"), HIGH: N_("Dringend")}
# How far ahead a reply-by date may lie: further is a typo, not a plan.
MAX_DAYS_AHEAD = 366

# The state of an escalation, for marks and lists.
WAITING = "open"
OVERDUE = "overdue"
CLOSED = "closed"
STATE_LABELS = {
    WAITING: N_("Wacht op antwoord"),
    OVERDUE: N_("Te laat"),
    ANSWERED: N_("Beantwoord"),
    CLOSED: N_("Afgesloten"),
}

# Timeline steps (all internal).
ESCALATED = "escalated"
ANSWER = "escalation_answered"
REMINDED = "escalation_reminded"
CLOSED_STEP = "escalation_closed"
STEP_KINDS = (ESCALATED, ANSWER, REMINDED, CLOSED_STEP)


# --- escalating ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationRequest:
    functionary_id: int | None
    question: str | None
    urgency: str | None
    reply_by: date | None


def check_escalation(session: Session, request: EscalationRequest, today: date) -> Functionary:
    """The checks of ``escalate`` without changing anything; raises CaseworkError."""
    functionary = (
        session.get(Functionary, request.functionary_id) if request.functionary_id else None
    )
    if functionary is None or not functionary.active:
        raise CaseworkError("unknown_functionary")
    clean_text(request.question, code="question")
    if request.urgency not in URGENCY_LABELS:
        raise CaseworkError("unknown_urgency")
    if request.reply_by is None:
        raise CaseworkError("reply_by_required")
    if request.reply_by < today:
        raise CaseworkError("date_in_past")
    if request.reply_by > today + timedelta(days=MAX_DAYS_AHEAD):
        raise CaseworkError("date_too_far")
    return functionary


def link_expires_at(reply_by: date, link_days: int) -> datetime:
    """The end (local midnight) of the ``link_days``-th day after the reply-by date."""
    return datetime.combine(reply_by + timedelta(days=link_days + 1), time(0), LOCAL_TIMEZONE)


def last_link_day(escalation: Escalation) -> date:
    return local_date(escalation.link_expires_at) - timedelta(days=1)


def escalate(
    session: Session,
    signal: Signal,
    request: EscalationRequest,
    *,
    seen_version: int,
    actor: Actor,
    mail: MailContext,
    link_days: int,
) -> Escalation:
    check_version(signal, seen_version)
    functionary = check_escalation(session, request, local_date(actor.now))
    question = clean_text(request.question, code="question")
    assert request.reply_by is not None and request.urgency is not None  # checked above
    token, token_hash = new_token()
    escalation = Escalation(
        signal_id=signal.id,
        functionary=functionary,
        question=question,
        urgency=request.urgency,
        reply_by=request.reply_by,
        created_at=actor.now,
        created_by_id=actor.user_id,
        token_hash=token_hash,
        link_expires_at=link_expires_at(request.reply_by, link_days),
    )
    session.add(escalation)
    session.flush()
    event = staff_step(session, signal, actor, ESCALATED, question)
    audit.record(
        session,
        "signal.escalated",
        actor_id=actor.user_id,
        signal_id=signal.id,
        escalation_id=escalation.id,
        event_id=event.id,
        functionary_id=functionary.id,
        urgency=escalation.urgency,
        reply_by=escalation.reply_by.isoformat(),
    )
    asker = session.get(User, actor.user_id)
    _mail_functionary(
        session, signal, escalation, token, mail, "escalation_request", asker.name if asker else ""
    )
    return escalation


def _mail_functionary(
    session: Session,
    signal: Signal,
    escalation: Escalation,
    token: str,
    ctx: MailContext,
    template: str,
    asker_name: str,
) -> None:
    summary = build_summary(signal, ESCALATION_FIELDS, until=escalation.created_at)
    mail = ctx.renderer.render(
        template,
        "nl",
        escalation=escalation,
        functionary=escalation.functionary,
        summary=summary,
        asker_name=asker_name,
        urgent=escalation.urgency == HIGH,
        answer_url=answer_url(ctx.links, "escalation", token),
        link_until=last_link_day(escalation),
    )
    queue_mail(
        session,
        purpose=template,
        recipient=escalation.functionary.email,
        mail=mail,
        signal_id=signal.id,
    )


def _escalation_of(session: Session, signal: Signal, escalation_id: int | None) -> Escalation:
    escalation = session.get(Escalation, escalation_id) if escalation_id else None
    if escalation is None or escalation.signal_id != signal.id:
        raise CaseworkError("unknown_escalation")
    return escalation


def check_close(
    session: Session, signal: Signal, escalation_id: int | None, outcome: str | None
) -> Escalation:
    escalation = _escalation_of(session, signal, escalation_id)
    if escalation.closed_at is not None:
        raise CaseworkError("already_closed")
    clean_text(outcome, code="outcome")
    return escalation


def close_escalation(
    session: Session,
    signal: Signal,
    escalation_id: int | None,
    *,
    outcome: str | None,
    seen_version: int,
    actor: Actor,
) -> Escalation:
    """Ends the escalation with its outcome (answered or not); its link stops working."""
    check_version(signal, seen_version)
    escalation = check_close(session, signal, escalation_id, outcome)
    text = clean_text(outcome, code="outcome")
    escalation.closed_at = actor.now
    escalation.closed_by_id = actor.user_id
    escalation.outcome = text
    event = staff_step(session, signal, actor, CLOSED_STEP, text)
    audit.record(
        session,
        "signal.escalation_closed",
        actor_id=actor.user_id,
        signal_id=signal.id,
        escalation_id=escalation.id,
        event_id=event.id,
        answered=escalation.answered_at is not None,
    )
    return escalation


# --- the functionary's link ----------------------------------------------------------------


def lookup(session: Session, token: str, now: datetime) -> tuple[str | None, Escalation | None]:
    """(state, escalation): OPEN, ANSWERED or ENDED; (None, None) for an unknown token."""
    escalation = find_by_token(session, Escalation, token)
    if escalation is None:
        return None, None
    if escalation.answered_at is not None:
        return ANSWERED, escalation
    if escalation.closed_at is not None or now >= escalation.link_expires_at:
        return ENDED, escalation
    if _signal_closed(session, escalation.signal_id):
        return ENDED, escalation
    return OPEN, escalation


def _signal_closed(session: Session, signal_id: int) -> bool:
    """A closed signal takes no more answers from outside, and needs no reminders."""
    status = session.scalar(select(Signal.status).where(Signal.id == signal_id))
    return status is None or not Status(status).is_open


def answer(
    session: Session, escalation: Escalation, text: str | None, *, now: datetime, mail: MailContext
) -> SignalEvent:
    """Takes the functionary's answer once. The conditional UPDATE makes "once" hold when two
    tabs send at the same moment: only one of them finds the escalation unanswered."""
    cleaned = clean_answer(text)
    taken = session.execute(
        update(Escalation)
        .where(
            Escalation.id == escalation.id,
            Escalation.answered_at.is_(None),
            Escalation.closed_at.is_(None),
            Escalation.link_expires_at > now,
        )
        .values(answered_at=now, answer=cleaned)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise AnswerError("used")
    session.refresh(escalation)
    signal = session.get(Signal, escalation.signal_id)
    assert signal is not None  # the foreign key cascades
    event = outside_step(session, signal, ANSWER, cleaned, now)
    audit.record(
        session,
        "signal.escalation_answered",
        signal_id=signal.id,
        escalation_id=escalation.id,
        event_id=event.id,
        functionary_id=escalation.functionary_id,
    )
    answer_to_owner(
        session,
        signal,
        asked_by_id=escalation.created_by_id,
        template="escalation_answered",
        ctx=mail,
        escalation=escalation,
        functionary=escalation.functionary,
    )
    return event


# --- reminders (``jobs run``) --------------------------------------------------------------


def remind_due(session: Session, *, now: datetime, mail: MailContext) -> str:
    """Reminds functionaries of escalations due today and unanswered; one line for jobs run.

    Once per escalation (``reminded_at``), from its reply-by date on, while its link still
    works. The reminder brings a fresh link (only a hash is stored, so the first one cannot be
    repeated); the first mail's link stops working then. An escalation asked for the same day
    it is due gets no reminder: the request itself said "today"."""
    today = local_date(now)
    due = session.scalars(
        select(Escalation)
        .where(
            *waiting_for_answer(),
            Escalation.reminded_at.is_(None),
            Escalation.reply_by <= today,
            Escalation.link_expires_at > now,
            Escalation.signal_id.in_(
                select(Signal.id).where(Signal.status.not_in([s.value for s in CLOSED_STATUSES]))
            ),
        )
        .order_by(Escalation.id)
    )
    reminded = skipped = 0
    for escalation in due:
        if local_date(escalation.created_at) >= escalation.reply_by:
            continue
        if not escalation.functionary.active:
            skipped += 1
            continue
        signal = session.get(Signal, escalation.signal_id)
        assert signal is not None
        token, token_hash = new_token()
        # Claimed with a conditional UPDATE: of two overlapping runs, one reminds.
        claimed = session.execute(
            update(Escalation)
            .where(Escalation.id == escalation.id, Escalation.reminded_at.is_(None))
            .values(reminded_at=now, token_hash=token_hash)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        session.refresh(escalation)
        asker = session.get(User, escalation.created_by_id) if escalation.created_by_id else None
        _mail_functionary(
            session,
            signal,
            escalation,
            token,
            mail,
            "escalation_reminder",
            asker.name if asker else "",
        )
        event = outside_step(session, signal, REMINDED, None, now)
        audit.record(
            session,
            "signal.escalation_reminded",
            signal_id=signal.id,
            escalation_id=escalation.id,
            event_id=event.id,
        )
        reminded += 1
    line = f"{reminded} escalation reminder(s) sent"
    if skipped:
        line += f", {skipped} skipped (functionary no longer active)"
    return line


# --- states and queries (signal page, inbox filters, digest) --------------------------------


def state_of(escalation: Escalation, today: date) -> str:
    if escalation.closed_at is not None:
        return CLOSED
    if escalation.answered_at is not None:
        return ANSWERED
    return OVERDUE if escalation.reply_by < today else WAITING


def waiting_for_answer() -> list[ColumnElement[bool]]:
    """WHERE conditions on Escalation: nobody answered it yet and it is not closed."""
    return [Escalation.answered_at.is_(None), Escalation.closed_at.is_(None)]


def overdue(today: date) -> list[ColumnElement[bool]]:
    """WHERE conditions on Escalation: waiting, and its reply-by date lies before ``today``."""
    return [*waiting_for_answer(), Escalation.reply_by < today]


def open_escalations_query(
    *, owner_id: int | None = None, overdue_on: date | None = None
) -> Select[tuple[Escalation]]:
    """Escalations waiting for an answer, soonest reply-by date first; with ``owner_id`` only
    those on signals that user owns, with ``overdue_on`` only those overdue on that day. For
    the inbox use the signal ids: ``Signal.id.in_(query.with_only_columns(
    Escalation.signal_id))``."""
    conditions = overdue(overdue_on) if overdue_on is not None else waiting_for_answer()
    query = select(Escalation).where(*conditions)
    if owner_id is not None:
        query = query.join(Signal, Signal.id == Escalation.signal_id).where(
            Signal.owner_id == owner_id
        )
    return query.order_by(Escalation.reply_by, Escalation.id)


def escalations_of(session: Session, signal: Signal) -> list[Escalation]:
    return list(
        session.scalars(
            select(Escalation)
            .where(Escalation.signal_id == signal.id)
            .options(selectinload(Escalation.functionary))
            .order_by(Escalation.id)
        )
    )
