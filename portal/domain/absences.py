"""Cover during absence: an accountmanager away (leave, illness) names a colleague who stands
in. From the first to the last day (local dates, Europe/Amsterdam) new signals of their wijken
route to the stand-in (``intake``), owner mail goes to the stand-in (``notifications``) and
the stand-in may open their sensitive signals (``visibility``). Afterwards routing returns by
itself; what the stand-in received stays with them until they hand it back in one action.

The signals a stand-in received are known by their ``signal.created`` audit record: intake
writes ``covering_for`` (the absent owner) and ``absence_id`` in it, next to ``owner_id``
(who received the signal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import String, and_, cast, literal, null, or_, select
from sqlalchemy.orm import Session, joinedload

from portal.domain import audit
from portal.domain.working_days import LOCAL_TIMEZONE
from portal.models import Absence, AuditRecord, Role, Signal, User
from portal.vocabulary import CLOSED_STATUSES

if TYPE_CHECKING:  # casework imports intake, which imports this module
    from portal.domain.notifications import MailContext

# Who can be away with a stand-in, and who can stand in: the people who own signals.
COVER_ROLES = frozenset({Role.ACCOUNTMANAGER.value, Role.ADMIN.value})
# How long after an absence the absences page still lists it.
LISTED_AFTER_DAYS = 60
_CLOSED = tuple(s.value for s in CLOSED_STATUSES)


class AbsenceError(ValueError):
    """The absence cannot be recorded, ended or handed back as asked; ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- recording and ending -------------------------------------------------------------------


def _owner_of_signals(session: Session, user_id: int | None) -> User | None:
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active or user.role not in COVER_ROLES:
        return None
    return user


# How far back an absence may start when it is recorded.
MAX_DAYS_BACK = timedelta(days=7)


def _away_between(session: Session, user_id: int, starts_on: date, ends_on: date) -> bool:
    """Whether an absence of ``user_id`` overlaps the days from ``starts_on`` to ``ends_on``."""
    found = session.scalar(
        select(Absence.id).where(
            Absence.user_id == user_id,
            Absence.starts_on <= ends_on,
            Absence.ends_on >= starts_on,
        )
    )
    return found is not None


def record_absence(
    session: Session,
    *,
    user_id: int | None,
    stand_in_id: int | None,
    starts_on: date,
    ends_on: date,
    actor_id: int,
    today: date,
) -> Absence:
    """From ``starts_on`` to ``ends_on`` inclusive. The stand-in is another active
    accountmanager or admin; one absence per person at a time (no overlapping periods)."""
    user = _owner_of_signals(session, user_id)
    if user is None:
        raise AbsenceError("unknown_user")
    stand_in = _owner_of_signals(session, stand_in_id)
    if stand_in is None:
        raise AbsenceError("unknown_stand_in")
    if stand_in.id == user.id:
        raise AbsenceError("stand_in_is_self")
    if ends_on < starts_on:
        raise AbsenceError("ends_before_start")
    if ends_on < today:
        raise AbsenceError("ends_in_past")
    # Sick leave is often recorded a day or two late; further back would reroute nothing but
    # would quietly open the owner's sensitive signals to the stand-in for that past.
    if starts_on < today - MAX_DAYS_BACK:
        raise AbsenceError("starts_too_early")
    # A stand-in who is away themselves in that period cannot cover (and mail would stop
    # one step short of whoever covers for them).
    if _away_between(session, stand_in.id, starts_on, ends_on):
        raise AbsenceError("stand_in_away")
    if _away_between(session, user.id, starts_on, ends_on):
        raise AbsenceError("overlaps")
    absence = Absence(
        user_id=user.id,
        user=user,
        stand_in_id=stand_in.id,
        stand_in=stand_in,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=actor_id,
    )
    session.add(absence)
    session.flush()
    audit.record(
        session,
        "absence.recorded",
        actor_id=actor_id,
        absence_id=absence.id,
        user_id=user.id,
        stand_in_id=stand_in.id,
        starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat(),
    )
    return absence


def end_absence(session: Session, absence: Absence, *, actor_id: int, today: date) -> bool:
    """The person is back: routing returns to them from today. An absence that has not begun
    is cancelled (False); one that began today still covers today (signals may have come in).
    True when ended."""
    if absence.ends_on < today:
        raise AbsenceError("already_over")
    before = absence.ends_on.isoformat()
    if absence.starts_on > today:
        audit.record(
            session,
            "absence.cancelled",
            actor_id=actor_id,
            absence_id=absence.id,
            user_id=absence.user_id,
            stand_in_id=absence.stand_in_id,
            starts_on=absence.starts_on.isoformat(),
            ends_on=before,
        )
        session.delete(absence)
        session.flush()
        return False
    absence.ends_on = max(today - timedelta(days=1), absence.starts_on)
    session.flush()
    audit.record(
        session,
        "absence.ended",
        actor_id=actor_id,
        absence_id=absence.id,
        user_id=absence.user_id,
        before=before,
        after=absence.ends_on.isoformat(),
    )
    return True


def may_record_for_others(user: User) -> bool:
    return user.role == Role.ADMIN


def may_end(user: User, absence: Absence) -> bool:
    return user.role == Role.ADMIN or user.id in (absence.user_id, absence.created_by_id)


