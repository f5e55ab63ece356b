"""Mail the deliverer writes itself: a queued row names which mail and for whom
(``OutboxMessage.compose``), and is written just before it is sent, from the database as it
is then. What a resident waits for when they send the form is then only the INSERT, not the
rendering (bench/README.md); what they receive is the same mail.

The writer is the app's (``portal.mailer.make_composer``), registered on the session factory
by ``outbox.init_app``, so every deliverer of that database finds it: the after-commit hook,
``flask outbox send``, a worker on another host, a test calling ``deliver_due``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session, sessionmaker

from portal.domain.mail import RenderedMail
from portal.models import OutboxMessage

log = logging.getLogger(__name__)

COMPOSER_KEY = "portal.outbox.composer"
# Writes one message: its ``compose`` as a dict, and a session to read what the mail says.
Composer = Callable[[Session, OutboxMessage, dict[str, object]], RenderedMail]


def register(session_factory: sessionmaker[Session], composer: Composer) -> None:
    session_factory.kw.setdefault("info", {})[COMPOSER_KEY] = composer


def composer_of(session_factory: object) -> Composer | None:
    kw = getattr(session_factory, "kw", None) or {}
    return (kw.get("info") or {}).get(COMPOSER_KEY)


def compose_claimed(
    session_factory: Callable[[], Session],
    messages: Sequence[OutboxMessage],
    claimed_until: datetime,
) -> dict[int, Exception]:
    """Writes the claimed messages that still need it, stores what they say (only while the
    claim is ours) and sets it on the objects for sending. Returns what could not be written
    (a message id and why): those are failed attempts, not sent."""
    waiting = [message for message in messages if message.compose]
    if not waiting:
        return {}
    composer = composer_of(session_factory)
    if composer is None:
        error = RuntimeError("nothing registered to write this mail (outbox.init_app)")
        return dict.fromkeys((message.id for message in waiting), error)
    failed: dict[int, Exception] = {}
    written: list[tuple[OutboxMessage, RenderedMail]] = []
    table = OutboxMessage.__table__
    with session_factory() as session:
        for message in waiting:
            try:
                mail = composer(session, message, json.loads(message.compose or "{}"))
            except Exception as error:  # one mail that cannot be written stops no other
                log.warning("Outbox message %s could not be written: %s", message.id, error)
                failed[message.id] = error
                session.rollback()  # only read so far: nothing of the others is lost
                continue
            written.append((message, mail))
        if written:
            statement = (
                update(table)
                .where(
                    table.c.id == bindparam("b_id"),
                    table.c.status == "sending",
                    table.c.claimed_until == claimed_until,
                )
                .values(
                    subject=bindparam("b_subject"),
                    body_text=bindparam("b_text"),
                    body_html=bindparam("b_html"),
                    compose=None,
                )
            )
            rows = [
                {"b_id": m.id, "b_subject": mail.subject, "b_text": mail.text, "b_html": mail.html}
                for m, mail in written
            ]
            session.execute(statement, rows)
        session.commit()
    for message, mail in written:
        message.subject, message.body_text, message.body_html = mail.subject, mail.text, mail.html
        message.compose = None
    return failed
