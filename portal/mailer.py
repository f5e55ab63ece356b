"""The Flask side of outbox delivery: turns an outbox row into a MIME message and hands it to
the configured SMTP server (flask-mail's ``MAIL_*`` settings), with a timeout so a dead server
cannot hang a deliverer, and one connection for a whole batch.

The MIME message is written out here rather than by flask-mail: its ``Message.as_bytes`` takes about
2 ms per mail (the email package re-parses every header through the header registry), four
times the whole SMTP exchange with a local server. Our mail has one fixed shape - a text
part and an optional HTML part, UTF-8, no attachments - which takes 0.02 ms to write out
directly (bench/README.md, "Outbox delivery").
"""

from __future__ import annotations

import binascii
import functools
import logging
import secrets
import smtplib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

from flask import Flask
from flask_mail import BadHeaderError, Message, email_dispatched, sanitize_address
from sqlalchemy.orm import Session

from portal.domain.mail import RenderedMail
from portal.models import OutboxMessage
from portal.outbox import ServerUnavailable
from portal.outbox_compose import Composer

log = logging.getLogger(__name__)

OUTBOX_ID_HEADER = "X-Portal-Outbox-Id"

Send = Callable[[OutboxMessage], None]

# Refusals of this one message; every other SMTP or socket error concerns the server.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)
CRLF = "\r\n"
MAX_HEADER_LINE = 78  # RFC 5322 2.1.1: lines SHOULD be no longer
MAX_BODY_LINE = 998  # ... and MUST be no longer


def message_id(outbox_message: OutboxMessage, default_sender: str) -> str:
    """A stable Message-ID per outbox row, so a resend after an ambiguous failure carries the
    same id and mail clients can recognise the duplicate."""
    created = outbox_message.created_at.strftime("%Y%m%d%H%M%S")
    return f"<outbox.{outbox_message.id}.{created}@{_domain(default_sender)}>"


@functools.lru_cache(maxsize=16)
def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "portal.invalid"


def extra_headers(outbox_message: OutboxMessage) -> dict[str, str]:
    return {
        OUTBOX_ID_HEADER: str(outbox_message.id),
        # RFC 3834: keeps out-of-office replies from answering the portal.
        "Auto-Submitted": "auto-generated",
        **_unsubscribe_headers(outbox_message.list_unsubscribe),
    }


def build_message(outbox_message: OutboxMessage, default_sender: str) -> Message:
    """The same mail as a flask-mail ``Message``: what ``email_dispatched`` listeners get.
    Needs an app context (flask-mail reads its settings from ``current_app``)."""
    message = Message(
        subject=outbox_message.subject,
        recipients=[outbox_message.recipient],
        body=outbox_message.body_text,
        html=outbox_message.body_html,
        sender=default_sender,
        reply_to=outbox_message.reply_to,
        extra_headers=extra_headers(outbox_message),
    )
    message.msgId = message_id(outbox_message, default_sender)
    return message


# --- composing ------------------------------------------------------------------------------


def _address(address: str) -> str:
    # flask-mail's sanitising (IDN domains, encoded names) only where plain ASCII won't do.
    return address if address.isascii() else sanitize_address(address)


def _header(name: str, value: str) -> str:
    """One header, folded at spaces to lines of at most 78 characters where it can be (an
    unfolding reader gets exactly ``value`` back); RFC 2047 encoded words when not ASCII."""
    if "\r" in value or "\n" in value:
        raise BadHeaderError(f"line break in the {name} header")  # header injection
    if not value.isascii():
        encoded = Header(value, "utf-8", header_name=name).encode(linesep=CRLF)
        return f"{name}: {encoded}"
    first, *rest = value.split(" ")
    lines, line = [], f"{name}: {first}"
    for word in rest:
        # Folding puts a line break before a space; never before an empty word, which would
        # leave a line of only whitespace.
        if word and len(line) + 1 + len(word) > MAX_HEADER_LINE:
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return CRLF.join(lines)


def _text_part(subtype: str, text: str, eight_bit: bool) -> bytes:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    body = text.encode("utf-8")
    if max(map(len, body.split(b"\n"))) > MAX_BODY_LINE:
        encoding = "quoted-printable"
    elif text.isascii():
        encoding = "7bit"
    else:
        # 8bit where the server takes it (RFC 6152; every current MTA does): no encoding
        # at all, where quoted-printable costs more than the rest of the message together.
        encoding = "8bit" if eight_bit else "quoted-printable"
    if encoding == "quoted-printable":
        body = binascii.b2a_qp(body, istext=True)  # still readable, lines of 76 at most
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}"
    )
    return head.encode("ascii") + body.replace(b"\n", b"\r\n")


@functools.lru_cache(maxsize=1)
def _date(second: int) -> str:
    return formatdate(second, localtime=True)


def mime_message(
    outbox_message: OutboxMessage,
    sender_header: str,
    default_sender: str,
    *,
    eight_bit: bool = False,
) -> bytes:
    """The message as it goes over the wire (CRLF line ends); 7-bit unless ``eight_bit``
    (the server announced 8BITMIME), then text that is not ASCII is sent as it is."""
    headers = [
        _header("Subject", outbox_message.subject),
        _header("From", sender_header),
        _header("To", _address(outbox_message.recipient)),
        f"Date: {_date(int(time.time()))}",
        f"Message-ID: {message_id(outbox_message, default_sender)}",
    ]
    if outbox_message.reply_to:
        headers.append(_header("Reply-To", _address(outbox_message.reply_to)))
    headers += [_header(name, value) for name, value in extra_headers(outbox_message).items()]
    headers.append("MIME-Version: 1.0")
    text = _text_part("plain", outbox_message.body_text, eight_bit)
    if outbox_message.body_html is None:
        return CRLF.join(headers).encode("ascii") + b"\r\n" + text
    # Random and chosen after the text was written, so no body can hold it.
    boundary = f"=_portal_{secrets.token_hex(12)}".encode("ascii")
    headers.append(f'Content-Type: multipart/alternative; boundary="{boundary.decode()}"')
    # The line break before a boundary belongs to the boundary (RFC 2046 5.1.1).
    return b"".join(
        [
            CRLF.join(headers).encode("ascii"),
            b"\r\n\r\n--%s\r\n" % boundary,
            text,
            b"\r\n--%s\r\n" % boundary,
            _text_part("html", outbox_message.body_html, eight_bit),
            b"\r\n--%s--\r\n" % boundary,
        ]
    )