def may_hand_back(user: User, absence: Absence) -> bool:
    return user.role == Role.ADMIN or user.id == absence.stand_in_id


# --- who stands in for whom -----------------------------------------------------------------


def _on(day: date):  # type: ignore[no-untyped-def]
    return (Absence.starts_on <= day, Absence.ends_on >= day)


def stand_ins_statement(day: date):  # type: ignore[no-untyped-def]
    """Who stands in for whom on ``day`` (for routing), as a part of the routing's one
    statement (intake.load_routing_rules): ("absence", None, absent user id, stand-in id,
    absence id) rows. A stand-in who has been deactivated since covers nobody: the signal
    then goes to the absent owner as usual."""
    return (
        select(
            literal("absence"),
            cast(null(), String),
            Absence.user_id,
            Absence.stand_in_id,
            Absence.id,
        )
        .join(User, User.id == Absence.stand_in_id)
        .where(*_on(day), User.active.is_(True))
    )


def stand_in_for(session: Session, user_id: int, day: date) -> User | None:
    """Who stands in for ``user_id`` on ``day`` (an active colleague), or None."""
    return session.scalar(
        select(User)
        .join(Absence, Absence.stand_in_id == User.id)
        .where(Absence.user_id == user_id, *_on(day), User.active.is_(True))
    )


def involving(session: Session, user_id: int, today: date, within_days: int) -> list[Absence]:
    """In one query (the inbox asks on every view): ``user_id``'s own absence today, the ones
    they cover today ("waarneming voor …"), and the ones they covered that ended in the last
    ``within_days`` days (something may be left to hand back)."""
    own_now = and_(Absence.user_id == user_id, *_on(today))
    covered = and_(
        Absence.stand_in_id == user_id,
        Absence.starts_on <= today,
        Absence.ends_on >= today - timedelta(days=within_days),
    )
    return list(
        session.scalars(
            select(Absence)
            .options(joinedload(Absence.user), joinedload(Absence.stand_in))
            .where(or_(own_now, covered))
            .order_by(Absence.ends_on, Absence.id)
        )
    )


def listing(session: Session, user: User, today: date) -> list[Absence]:
    """For the absences page: current, coming and recent absences; an admin sees everyone's,
    others their own and the ones they stand in for."""
    query = (
        select(Absence)
        .options(joinedload(Absence.user), joinedload(Absence.stand_in))
        .where(Absence.ends_on >= today - timedelta(days=LISTED_AFTER_DAYS))
        .order_by(Absence.starts_on.desc(), Absence.id.desc())
    )
    if user.role != Role.ADMIN:
        query = query.where(or_(Absence.user_id == user.id, Absence.stand_in_id == user.id))
    return list(session.scalars(query))


# --- handing back ---------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, LOCAL_TIMEZONE)


def to_hand_back(session: Session, absence: Absence) -> list[Signal]:
    """The open signals routing gave someone during ``absence`` that are still theirs (one
    they passed on already, or closed, stays where it is)."""
    rows = session.execute(
        select(Signal, AuditRecord.details)
        .join(AuditRecord, AuditRecord.signal_id == Signal.id)
        .where(
            AuditRecord.action == "signal.created",
            # The start narrows it down (indexed); the marker decides. No upper bound: an
            # absence ended early still covered the signals of its last day.
            Signal.created_at >= _start_of(absence.starts_on),
            Signal.status.not_in(_CLOSED),
            Signal.owner_id.is_not(None),
        )
        .order_by(Signal.created_at, Signal.id)
    ).all()
    return [
        signal
        for signal, details in rows
        if details.get("absence_id") == absence.id
        and details.get("covering_for") == absence.user_id
        and details.get("owner_id") == signal.owner_id
    ]


@dataclass(frozen=True)
class HandedBack:
    references: list[str]


def hand_back(
    session: Session,
    absence: Absence,
    *,
    reason: str,
    actor_id: int,
    now: datetime,
    mail: MailContext,
) -> HandedBack:
    """Gives every signal of ``to_hand_back`` back to the person who was away, once they are
    back: each with its own timeline step, audit record and mail (``casework.reassign``)."""
    # casework imports intake, which imports this module for routing: loaded here, so
    # neither has to import the other half-loaded.
    from portal.domain import casework

    if now.astimezone(LOCAL_TIMEZONE).date() <= absence.ends_on:
        raise AbsenceError("not_over")
    if _owner_of_signals(session, absence.user_id) is None:
        raise AbsenceError("owner_gone")
    signals = to_hand_back(session, absence)
    if not signals:
        raise AbsenceError("nothing_to_hand_back")
    actor = casework.Actor(user_id=actor_id, now=now)
    for signal in signals:
        casework.reassign(
            session,
            signal,
            wijk_code=None,
            buurt_code=None,
            owner_id=absence.user_id,
            reason=reason,
            seen_version=signal.version,
            actor=actor,
            mail=mail,
        )
    references = [s.reference for s in signals]
    audit.record(
        session,
        "absence.handed_back",
        actor_id=actor_id,
        absence_id=absence.id,
        user_id=absence.user_id,
        stand_in_id=absence.stand_in_id,
        references=references,
    )
    return HandedBack(references)
