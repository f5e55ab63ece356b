"""Replies by email, end to end: the real inbound endpoint (aiosmtpd, SMTP and LMTP) on a free
port, mail delivered to it with smtplib, and where each message ends up: on the signal's
timeline as the resident's words (and the owner mailed through the real outgoing SMTP server),
or set aside for an admin; refused during the SMTP transaction (550, 552) or answered 451 when
it cannot be stored. Then the back office: the admin list, one mail's full original, marking
it handled, and who may read the original. On SQLite and PostgreSQL."""

from __future__ import annotations

import email.policy
import io
import os
import random
import signal as signals
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select, text

from portal.domain import casework
from portal.domain.casework import CONTACT_VIEWED, Actor
from portal.domain.dialogue import reply_addresses
from portal.domain.inbound.receive import InboundResult
from portal.inbound_server import InboundServer, start_server
from portal.models import (
    Attachment,
    AuditRecord,
    InboundMail,
    Signal,
    SignalEvent,
)
from portal.vocabulary import Status
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    MANAGEMENT,
    SANNE,
    db_session,
    intake_settings,
    login,
    make_signal,
    user_id,
)
from tests.fixtures.databases import free_port
from tests.fixtures.mailserver import SMTPServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESIDENT = "bewoner@example.nl"
TEMPLATE = "wijkzaken+{reply_id}@hilversum.example"
MAX_BYTES = 300_000
QUOTE = (
    "Op di 1 dec 2026 om 10:12 schreef Wijkzaken Hilversum <wijkzaken@hilversum.example>:\n\n"
    "> Beste meneer Jansen,\n>\n> Is de lamp bij nummer 12 nog steeds kapot?\n"
)


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    return {**app_config, "REPLY_TO_ADDRESS": TEMPLATE, "INBOUND_MAIL_MAX_BYTES": MAX_BYTES}


@pytest.fixture
def received() -> list[InboundResult]:
    return []


@pytest.fixture
def inbound(app: Flask, received: list[InboundResult]) -> Iterator[InboundServer]:
    server = start_server(
        app, host="127.0.0.1", port=free_port(), protocol="smtp", on_result=received.append
    )
    yield server
    server.stop()


# --- helpers --------------------------------------------------------------------------------


def signal_with_reply_address(app: Flask, **kwargs: object) -> tuple[str, str]:
    """A signal submitted through intake with its reply address; (reference, address)."""
    reference, _token = make_signal(app, **kwargs)  # type: ignore[arg-type]
    with db_session(app) as session:
        found = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        address = reply_addresses.reply_address_for(session, found, datetime.now(UTC))
        session.commit()
        return reference, reply_addresses.format_address(TEMPLATE, address.reply_id)