# --- sending --------------------------------------------------------------------------------


class SMTPSession:
    """One connection to the mail server, opened for the first message and reused for the
    next ones. When a reused connection turns out to be gone (the server closed it, or hit its
    limit of messages per connection), the message is tried once more on a fresh one; only a
    fresh connection failing means the server is unavailable."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.state = app.extensions["mail"]  # flask-mail's settings for this app
        self.timeout = float(app.config["MAIL_TIMEOUT"])
        self.default_sender = str(app.config["MAIL_DEFAULT_SENDER"])
        name, address = parseaddr(self.default_sender)
        self.sender_header = formataddr((name, _address(address)), charset="utf-8")
        self.envelope_from = _address(address)
        self.host: smtplib.SMTP | None = None
        self.sent_on_connection = 0

    def _connect(self) -> smtplib.SMTP:
        # smtplib applies the timeout to the connect and to every later socket operation, so
        # a server that accepts the TCP connection and then says nothing cannot block us.
        smtp_class = smtplib.SMTP_SSL if self.state.use_ssl else smtplib.SMTP
        host = smtp_class(self.state.server, self.state.port, timeout=self.timeout)
        try:
            host.set_debuglevel(int(self.state.debug))
            if self.state.use_tls:
                host.starttls()
            if self.state.username and self.state.password:
                host.login(self.state.username, self.state.password)
            host.ehlo_or_helo_if_needed()  # what it supports (8BITMIME) is known from here
        except BaseException:
            host.close()
            raise
        self.sent_on_connection = 0
        return host

    def send(self, outbox_message: OutboxMessage) -> None:
        if self.state.suppress:
            mime_message(outbox_message, self.sender_header, self.default_sender)  # checks headers
            log.info("MAIL_SUPPRESS_SEND is on: outbox message %s not sent", outbox_message.id)
        else:
            self._transmit(outbox_message)
        if email_dispatched.receivers:  # flask-mail's signal, for whoever listens
            with self.app.app_context():
                message = build_message(outbox_message, self.default_sender)
            email_dispatched.send(self.app, message=message)

    def _transmit(self, outbox_message: OutboxMessage) -> None:
        recipient = _address(outbox_message.recipient)
        while True:
            fresh = self.host is None
            try:
                if self.host is None:
                    self.host = self._connect()
                eight_bit = bool(self.host.has_extn("8bitmime"))
                data = mime_message(
                    outbox_message, self.sender_header, self.default_sender, eight_bit=eight_bit
                )
                options = ["BODY=8BITMIME"] if eight_bit else []
                self.host.sendmail(self.envelope_from, [recipient], data, options)
                break
            except MESSAGE_ERRORS:
                raise  # the connection stays usable (smtplib reset it, or closed it on 421)
            except OSError as error:  # smtplib's errors are OSErrors too
                self._drop()
                if fresh:
                    raise ServerUnavailable(
                        f"mail server {self.state.server}:{self.state.port}: "
                        f"{str(error) or type(error).__name__}"
                    ) from error
                log.info("SMTP connection lost (%s); reconnecting", error)
        self.sent_on_connection += 1
        if self.state.max_emails and self.sent_on_connection >= self.state.max_emails:
            self.close()  # MAIL_MAX_EMAILS: the next message opens a new connection

    def _drop(self) -> None:
        if self.host is not None:
            self.host.close()
            self.host = None

    def close(self) -> None:
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            # The server accepted every message already: a failing QUIT must not turn one
            # into a delivery error, which would make the outbox send it again.
            log.info("SMTP QUIT failed after the messages were sent; ignored")
        finally:
            self._drop()


class Sender:
    """A ``send`` for :func:`portal.outbox.deliver_due` with the app's flask-mail settings.
    Called directly it sends one message on a connection of its own; ``connection()`` gives
    a ``send`` that shares one connection, which ``deliver_due`` uses for a whole run.
    Usable from any thread (each connection belongs to the thread that opened it)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, outbox_message: OutboxMessage) -> None:
        with self.connection() as send:
            send(outbox_message)

    @contextmanager
    def connection(self) -> Iterator[Send]:
        session = SMTPSession(self.app)
        try:
            yield session.send
        finally:
            session.close()


def make_sender(app: Flask) -> Sender:
    return Sender(app)


def make_composer(app: Flask) -> Composer:
    """Writes mail queued with ``queue_composed`` (portal/outbox_compose.py) with the app's
    templates, links and settings, wherever the deliverer runs (a thread, a command)."""
    from portal.domain import notifications
    from portal.public.services import mail_context

    def write(session: Session, message: OutboxMessage, what: dict[str, object]) -> RenderedMail:
        with app.app_context():
            return notifications.compose(session, message.signal_id, what, mail_context())

    return write


def _unsubscribe_headers(url: str | None) -> dict[str, str]:
    """RFC 2369 and RFC 8058: one-click unsubscribe for a mailing (alerts, followed signals)."""
    if not url:
        return {}
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
