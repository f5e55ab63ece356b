"""``flask --app portal ...`` commands: database, seed data, users, outbox, housekeeping jobs
(backup and restore: portal/backup_cli.py)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from portal import migrate
from portal.extensions import db

db_cli = AppGroup("db", help="Database schema (Alembic).")
seed_cli = AppGroup("seed", help="Reference and demo data.")
users_cli = AppGroup("users", help="Staff accounts.")
outbox_cli = AppGroup("outbox", help="Queued mail.")
jobs_cli = AppGroup("jobs", help="Housekeeping (run it from cron, e.g. hourly).")
mail_cli = AppGroup("mail", help="Replies by email.")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Bring the database schema up to date."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database at {revision}.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    migrate.revision(current_app.config["DATABASE_URL"], message)


@seed_cli.command("wijken")
def seed_wijken() -> None:
    """Load the CBS wijken and buurten of Hilversum (safe to run again)."""
    from portal.domain.geography import ATTRIBUTION, default_geography
    from portal.seeding import seed_geography

    created, existing = seed_geography(db.session, default_geography())
    db.session.commit()
    click.echo(f"Wijken/buurten: {created} new, {existing} already present. Source: {ATTRIBUTION}.")


@seed_cli.command("demo")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True)
def seed_demo(base_url: str) -> None:
    """Demo accountmanagers (one per wijk), a general inbox owner and sample signals."""
    from portal.config import is_production
    from portal.domain.geography import default_geography
    from portal.domain.intake import IntakeSettings
    from portal.domain.mail import Links
    from portal.domain.notifications import MailContext
    from portal.seeding import seed_demo_data, seed_demo_signals

    if is_production(current_app):
        raise click.ClickException("Demo data with a known password is refused in production.")
    for line in seed_demo_data(db.session):
        click.echo(line)
    from portal.seeding_outreach import seed_demo_outreach

    click.echo(f"Functionaries and partners: {seed_demo_outreach(db.session)} new.")
    from portal.seeding_casework import seed_demo_targets

    click.echo(f"Response and handling targets: {seed_demo_targets(db.session)} new.")
    settings = IntakeSettings(
        geography=default_geography(),
        mail=MailContext(
            renderer=current_app.extensions["portal.mail_renderer"],
            links=Links(base_url),
            response_working_days=current_app.config["RESPONSE_WORKING_DAYS"],
        ),
        reference_prefix=current_app.config["REFERENCE_PREFIX"],
        now=datetime.now(UTC),
    )
    created = seed_demo_signals(db.session, settings)
    db.session.commit()
    click.echo(f"Sample signals: {created} new.")
    from portal.seeding_news import seed_demo_news
    from portal.seeding_wijk import seed_demo_profiles

    click.echo(f"Accountmanager profiles: {seed_demo_profiles(db.session)} new.")
    click.echo(f"Wijk news: {seed_demo_news(db.session)} new.")
    db.session.commit()
    from portal.seeding_initiatives import seed_demo_initiatives

    click.echo(f"Initiative budgets and grants: {seed_demo_initiatives(db.session, settings)} new.")
    db.session.commit()


def init_app(app: Flask) -> None:
    for group in (db_cli, seed_cli, users_cli, outbox_cli, jobs_cli, mail_cli):
        app.cli.add_command(group)
    from portal.backup_cli import backup_command, restore_command
    from portal.report_cli import report_cli

    app.cli.add_command(report_cli)
    for command in (devmail_command, backup_command, restore_command):
        app.cli.add_command(command)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "accountmanager", "management"]))
@click.option("--wijk", "wijken", multiple=True, help="CBS wijk code, e.g. WK040203; repeatable.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_create(email: str, name: str, role: str, wijken: tuple[str, ...], password: str) -> None:
    """Create a staff account."""
    from portal.domain.users import UserError, create_user

    try:
        user = create_user(
            db.session, email=email, name=name, role=role, password=password, wijk_codes=wijken
        )
    except UserError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@users_cli.command("reset-2fa")
@click.option("--email", required=True)
def users_reset_2fa(email: str) -> None:
    """Switch off someone's two-step login (lost phone, no recovery codes left)."""
    from portal.domain import two_factor
    from portal.domain.login import find_staff

    user = find_staff(db.session, email)
    if user is None:
        raise click.ClickException(f"No account with email {email}.")
    two_factor.reset(db.session, user, actor_id=None)
    db.session.commit()
    click.echo(
        f"Two-step login of {user.email} is off; they were logged out everywhere and set it "
        "up again at their next login if it is required."
    )


# --- outbox and devmail ---------------------------------------------------------------------


@outbox_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep delivering until Ctrl-C or SIGTERM.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds between runs with --loop.",
)
@click.option(
    "--now",
    "now_",
    is_flag=True,
    help="Send the mail that waits for a retry now, not at its next backoff step.",
)
def outbox_send(loop: bool, interval: float, now_: bool) -> None:
    """Deliver the queued mail that is due (retries included)."""
    from sqlalchemy.exc import OperationalError

    from portal.mailer import make_sender
    from portal.outbox import DeliveryReport, bring_forward, deliver_due

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    send = make_sender(app)

    session_factory = app.extensions["portal.db"]
    if now_:
        with session_factory() as session:
            waiting = bring_forward(session, datetime.now(UTC))
            session.commit()
        click.echo(f"Outbox: {waiting} mail(s) waiting for a retry brought forward.")

    def run_once() -> DeliveryReport:
        return deliver_due(session_factory, send, max_attempts=app.config["OUTBOX_MAX_ATTEMPTS"])

    if not loop:
        click.echo(f"Outbox: {run_once()}.")
        return
    click.echo(f"Delivering queued mail every {interval:g} s; Ctrl-C to stop.")
    with _stop_on_signals() as stop:
        while not stop.is_set():
            try:
                report = run_once()
            except OperationalError as error:
                # A database restart must not end the worker; the next run tries again.
                click.echo(f"Outbox: database unavailable ({error.orig}); retrying.", err=True)
            else:
                if report.sent or report.retried or report.failed:
                    click.echo(f"Outbox: {report}.")
            stop.wait(interval)
    click.echo("Stopped.")