def reply(
    body: str | None = "Ja, de lamp is nog steeds kapot.",
    *,
    sender: str = f"Jan Jansen <{RESIDENT}>",
    subject: str = "Re: Uw melding",
    html: str | None = None,
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "wijkzaken@hilversum.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{random.getrandbits(64)}@example.nl>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if body is not None:
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return message


def deliver(server: InboundServer, message: EmailMessage, to: str, sender: str = RESIDENT):
    """Delivers over real SMTP; returns what smtplib says (a dict of refused recipients)."""
    with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as client:
        return client.sendmail(sender, [to], wire(message))


def wire(message: EmailMessage) -> bytes:
    """The message as a mail server sends it (CRLF line ends)."""
    return message.as_bytes(policy=email.policy.SMTP)


def stored(app: Flask) -> list[InboundMail]:
    with db_session(app) as session:
        return list(session.scalars(select(InboundMail).order_by(InboundMail.id)))


def only_mail(app: Flask) -> InboundMail:
    [mail] = stored(app)
    return mail


def signal_state(app: Flask, reference: str) -> tuple[str, list[SignalEvent], list[Attachment]]:
    with db_session(app) as session:
        found = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        return found.status, list(found.events), list(found.attachments)


def resident_events(app: Flask, reference: str) -> list[SignalEvent]:
    return [e for e in signal_state(app, reference)[1] if e.origin is not None]


def owner_news(smtp: SMTPServer, reference: str) -> list[EmailMessage]:
    """The mail to the owner (Anna) about something the resident sent after the form."""
    subjects = (
        f"Nieuwe informatie van de melder bij {reference}",
        f"Antwoord van de melder op {reference}",
    )
    return [m for m in smtp.wait_for(2) if ANNA in str(m["To"]) and m["Subject"] in subjects]


def photo_bytes(kind: str = "JPEG", size: tuple[int, int] = (300, 200)) -> bytes:
    """A real photo-like image (noise, so it is well above the small-icon threshold)."""
    rng = random.Random(7)
    image = Image.frombytes(
        "RGB", size, bytes(rng.getrandbits(8) for _ in range(3 * size[0] * size[1]))
    )
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return buffer.getvalue()


def move_to(app: Flask, reference: str, target: Status, message: str | None) -> None:
    with db_session(app) as session:
        found = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        casework.change_status(
            session,
            found,
            target.value,
            message=message,
            seen_version=found.version,
            actor=Actor(user_id=user_id(app, ANNA), now=datetime.now(UTC)),
            mail=intake_settings(app).mail,
        )
        session.commit()


# --- on the timeline ------------------------------------------------------------------------


def test_a_plain_reply_lands_on_the_timeline_and_the_owner_hears(
    app: Flask, inbound: InboundServer, smtp: SMTPServer, received: list[InboundResult]
) -> None:
    reference, address = signal_with_reply_address(app)
    message = reply()

    assert deliver(inbound, message, address) == {}

    mail = only_mail(app)
    assert (mail.status, mail.reason) == ("accepted", None)
    assert mail.raw == wire(message)  # byte for byte as it came
    assert mail.envelope_from == RESIDENT and mail.envelope_to == address
    assert mail.subject == "Re: Uw melding"
    [event] = resident_events(app, reference)
    assert (event.kind, event.origin, event.is_public) == ("resident_message", "email", True)
    assert event.message == "Ja, de lamp is nog steeds kapot."
    assert mail.event_id == event.id
    assert received == [InboundResult(mail.id, "accepted", None, mail.signal_id, event.id)]
    # The owner (Anna, Zuidwest) got the news through the outgoing mail server.
    [owner_mail] = owner_news(smtp, reference)
    assert str(owner_mail["Subject"]) == f"Nieuwe informatie van de melder bij {reference}"
    assert "Ja, de lamp is nog steeds kapot." in owner_mail.get_body(("plain",)).get_content()


def test_an_html_only_reply_lands_as_text(app: Flask, inbound: InboundServer) -> None:
    reference, address = signal_with_reply_address(app)
    html = "<p>De stoep is <b>nog</b> kapot.</p><p>Groet,<br>Jan</p><script>x()</script>"

    deliver(inbound, reply(None, html=html), address)

    [event] = resident_events(app, reference)
    assert event.message == "De stoep is nog kapot.\n\nGroet,\nJan"


def test_a_quoted_reply_lands_without_the_quote_and_the_raw_mail_is_kept(
    app: Flask, inbound: InboundServer
) -> None:
    reference, address = signal_with_reply_address(app)

    deliver(inbound, reply(f"Ja, nog steeds.\n\n-- \nJan, 06-12345678\n\n{QUOTE}"), address)

    [event] = resident_events(app, reference)
    assert event.message == "Ja, nog steeds."
    assert b"Is de lamp bij nummer 12 nog steeds kapot?" in only_mail(app).raw


def test_photos_in_a_reply_are_attached_to_its_timeline_step(
    app: Flask, inbound: InboundServer, smtp: SMTPServer
) -> None:
    reference, address = signal_with_reply_address(app)
    message = reply("Hier is de foto.")
    message.add_attachment(photo_bytes("JPEG"), "image", "jpeg", filename="stoep.jpg")
    message.add_attachment(photo_bytes("PNG", (120, 90)), "image", "png", filename="lamp.png")
    message.add_attachment(b"GIF89a" + b"\0" * 4000, "image", "gif", filename="anim.gif")
    message.add_attachment(b"%PDF-1.4 brief", "application", "pdf", filename="brief.pdf")

    deliver(inbound, message, address)

    _status, events, attachments = signal_state(app, reference)
    [event] = [e for e in events if e.origin == "email"]
    assert [(a.event_id, a.content_type) for a in attachments] == [
        (event.id, "image/jpeg"),
        (event.id, "image/png"),
    ]
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert all((folder / a.stored_name).is_file() for a in attachments)
    # The gif was refused by the web form's checks: the owner can read that on the mail.
    assert only_mail(app).reason == "photos_refused"
    [owner_mail] = owner_news(smtp, reference)
    assert "2 foto's" in owner_mail.get_body(("plain",)).get_content()


def test_a_reply_while_the_signal_awaits_the_resident_is_the_answer(
    app: Flask, inbound: InboundServer, smtp: SMTPServer
) -> None:
    reference, address = signal_with_reply_address(app)
    move_to(app, reference, Status.AWAITING_RESIDENT, "Sinds wanneer is de lamp kapot?")

    deliver(inbound, reply("Sinds vorige week dinsdag."), address)

    status, events, _attachments = signal_state(app, reference)
    assert status == "in_progress"
    answer = events[-1]
    assert (answer.kind, answer.origin, answer.message) == (
        "resident_answer",
        "email",
        "Sinds vorige week dinsdag.",
    )
    assert (answer.from_status, answer.to_status) == ("awaiting_resident", "in_progress")
    [owner_mail] = owner_news(smtp, reference)
    assert str(owner_mail["Subject"]) == f"Antwoord van de melder op {reference}"


def test_a_reply_to_a_closed_signal_still_reaches_the_owner(
    app: Flask, inbound: InboundServer
) -> None:
    reference, address = signal_with_reply_address(app)
    move_to(app, reference, Status.RESOLVED, "De lamp is vervangen.")

    deliver(inbound, reply("Hij doet het weer niet."), address)

    status, _events, _attachments = signal_state(app, reference)
    assert status == "resolved"
    assert [e.message for e in resident_events(app, reference)] == ["Hij doet het weer niet."]


def test_a_reply_from_another_address_lands_and_is_marked(
    app: Flask, inbound: InboundServer
) -> None:
    reference, address = signal_with_reply_address(app)

    deliver(inbound, reply(sender="Jan <jan.werk@example.com>"), address, "jan.werk@example.com")

    assert len(resident_events(app, reference)) == 1
    mail = only_mail(app)
    assert (mail.status, mail.reason) == ("accepted", "other_sender")


def test_a_very_long_reply_is_cut_and_kept_whole(app: Flask, inbound: InboundServer) -> None:
    reference, address = signal_with_reply_address(app)
    words = " ".join(f"woord{i}" for i in range(1200))  # about 9000 characters

    deliver(inbound, reply(words), address)

    [event] = resident_events(app, reference)
    assert len(event.message) == 5000 and event.message.endswith("…")
    assert words.startswith(event.message[:-1].rstrip())
    mail = only_mail(app)
    assert mail.reason == "text_cut"
    assert b"woord1199" in mail.raw


def test_the_same_mail_delivered_twice_is_stored_once(app: Flask, inbound: InboundServer) -> None:
    reference, address = signal_with_reply_address(app)
    message = reply()

    deliver(inbound, message, address)
    deliver(inbound, message, address)  # the sending server never saw our first "250"

    assert len(stored(app)) == 1
    assert len(resident_events(app, reference)) == 1


# --- set aside for an admin -----------------------------------------------------------------


def revoked_address(app: Flask) -> str:
    reference, address = signal_with_reply_address(app)
    with db_session(app) as session:
        found = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        reply_addresses.revoke(session, found, datetime.now(UTC))
        session.commit()
    return address


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("auto_submitted", "auto_reply"),
        ("out_of_office_subject", "auto_reply"),
        ("precedence_bulk", "auto_reply"),
        ("bounce_empty_sender", "bounce"),
        ("bounce_report", "bounce"),
        ("unknown_id", "unknown_reply_id"),
        ("revoked_id", "revoked"),
        ("only_a_quote", "no_text"),
        ("no_text_at_all", "no_text"),
    ],
)
def test_mail_that_is_not_a_residents_message_is_set_aside(
    app: Flask, inbound: InboundServer, case: str, reason: str
) -> None:
    reference, address = signal_with_reply_address(app)
    sender = RESIDENT
    message = reply("Ik ben afwezig tot 5 januari.")
    if case == "auto_submitted":
        message["Auto-Submitted"] = "auto-replied"
    elif case == "out_of_office_subject":
        message.replace_header("Subject", "Automatisch antwoord: Uw melding")
    elif case == "precedence_bulk":
        message["Precedence"] = "bulk"
    elif case == "bounce_empty_sender":
        sender = ""
    elif case == "bounce_report":
        message = reply("Delivery failed.", sender="MAILER-DAEMON@mx.example.nl")
        message.replace_header("Content-Type", "multipart/report; report-type=delivery-status")
    elif case == "unknown_id":
        address = reply_addresses.format_address(TEMPLATE, reply_addresses.new_reply_id())
    elif case == "revoked_id":
        address = revoked_address(app)
    elif case == "only_a_quote":
        message = reply(QUOTE)
    elif case == "no_text_at_all":
        message = reply("\n\n")

    assert deliver(inbound, message, address, sender) == {}

    mail = next(m for m in stored(app) if m.envelope_to == address)
    assert (mail.status, mail.reason, mail.event_id) == ("set_aside", reason, None)
    assert mail.raw  # never lost
    assert resident_events(app, reference) == []  # never shown as the resident's words


