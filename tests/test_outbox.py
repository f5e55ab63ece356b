"""The transactional outbox against a real SMTP server and real databases (every test that
takes ``app`` or ``app_config`` runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask_mail import email_dispatched
from sqlalchemy import select, update

from portal import create_app
from portal.domain.mail import RenderedMail
from portal.extensions import db
from portal.mailer import OUTBOX_ID_HEADER, make_sender
from portal.models import OutboxMessage, utcnow
from portal.outbox import (
    CLAIM_DURATION,
    deliver_due,
    join_deliveries,
    queue_mail,
    retry_delay,
)
from tests.fixtures.databases import free_port
from tests.fixtures.mailserver import SMTPServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def make_app(app_config: dict[str, object]) -> Iterator[Callable[..., Flask]]:
    """Another app on the same database and SMTP server, with some settings changed."""
    apps: list[Flask] = []

    def make(**overrides: object) -> Flask:
        app = create_app({**app_config, **overrides})
        apps.append(app)
        return app

    yield make
    for app in apps:
        db.engine(app).dispose()


def mail(number: int = 1) -> RenderedMail:
    return RenderedMail(
        subject=f"Uw melding HLV-2026-{number:06d} is ontvangen",
        text=f"Beste bewoner,\n\nWe hebben melding {number} ontvangen.\n",
        html=f"<p>Beste bewoner,</p><p>We hebben melding <b>{number}</b> ontvangen.</p>",
    )


def queue(app: Flask, count: int = 1, recipient: str = "bewoner@example.nl") -> list[int]:
    """Queues ``count`` mails in one transaction and commits it."""
    with app.app_context():
        messages = [
            queue_mail(db.session, purpose="test", recipient=recipient, mail=mail(number))
            for number in range(1, count + 1)
        ]
        db.session.commit()
        return [message.id for message in messages]


def rows(app: Flask) -> list[OutboxMessage]:
    with app.extensions["portal.db"]() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def deliver(app: Flask, **kwargs: object):
    return deliver_due(app.extensions["portal.db"], make_sender(app), **kwargs)  # type: ignore[arg-type]


# ``flask outbox send --loop``, as a worker runs it next to the app servers.
OUTBOX_WORKER = [sys.executable, "-m", "flask", "--app", "portal", "outbox", "send", "--loop"]


def worker_environment(
    app_config: dict[str, object], tmp_path: Path, mail_port: int
) -> dict[str, str]:
    """A worker process's settings: the tests' database, a mail server on ``mail_port``."""
    return {
        **os.environ,
        "PORTAL_TESTING": "true",
        "PORTAL_DATABASE_URL": str(app_config["DATABASE_URL"]),
        "PORTAL_UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "PORTAL_MAIL_SERVER": "127.0.0.1",
        "PORTAL_MAIL_PORT": str(mail_port),
    }


def content(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content().replace("\r\n", "\n")


def outbox_ids(smtp: SMTPServer) -> Counter[int]:
    return Counter(int(message[OUTBOX_ID_HEADER]) for message in smtp.messages)


# --- after commit -------------------------------------------------------------------------


def test_commit_delivers_the_mail_once(app: Flask, smtp: SMTPServer) -> None:
    [message_id] = queue(app)

    # "sync": delivered before commit() returned, so no waiting.
    [received] = smtp.messages
    assert received["Subject"] == "Uw melding HLV-2026-000001 is ontvangen"
    assert received["To"] == "bewoner@example.nl"
    assert "wijkzaken@hilversum.example" in received["From"]
    assert received[OUTBOX_ID_HEADER] == str(message_id)
    assert received["Message-ID"].startswith(f"<outbox.{message_id}.")
    assert content(received, "plain") == mail().text
    assert content(received, "html").strip() == mail().html
    assert smtp.handler.envelopes[0][1] == ["bewoner@example.nl"]

    [row] = rows(app)
    assert (row.status, row.attempts, row.last_error, row.claimed_until) == ("sent", 1, None, None)
    assert row.sent_at is not None

    # Nothing is left for the worker.
    assert deliver(app).sent == 0
    assert len(smtp.messages) == 1


def test_rollback_never_mails(app: Flask, smtp: SMTPServer) -> None:
    with app.app_context():
        queue_mail(db.session, purpose="test", recipient="weg@example.nl", mail=mail(1))
        db.session.flush()
        db.session.rollback()
        queue_mail(db.session, purpose="test", recipient="niet@example.nl", mail=mail(2))
        db.session.close()  # a session closed without commit forgets its mail as well
        # A later commit on the same session must not pick up the abandoned mail.
        queue_mail(db.session, purpose="test", recipient="wel@example.nl", mail=mail(3))
        db.session.commit()

    assert [str(m["To"]) for m in smtp.messages] == ["wel@example.nl"]
    assert [row.recipient for row in rows(app)] == ["wel@example.nl"]


def test_savepoints_mail_only_what_the_outer_commit_keeps(app: Flask, smtp: SMTPServer) -> None:
    with app.app_context():
        with db.session.begin_nested():
            queue_mail(db.session, purpose="test", recipient="kept@example.nl", mail=mail(1))
        assert smtp.messages == []  # releasing a savepoint is not a commit

        savepoint = db.session.begin_nested()
        queue_mail(db.session, purpose="test", recipient="undone@example.nl", mail=mail(2))
        db.session.flush()
        savepoint.rollback()
        db.session.commit()

    assert [str(m["To"]) for m in smtp.messages] == ["kept@example.nl"]
    assert [row.recipient for row in rows(app)] == ["kept@example.nl"]


def test_thread_mode_delivers_after_commit(make_app, smtp: SMTPServer) -> None:
    app = make_app(OUTBOX_DELIVERY="thread")
    senders: list[str] = []

    def record(_app: Flask, message: object) -> None:
        senders.append(threading.current_thread().name)

    with email_dispatched.connected_to(record):
        [message_id] = queue(app)
        [received] = smtp.wait_for(1)
        assert join_deliveries(timeout=10)

    assert received[OUTBOX_ID_HEADER] == str(message_id)
    assert senders == ["outbox-delivery"]  # not the committing thread
    [row] = rows(app)
    assert (row.status, row.attempts) == ("sent", 1)


def test_off_mode_leaves_the_mail_to_the_worker(make_app, smtp: SMTPServer) -> None:
    app = make_app(OUTBOX_DELIVERY="off")
    queue(app, 2)
    assert smtp.messages == []
    assert [row.status for row in rows(app)] == ["pending", "pending"]

    report = deliver(app)

    assert (report.sent, report.retried, report.failed) == (2, 0, 0)
    assert len(smtp.messages) == 2


# --- SMTP trouble -------------------------------------------------------------------------


def test_smtp_down_keeps_the_mail_for_a_retry(app: Flask, make_app, smtp: SMTPServer) -> None:
    down = make_app(MAIL_PORT=free_port())  # nothing listens there
    before = utcnow()

    [message_id] = queue(down)  # the commit itself must succeed

    [row] = rows(app)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Connection refused" in row.last_error
    assert before + retry_delay(1) <= row.next_attempt_at <= utcnow() + retry_delay(1)
    assert smtp.messages == []

    # With the server back, the retry waits for its time ...
    assert deliver(app).sent == 0
    assert smtp.messages == []
    # ... and then goes out exactly once.
    later = row.next_attempt_at + timedelta(seconds=1)
    assert deliver(app, now=later).sent == 1
    assert deliver(app, now=later + timedelta(hours=1)).sent == 0
    assert outbox_ids(smtp) == {message_id: 1}
    [row] = rows(app)
    assert (row.status, row.attempts) == ("sent", 2)


def test_outbox_send_now_delivers_what_waits_for_a_retry(
    app: Flask, make_app, smtp: SMTPServer
) -> None:
    down = make_app(MAIL_PORT=free_port())  # nothing listens there
    waiting = [message_id for _ in range(3) for message_id in queue(down)]
    assert [(row.status, row.attempts) for row in rows(app)] == [("pending", 1)] * 3
    runner = app.test_cli_runner()  # the server is back (the app's own settings)

    plain = runner.invoke(args=["outbox", "send"])
    now = runner.invoke(args=["outbox", "send", "--now"])
    again = runner.invoke(args=["outbox", "send", "--now"])

    assert plain.output == "Outbox: sent 0, retried later 0, failed 0.\n"  # not yet their time
    assert now.exit_code == 0, now.output
    assert now.output.splitlines() == [
        "Outbox: 3 mail(s) waiting for a retry brought forward.",
        "Outbox: sent 3, retried later 0, failed 0.",
    ]
    assert again.output.splitlines()[0] == "Outbox: 0 mail(s) waiting for a retry brought forward."
    assert outbox_ids(smtp) == dict.fromkeys(waiting, 1)
    assert [(row.status, row.attempts) for row in rows(app)] == [("sent", 2)] * 3


def test_a_server_that_never_answers_times_out(make_app) -> None:
    with socket.socket() as silent:
        # Accepts connections (the kernel completes the handshake) but never says a word.
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        app = make_app(MAIL_PORT=silent.getsockname()[1], MAIL_TIMEOUT=0.5)

        started = time.monotonic()
        queue(app)
        elapsed = time.monotonic() - started

    assert elapsed < 5
    [row] = rows(app)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "timed out" in row.last_error


def test_an_unavailable_server_ends_the_run(make_app, smtp: SMTPServer) -> None:
    app = make_app(OUTBOX_DELIVERY="off", MAIL_PORT=free_port())
    queue(app, 3)

    report = deliver(app)

    # One attempt tells the server is down; the others keep their turn.
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    assert [row.attempts for row in rows(app)] == [1, 0, 0]


def test_a_refused_message_does_not_end_the_run(make_app, smtp: SMTPServer) -> None:
    app = make_app(OUTBOX_DELIVERY="off")
    queue(app, 2)
    send = make_sender(app)
    refused: list[int] = []

    def refuse_the_first(message: OutboxMessage) -> None:
        if not refused:
            refused.append(message.id)
            raise ValueError("550 no such mailbox")
        send(message)

    report = deliver_due(app.extensions["portal.db"], refuse_the_first)

    assert (report.sent, report.retried, report.failed) == (1, 1, 0)
    first, second = rows(app)
    assert (first.status, first.last_error, second.status) == (
        "pending",
        "550 no such mailbox",
        "sent",
    )


def test_retry_delay_doubles_up_to_six_hours() -> None:
    minutes = [retry_delay(attempt) / timedelta(minutes=1) for attempt in range(1, 12)]
    assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360]
    assert retry_delay(10**6) == timedelta(hours=6)


def test_gives_up_after_max_attempts(make_app, smtp: SMTPServer) -> None:
    app = make_app(OUTBOX_DELIVERY="off", MAIL_PORT=free_port())
    queue(app)
    now = utcnow()

    for attempt in (1, 2):
        report = deliver(app, now=now, max_attempts=3)
        assert report.retried == 1
        [row] = rows(app)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert row.next_attempt_at == now + retry_delay(attempt)
        assert deliver(app, now=now, max_attempts=3).retried == 0  # not due yet
        now = row.next_attempt_at

    report = deliver(app, now=now, max_attempts=3)

    assert (report.retried, report.failed) == (0, 1)
    [row] = rows(app)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "Connection refused" in row.last_error
    assert deliver(app, now=now + timedelta(days=30), max_attempts=3).failed == 0
    assert rows(app)[0].attempts == 3


# --- several deliverers -------------------------------------------------------------------


def test_a_claimed_message_is_not_sent_by_a_second_deliverer(
    make_app,
    smtp: SMTPServer,
) -> None:
    app = make_app(OUTBOX_DELIVERY="off")
    [message_id] = queue(app)
    send = make_sender(app)
    meanwhile = []

    def send_while_another_deliverer_runs(message: OutboxMessage) -> None:
        # Deterministic interleaving: the second deliverer runs between claim and send.
        meanwhile.append(deliver(app))
        send(message)

    report = deliver_due(app.extensions["portal.db"], send_while_another_deliverer_runs)

    assert report.sent == 1
    assert [r.sent for r in meanwhile] == [0]
    assert outbox_ids(smtp) == {message_id: 1}


def test_racing_deliverers_send_each_message_once(make_app, smtp: SMTPServer) -> None:
    app = make_app(OUTBOX_DELIVERY="off")
    ids = queue(app, 20)
    start = threading.Barrier(4)
    reports = []

    def worker() -> None:
        start.wait()
        reports.append(deliver(app))

    workers = [threading.Thread(target=worker) for _ in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)

    assert sum(report.sent for report in reports) == 20
    assert outbox_ids(smtp) == dict.fromkeys(ids, 1)
    assert {row.status for row in rows(app)} == {"sent"}
    assert {row.attempts for row in rows(app)} == {1}


def test_a_crashed_deliverers_claim_is_taken_over(make_app, smtp: SMTPServer) -> None:
    app = make_app(OUTBOX_DELIVERY="off")
    abandoned, busy = queue(app, 2)
    now = utcnow()
    with app.extensions["portal.db"]() as session:
        for message_id, claimed_until in ((abandoned, now), (busy, now + timedelta(minutes=4))):
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(status="sending", attempts=1, claimed_until=claimed_until)
            )
        session.commit()

    report = deliver(app, now=now + timedelta(seconds=1))

    assert report.sent == 1
    assert outbox_ids(smtp) == {abandoned: 1}
    assert [(row.status, row.attempts) for row in rows(app)] == [("sent", 2), ("sending", 1)]


def test_a_late_deliverer_leaves_the_claim_of_the_one_that_took_over(
    make_app, smtp: SMTPServer
) -> None:
    """Mutant: ``_settle`` without its ``claimed_until`` condition. Deliverer A claims and
    hangs past its claim; B takes the message over and is still sending when A finally fails.
    A's late outcome must not be recorded over B's claim (or B's success is lost and the
    mail goes out yet again)."""
    app = make_app(OUTBOX_DELIVERY="off")
    [message_id] = queue(app)
    factory = app.extensions["portal.db"]
    send = make_sender(app)
    start = utcnow()
    later = start + CLAIM_DURATION + timedelta(minutes=1)
    a_sending, a_may_finish = threading.Event(), threading.Event()
    b_sending, b_may_finish = threading.Event(), threading.Event()

    def hung_then_failed(message: OutboxMessage) -> None:
        a_sending.set()
        a_may_finish.wait(timeout=60)
        raise ConnectionError("connection reset after a long wait")

    def slow_but_fine(message: OutboxMessage) -> None:
        b_sending.set()
        b_may_finish.wait(timeout=60)
        send(message)

    reports = {}
    a = threading.Thread(
        target=lambda: reports.setdefault("a", deliver_due(factory, hung_then_failed, now=start))
    )
    b = threading.Thread(
        target=lambda: reports.setdefault("b", deliver_due(factory, slow_but_fine, now=later))
    )
    try:
        a.start()
        assert a_sending.wait(timeout=60)
        b.start()
        assert b_sending.wait(timeout=60)
        [taken_over] = rows(app)
        b_claim = (taken_over.status, taken_over.claimed_until, taken_over.attempts)
        assert b_claim == ("sending", later + CLAIM_DURATION, 2)

        a_may_finish.set()
        a.join(timeout=60)
        [after_a] = rows(app)
        assert (after_a.status, after_a.claimed_until, after_a.attempts) == b_claim
        assert after_a.last_error is None
    finally:
        a_may_finish.set()
        b_may_finish.set()
        a.join(timeout=60)
        b.join(timeout=60)

    [row] = rows(app)
    assert (row.status, row.claimed_until, row.last_error) == ("sent", None, None)
    assert outbox_ids(smtp) == {message_id: 1}
    assert deliver(app, now=later + timedelta(days=1)).sent == 0  # nothing left to resend


# --- CLI ----------------------------------------------------------------------------------


def test_outbox_send_and_status_commands(make_app, smtp: SMTPServer) -> None:
    app = make_app(OUTBOX_DELIVERY="off")
    queue(app, 2)
    # One that can never be delivered: one attempt allowed, and the server is down.
    doomed = make_app(MAIL_PORT=free_port(), OUTBOX_MAX_ATTEMPTS=1)
    [doomed_id] = queue(doomed, recipient="kapot@example.nl")
    runner = app.test_cli_runner()

    before = runner.invoke(args=["outbox", "status"])
    sent = runner.invoke(args=["outbox", "send"])
    again = runner.invoke(args=["outbox", "send"])
    after = runner.invoke(args=["outbox", "status"])

    assert before.exit_code == 0, before.output
    assert before.output.splitlines()[:4] == [
        "pending  2",
        "sending  0",
        "sent     0",
        "failed   1",
    ]
    assert sent.exit_code == 0, sent.output
    assert sent.output == "Outbox: sent 2, retried later 0, failed 0.\n"
    assert again.output == "Outbox: sent 0, retried later 0, failed 0.\n"
    assert len(smtp.messages) == 2
    lines = after.output.splitlines()
    assert lines[:4] == ["pending  0", "sending  0", "sent     2", "failed   1"]
    assert lines[4].startswith(f"failed #{doomed_id} test after 1 attempts: mail server ")
    assert "Connection refused" in lines[4]


def test_outbox_send_loop_runs_until_sigterm(
    make_app,
    app_config: dict[str, object],
    smtp: SMTPServer,
    tmp_path: Path,
) -> None:
    app = make_app(OUTBOX_DELIVERY="off")
    queue(app)
    env = worker_environment(app_config, tmp_path, smtp.port)
    command = OUTBOX_WORKER
    worker = subprocess.Popen(
        [*command, "--interval", "0.2"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert len(smtp.wait_for(1, timeout=30)) == 1
        queue(app)  # picked up by a later round of the same worker
        assert len(smtp.wait_for(2, timeout=10)) == 2
    finally:
        worker.send_signal(signal.SIGTERM)
        output, errors = worker.communicate(timeout=30)

    assert worker.returncode == 0, errors
    assert output.splitlines()[0].startswith("Delivering queued mail every 0.2 s")
    assert output.count("Outbox: sent 1,") == 2
    assert output.splitlines()[-1] == "Stopped."
    assert [row.status for row in rows(app)] == ["sent", "sent"]


# A process that commits mail and ends at once (a command, cron's ``jobs run``, a script):
# its after-commit delivery finishes in the exit hook, when no new thread may start.
SUBMIT_AND_EXIT = """
from portal import create_app
from tests.factories import make_signal
make_signal(create_app())
"""


def test_a_process_that_ends_right_after_its_commit_records_what_it_sent(
    make_app, app_config: dict[str, object], smtp: SMTPServer, tmp_path: Path
) -> None:
    app = make_app()
    env = {
        **worker_environment(app_config, tmp_path, smtp.port),
        "PORTAL_OUTBOX_DELIVERY": "thread",
    }
    done = subprocess.run(
        [sys.executable, "-c", SUBMIT_AND_EXIT],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "delivery after commit failed" not in done.stderr, done.stderr
    # Sent and recorded as sent: nothing left "sending" to be sent again when its claim ends.
    assert [row.status for row in rows(app)] == ["sent", "sent"]
    assert sorted(outbox_ids(smtp).values()) == [1, 1]


# --- what is kept of delivered mail (finding 7 of the security review) -----------------------


def test_delivered_mail_keeps_no_working_status_link(app, smtp):
    from portal.domain.mail import REDACTED
    from portal.domain.tokens import signal_for_token
    from tests.factories import db_session, make_signal

    reference, _token = make_signal(app)
    [confirmation] = [m for m in smtp.wait_for(2) if "bewoner@example.nl" in str(m["To"])]
    sent_body = confirmation.get_body(("plain",)).get_content()
    [mailed_token] = re.findall(r"/status/([A-Za-z0-9_-]{20,})", sent_body)
    with db_session(app) as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert rows and all(row.status == "sent" for row in rows)
        for row in rows:
            assert mailed_token not in row.body_text
            assert mailed_token not in (row.body_html or "")
        kept = next(row for row in rows if row.purpose == "confirmation")
        assert f"/status/{REDACTED}" in kept.body_text
        assert reference in kept.body_text  # what was said stays readable
        assert (
            signal_for_token(session, mailed_token, utcnow()) is not None
        )  # the resident's link works


def test_failed_mail_is_redacted_after_the_retention_period(app, runner):
    from tests.factories import db_session

    link = "https://portal.test/status/" + "A" * 43
    with db_session(app) as session:
        old = OutboxMessage(
            purpose="status_link",
            recipient="a@example.nl",
            subject="s",
            body_text=link,
            body_html=f'<a href="{link}">link</a>',
            status="failed",
            next_attempt_at=utcnow() - timedelta(days=40),
        )
        recent = OutboxMessage(
            purpose="status_link",
            recipient="b@example.nl",
            subject="s",
            body_text=link,
            status="failed",
            next_attempt_at=utcnow() - timedelta(days=1),
        )
        older = OutboxMessage(
            purpose="public_status_changed",
            recipient="c@example.nl",
            subject="s",
            body_text=f"Bekijk {link} .",
            status="failed",
            next_attempt_at=utcnow() - timedelta(days=90),
        )
        session.add_all([old, recent, older])
        session.commit()
        old_id, recent_id = old.id, recent.id
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "failed-mail-redaction: 2 failed mail(s)" in result.output
    with db_session(app) as session:
        old, recent = session.get(OutboxMessage, old_id), session.get(OutboxMessage, recent_id)
        assert old is not None and recent is not None
        assert old.body_text == "https://portal.test/status/[verwijderd]"
        assert old.body_html == '<a href="https://portal.test/status/[verwijderd]">link</a>'
        assert recent.body_text == link
