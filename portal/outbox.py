"""The transactional outbox: mail is stored in the same transaction as the change that
caused it and delivered only after that transaction commits.

Delivery is at-least-once. Every deliverer (the after-commit hook, ``flask outbox send``,
several workers on any host) first claims a batch of rows with one conditional UPDATE, so a
message is handed to SMTP by one deliverer at a time; a claim that is not settled within
``CLAIM_DURATION`` (the deliverer crashed) can be taken over. A run sends over one SMTP
connection and records each batch's outcomes in one transaction.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy import and_, bindparam, inspect, select, update
from sqlalchemy.orm import Session

from portal.domain.mail import RenderedMail, redact_secret_links
from portal.models import OutboxMessage, utcnow
from portal.outbox_compose import compose_claimed

if TYPE_CHECKING:  # this module is used outside Flask too (domain, workers)
    from flask import Flask

log = logging.getLogger(__name__)

QUEUED_KEY = "outbox_queued"
DELIVERY_MODES = ("sync", "thread", "off")

# Far longer than one SMTP send can take with MAIL_TIMEOUT, short enough that mail claimed
# by a crashed deliverer goes out soon after.
CLAIM_DURATION = timedelta(minutes=5)
MAX_RETRY_DELAY = timedelta(hours=6)
MAX_ERROR_LENGTH = 2000
# Mail that failed for good is kept whole this long (someone may resend it by hand), then
# only with its secret links redacted (``jobs run``).
FAILED_MAIL_RETENTION = timedelta(days=30)
# What a kept copy says instead of the address of someone who stopped a mailing.
FORGOTTEN_RECIPIENT = "[verwijderd]"

# How many messages one claim takes: one UPDATE claims them, one transaction records their
# outcomes. A deliverer killed halfway through a batch leaves at most this many to be sent
# again once their claim runs out.
BATCH_SIZE = 100
# A batch stops sending once half its claim is used up (a slow server) and hands the rest
# back: no message goes out after its claim ran out, when another deliverer may have it.
SEND_WITHIN = CLAIM_DURATION / 2

SessionFactory = Callable[[], Session]
_Result = TypeVar("_Result")
Send = Callable[[OutboxMessage], None]


class ConnectionSender(Protocol):
    """A ``send`` that can also keep one connection to the mail server open for many
    messages (portal.mailer.Sender); ``deliver_due`` calls any other ``send`` per message."""

    def __call__(self, message: OutboxMessage) -> None: ...

    def connection(self) -> AbstractContextManager[Send]: ...


def queue_mail(
    session: Session,
    *,
    purpose: str,
    recipient: str,
    mail: RenderedMail,
    signal_id: int | None = None,
    reply_to: str | None = None,
    list_unsubscribe: str | None = None,
) -> OutboxMessage:
    """``list_unsubscribe``: a mailing's one-click unsubscribe URL (a POST to it must stop
    the mail, RFC 8058); mail clients then show their own unsubscribe button."""
    message = OutboxMessage(
        purpose=purpose,
        recipient=recipient,
        reply_to=reply_to,
        list_unsubscribe=list_unsubscribe,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        signal_id=signal_id,
    )
    return _queued(session, message)


def queue_composed(
    session: Session,
    *,
    purpose: str,
    recipient: str,
    compose: dict[str, object],
    signal_id: int | None = None,
    reply_to: str | None = None,
) -> OutboxMessage:
    """Mail the deliverer writes just before sending it (portal/outbox_compose.py):
    ``compose`` says which and for whom, as JSON the app's composer understands."""
    message = OutboxMessage(
        purpose=purpose,
        recipient=recipient,
        reply_to=reply_to,
        subject="",
        body_text="",
        compose=json.dumps(compose),
        signal_id=signal_id,
    )
    return _queued(session, message)