# --- refused in the SMTP transaction --------------------------------------------------------


def test_an_address_that_is_not_a_reply_address_is_refused_with_550(
    app: Flask, inbound: InboundServer
) -> None:
    for address in ("info@hilversum.example", "wijkzaken+kort@hilversum.example"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            deliver(inbound, reply(), address)
        assert refused.value.recipients[address][0] == 550
    assert stored(app) == []


def test_a_message_larger_than_the_limit_is_refused_with_552(
    app: Flask, inbound: InboundServer
) -> None:
    _reference, address = signal_with_reply_address(app)
    big = reply("x" * 100)
    big.add_attachment(os.urandom(MAX_BYTES), "application", "octet-stream", filename="groot.bin")

    # A client that announces the size (SIZE extension) is refused at MAIL FROM …
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        deliver(inbound, big, address)
    assert refused.value.smtp_code == 552
    # … and one that does not, after its DATA: both make the sender's server bounce it.
    with smtplib.SMTP("127.0.0.1", inbound.port, timeout=30) as client:
        client.ehlo()
        assert client.mail(RESIDENT)[0] == 250
        assert client.rcpt(address)[0] == 250
        code, _message = client.data(wire(big))
    assert code == 552
    assert stored(app) == []


@pytest.mark.parametrize("table", ["inbound_mail", "outbox_messages"])
def test_storage_that_fails_answers_451_and_stores_nothing_half(
    app: Flask, inbound: InboundServer, table: str
) -> None:
    """inbound_mail: the very first write fails; outbox_messages: the owner's mail fails after
    the message was already written to the timeline in the same transaction."""
    reference, address = signal_with_reply_address(app)
    move_to(app, reference, Status.AWAITING_RESIDENT, "Sinds wanneer?")
    before = signal_state(app, reference)
    message = reply("Sinds vorige week.")
    with app.app_context():
        engine = app.extensions["portal.db"].kw["bind"]
    with engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            deliver(inbound, message, address)
        assert refused.value.smtp_code == 451
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))
    engine.dispose()  # no pooled connection may remember the old table

    after = signal_state(app, reference)
    assert after[0] == "awaiting_resident"
    assert [e.id for e in after[1]] == [e.id for e in before[1]]
    assert stored(app) == []
    # The sending server tries again later, and then it lands once.
    deliver(inbound, message, address)
    assert len(stored(app)) == 1
    assert signal_state(app, reference)[0] == "in_progress"


