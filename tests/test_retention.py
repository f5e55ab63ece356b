"""The retention job (``jobs run``): contact data, its copies in mail and photos removed a set
number of days after a signal closed, on SQLite and PostgreSQL, against a real SMTP server,
inbound mail server and upload folder. Asserts on the rows and files afterwards."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from portal.domain import casework, sensitive
from portal.domain.dialogue import reply_addresses
from portal.domain.inbox.text_search import text_conditions
from portal.extensions import db
from portal.inbound_server import start_server
from portal.models import (
    Attachment,
    AuditRecord,
    InboundMail,
    OutboxMessage,
    Reporter,
    Signal,
    SignalEvent,
)
from portal.vocabulary import Status
from tests.factories import ADMIN, db_session, login, make_signal, user_id
from tests.fixtures.databases import free_port
from tests.test_backoffice_inbox import move
from tests.test_jobs import make_old, stored_photo

NAME, EMAIL, PHONE = "Jan Jansen", "jan.jansen@example.nl", "06 12345678"
TEMPLATE = "wijkzaken+{reply_id}@hilversum.example"


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    return {**app_config, "REPLY_TO_ADDRESS": TEMPLATE}


def now() -> datetime:
    return datetime.now(UTC)


def signal_closed(app: Flask, days_ago: float, *, photo: bool = False, secret: bool = False) -> str:
    """A signal from the form (a name, email address, phone number, an organisation, maybe a
    photo), its confirmation mailed, closed ``days_ago`` by its accountmanager."""
    photos = [stored_photo(app)] if photo else []
    created = now() - timedelta(days=days_ago + 10)
    reference, _token = make_signal(
        app,
        name=NAME,
        email=EMAIL,
        phone=PHONE,
        may_share=True,
        organisation_name="Bakkerij Jansen",
        kvk_number="12345678",
        photos=photos,
        now=created,
    )
    for stored in photos:  # as old as the signal: the sweep only takes files older than a day
        make_old(Path(app.config["UPLOAD_FOLDER"]) / stored.stored_name)
    admin = user_id(app, ADMIN)
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
        if secret:
            sensitive.mark(
                db.session,
                signal,
                reason="Zorgen om de bewoner",
                seen_version=signal.version,
                actor=casework.Actor(admin, created),
            )
        db.session.commit()
    move(app, reference, Status.RESOLVED, at=now() - timedelta(days=days_ago))
    return reference


def held(app: Flask, reference: str) -> dict[str, object]:
    """What the database holds of the signal's contact data, mail and photos."""
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        reporter = session.scalars(select(Reporter).where(Reporter.signal_id == signal.id)).one()
        mails = list(
            session.scalars(select(OutboxMessage).where(OutboxMessage.signal_id == signal.id))
        )
        inbound = session.scalars(select(InboundMail).where(InboundMail.signal_id == signal.id))
        return {
            "reporter": (
                reporter.name,
                reporter.email,
                reporter.phone,
                reporter.organisation_name,
                reporter.kvk_number,
            ),
            "recipients": sorted(m.recipient for m in mails),
            "mail_text": " ".join(f"{m.body_text} {m.body_html or ''}" for m in mails),
            "inbound": [(m.envelope_from, m.raw) for m in inbound],
            "photos": list(
                session.scalars(
                    select(Attachment.stored_name).where(Attachment.signal_id == signal.id)
                )
            ),
            "events": [
                e.kind
                for e in session.scalars(
                    select(SignalEvent)
                    .where(SignalEvent.signal_id == signal.id)
                    .order_by(SignalEvent.id)
                )
            ],
            "audit": [
                (a.action, str(a.details))
                for a in session.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.signal_id == signal.id)
                    .order_by(AuditRecord.id)
                )
            ],
            "removed_at": signal.contact_data_removed_at,
            "status": signal.status,
        }


def jobs_run(runner: FlaskCliRunner) -> str:
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    return result.output