@outbox_cli.command("status")
@click.option(
    "--errors",
    "error_limit",
    default=10,
    show_default=True,
    help="How many failed messages to list.",
)
def outbox_status(error_limit: int) -> None:
    """Messages per status, and why the latest failed ones failed."""
    from sqlalchemy import func, select

    from portal.models import OutboxMessage

    session = db.session
    counts: dict[str, int] = {
        status: count
        for status, count in session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
    }
    for status in ("pending", "sending", "sent", "failed", *sorted(set(counts) - _STATUSES)):
        click.echo(f"{status:<8} {counts.get(status, 0)}")
    next_due = session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending")
    )
    if next_due is not None:
        click.echo(f"next attempt due at {next_due:%Y-%m-%d %H:%M:%S} UTC")
    failed = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "failed")
        .order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc())
        .limit(error_limit)
    )
    for message in failed:
        error = " ".join((message.last_error or "").split())
        click.echo(
            f"failed #{message.id} {message.purpose} after {message.attempts} attempts: {error}"
        )


_STATUSES = {"pending", "sending", "sent", "failed"}


@jobs_cli.command("run")
def jobs_run() -> None:
    """Run the housekeeping that is due: loose uploads, old failed mail, question reminders.

    Safe to start on several hosts at once: a job another runner has is skipped."""
    from sqlalchemy.exc import OperationalError

    from portal.jobs import JobContext, destruction_periods, retention_periods, run_due
    from portal.public.services import mail_context

    context = JobContext(
        session=db.session,
        upload_folder=Path(current_app.config["UPLOAD_FOLDER"]),
        now=datetime.now(UTC),
        mail=mail_context(),
        question_reminder_working_days=current_app.config["QUESTION_REMINDER_WORKING_DAYS"],
        alert_interval_days=current_app.config["ALERT_INTERVAL_DAYS"],
        secret_key=current_app.config["SECRET_KEY"],
        retention=retention_periods(current_app.config),
        destruction=destruction_periods(current_app.config),
    )
    try:
        results = run_due(context)
    except OperationalError as error:
        # Cron runs it again; a traceback in its mail would only hide the one line that counts.
        click.echo(f"jobs: database unavailable ({error.orig}); nothing ran.", err=True)
        raise SystemExit(1) from None
    for result in results:
        click.echo(f"{result.name}: {result.summary}", err=not result.ok)
    if not all(result.ok for result in results):
        raise SystemExit(1)


@jobs_cli.command("status")
def jobs_status() -> None:
    """Per job: who runs it now (and until when their lease lasts), and how its last run ended."""
    from sqlalchemy import select

    from portal.jobs import JOBS
    from portal.models import JobLock

    locks = {lock.name: lock for lock in db.session.scalars(select(JobLock))}
    now = datetime.now(UTC)
    for job in JOBS:
        lock = locks.get(job.name)
        if lock is None or lock.last_started_at is None:
            click.echo(f"{job.name}: never run")
            continue
        if lock.locked_until is not None:
            ended = " (ended: taken over by the next run)" if lock.locked_until < now else ""
            state = f"running on {lock.holder} until {lock.locked_until:%Y-%m-%d %H:%M} UTC{ended}"
        else:
            state = "idle"
        click.echo(f"{job.name}: {state}; last started {lock.last_started_at:%Y-%m-%d %H:%M} UTC")
        if lock.last_finished_at is not None:
            click.echo(
                f"  last finished {lock.last_finished_at:%Y-%m-%d %H:%M} UTC: {lock.last_summary}"
            )


@click.command("devmail")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=int)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to save the .eml files  [default: the instance folder's mail/]",
)
@with_appcontext
def devmail_command(host: str, port: int, folder: Path | None) -> None:
    """Development SMTP server that saves every message as an .eml file (sends nothing on)."""
    from portal.devmail import start_sink

    folder = folder or Path(current_app.instance_path) / "mail"
    sink = start_sink(host, port, folder, on_saved=lambda saved: click.echo(str(saved)))
    click.echo(f"Saving mail sent to {host}:{port} in {folder}; Ctrl-C to stop.")
    try:
        with _stop_on_signals() as stop:
            stop.wait()
    finally:
        sink.stop()
    click.echo("Stopped.")


@mail_cli.command("receive")
@click.option("--host", help="Address to listen on  [default: INBOUND_MAIL_HOST]")
@click.option("--port", type=int, help="Port  [default: INBOUND_MAIL_PORT]")
@click.option(
    "--protocol", type=click.Choice(["smtp", "lmtp"]), help="[default: INBOUND_MAIL_PROTOCOL]"
)
def mail_receive(host: str | None, port: int | None, protocol: str | None) -> None:
    """Receive residents' mail replies (SMTP or LMTP) and put them on their signals."""
    from portal.inbound_server import start_server

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    server = start_server(
        app, host=host, port=port, protocol=protocol, on_result=lambda r: click.echo(str(r))
    )
    click.echo(
        f"Receiving replies by {server.protocol.upper()} on {server.host}:{server.port}; "
        "Ctrl-C to stop."
    )
    try:
        with _stop_on_signals() as stop:
            stop.wait()
    finally:
        server.stop()
    click.echo("Stopped.")


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by the first Ctrl-C or SIGTERM, so a loop can finish what it is doing; a
    second one interrupts at once."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():  # signals go to the main thread
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, handle)
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