def test_a_photo_store_that_fails_answers_451(
    app: Flask, inbound: InboundServer, tmp_path: Path
) -> None:
    """A full or broken upload disk is temporary too: nothing is stored, the sender retries."""
    reference, address = signal_with_reply_address(app)
    message = reply("Met foto.")
    message.add_attachment(photo_bytes(), "image", "jpeg", filename="stoep.jpg")
    upload_folder = app.config["UPLOAD_FOLDER"]
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_text("a file where the folder should be")
    app.config["UPLOAD_FOLDER"] = str(not_a_folder)
    try:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            deliver(inbound, message, address)
    finally:
        app.config["UPLOAD_FOLDER"] = upload_folder
    assert refused.value.smtp_code == 451
    assert stored(app) == [] and resident_events(app, reference) == []

    deliver(inbound, message, address)
    assert len(signal_state(app, reference)[2]) == 1


def test_mail_we_fail_to_process_is_kept_for_an_admin(app: Flask) -> None:
    """What the endpoint stores when processing raised something other than a database or
    disk error (a bug of ours): the mail, set aside, so it is neither lost nor retried."""
    from portal.domain.inbound.receive import InboundSettings, store_unprocessed
    from portal.domain.photos import PhotoStore

    _reference, address = signal_with_reply_address(app)
    raw = wire(reply("Iets wat ons liet struikelen."))
    with db_session(app) as session:
        result = store_unprocessed(
            session,
            raw,
            envelope_from=RESIDENT,
            envelope_to=address,
            settings=InboundSettings(
                reply_template=TEMPLATE,
                photos=PhotoStore(app.config["UPLOAD_FOLDER"], 1000),
                mail=intake_settings(app).mail,
                now=datetime.now(UTC),
            ),
        )
        session.commit()
    mail = only_mail(app)
    assert (result.status, result.reason) == ("set_aside", "processing_failed")
    assert (mail.status, mail.reason, mail.raw) == ("set_aside", "processing_failed", raw)
    assert mail.reply_id == reply_addresses.reply_id_from(address, TEMPLATE)