def _queued(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.add(message)
    # Remembered on the session so the after-commit hook can deliver exactly these.
    session.info.setdefault(QUEUED_KEY, []).append(message)
    return message


def forget_recipients(
    session: Session,
    addresses: Collection[str],
    *,
    purpose_prefix: str,
    signal_id: int | None = None,
) -> int:
    """Someone stopped a mailing (a followed signal, wijk alerts): the copies kept of what
    was sent to them no longer name their address. Mail still waiting is left to go out.
    Returns how many copies were changed."""
    if not addresses:
        return 0
    query = update(OutboxMessage).where(
        OutboxMessage.recipient.in_(list(addresses)),
        OutboxMessage.purpose.startswith(purpose_prefix),
        OutboxMessage.status.in_(("sent", "failed")),
    )
    if signal_id is not None:
        query = query.where(OutboxMessage.signal_id == signal_id)
    result = session.execute(
        query.values(recipient=FORGOTTEN_RECIPIENT).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


# --- delivery ------------------------------------------------------------------------------


class ServerUnavailable(Exception):
    """Raised by a ``send`` when the mail server failed rather than this one message (refused
    the connection, timed out, rejected the login): the attempt counts as failed and the rest
    of the batch waits for the next run instead of each waiting out its own timeout."""


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, retried later {self.retried}, failed {self.failed}"


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after the 1st, 2nd, 3rd, 4th … failed attempt, at most 6 hours."""
    # Capping the exponent first keeps huge attempt counts from overflowing timedelta.
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 20)), MAX_RETRY_DELAY)


def _waiting(now: datetime):  # type: ignore[no-untyped-def]
    return and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)


def _abandoned(now: datetime):  # type: ignore[no-untyped-def]
    # A deliverer that claimed it died before settling it.
    return and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now)


def _claim_batch(
    session_factory: SessionFactory,
    *,
    due_by: datetime,
    now: datetime,
    ids: Collection[int] | None,
    limit: int,
) -> list[OutboxMessage]:
    """Takes up to ``limit`` messages that were due by ``due_by`` for this deliverer,
    leaving those another deliverer has: abandoned claims first, then the oldest mail.

    Each claim is one UPDATE, the first statement of its transaction (on SQLite, which only
    opens transactions for statements starting with INSERT, UPDATE or DELETE, a transaction
    of its own). PostgreSQL locks the rows it picks, skips rows another deliverer is claiming
    right now (SKIP LOCKED) and re-checks the WHERE against a row another deliverer changed
    meanwhile; SQLite takes its write lock (waiting on the busy timeout) before it reads.
    Either way no message is claimed by two deliverers. Two statements rather than one with
    an OR: each walks the status index in id order and stops after ``limit`` rows, where the
    OR had to sort every waiting message.
    """
    claimed: list[OutboxMessage] = []
    with session_factory() as session:
        for condition in (_abandoned(due_by), _waiting(due_by)):
            due = select(OutboxMessage.id).where(condition)
            if ids is not None:
                due = due.where(OutboxMessage.id.in_(list(ids)))
            # Chosen once, in a CTE of its own: as a plain IN (subquery), PostgreSQL may run
            # the subquery again for each row it updates and claim far more than ``limit``.
            due = (
                due.order_by(OutboxMessage.id)
                .limit(limit - len(claimed))
                .with_for_update(skip_locked=True)
                .cte("due")
                .prefix_with("MATERIALIZED")
            )
            claim = (
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(select(due.c.id)), condition)
                .values(
                    status="sending",
                    claimed_until=now + CLAIM_DURATION,
                    # Counted at claim time so a message that keeps killing its deliverer
                    # still runs out of attempts.
                    attempts=OutboxMessage.attempts + 1,
                )
                .returning(OutboxMessage)
                .execution_options(synchronize_session=False)
            )
            claimed += sorted(session.scalars(claim), key=lambda message: message.id)
            if len(claimed) >= limit:
                break
        # Detached before the commit, the objects keep what RETURNING loaded; the transaction
        # ends before the slow part: none stays open during SMTP.
        session.expunge_all()
        session.commit()
    return claimed


Outcome = tuple[int, dict[str, object]]  # a message id and the values to record for it


def _settle_batch(
    session_factory: SessionFactory,
    claimed_until: datetime,
    outcomes: list[Outcome],
    unsent: list[int],
) -> None:
    """Records the batch's outcomes in one transaction, but only where the claim is still
    ours; hands the messages it did not try back, with the attempt they were charged for."""
    table = OutboxMessage.__table__
    ours = (table.c.status == "sending", table.c.claimed_until == claimed_until)
    # One executemany per kind of outcome (sent, retry, failed): the same columns change.
    kinds: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for message_id, values in outcomes:
        row = {"b_id": message_id, **{f"b_{name}": value for name, value in values.items()}}
        kinds.setdefault(tuple(sorted(values)), []).append(row)
    recorded = 0
    with session_factory() as session:
        for names, rows in kinds.items():
            statement = (
                update(table)
                .where(table.c.id == bindparam("b_id"), *ours)
                .values(claimed_until=None, **{name: bindparam(f"b_{name}") for name in names})
            )
            recorded += session.execute(statement, rows).rowcount  # type: ignore[attr-defined]
        if unsent:
            session.execute(
                update(table)
                .where(table.c.id.in_(unsent), *ours)
                .values(status="pending", claimed_until=None, attempts=table.c.attempts - 1)
            )
        session.commit()
    if recorded != len(outcomes):
        log.warning(
            "Outbox: %s of %s outcomes not recorded (messages %s): their claim expired first; "
            "another deliverer may have sent them as well",
            len(outcomes) - recorded,
            len(outcomes),
            ", ".join(str(message_id) for message_id, _values in outcomes),
        )


def _failed_attempt(
    message: OutboxMessage,
    error: Exception,
    clock: Callable[[], datetime],
    max_attempts: int,
    report: DeliveryReport,
) -> dict[str, object]:
    text = (str(error) or type(error).__name__)[:MAX_ERROR_LENGTH]
    gave_up = message.attempts >= max_attempts
    if gave_up:
        report.failed += 1
        log.error(
            "Outbox message %s failed for good after %s attempts: %s",
            message.id,
            message.attempts,
            text,
        )
    else:
        report.retried += 1
        log.warning(
            "Outbox message %s not delivered (attempt %s), will retry: %s",
            message.id,
            message.attempts,
            text,
        )
    return {
        "status": "failed" if gave_up else "pending",
        "last_error": text,
        "next_attempt_at": clock() + retry_delay(message.attempts),
    }


@dataclass
class _Batch:
    messages: list[OutboxMessage]
    claimed_at: datetime  # the clock when it was claimed; the claim lasts CLAIM_DURATION
    # Mail to be written by the deliverer that could not be (by id: why).
    unwritten: dict[int, Exception] = field(default_factory=dict)


@dataclass
class _Sent:
    outcomes: list[Outcome]
    unsent: list[int]  # not tried: the server went away, or the claim was running out
    server_available: bool
    delivered: list[OutboxMessage] = field(default_factory=list)

    def record_copies(self) -> None:
        """Delivered: the copy we keep (shown on the timeline) must not hold a working link;
        the unsubscribe link is a secret as well."""
        copies: dict[int, dict[str, object]] = {}
        for message in self.delivered:
            text, html = _redacted(message)
            copy: dict[str, object] = {"list_unsubscribe": None}
            # Only what changed: a body rewritten for nothing costs a row's worth of writes.
            if text != message.body_text:
                copy["body_text"] = text
            if html != message.body_html:
                copy["body_html"] = html
            copies[message.id] = copy
        self.outcomes = [(id_, {**values, **copies.get(id_, {})}) for id_, values in self.outcomes]


def _send_batch(
    send: Send,
    batch: _Batch,
    clock: Callable[[], datetime],
    max_attempts: int,
    report: DeliveryReport,
) -> _Sent:
    result = _Sent([], [], server_available=True)
    for message in batch.messages:
        if message.attempts > max_attempts:
            # Taken over from deliverers that died while sending it, until none were left.
            error = "gave up: the deliverer stopped during every attempt"
            result.outcomes.append((message.id, {"status": "failed", "last_error": error}))
            report.failed += 1
            continue
        if not result.server_available or clock() - batch.claimed_at >= SEND_WITHIN:
            result.unsent.append(message.id)
            continue
        unwritten = batch.unwritten.get(message.id)
        if unwritten is not None:
            values = _failed_attempt(message, unwritten, clock, max_attempts, report)
            result.outcomes.append((message.id, values))
            continue
        try:
            send(message)
        except Exception as error:
            values = _failed_attempt(message, error, clock, max_attempts, report)
            result.outcomes.append((message.id, values))
            result.server_available = not isinstance(error, ServerUnavailable)
            continue
        result.outcomes.append((message.id, {"status": "sent", "sent_at": clock()}))
        result.delivered.append(message)
        report.sent += 1
    return result


class _DatabaseThread:
    """Runs a run's database work (claiming the next batch, recording the last one) in a
    thread of its own, in order, while the deliverer talks SMTP: sqlite3, psycopg and socket
    reads all release the GIL, so the two overlap instead of adding up. Started with the
    run's first recording."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._jobs: list[Future[object]] = []

    def submit(self, work: Callable[[], _Result]) -> Future[_Result]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db")
        try:
            job = self._pool.submit(work)
        except RuntimeError:
            # The interpreter is exiting: a process that ended right after its commit lets
            # its delivery finish in the exit hook (join_deliveries), when no pool takes new
            # work. Then it runs here: unrecorded, the mail sent would be sent again.
            self._pool.shutdown(wait=True)  # what was queued before stays in order
            job = Future()
            try:
                job.set_result(work())
            except Exception as error:  # as the pool would: raised by result()
                job.set_exception(error)
        self._jobs.append(job)  # type: ignore[arg-type]
        return job

    def raise_failure(self) -> None:
        """Raises what a finished job raised (the database went away: stop sending)."""
        finished = [job for job in self._jobs if job.done()]
        self._jobs = [job for job in self._jobs if job not in finished]
        for job in finished:
            job.result()

    def finish(self) -> None:
        """Waits for all of it; raises what the first failed job raised."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for job in self._jobs:
            job.result()


def _connection(send: Send | ConnectionSender) -> AbstractContextManager[Send]:
    opened = getattr(send, "connection", None)
    return opened() if opened is not None else nullcontext(send)


def deliver_due(
    session_factory: SessionFactory,
    send: Send | ConnectionSender,
    *,
    now: datetime | None = None,
    max_attempts: int = 12,
    ids: Collection[int] | None = None,
    limit: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> DeliveryReport:
    """Sends the messages that were due when the run started (optionally only ``ids``, at
    most ``limit``), batch by batch: each batch claimed in one transaction, sent, and its
    outcomes recorded in one more, while the next batch is claimed; mail queued meanwhile is
    left for the next run. A ``send`` with a ``connection()`` (portal.mailer.Sender) sends
    the whole run over one SMTP connection. ``send`` raising any exception counts as a failed
    attempt of that message; raising :class:`ServerUnavailable` also ends this run, and the
    messages not tried yet keep their turn.

    ``now`` fixes the clock (tests, replays); without it every batch's claim reads the real
    clock, so claims made late in a long run still last ``CLAIM_DURATION``.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    report = DeliveryReport()
    started = clock()
    remaining = limit

    def claim() -> _Batch | None:
        nonlocal remaining
        size = batch_size if remaining is None else min(batch_size, remaining)
        if size <= 0:
            return None
        claimed_at = clock()
        messages = _claim_batch(
            session_factory, due_by=started, now=claimed_at, ids=ids, limit=size
        )
        if remaining is not None:
            remaining -= len(messages)
        if not messages:  # a short batch took everything that was due: no need to ask again
            return None
        unwritten = compose_claimed(session_factory, messages, claimed_at + CLAIM_DURATION)
        return _Batch(messages, claimed_at, unwritten)

    def settle(batch: _Batch, sent: _Sent) -> None:
        claimed_until = batch.claimed_at + CLAIM_DURATION
        sent.record_copies()
        _settle_batch(session_factory, claimed_until, sent.outcomes, sent.unsent)

    database = _DatabaseThread()
    try:
        with _connection(send) as send_one:
            batch = claim()
            while batch is not None:
                database.raise_failure()
                full = len(batch.messages) == batch_size
                upcoming = database.submit(claim) if full else None
                sent = _send_batch(send_one, batch, clock, max_attempts, report)
                database.submit(partial(settle, batch, sent))
                batch = upcoming.result() if upcoming is not None else None
                if batch is not None and not sent.server_available:
                    # Claimed meanwhile, but the server is gone: all of it keeps its turn.
                    unsent = _Sent([], [message.id for message in batch.messages], False)
                    database.submit(partial(settle, batch, unsent))
                    batch = None
    finally:
        database.finish()
    return report


# --- after-commit delivery -----------------------------------------------------------------

# Delivery threads still running, so an exiting process (a CLI command, a stopping worker)
# can let them finish instead of killing them halfway through a send.
_threads: set[threading.Thread] = set()
_threads_lock = threading.Lock()
EXIT_GRACE_SECONDS = 30.0


def _start_thread(target: Callable[[], None]) -> None:
    def run() -> None:
        try:
            target()
        finally:
            with _threads_lock:
                _threads.discard(threading.current_thread())

    # Daemon, so a hung delivery can never keep a process alive; the atexit hook below
    # still gives running deliveries their grace period.
    thread = threading.Thread(target=run, name="outbox-delivery", daemon=True)
    with _threads_lock:  # started inside, so join_deliveries never sees an unstarted thread
        _threads.add(thread)
        thread.start()


def join_deliveries(timeout: float) -> bool:
    """Waits for running after-commit delivery threads; False if some are still running."""
    deadline = time.monotonic() + timeout
    while True:
        with _threads_lock:
            running = next(iter(_threads), None)
        if running is None:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        running.join(remaining)


atexit.register(join_deliveries, EXIT_GRACE_SECONDS)


def _take_queued(session: Session) -> list[int]:
    queued: list[OutboxMessage] = session.info.pop(QUEUED_KEY, [])
    # A message added in a savepoint that was rolled back has no identity any more; reading
    # the identity (not ``.id``) never emits SQL, which after_commit does not allow.
    identities = (inspect(message).identity for message in queued)
    return [identity[0] for identity in identities if identity is not None]


def init_app(app: Flask) -> None:
    """Delivers the mail queued in a transaction right after it commits, according to
    ``OUTBOX_DELIVERY`` ("sync", "thread" or "off"); forgets it when the transaction does not
    commit. Whatever is not delivered here is left for ``flask outbox send``."""
    from sqlalchemy import event

    from portal import outbox_compose
    from portal.mailer import make_composer, make_sender

    if app.config["OUTBOX_DELIVERY"] not in DELIVERY_MODES:
        raise ValueError(
            f"OUTBOX_DELIVERY must be one of {', '.join(DELIVERY_MODES)}, "
            f"not {app.config['OUTBOX_DELIVERY']!r}"
        )
    session_factory = app.extensions["portal.db"]
    send = make_sender(app)
    outbox_compose.register(session_factory, make_composer(app))

    def deliver(ids: list[int]) -> None:
        # Runs after the commit already succeeded: nothing may reach the caller from here.
        try:
            deliver_due(
                session_factory,
                send,
                ids=ids,
                limit=len(ids),
                max_attempts=app.config["OUTBOX_MAX_ATTEMPTS"],
            )
        except Exception:
            log.exception("Outbox delivery after commit failed; `outbox send` will retry")

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():  # a savepoint was released; not committed yet
            return
        ids = _take_queued(session)
        if not ids:
            return
        mode = app.config["OUTBOX_DELIVERY"]
        if mode == "thread":
            _start_thread(lambda: deliver(ids))
        elif mode == "sync":
            # The committing session cannot run SQL in this hook, so ``deliver`` opens
            # sessions of its own.
            deliver(ids)

    def after_transaction_end(session: Session, transaction) -> None:  # type: ignore[no-untyped-def]
        # The outermost transaction ended without after_commit taking the list: it was rolled
        # back or the session was closed, so that mail must never go out.
        if transaction.parent is None:
            session.info.pop(QUEUED_KEY, None)

    event.listen(session_factory, "after_commit", after_commit)
    event.listen(session_factory, "after_transaction_end", after_transaction_end)


def bring_forward(session: Session, now: datetime) -> int:
    """Every mail waiting for a retry is due now instead of at its next backoff step (the
    mail server is back: ``outbox send --now``). Returns how many; the caller commits. The
    attempts counted so far stay, so a mail that keeps failing still fails in the end."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at > now)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def redact_failed(session: Session, older_than: datetime) -> int:
    """Failed mail is kept for a while (someone may resend it by hand); after that only the
    redacted copy stays. Returns how many messages were redacted."""
    count = 0
    for message in session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.status == "failed", OutboxMessage.next_attempt_at < older_than
        )
    ):
        text, html = _redacted(message)
        changed = (text, html) != (message.body_text, message.body_html)
        # Never written (``compose``): what it held, a status link, goes as well.
        if changed or message.list_unsubscribe or message.compose:
            message.body_text, message.body_html = text, html
            message.list_unsubscribe = None
            message.compose = None
            count += 1
    session.flush()
    return count


def _redacted(message: OutboxMessage) -> tuple[str, str | None]:
    """Its text and HTML bodies without a working secret link."""
    html = redact_secret_links(message.body_html) if message.body_html else message.body_html
    return redact_secret_links(message.body_text), html
