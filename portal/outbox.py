"""The transactional outbox: mail is stored in the same transaction as the change that
caused it and delivered only after that transaction commits.

Delivery is at-least-once. Every deliverer (the after-commit hook, ``flask outbox send``,
several workers) first claims a row with a conditional UPDATE, so a message is handed to
SMTP by one deliverer at a time; a claim that is not settled within ``CLAIM_DURATION`` (the
deliverer crashed) can be taken over.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, inspect, or_, select, update
from sqlalchemy.orm import Session

from portal.domain.mail import RenderedMail, redact_secret_links
from portal.models import OutboxMessage, utcnow

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

SessionFactory = Callable[[], Session]
Send = Callable[[OutboxMessage], None]


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


def _claimable(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        # A deliverer that claimed it died before settling it.
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )


def due_ids(
    session: Session, now: datetime, *, ids: Collection[int] | None = None, limit: int = 200
) -> list[int]:
    query = select(OutboxMessage.id).where(_claimable(now))
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    query = query.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
    return list(session.scalars(query))


def _claim(session_factory: SessionFactory, message_id: int, now: datetime) -> OutboxMessage | None:
    """Takes the message for this deliverer, or returns None when another one has it.

    The UPDATE is the first statement of its transaction: PostgreSQL re-checks the WHERE
    against a row another deliverer just changed, and SQLite takes its write lock (waiting on
    the busy timeout) before it reads, so exactly one of two racing deliverers wins.
    """
    claimed_until = now + CLAIM_DURATION
    with session_factory() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _claimable(now))
            .values(
                status="sending",
                claimed_until=claimed_until,
                # Counted at claim time so a message that keeps killing its deliverer still
                # runs out of attempts.
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        message = session.get(OutboxMessage, message_id)
        # Closing (not committing) keeps the loaded attributes on the detached object, and
        # ends the read transaction before the slow part: no transaction stays open during SMTP.
        session.close()
    return message


def _settle(session_factory: SessionFactory, message: OutboxMessage, **values: object) -> None:
    """Records the outcome, but only while the claim is still ours."""
    with session_factory() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.status == "sending",
                OutboxMessage.claimed_until == message.claimed_until,
            )
            .values(claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        log.warning(
            "Outbox message %s: claim expired before its outcome was recorded; "
            "another deliverer may have sent it as well",
            message.id,
        )


def _deliver_one(
    session_factory: SessionFactory,
    send: Send,
    message_id: int,
    clock: Callable[[], datetime],
    max_attempts: int,
    report: DeliveryReport,
) -> bool:
    """Returns False when the server is unavailable and the batch should stop."""
    message = _claim(session_factory, message_id, clock())
    if message is None:
        return True
    if message.attempts > max_attempts:
        # Taken over from deliverers that died while sending it, until none were left.
        _settle(
            session_factory,
            message,
            status="failed",
            last_error="gave up: the deliverer stopped during every attempt",
        )
        report.failed += 1
        return True
    try:
        send(message)
    except Exception as error:
        text = (str(error) or type(error).__name__)[:MAX_ERROR_LENGTH]
        gave_up = message.attempts >= max_attempts
        _settle(
            session_factory,
            message,
            status="failed" if gave_up else "pending",
            last_error=text,
            next_attempt_at=clock() + retry_delay(message.attempts),
        )
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
        return not isinstance(error, ServerUnavailable)
    # Delivered: the copy we keep (shown on the timeline) must not hold a working link.
    text, html = _redacted(message)
    # The unsubscribe link is a secret as well: the kept copy drops it.
    _settle(
        session_factory,
        message,
        status="sent",
        sent_at=clock(),
        body_text=text,
        body_html=html,
        list_unsubscribe=None,
    )
    report.sent += 1
    return True


def deliver_due(
    session_factory: SessionFactory,
    send: Send,
    *,
    now: datetime | None = None,
    max_attempts: int = 12,
    ids: Collection[int] | None = None,
    limit: int = 200,
) -> DeliveryReport:
    """Sends the messages that are due (optionally only ``ids``), each in its own short
    transactions. ``send`` raising any exception counts as a failed attempt; raising
    :class:`ServerUnavailable` also ends this run.

    ``now`` fixes the clock (tests, replays); without it every claim reads the real clock, so
    claims made late in a long batch still last ``CLAIM_DURATION``.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    report = DeliveryReport()
    with session_factory() as session:
        candidates = due_ids(session, clock(), ids=ids, limit=limit)
    for message_id in candidates:
        if not _deliver_one(session_factory, send, message_id, clock, max_attempts, report):
            break
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

    from portal.mailer import make_sender

    if app.config["OUTBOX_DELIVERY"] not in DELIVERY_MODES:
        raise ValueError(
            f"OUTBOX_DELIVERY must be one of {', '.join(DELIVERY_MODES)}, "
            f"not {app.config['OUTBOX_DELIVERY']!r}"
        )
    session_factory = app.extensions["portal.db"]
    send = make_sender(app)

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
        if (text, html) != (message.body_text, message.body_html) or message.list_unsubscribe:
            message.body_text, message.body_html = text, html
            message.list_unsubscribe = None
            count += 1
    session.flush()
    return count


def _redacted(message: OutboxMessage) -> tuple[str, str | None]:
    """Its text and HTML bodies without a working secret link."""
    html = redact_secret_links(message.body_html) if message.body_html else message.body_html
    return redact_secret_links(message.body_text), html
