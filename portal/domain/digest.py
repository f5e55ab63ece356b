"""The daily digest mail per accountmanager (sent by ``jobs run``): the signals they own that
are to be followed up today, that are late, that wait for a functionary's answer to an
escalation, and that came in since their previous digest.

* One digest per user and local day, however often the job runs: the first run from
  ``DIGEST_HOUR`` (local time) on a working day sends it, later runs find the day taken. The
  claim is an ``INSERT … ON CONFLICT DO NOTHING`` on the unique (user, day) of ``DigestRun``:
  a run at the same moment elsewhere waits for the first one's commit and then inserts
  nothing, so it sends nothing. (No savepoint: on SQLite's Python driver a savepoint opened
  first in a transaction commits on release, which would split the claim from its mail.)
* Nothing to report: no mail, and no claim, so a later run that day sends one if something
  turned up by then.
* Each user can switch it off (``User.digest_enabled``).
* The mail goes through the outbox in the job's transaction (delivered after its commit), in
  Dutch, to the user, or to their stand-in on a day they are away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.domain import absences, audit, deadlines
from portal.domain.inbox import deadlines as late
from portal.domain.inbox.deadlines import Deadlines
from portal.domain.notifications import MailContext
from portal.domain.working_days import LOCAL_TIMEZONE, is_working_day
from portal.models import DigestRun, Escalation, Role, Signal, User
from portal.outbox import queue_mail

DEFAULT_DIGEST_HOUR = 7
DIGEST_ROLES = (Role.ACCOUNTMANAGER.value, Role.ADMIN.value)
# A longer list is cut off with "and N more" (the inbox has them all).
MAX_PER_SECTION = 25


@dataclass(frozen=True)
class LateSignal:
    signal: Signal
    respond_late: bool
    handle_late: bool
    far_overdue: bool


@dataclass(frozen=True)
class WaitingEscalation:
    escalation: Escalation
    signal: Signal
    past_reply_by: bool


@dataclass(frozen=True)
class Section:
    """The first ``MAX_PER_SECTION`` items of a part of the digest, and how many there are."""

    items: list[Any] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def _section(items: list[Any]) -> Section:
    return Section(items[:MAX_PER_SECTION], len(items))


@dataclass(frozen=True)
class Digest:
    user: User
    day: date
    since: datetime  # "new" counts from here
    follow_ups: Section  # of Signal
    late: Section  # of LateSignal
    escalations: Section  # of WaitingEscalation
    new: Section  # of Signal

    @property
    def is_empty(self) -> bool:
        return not (
            self.follow_ups.total or self.late.total or self.escalations.total or self.new.total
        )


@dataclass
class DigestReport:
    sent: int = 0
    already: int = 0
    empty: int = 0
    switched_off: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, already sent today {self.already}, nothing to report "
            f"{self.empty}, switched off {self.switched_off}"
        )


def digest_hour_of(mail: object, hour: int | None) -> int:
    """``hour`` when given; else DIGEST_HOUR as the mail context carries it (once wired),
    else the default (config.py has the same default)."""
    if hour is not None:
        return hour
    return int(getattr(mail, "digest_hour", DEFAULT_DIGEST_HOUR))


def send_digests(
    session: Session, *, now: datetime, mail: MailContext, hour: int | None = None
) -> str:
    """Queues today's digest for every user who has one coming; one line for ``jobs run``."""
    local = now.astimezone(LOCAL_TIMEZONE)
    today = local.date()
    if not is_working_day(today):
        return "skipped: not a working day"
    start = digest_hour_of(mail, hour)
    if local.hour < start:
        return f"not yet: the digest goes from {start:02d}:00"
    rules = deadlines.rules_from(mail)
    moment = Deadlines.at(
        now,
        rules.respond_working_days,
        LOCAL_TIMEZONE,
        targets=deadlines.load_targets(session, rules),
    )
    report = DigestReport()
    users = session.scalars(
        select(User).where(User.active.is_(True), User.role.in_(DIGEST_ROLES)).order_by(User.id)
    ).all()
    sent_today = set(session.scalars(select(DigestRun.user_id).where(DigestRun.day == today)))
    for user in users:
        if not user.digest_enabled:
            report.switched_off += 1
            continue
        if user.id in sent_today:
            report.already += 1
            continue
        digest = build_digest(session, user, moment=moment)
        if digest.is_empty:
            report.empty += 1
            continue
        if not _claim_day(session, user.id, today, now):
            report.already += 1  # another run, at this very moment
            continue
        # Away today: the stand-in reads it, as all mail about the absent owner's signals.
        stand_in = absences.stand_in_for(session, user.id, today)
        recipient = stand_in or user
        rendered = mail.renderer.render(
            "daily_digest",
            "nl",
            digest=digest,
            links=mail.links,
            backoffice_url=mail.links.base_url.rstrip("/") + "/backoffice",
            recipient=recipient,
            covering_for=user if stand_in is not None else None,
        )
        queue_mail(session, purpose="daily_digest", recipient=recipient.email, mail=rendered)
        report.sent += 1
    session.flush()
    return str(report)


