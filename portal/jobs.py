"""Housekeeping that runs outside requests: ``flask --app portal jobs run`` (from cron or a
systemd timer, e.g. hourly). Every job is safe to run as often as the operator likes and
decides for itself what is due, so the command needs no schedule of its own.

To add a job (retention, link expiry, ...): write a function ``(JobContext) -> str`` that does
the work in ``context.session`` and returns one line saying what it did, and list it in
``JOBS``. The runner commits after each job, so one failing job does not undo the others.

Cron may start ``jobs run`` on every app server at the same minute. Each job is taken with a
lease in the database first (one row per job in ``job_locks``): one runner runs it, the others
skip it and say who has it. A runner that died keeps its jobs until their lease ends; then the
next runner takes them over. Leases are counted on each host's clock, so the hosts' clocks
must agree (NTP) to well within a lease, as they must for the outbox's claims."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from portal.domain import deadlines, following
from portal.domain.alerts import send_weekly
from portal.domain.deadlines import backfill_due_dates
from portal.domain.dialogue.reminders import remind_unanswered
from portal.domain.digest import send_digests
from portal.domain.escalations import remind_due
from portal.domain.notifications import MailContext
from portal.domain.privacy.destruction import DestructionPeriods, destroy_expired
from portal.domain.privacy.retention import RetentionPeriods, apply_retention
from portal.domain.steering import thermometer
from portal.domain.upload_sweep import sweep_loose_uploads
from portal.models import JobLock, utcnow
from portal.outbox import FAILED_MAIL_RETENTION, redact_failed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    session: Session
    upload_folder: Path
    now: datetime
    mail: MailContext | None = None
    question_reminder_working_days: int = 5
    # Wijk alerts: how often a subscriber gets mail, and the key their links are made with.
    # None: the app's ALERT_INTERVAL_DAYS and SECRET_KEY (``jobs run`` runs in the app).
    alert_interval_days: int | None = None
    secret_key: str | None = None
    # None: the app's RETENTION_* settings.
    retention: RetentionPeriods | None = None
    destruction: DestructionPeriods | None = None


@dataclass(frozen=True)
class JobResult:
    name: str
    summary: str
    ok: bool
    # Another runner holds the job: not a failure, it runs there.
    skipped: bool = False


def retention(context: JobContext) -> str:
    periods = context.retention
    if periods is None:
        from flask import current_app

        periods = retention_periods(current_app.config)
    return str(apply_retention(context.session, periods, context.now))


def destruction(context: JobContext) -> str:
    periods = context.destruction
    if periods is None:
        from flask import current_app

        periods = destruction_periods(current_app.config)
    return str(destroy_expired(context.session, periods, context.now))


def sweep_uploads(context: JobContext) -> str:
    return str(sweep_loose_uploads(context.session, context.upload_folder, now=context.now))


def redact_failed_mail(context: JobContext) -> str:
    count = redact_failed(context.session, context.now - FAILED_MAIL_RETENTION)
    return f"{count} failed mail(s) older than {FAILED_MAIL_RETENTION.days} days redacted"


def remind_unanswered_questions(context: JobContext) -> str:
    if context.mail is None:
        return "skipped: no mail settings"
    report = remind_unanswered(
        context.session,
        now=context.now,
        working_days=context.question_reminder_working_days,
        mail=context.mail,
    )
    return str(report)


def due_date_backfill(context: JobContext) -> str:
    """Signals from before due dates were stored get them once; then this finds none."""
    if context.mail is None:
        return "skipped: no mail settings"
    count = backfill_due_dates(context.session, deadlines.rules_from(context.mail))
    return f"{count} signal(s) given due dates"


def daily_digest(context: JobContext) -> str:
    if context.mail is None:
        return "skipped: no mail settings"
    return send_digests(context.session, now=context.now, mail=context.mail)


def escalation_reminders(context: JobContext) -> str:
    if context.mail is None:
        return "skipped: no mail settings"
    return remind_due(context.session, now=context.now, mail=context.mail)


def wijk_alerts(context: JobContext) -> str:
    if context.mail is None:
        return "skipped: no mail settings"
    interval = context.alert_interval_days
    secret = context.secret_key
    if interval is None or secret is None:
        from flask import current_app

        interval = current_app.config["ALERT_INTERVAL_DAYS"] if interval is None else interval
        secret = current_app.config["SECRET_KEY"] if secret is None else secret
    report = send_weekly(
        context.session,
        now=context.now,
        interval_days=int(interval),
        mail=context.mail,
        secret=str(secret),
    )
    return str(report)


def forget_followers(context: JobContext) -> str:
    """Follow links that open nothing any more (closed long enough ago, or stopped) go."""
    return f"{following.forget_followers(context.session, context.now)} removed"


# Generous: far longer than any run takes (seconds to minutes), so a living runner never loses
# a job to another; a runner that died holds it no longer than this (cron runs again later).
DEFAULT_LEASE = timedelta(hours=1)
# The mailings render and queue a mail per recipient: give them more room.
MAILING_LEASE = timedelta(hours=2)


def wijk_thermometer(context: JobContext) -> str:
    snapshot = thermometer.refresh_when_due(context.session, context.now)
    if snapshot is None:
        return "skipped: the stored figures cover these months"
    return f"figures for {snapshot.first_day} to {snapshot.last_day} stored"


class Job(NamedTuple):
    name: str
    run: Callable[[JobContext], str]
    lease: timedelta = DEFAULT_LEASE


JOBS: tuple[Job, ...] = (
    # Before the sweep: the files of the photos they remove go in the same run.
    Job("retention", retention),
    Job("signal-destruction", destruction),
    Job("upload-sweep", sweep_uploads),
    Job("failed-mail-redaction", redact_failed_mail),
    Job("due-date-backfill", due_date_backfill),
    Job("question-reminders", remind_unanswered_questions),
    Job("escalation-reminders", escalation_reminders),
    Job("daily-digest", daily_digest, MAILING_LEASE),
    Job("wijk-alerts", wijk_alerts, MAILING_LEASE),
    Job("follower-cleanup", forget_followers),
    Job("wijk-thermometer", wijk_thermometer),
)


def retention_periods(config: Mapping[str, Any]) -> RetentionPeriods:
    return RetentionPeriods(
        contact_days=int(config["RETENTION_REPORTER_DAYS"]),
        photo_days=int(config["RETENTION_PHOTO_DAYS"]),
        sensitive_days=int(config["RETENTION_SENSITIVE_DAYS"]),
        minimum_days=int(config["RETENTION_MINIMUM_DAYS"]),
    )


def destruction_periods(config: Mapping[str, Any]) -> DestructionPeriods:
    return DestructionPeriods(
        resolved_years=int(config["RETENTION_SIGNAL_YEARS"]),
        declined_years=int(config["RETENTION_DECLINED_SIGNAL_YEARS"]),
    )


def runner_name() -> str:
    """Who holds a lease, as an operator looking for it needs to know: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def run_due(
    context: JobContext,
    jobs: Iterable[Job | tuple[str, Callable[[JobContext], str]]] | None = None,
    *,
    holder: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> list[JobResult]:
    """Runs each job that no other runner holds. ``jobs``: ``JOBS`` (read when called), or
    (name, function[, lease]) entries. ``clock``: the time leases are counted in (the
    host's); ``context.now`` is the time the jobs themselves work with. Leases are written on
    a connection of their own, so ``context.session`` must hold no uncommitted writes (on
    SQLite the lease would wait for them)."""
    holder = holder or runner_name()
    entries = JOBS if jobs is None else jobs
    return [_run_one(context, Job(*entry), holder, clock) for entry in entries]


def _run_one(
    context: JobContext, job: Job, holder: str, clock: Callable[[], datetime]
) -> JobResult:
    session = context.session
    try:
        lease = take_lease(session, job.name, holder, job.lease, clock=clock)
    except OperationalError:
        # The database is away: every other job would wait for it in turn. The caller says
        # so in one line (cron runs it again).
        raise
    except SQLAlchemyError as error:
        log.exception("Job %s: its lock could not be taken", job.name)
        return JobResult(job.name, f"failed: its lock could not be taken: {error}", ok=False)
    if isinstance(lease, HeldElsewhere):
        return JobResult(job.name, f"skipped: {lease}", ok=True, skipped=True)
    try:
        summary = job.run(context)
        session.commit()
    except Exception as error:  # one broken job must not stop the others
        session.rollback()
        log.exception("Job %s failed", job.name)
        result = JobResult(job.name, f"failed: {error}", ok=False)
        release_quietly(session, lease, result.summary, clock=clock)
        return result
    except BaseException:  # Ctrl-C: let go of the job before stopping
        session.rollback()
        release_quietly(session, lease, "interrupted", clock=clock)
        raise
    release_quietly(session, lease, summary, clock=clock)
    return JobResult(job.name, summary, ok=True)


# --- leases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lease:
    """This runner has the job until ``until``."""

    name: str
    holder: str
    until: datetime


@dataclass(frozen=True)
class HeldElsewhere:
    holder: str | None
    until: datetime | None

    def __str__(self) -> str:
        until = f" (lease until {self.until:%Y-%m-%d %H:%M} UTC)" if self.until else ""
        return f"running on {self.holder}{until}"


def take_lease(
    session: Session,
    name: str,
    holder: str,
    length: timedelta,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> Lease | HeldElsewhere:
    """Takes the job for ``holder`` unless another runner's lease on it has not ended yet.

    Runs in a session of its own on the same database, committed before the job starts, so
    other runners see the lease at once and the job's own transaction is left alone. The
    UPDATE is one statement that works alike on both databases: PostgreSQL re-checks its
    WHERE against a row another runner just changed, SQLite takes its write lock before it
    reads, so of two racing runners exactly one changes the row."""
    with Session(session.get_bind()) as locks:
        insert = pg_insert if locks.get_bind().dialect.name == "postgresql" else sqlite_insert
        locks.execute(insert(JobLock).values(name=name).on_conflict_do_nothing())
        now = clock()
        until = now + length
        result = locks.execute(
            update(JobLock)
            .where(
                JobLock.name == name,
                or_(JobLock.locked_until.is_(None), JobLock.locked_until < now),
            )
            .values(holder=holder, locked_until=until, last_started_at=now)
            .execution_options(synchronize_session=False)
        )
        locks.commit()
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return Lease(name, holder, until)
        current = locks.execute(
            select(JobLock.holder, JobLock.locked_until).where(JobLock.name == name)
        ).one()
        return HeldElsewhere(current.holder, current.locked_until)


def release(
    session: Session, lease: Lease, summary: str, *, clock: Callable[[], datetime] = utcnow
) -> bool:
    """Lets go of the job and records what the run did; False when the lease had ended and
    another runner took the job over meanwhile (its lease is then left alone)."""
    with Session(session.get_bind()) as locks:
        result = locks.execute(
            update(JobLock)
            .where(
                JobLock.name == lease.name,
                JobLock.holder == lease.holder,
                JobLock.locked_until == lease.until,
            )
            .values(holder=None, locked_until=None, last_finished_at=clock(), last_summary=summary)
            .execution_options(synchronize_session=False)
        )
        locks.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def release_quietly(
    session: Session, lease: Lease, summary: str, *, clock: Callable[[], datetime] = utcnow
) -> None:
    """The job's outcome is what counts: a lock that cannot be let go ends with its lease."""
    try:
        if not release(session, lease, summary, clock=clock):
            log.warning(
                "Job %s ran longer than its lease; another runner may have run it as well",
                lease.name,
            )
    except SQLAlchemyError:
        log.exception("Job %s: its lock could not be let go; it ends with its lease", lease.name)
