"""The Flask side of outbox delivery: turns an outbox row into a flask-mail message and hands
it to the configured SMTP server, with a timeout so a dead server cannot hang a deliverer."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from email.utils import parseaddr
from types import TracebackType

from flask import Flask
from flask_mail import Connection, Message

from portal.models import OutboxMessage
from portal.outbox import ServerUnavailable

log = logging.getLogger(__name__)

OUTBOX_ID_HEADER = "X-Portal-Outbox-Id"

Sender = Callable[[OutboxMessage], None]

# Refusals of this one message; every other SMTP or socket error concerns the server.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)


class TimeoutConnection(Connection):
    """flask-mail's connection, but smtplib gets a timeout: flask-mail 0.10 opens
    ``smtplib.SMTP(server, port)`` without one, so a server that accepts the TCP connection
    and then says nothing would block the deliverer forever. smtplib applies the timeout to
    the connect and to every later socket operation."""

    def __init__(self, mail, timeout: float) -> None:  # type: ignore[no-untyped-def]
        super().__init__(mail)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP | smtplib.SMTP_SSL:
        smtp_class = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp_class(self.mail.server, self.mail.port, timeout=self.timeout)
        try:
            host.set_debuglevel(int(self.mail.debug))
            if self.mail.use_tls:
                host.starttls()
            if self.mail.username and self.mail.password:
                host.login(self.mail.username, self.mail.password)
        except BaseException:
            host.close()
            raise
        return host

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            # Once the server accepted the message, a failing QUIT must not turn it into a
            # delivery error: that would make the outbox send it again.
            self.host.close()
            if exc_type is None:
                log.info("SMTP QUIT failed after a successful send; ignored")


def message_id(outbox_message: OutboxMessage, default_sender: str) -> str:
    """A stable Message-ID per outbox row, so a resend after an ambiguous failure carries the
    same id and mail clients can recognise the duplicate."""
    domain = parseaddr(default_sender)[1].rpartition("@")[2] or "portal.invalid"
    created = outbox_message.created_at.strftime("%Y%m%d%H%M%S")
    return f"<outbox.{outbox_message.id}.{created}@{domain}>"


def build_message(outbox_message: OutboxMessage, default_sender: str) -> Message:
    """Needs an app context: flask-mail reads its settings from ``current_app``."""
    message = Message(
        subject=outbox_message.subject,
        recipients=[outbox_message.recipient],
        body=outbox_message.body_text,
        html=outbox_message.body_html,
        sender=default_sender,
        reply_to=outbox_message.reply_to,
        extra_headers={
            OUTBOX_ID_HEADER: str(outbox_message.id),
            # RFC 3834: keeps out-of-office replies from answering the portal.
            "Auto-Submitted": "auto-generated",
            **_unsubscribe_headers(outbox_message.list_unsubscribe),
        },
    )
    message.msgId = message_id(outbox_message, default_sender)
    return message


def make_sender(app: Flask) -> Sender:
    """A ``send`` for :func:`portal.outbox.deliver_due` that uses the app's flask-mail
    settings. Usable from any thread: it pushes its own app context."""

    def send(outbox_message: OutboxMessage) -> None:
        with app.app_context():
            default_sender = app.config["MAIL_DEFAULT_SENDER"]
            message = build_message(outbox_message, default_sender)
            # The per-app flask-mail state; the module-level ``mail`` object holds none.
            state = app.extensions["mail"]
            if state.suppress:
                log.info("MAIL_SUPPRESS_SEND is on: outbox message %s not sent", outbox_message.id)
            try:
                with TimeoutConnection(state, float(app.config["MAIL_TIMEOUT"])) as connection:
                    connection.send(message)
            except MESSAGE_ERRORS:
                raise
            except OSError as error:  # smtplib's errors are OSErrors too
                raise ServerUnavailable(
                    f"mail server {state.server}:{state.port}: {str(error) or type(error).__name__}"
                ) from error

    return send


def _unsubscribe_headers(url: str | None) -> dict[str, str]:
    """RFC 2369 and RFC 8058: one-click unsubscribe for a mailing (alerts, followed signals)."""
    if not url:
        return {}
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