def _claim_day(session: Session, user_id: int, day: date, now: datetime) -> bool:
    """Takes (user, day) for this run; False when another run has it."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(DigestRun)
        .values(user_id=user_id, day=day, sent_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "day"])
        .returning(DigestRun.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def _since(session: Session, user: User, moment: Deadlines) -> datetime:
    """New since the previous digest, but never further back than the start of the previous
    working day (after a holiday, or with the digest switched off for a while)."""
    floor = moment.start_of(deadlines.working_days_before(moment.today, 1))
    previous = session.scalar(
        select(DigestRun.sent_at)
        .where(DigestRun.user_id == user.id, DigestRun.day < moment.today)
        .order_by(DigestRun.day.desc())
        .limit(1)
    )
    return max(previous, floor) if previous is not None else floor


def build_digest(session: Session, user: User, *, moment: Deadlines) -> Digest:
    """What ``user``'s digest holds at ``moment`` (four queries on indexed columns)."""
    mine = Signal.owner_id == user.id
    follow_ups = session.scalars(
        select(Signal)
        .where(mine, late.follow_up_due(moment))
        .order_by(Signal.follow_up_on, Signal.id)
    ).all()
    overdue = session.scalars(
        select(Signal)
        .where(mine, or_(late.respond_late(moment), late.handle_late(moment)))
        .options(selectinload(Signal.themes))
        .order_by(Signal.created_at, Signal.id)
    ).all()
    waiting = session.execute(
        select(Escalation, Signal)
        .join(Signal, Signal.id == Escalation.signal_id)
        .where(mine, Escalation.answered_at.is_(None), Escalation.closed_at.is_(None))
        .options(joinedload(Escalation.functionary))
        .order_by(Escalation.reply_by, Escalation.id)
    ).all()
    since = _since(session, user, moment)
    new = session.scalars(
        select(Signal)
        .where(mine, Signal.created_at >= since, Signal.created_at < moment.now)
        .options(joinedload(Signal.wijk))
        .order_by(Signal.created_at, Signal.id)
    ).all()
    return Digest(
        user=user,
        day=moment.today,
        since=since,
        follow_ups=_section(list(follow_ups)),
        late=_section(
            [
                LateSignal(s, moment.respond_late(s), moment.handle_late(s), moment.far_overdue(s))
                for s in overdue
            ]
        ),
        escalations=_section(
            [WaitingEscalation(e, s, e.reply_by < moment.today) for e, s in waiting]
        ),
        new=_section(list(new)),
    )


def set_digest_enabled(session: Session, user: User, enabled: bool, *, actor_id: int) -> bool:
    """Switches the user's digest on or off; False when it already was so."""
    if user.digest_enabled == enabled:
        return False
    user.digest_enabled = enabled
    audit.record(session, "user.digest_switched", actor_id=actor_id, user_id=user.id, on=enabled)
    session.flush()
    return True
