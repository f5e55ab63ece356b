"""Mail the deliverer writes (portal/outbox_compose.py): the form's two mails are queued as
"which mail, for whom" and written just before they go out, on SQLite and on PostgreSQL,
through a real SMTP server. The resident and the owner get the same mail as when it was
written in the request; what is kept afterwards holds no working link."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select, update

from portal import create_app
from portal.extensions import db
from portal.mailer import make_sender
from portal.models import OutboxMessage, Signal, utcnow
from portal.outbox import deliver_due, redact_failed
from tests.factories import ANNA
from tests.fixtures.mailserver import SMTPServer
from tests.test_backoffice_signal import logged_in
from tests.test_outbox import content
from tests.test_report_form import submit, valid_form

STATUS_LINK = re.compile(r"https?://[^\s\"<>]+/status/[A-Za-z0-9_-]{20,}")


@pytest.fixture
def quiet_app(app_config: dict[str, object]) -> Iterator[Flask]:
    """The mail is left in the outbox, as on app servers with a separate worker."""
    app = create_app({**app_config, "OUTBOX_DELIVERY": "off"})
    yield app
    db.engine(app).dispose()


def rows(app: Flask) -> list[OutboxMessage]:
    with app.extensions["portal.db"]() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def deliver(app: Flask):  # type: ignore[no-untyped-def]
    return deliver_due(app.extensions["portal.db"], make_sender(app))


def test_the_form_queues_what_to_write_and_the_deliverer_writes_it(
    quiet_app: Flask, smtp: SMTPServer
) -> None:
    reference = submit(quiet_app.test_client())
    queued = rows(quiet_app)
    assert [m.purpose for m in queued] == ["confirmation", "owner_new_signal"]
    for message in queued:
        assert message.compose and (message.subject, message.body_text) == ("", "")
    resident, owner = queued
    # The status link's token is the one thing the database cannot tell again.
    assert json.loads(resident.compose or "")["token"]
    assert resident.reply_to  # the reply address is made by the intake, as before
    assert owner.recipient == "anna.de.vries@hilversum.example" and owner.reply_to is None
    assert json.loads(owner.compose or "")["recipient"]  # who is greeted by name

    # Until then the signal page says so instead of an empty subject.
    staff = logged_in(quiet_app, ANNA)
    waiting = staff.get(f"/backoffice/signalen/{reference}").get_data(as_text=True)
    assert waiting.count("(wordt bij verzenden geschreven)") == 2

    report = deliver(quiet_app)
    assert report.sent == 2
    shown = staff.get(f"/backoffice/signalen/{reference}").get_data(as_text=True)
    assert "(wordt bij verzenden geschreven)" not in shown
    assert f"Uw melding {reference} is ontvangen" in shown
    to_resident = next(m for m in smtp.messages if m["To"] == "jan.jansen@example.nl")
    assert to_resident["Subject"] == f"Uw melding {reference} is ontvangen"
    text = content(to_resident, "plain")
    assert "Kapotte lantaarnpaal bij de speeltuin" in text
    link = STATUS_LINK.search(text)
    assert link, text
    to_owner = next(m for m in smtp.messages if m is not to_resident)
    assert reference in to_owner["Subject"] and "Zuidwest" in to_owner["Subject"]
    assert f"/backoffice/signalen/{reference}" in content(to_owner, "plain")

    # The link in the mail opens the resident's status page.
    page = quiet_app.test_client().get(link.group(0).split("://", 1)[1].split("/", 1)[1])
    assert page.status_code == 200 and reference in page.get_data(as_text=True)

    kept = rows(quiet_app)
    for message in kept:
        assert message.status == "sent" and message.compose is None and message.subject
    assert "/status/[verwijderd]" in kept[0].body_text
    assert not STATUS_LINK.search(kept[0].body_text + (kept[0].body_html or ""))


def test_the_mail_says_what_the_request_would_have_said(
    app: Flask, quiet_app: Flask, smtp: SMTPServer
) -> None:
    """The same form, once with the mail sent right after the commit (the tests' default)
    and once through the outbox later: the same subjects and the same text, but for the
    reference number and the link."""
    submit(app.test_client())
    right_away = sorted((m["Subject"], content(m, "plain")) for m in smtp.messages)
    submit(quiet_app.test_client(), valid_form())
    deliver(quiet_app)
    later = sorted((m["Subject"], content(m, "plain")) for m in smtp.messages[2:])

    def same(pairs):  # type: ignore[no-untyped-def]
        numbers = re.compile(r"[A-Z]+-\d{4}-\d{6}|/status/[A-Za-z0-9_-]+|[a-z0-9]{20}@")
        return [(numbers.sub("#", s), numbers.sub("#", t)) for s, t in pairs]

    assert len(right_away) == 2 and same(right_away) == same(later)


def test_mail_that_cannot_be_written_fails_alone(quiet_app: Flask, smtp: SMTPServer) -> None:
    """A signal erased before its mail went out: that mail is a failed attempt (nothing
    half-written goes out); the other mail of the batch is sent."""
    submit(quiet_app.test_client())
    submit(quiet_app.test_client(), valid_form(title="Losse stoeptegel"))
    with quiet_app.app_context():
        first = db.session.scalars(select(Signal).order_by(Signal.id)).first()
        assert first is not None
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.signal_id == first.id)
            .values(signal_id=None)  # as the foreign key's ON DELETE SET NULL leaves it
        )
        db.session.commit()
    report = deliver(quiet_app)
    assert (report.sent, report.retried) == (2, 2)
    assert all("Losse stoeptegel" in content(m, "plain") for m in smtp.messages)
    unwritten = [m for m in rows(quiet_app) if m.status == "pending"]
    assert len(unwritten) == 2
    for message in unwritten:
        assert message.attempts == 1 and "no longer exists" in (message.last_error or "")
        assert message.compose and message.body_text == ""


def test_failed_mail_that_was_never_written_loses_its_link(
    quiet_app: Flask, smtp: SMTPServer
) -> None:
    submit(quiet_app.test_client())
    with quiet_app.app_context():
        db.session.execute(
            update(OutboxMessage).values(status="failed", next_attempt_at=utcnow(), signal_id=None)
        )
        db.session.commit()
        assert redact_failed(db.session, utcnow().replace(year=utcnow().year + 1)) == 2
        db.session.commit()
    assert all(m.compose is None for m in rows(quiet_app))
    assert not smtp.messages


def test_without_a_public_base_url_the_links_name_the_host_the_form_was_sent_to(
    app_config: dict[str, object], smtp: SMTPServer
) -> None:
    """Written later and elsewhere (a worker has no request), the links still say what the
    request would have written: its own host, as in development."""
    app = create_app({**app_config, "OUTBOX_DELIVERY": "off", "PUBLIC_BASE_URL": ""})
    try:
        reference = submit(app.test_client())  # the test client's host: localhost
        deliver(app)
    finally:
        db.engine(app).dispose()
    to_resident, to_owner = sorted(smtp.messages, key=lambda m: m["To"] != "jan.jansen@example.nl")
    text = content(to_resident, "plain")
    assert "http://localhost/status/" in text, text  # not the development default
    link = f"http://localhost/backoffice/signalen/{reference}"
    assert link in content(to_owner, "plain")