def test_lmtp_answers_per_recipient(app: Flask, received: list[InboundResult]) -> None:
    reference, address = signal_with_reply_address(app)
    unknown = reply_addresses.format_address(TEMPLATE, reply_addresses.new_reply_id())
    server = start_server(
        app, host="127.0.0.1", port=free_port(), protocol="lmtp", on_result=received.append
    )
    try:
        with smtplib.LMTP("127.0.0.1", server.port, timeout=30) as client:
            assert client.ehlo()[0] == 250  # LHLO
            assert client.mail(RESIDENT)[0] == 250
            assert client.rcpt(address)[0] == 250
            assert client.rcpt(unknown)[0] == 250
            assert client.rcpt("info@hilversum.example")[0] == 550
            first = client.data(wire(reply()))
            second = client.getreply()  # LMTP: one answer per accepted recipient
    finally:
        server.stop()

    assert (first[0], second[0]) == (250, 250)
    by_address = {m.envelope_to: m for m in stored(app)}
    assert by_address[address].status == "accepted"
    assert (by_address[unknown].status, by_address[unknown].reason) == (
        "set_aside",
        "unknown_reply_id",
    )
    assert len(resident_events(app, reference)) == 1


def test_mail_receive_command_runs_until_sigterm(
    app: Flask, app_config: dict[str, object], smtp: SMTPServer, tmp_path: Path
) -> None:
    reference, address = signal_with_reply_address(app)
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_TESTING": "true",
        "PORTAL_SECRET_KEY": "test-secret",
        "PORTAL_DATABASE_URL": str(app_config["DATABASE_URL"]),
        "PORTAL_UPLOAD_FOLDER": str(app_config["UPLOAD_FOLDER"]),
        "PORTAL_MAIL_SERVER": "127.0.0.1",
        "PORTAL_MAIL_PORT": str(smtp.port),
        "PORTAL_OUTBOX_DELIVERY": "sync",
        "PORTAL_PUBLIC_BASE_URL": "http://portal.test",
        "PORTAL_REPLY_TO_ADDRESS": TEMPLATE,
    }
    command = [sys.executable, "-m", "flask", "--app", "portal", "mail", "receive"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, server)
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.sendmail(RESIDENT, [address], wire(reply("Via de command line.")))
    finally:
        server.send_signal(signals.SIGTERM)
        output, errors = server.communicate(timeout=60)

    assert server.returncode == 0, errors
    lines = output.splitlines()
    assert lines[0] == f"Receiving replies by SMTP on 127.0.0.1:{port}; Ctrl-C to stop."
    mail = only_mail(app)
    assert lines[1] == f"inbound mail #{mail.id} accepted signal {mail.signal_id}"
    assert lines[-1] == "Stopped."
    assert [e.message for e in resident_events(app, reference)] == ["Via de command line."]


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"mail receive did not start listening on port {port}")


