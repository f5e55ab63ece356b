"""Housekeeping that runs outside requests: ``flask --app portal jobs run`` (from cron or a
systemd timer, e.g. hourly). Every job is safe to run as often as the operator likes and
decides for itself what is due, so the command needs no schedule of its own.

To add a job (retention, link expiry, ...): write a function ``(JobContext) -> str`` that does
the work in ``context.session`` and returns one line saying what it did, and list it in
``JOBS``. The runner commits after each job, so one failing job does not undo the others."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from portal.domain import deadlines, following
from portal.domain.alerts import send_weekly
from portal.domain.deadlines import backfill_due_dates
from portal.domain.dialogue.reminders import remind_unanswered
from portal.domain.digest import send_digests
from portal.domain.escalations import remind_due
from portal.domain.notifications import MailContext
from portal.domain.upload_sweep import sweep_loose_uploads
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


@dataclass(frozen=True)
class JobResult:
    name: str
    summary: str
    ok: bool


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


Job = tuple[str, Callable[[JobContext], str]]
JOBS: tuple[Job, ...] = (
    ("upload-sweep", sweep_uploads),
    ("failed-mail-redaction", redact_failed_mail),
    ("due-date-backfill", due_date_backfill),
    ("question-reminders", remind_unanswered_questions),
    ("escalation-reminders", escalation_reminders),
    ("daily-digest", daily_digest),
    ("wijk-alerts", wijk_alerts),
    ("follower-cleanup", forget_followers),
)


def run_due(context: JobContext, jobs: tuple[Job, ...] = JOBS) -> list[JobResult]:
    results: list[JobResult] = []
    for name, job in jobs:
        try:
            summary = job(context)
            context.session.commit()
        except Exception as error:  # one broken job must not stop the others
            context.session.rollback()
            log.exception("Job %s failed", name)
            results.append(JobResult(name, f"failed: {error}", ok=False))
        else:
            results.append(JobResult(name, summary, ok=True))
    return results
