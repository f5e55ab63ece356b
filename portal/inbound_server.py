"""The endpoint the municipality's mail server forwards reply addresses to (SMTP or LMTP, with
aiosmtpd): ``flask --app portal mail receive``.

RCPT: only reply addresses (550 for anything else). DATA: larger than INBOUND_MAIL_MAX_BYTES
is 552; otherwise the mail is stored and dealt with in one transaction, committed before the
"250" goes out. A database that fails answers 451, so the sending server tries again later.
LMTP answers once per recipient, each in its own transaction."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from portal.domain.inbound.receive import (
    InboundResult,
    InboundSettings,
    is_reply_address,
    receive_message,
    store_unprocessed,
)
from portal.extensions import db
from portal.public.services import mail_context, photo_store

log = logging.getLogger(__name__)

PROTOCOLS = ("smtp", "lmtp")
OK = "250 2.0.0 OK: stored"
NOT_OURS = "550 5.1.1 Not a reply address of this portal"
TRY_AGAIN = "451 4.3.0 Could not store the message now; please try again later"
# Mail being stored when the server is told to stop may finish for this long.
STOP_GRACE_SECONDS = 30.0
WORKERS = 4

OnResult = Callable[[InboundResult], None]


class InboundHandler:
    """aiosmtpd handler. The database work runs in a thread pool, so a slow commit or a
    photo being re-encoded does not hold up the other connections."""

    def __init__(self, app: Flask, *, lmtp: bool, on_result: OnResult | None = None) -> None:
        self.app = app
        self.lmtp = lmtp
        self.on_result = on_result
        self.template = str(app.config["REPLY_TO_ADDRESS"])
        self._executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="inbound-mail")
        self._busy = 0
        self._idle = threading.Condition()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not is_reply_address(address, self.template):
            return NOT_OURS
        if address.lower() not in (known.lower() for known in envelope.rcpt_tos):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        loop = asyncio.get_running_loop()
        raw = envelope.original_content or b""
        sender = envelope.mail_from or ""
        with self._idle:
            self._busy += 1
        try:
            if self.lmtp:  # one answer per recipient, each stored on its own
                answers = [
                    await loop.run_in_executor(self._executor, self.deliver, raw, sender, [rcpt])
                    for rcpt in envelope.rcpt_tos
                ]
                return "\r\n".join(answers)
            return await loop.run_in_executor(
                self._executor, self.deliver, raw, sender, list(envelope.rcpt_tos)
            )
        finally:
            # After this returns aiosmtpd writes the answer in the same step of the loop; only
            # then does the mail count as done for a stopping server.
            loop.call_soon(self._done)

    def deliver(self, raw: bytes, sender: str, recipients: Sequence[str]) -> str:
        """Stores the mail for these recipients in one transaction: the SMTP answer."""
        try:
            with self.app.app_context():
                results = self._store(raw, sender, recipients)
        except Exception:  # whatever it was, the mail is not stored: the sender retries
            log.exception("Inbound mail not stored; answered 451")
            return TRY_AGAIN
        if results is None:
            return TRY_AGAIN
        if self.on_result is not None:
            try:
                for result in results:
                    self.on_result(result)
            except Exception:  # committed already: a failing report must not cost the 250
                log.exception("Reporting a stored inbound mail failed")
        return OK

    def _store(
        self, raw: bytes, sender: str, recipients: Sequence[str]
    ) -> list[InboundResult] | None:
        session = db.session
        settings = InboundSettings(
            reply_template=self.template,
            photos=photo_store(),
            mail=mail_context(),
            now=datetime.now(UTC),
        )
        try:
            results = [
                receive_message(
                    session, raw, envelope_from=sender, envelope_to=rcpt, settings=settings
                )
                for rcpt in recipients
            ]
            session.commit()
            return results
        except (SQLAlchemyError, OSError):
            # The database or the disk: temporary, the sending server tries again.
            session.rollback()
            log.exception("Inbound mail not stored; answered 451")
            return None
        except Exception:
            # Our own bug: keep the mail for an admin rather than have it retried for days.
            session.rollback()
            log.exception("Inbound mail could not be processed; kept for an admin")
            kept = [
                store_unprocessed(
                    session, raw, envelope_from=sender, envelope_to=rcpt, settings=settings
                )
                for rcpt in recipients
            ]
            session.commit()
            return kept

    def _done(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def wait_until_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def close(self) -> None:
        self._executor.shutdown(wait=True)


class _Controller(Controller):
    def __init__(self, handler: InboundHandler, **kwargs: object) -> None:
        super().__init__(handler, **kwargs)  # type: ignore[arg-type]

    def factory(self) -> SMTP:
        handler: InboundHandler = self.handler
        server_class = LMTP if handler.lmtp else SMTP
        return server_class(handler, **self.SMTP_kwargs)


class InboundServer:
    def __init__(
        self,
        app: Flask,
        *,
        host: str,
        port: int,
        protocol: str = "smtp",
        on_result: OnResult | None = None,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
        self.host, self.port, self.protocol = host, port, protocol
        self.handler = InboundHandler(app, lmtp=protocol == "lmtp", on_result=on_result)
        self._controller = _Controller(
            self.handler,
            hostname=host,
            port=port,
            # SIZE is announced, and more DATA than this is answered 552.
            data_size_limit=int(app.config["INBOUND_MAIL_MAX_BYTES"]),
            ident="Wijkzaken portal",
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """New connections are refused at once; mail being stored gets ``grace`` seconds to
        be committed and answered, so it is not stored here and then sent again."""
        controller = self._controller
        listening = controller.server
        if listening is not None:
            controller.loop.call_soon_threadsafe(listening.close)
        if not self.handler.wait_until_idle(grace):
            log.warning("Stopping with inbound mail still being stored")
        controller.stop()
        self.handler.close()


def start_server(
    app: Flask,
    *,
    host: str | None = None,
    port: int | None = None,
    protocol: str | None = None,
    on_result: OnResult | None = None,
) -> InboundServer:
    """Starts the endpoint in a background thread; ``.stop()`` on the result ends it."""
    config = app.config
    server = InboundServer(
        app,
        host=host or str(config["INBOUND_MAIL_HOST"]),
        port=port or int(config["INBOUND_MAIL_PORT"]),
        protocol=protocol or str(config["INBOUND_MAIL_PROTOCOL"]),
        on_result=on_result,
    )
    server.start()
    return server