def test_contact_data_goes_366_days_after_closing_and_stays_at_364(app, client, runner, smtp):
    old = signal_closed(app, 366)
    young = signal_closed(app, 364)
    sent_before = len(smtp.messages)
    assert EMAIL in held(app, old)["recipients"]
    assert NAME in held(app, old)["mail_text"]  # the confirmation greets the resident

    output = jobs_run(runner)

    assert "retention: contact data removed from 1 signal(s)" in output
    gone = held(app, old)
    assert gone["reporter"] == (None, None, None, None, None)
    assert gone["recipients"] and set(gone["recipients"]) == {""}
    assert NAME not in gone["mail_text"] and EMAIL not in gone["mail_text"]
    assert gone["removed_at"] is not None
    assert gone["status"] == Status.RESOLVED.value  # the signal itself stays
    assert gone["events"][-1] == "contact_data_removed"
    assert gone["audit"][-1][0] == "signal.contact_data_removed"
    # No record of the signal holds what went.
    for _action, details in gone["audit"]:
        assert NAME not in details and EMAIL not in details and PHONE not in details
    # The search no longer finds it by the organisation's name.
    with db_session(app) as session:
        found = session.scalars(
            select(Signal.reference).where(*text_conditions(session, "bakkerij jansen"))
        ).all()
    assert found == [young]
    kept = held(app, young)
    assert kept["reporter"] == (NAME, EMAIL, PHONE, "Bakkerij Jansen", "12345678")
    assert EMAIL in kept["recipients"] and NAME in kept["mail_text"]
    assert kept["removed_at"] is None and "contact_data_removed" not in kept["events"]
    assert len(smtp.messages) == sent_before  # removing sends nobody anything

    # The accountmanager's page of it: the step in the timeline, the details gone.
    page = login(client, ADMIN).get(f"/backoffice/signalen/{old}").get_data(as_text=True)
    assert "Gegevens melder verwijderd volgens bewaartermijn" in page
    assert NAME not in page and EMAIL not in page and "Bakkerij Jansen" not in page
    assert "volgens de bewaartermijn" in page  # not "gave no contact details": they went
    assert "De melder ()" not in page  # the mail log without the blanked address

    again = jobs_run(runner)  # idempotent: nothing more, no second timeline step
    assert "retention: contact data removed from 0 signal(s)" in again
    assert held(app, old)["events"].count("contact_data_removed") == 1


def test_photos_go_with_their_files_in_the_same_run(app, runner):
    folder = Path(app.config["UPLOAD_FOLDER"])
    old = signal_closed(app, 366, photo=True)
    young = signal_closed(app, 364, photo=True)
    (old_photo,) = held(app, old)["photos"]
    (young_photo,) = held(app, young)["photos"]

    output = jobs_run(runner)

    assert "1 photo(s) from 1 signal(s)" in output
    assert held(app, old)["photos"] == []
    assert not (folder / old_photo).exists()  # the sweep right after took the file
    assert "photos_removed" in held(app, old)["events"]
    assert held(app, young)["photos"] == [young_photo]
    assert (folder / young_photo).exists()


def test_a_sensitive_signal_goes_sooner(app, runner):
    assert app.config["RETENTION_SENSITIVE_DAYS"] == 180
    secret = signal_closed(app, 181, photo=True, secret=True)
    plain = signal_closed(app, 181, photo=True)
    secret_young = signal_closed(app, 179, secret=True)

    jobs_run(runner)

    assert held(app, secret)["reporter"] == (None, None, None, None, None)
    assert held(app, secret)["photos"] == []
    assert held(app, plain)["reporter"][0] == NAME
    assert len(held(app, plain)["photos"]) == 1
    assert held(app, secret_young)["reporter"][0] == NAME