# --- the back office ------------------------------------------------------------------------


def set_aside_and_accepted(app: Flask, inbound: InboundServer) -> tuple[str, int, int]:
    """One accepted reply (with a quote and markup in its text) and one out-of-office on
    Anna's signal; (reference, accepted mail id, set-aside mail id)."""
    reference, address = signal_with_reply_address(app)
    deliver(inbound, reply(f"Ja, <b>nog</b> steeds.\n\n{QUOTE}"), address)
    out_of_office = reply("Ik ben afwezig.", subject="Afwezig: Re: Uw melding")
    deliver(inbound, out_of_office, address)
    accepted, set_aside = stored(app)
    assert (accepted.status, set_aside.status) == ("accepted", "set_aside")
    return reference, accepted.id, set_aside.id


def test_admins_see_set_aside_mail_read_it_and_mark_it_handled(
    app: Flask, inbound: InboundServer, client: FlaskClient
) -> None:
    reference, accepted_id, set_aside_id = set_aside_and_accepted(app, inbound)
    login(client, ADMIN)

    listing = client.get("/backoffice/beheer/post").get_data(as_text=True)
    assert "Afwezig: Re: Uw melding" in listing
    assert "Automatisch antwoord, zoals een afwezigheidsbericht" in listing
    assert f"/backoffice/post/{set_aside_id}" in listing
    assert f"/backoffice/post/{accepted_id}" not in listing  # on the timeline already
    assert reference in listing
    assert "/backoffice/beheer/post" in client.get("/backoffice/beheer").get_data(as_text=True)

    page = client.get(f"/backoffice/post/{set_aside_id}")
    assert page.status_code == 200
    assert "Ik ben afwezig." in page.get_data(as_text=True)
    assert "Zet op afgehandeld" in page.get_data(as_text=True)

    token = csrf_token(client, "/backoffice/beheer/post")
    response = client.post(
        f"/backoffice/beheer/post/{set_aside_id}/afgehandeld", data={"csrf_token": token}
    )
    assert response.status_code == 303
    assert "De e-mail is afgehandeld." in client.get("/backoffice/beheer/post").get_data(
        as_text=True
    )
    with db_session(app) as session:
        handled = session.get(InboundMail, set_aside_id)
        assert handled is not None
        assert (handled.status, handled.handled_by_id) == ("handled", user_id(app, ADMIN))
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.action == "inbound.handled")
            )
            == 1
        )
    assert f"/backoffice/post/{set_aside_id}" not in client.get("/backoffice/beheer/post").get_data(
        as_text=True
    )
    done = client.get("/backoffice/beheer/post?toon=afgehandeld").get_data(as_text=True)
    assert f"/backoffice/post/{set_aside_id}" in done
    # Twice is harmless.
    again = client.post(
        f"/backoffice/beheer/post/{set_aside_id}/afgehandeld", data={"csrf_token": token}
    )
    assert again.status_code == 303
    assert "wachtte niet (meer)" in client.get("/backoffice/beheer/post").get_data(as_text=True)


def test_the_owner_reads_the_full_original_as_escaped_text(
    app: Flask, inbound: InboundServer, client: FlaskClient
) -> None:
    _reference, accepted_id, _set_aside_id = set_aside_and_accepted(app, inbound)
    login(client, ANNA)

    response = client.get(f"/backoffice/post/{accepted_id}")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    page = response.get_data(as_text=True)
    assert f"Jan Jansen &lt;{RESIDENT}&gt;" in page  # From
    assert "Re: Uw melding" in page  # Subject
    assert "Is de lamp bij nummer 12 nog steeds kapot?" in page  # the quote is all there
    assert "Ja, &lt;b&gt;nog&lt;/b&gt; steeds." in page and "<b>nog</b>" not in page
    assert "Op de tijdlijn gezet" in page
    with db_session(app) as session:
        views = session.scalars(
            select(AuditRecord).where(AuditRecord.action == CONTACT_VIEWED)
        ).all()
        assert [v.actor_id for v in views] == [user_id(app, ANNA)]


@pytest.mark.parametrize(
    ("email", "status"),
    [(ADMIN, 200), (ANNA, 200), (SANNE, 403), (MANAGEMENT, 403)],
    ids=["admin", "owner", "other-wijk", "management"],
)
def test_who_may_read_an_original(
    app: Flask, inbound: InboundServer, client: FlaskClient, email: str, status: int
) -> None:
    _reference, accepted_id, _set_aside_id = set_aside_and_accepted(app, inbound)
    unknown = reply_addresses.format_address(TEMPLATE, reply_addresses.new_reply_id())
    deliver(inbound, reply("Voor niemand."), unknown)
    stray_id = stored(app)[-1].id
    login(client, email)

    assert client.get(f"/backoffice/post/{accepted_id}").status_code == status
    # Mail that belongs to no signal is for admins only.
    assert client.get(f"/backoffice/post/{stray_id}").status_code == (
        200 if email == ADMIN else 403
    )
    assert client.get("/backoffice/post/999999").status_code == (
        403 if email == MANAGEMENT else 404
    )
    assert client.get("/backoffice/beheer/post").status_code == (200 if email == ADMIN else 403)


def test_an_original_that_does_not_exist_is_not_found(app: Flask, client: FlaskClient) -> None:
    login(client, ADMIN)
    assert client.get("/backoffice/post/424242").status_code == 404
    assert client.get("/backoffice/post/9999999999999999999999").status_code == 404


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_inbound_pages_in_a_browser(app: Flask, inbound: InboundServer, live_server, page):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from tests.fixtures.browser import assert_accessible
    from tests.test_browser_backoffice import log_in

    _reference, accepted_id, set_aside_id = set_aside_and_accepted(app, inbound)
    log_in(page, live_server, ADMIN)
    page.goto(f"{live_server}/backoffice/beheer")
    page.get_by_role("link", name="Apart gezette e-mail").click()
    expect(page.locator("h1")).to_have_text("Apart gezette e-mail")
    assert_accessible(page)
    page.get_by_role("link", name="Afwezig: Re: Uw melding").click()
    expect(page.locator("h1")).to_contain_text("Afwezig: Re: Uw melding")
    assert_accessible(page)
    page.get_by_role("button", name="Zet op afgehandeld").click()
    expect(page.get_by_text("De e-mail is afgehandeld.")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{live_server}/backoffice/post/{accepted_id}")
    expect(page.locator(".portal-inbound-mail__text")).to_contain_text("nog steeds kapot?")
    assert_accessible(page)
    with db_session(app) as session:
        assert session.get(InboundMail, set_aside_id).status == "handled"  # type: ignore[union-attr]