def test_periods_below_the_floor_are_refused_and_nothing_is_removed(app, runner):
    old = signal_closed(app, 366, photo=True)
    app.config["RETENTION_SENSITIVE_DAYS"] = 30  # below the minimum of 90

    result = runner.invoke(args=["jobs", "run"])

    assert result.exit_code == 1
    assert "refused" in result.output and "minimum of 90 days" in result.output
    assert held(app, old)["reporter"][0] == NAME
    assert len(held(app, old)["photos"]) == 1


def test_a_reply_by_mail_is_blanked_with_the_contact_data(app, runner):
    old = signal_closed(app, 366)
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == old)).one()
        address = reply_addresses.reply_address_for(session, signal, now())
        session.commit()
        to = reply_addresses.format_address(TEMPLATE, address.reply_id)
    server = start_server(app, host="127.0.0.1", port=free_port(), protocol="smtp")
    try:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as client:
            client.sendmail(
                EMAIL,
                [to],
                f"From: {NAME} <{EMAIL}>\r\nTo: {to}\r\nSubject: Re: Uw melding\r\n\r\n"
                f"Groet, {NAME}, {PHONE}\r\n".encode(),
            )
    finally:
        server.stop()
    (sent_in,) = held(app, old)["inbound"]
    assert sent_in[0] == EMAIL and NAME.encode() in sent_in[1]

    with db_session(app) as session:
        [written] = session.scalars(
            select(SignalEvent.message).where(SignalEvent.origin.is_not(None))
        ).all()
    assert NAME in written and PHONE in written  # the resident signed their reply

    jobs_run(runner)

    assert held(app, old)["inbound"] == [("", b"")]
    with db_session(app) as session:
        [scrubbed] = session.scalars(
            select(SignalEvent.message).where(SignalEvent.origin.is_not(None))
        ).all()
    assert NAME not in scrubbed and PHONE not in scrubbed and "Groet" in scrubbed


def test_a_mail_still_waiting_holds_the_removal_until_it_went(app, runner, smtp):
    app.config["OUTBOX_DELIVERY"] = "off"  # as with a worker that has not run yet
    old = signal_closed(app, 366)

    waiting = jobs_run(runner)

    assert "contact data removed from 0 signal(s)" in waiting
    assert "1 left for a later run" in waiting
    assert held(app, old)["reporter"][0] == NAME

    sent = runner.invoke(args=["outbox", "send"])
    assert sent.exit_code == 0, sent.output
    assert smtp.to(EMAIL)

    after = jobs_run(runner)

    assert "contact data removed from 1 signal(s)" in after
    assert set(held(app, old)["recipients"]) == {""}


def test_each_period_counts_for_its_own_data(app, runner):
    app.config["RETENTION_PHOTO_DAYS"] = 400  # photos kept longer than the contact data
    old = signal_closed(app, 366, photo=True)

    jobs_run(runner)

    assert held(app, old)["reporter"] == (None, None, None, None, None)
    assert len(held(app, old)["photos"]) == 1


def test_a_reopened_signal_keeps_everything(app, runner):
    reopened = signal_closed(app, 366, photo=True)
    move(app, reopened, Status.REOPENED)

    jobs_run(runner)

    assert held(app, reopened)["reporter"][0] == NAME
    assert len(held(app, reopened)["photos"]) == 1


def test_a_signal_without_contact_data_gets_no_removal_step(app, runner):
    reference, _token = make_signal(app, name=None, email=None, phone=None)
    move(app, reference, Status.RESOLVED, at=now() - timedelta(days=366))

    output = jobs_run(runner)

    assert "contact data removed from 1 signal(s)" in output  # looked at, once
    assert "contact_data_removed" not in held_events(app, reference)
    assert "contact data removed from 0 signal(s)" in jobs_run(runner)


def held_events(app: Flask, reference: str) -> list[str]:
    with db_session(app) as session:
        signal_id = session.scalar(select(Signal.id).where(Signal.reference == reference))
        return list(
            session.scalars(select(SignalEvent.kind).where(SignalEvent.signal_id == signal_id))
        )
