"""A resident asks for an overview of their own data (/privacy/mijn-gegevens, issue 12): the
same page whether or not anything is held, one mail over real SMTP when something is (in
short: references, dates, titles, statuses; never what they wrote), nothing otherwise, one
overview per address per REPEAT minutes, a rate limit per IP address of its own, and the
form's error states. Behaviour on SQLite and PostgreSQL; the form's checks on SQLite."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import create_app
from portal.domain.privacy import overview
from portal.models import AuditRecord, OutboxMessage
from tests.conftest import csrf_token
from tests.factories import db_session, make_signal
from tests.fixtures.mailserver import SMTPServer
from tests.test_alerts import subscribe
from tests.test_confirmation_and_status import ask_for_link, text
from tests.test_following import follow
from tests.test_report_form import error_summary

PAGE = "/privacy/mijn-gegevens"
SENT = "/privacy/mijn-gegevens/verstuurd"
EMAIL = "jan.jansen@example.nl"
SUBJECT = "Overzicht van uw gegevens bij Bureau Wijkzaken"
DESCRIPTION = "Er ligt afval bij de glasbak. Ik woon op nummer 12, groet Jan Jansen."
only_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def ask(client: FlaskClient, email: str, *, lang: str | None = None):  # type: ignore[no-untyped-def]
    page = PAGE + (f"?lang={lang}" if lang else "")
    return client.post(PAGE, data={"csrf_token": csrf_token(client, page), "email": email})


def overviews(smtp: SMTPServer) -> list[EmailMessage]:
    smtp.wait_for(1, timeout=0.3)  # sync delivery: already there, or never
    return [m for m in smtp.messages if m["Subject"] in (SUBJECT, EN_SUBJECT)]


EN_SUBJECT = "Overview of your data at Bureau Wijkzaken"


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and rich is not None, "mail needs a text and an HTML part"
    return plain.get_content(), rich.get_content()


def jans_data(app: Flask, client: FlaskClient) -> dict[str, str]:
    """Two signals of Jan's, one of someone else's that Jan follows, and a wijk alert."""
    first, _ = make_signal(app, email=EMAIL, title="Afval bij de glasbak", description=DESCRIPTION)
    second, _ = make_signal(app, email=EMAIL.upper(), title="Losse stoeptegel")
    other, _ = make_signal(app, email="piet@example.nl", title="Kapotte lantaarnpaal")
    follow(client, other, email=EMAIL)
    assert subscribe(client, EMAIL).status_code == 303
    return {"first": first, "second": second, "other": other}


def test_a_match_gets_one_overview_and_the_same_page_as_a_miss(app, client, smtp):
    made = jans_data(app, client)
    match_client, miss_client = app.test_client(), app.test_client()

    match = ask(match_client, f"  {EMAIL.upper().replace('JAN.', 'Jan.')} ")
    miss = ask(miss_client, "iemand.anders@example.nl")

    # The same answer: nobody learns from the page whether an address is known.
    assert match.status_code == miss.status_code == 303
    assert match.headers["Location"] == miss.headers["Location"] == SENT
    assert match.get_data() == miss.get_data()
    match_page, miss_page = match_client.get(SENT), miss_client.get(SENT)
    assert match_page.status_code == miss_page.status_code == 200
    assert text(match_page.get_data(as_text=True)) == text(miss_page.get_data(as_text=True))
    assert "Kijk in uw e-mail" in text(match_page.get_data(as_text=True))
    assert "hooguit één overzicht per uur" in text(match_page.get_data(as_text=True))

    [mail] = overviews(smtp)  # one, and none for the miss
    assert str(mail["To"]) == EMAIL
    plain, rich = parts(mail)
    for part in (plain, html.unescape(rich)):
        assert made["first"] in part and made["second"] in part
        assert "Afval bij de glasbak" in part and "Losse stoeptegel" in part
        assert "Status: Ontvangen" in part
        assert f"{made['other']}: u volgt deze melding sinds" in part
        assert "Kapotte lantaarnpaal" not in part  # someone else's title
        assert "Wijk Zuidwest: aangemeld op" in part and "Nog niet bevestigd." in part
        assert "e-mails die wij u eerder stuurden" in part
        assert "U stuurde ons geen e-mails." in part  # not "0 e-mails die u ons stuurde"
        assert "0 e-mail" not in part
        assert "fg@hilversum.example" in part and "14 035" in part
        assert "http://portal.test/status/opvragen" in part
        assert "Beste inwoner," in part  # no name: the mailbox may be shared
        # Never what they wrote, and no link that opens a signal by itself.
        assert "afval bij de glasbak. Ik woon" not in part.lower()
        assert "nummer 12" not in part
        assert not re.search(r"/status/(?!opvragen)[A-Za-z0-9_-]{16,}", part)
        assert "/volgen/" not in part

    with db_session(app) as session:
        [row] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == overview.PURPOSE)
        ).all()
        assert (row.recipient, row.status, row.signal_id) == (EMAIL, "sent", None)
        records = session.scalars(
            select(AuditRecord).where(AuditRecord.action.like("subject_access.%"))
        ).all()
    [record] = records  # the miss left no trace of the address it asked about
    assert record.action == overview.AUDIT_ACTION and record.actor_id is None
    assert record.details["signals"] == 2 and record.details["following"] == 1
    assert record.details["alerts"] == 1 and len(record.details["subject"]) == 64
    assert EMAIL not in json.dumps(record.details).lower()


def test_an_address_held_nowhere_gets_no_mail(app, client, smtp):
    make_signal(app, email=EMAIL, phone="06-12345678")
    before = len(smtp.messages)
    assert ask(client, "niemand@example.nl").status_code == 303
    assert ask(app.test_client(), "jan.jansen@example.nl.evil.example").status_code == 303
    assert ask(app.test_client(), "%@example.nl").status_code == 303  # no LIKE wildcard
    assert overviews(smtp) == [] and len(smtp.messages) == before
    with db_session(app) as session:
        assert (
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == overview.PURPOSE)
            ).all()
            == []
        )


def test_one_overview_per_address_within_the_repeat_window(app, client, smtp):
    make_signal(app, email=EMAIL)
    first, again = ask(client, EMAIL), ask(app.test_client(), EMAIL.upper())
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"] == SENT
    assert len(overviews(smtp)) == 1

    # Once the window has passed, the address may have a fresh overview.
    minutes = app.config["PRIVACY_OVERVIEW_REPEAT_MINUTES"]
    with db_session(app) as session:
        [row] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == overview.PURPOSE)
        ).all()
        row.created_at -= timedelta(minutes=minutes + 1)
        session.commit()
    assert ask(app.test_client(), EMAIL).status_code == 303
    assert len(overviews(smtp)) == 2
    with db_session(app) as session:
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.action == overview.AUDIT_ACTION)
        ).all()
    assert len(actions) == 2  # the refused repeat mailed nothing and is not on record


def test_the_overview_is_in_the_language_the_resident_used(app, client, smtp):
    reference, _ = make_signal(app, email=EMAIL)
    assert ask(client, EMAIL, lang="en").status_code == 303
    [mail] = overviews(smtp)
    assert mail["Subject"] == EN_SUBJECT
    plain, rich = parts(mail)
    assert "Dear resident," in plain and f"{reference}: Afval bij de glasbak" in plain
    assert "Status: Received" in plain and 'lang="en"' in rich


def test_the_html_part_escapes_a_title_with_markup(app, client, smtp):
    title = '<b onclick="x()">Stoep</b> & "tegel"'
    make_signal(app, email=EMAIL, title=title)
    assert ask(client, EMAIL).status_code == 303
    [mail] = overviews(smtp)
    plain, rich = parts(mail)
    assert title in plain
    assert "<b onclick" not in rich
    assert "&lt;b onclick=" in rich and "&lt;/b&gt; &amp;" in rich


@only_sqlite
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        pytest.param("", "Vul uw e-mailadres in.", id="empty"),
        pytest.param("   ", "Vul uw e-mailadres in.", id="spaces"),
        pytest.param("geen-adres", "Vul een geldig e-mailadres in", id="not-an-address"),
        pytest.param("06-12345678", "Vul een geldig e-mailadres in", id="phone-number"),
        pytest.param("a" * 320 + "@example.nl", "Vul een geldig e-mailadres in", id="too-long"),
    ],
)
def test_a_form_with_errors_comes_back_with_what_was_typed(app, client, smtp, typed, message):
    make_signal(app, email=EMAIL, phone="06-12345678")
    before = len(smtp.messages)
    response = ask(client, typed)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r"<title>\s*Fout: ", page)
    summary = error_summary(page)
    assert [target for target, _entry in summary] == ["email"]
    assert message in summary[0][1]
    assert 'aria-invalid="true"' in page and 'id="email-error"' in page
    if typed.strip():
        assert f'value="{html.escape(typed.strip())}"' in page
    assert len(smtp.messages) == before


@only_sqlite
def test_the_page_says_what_it_does_and_is_linked_from_privacy_and_status_lookup(client):
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Overzicht van uw gegevens opvragen" in page and 'id="foutmeldingen"' not in page
    assert 'autocomplete="email"' in page and 'type="email"' in page
    assert "no-store" in response.headers["Cache-Control"]
    assert "fg@hilversum.example" in text(page)  # the way without an email address
    for source in ("/privacy", "/status/opvragen"):
        assert f'href="{PAGE}"' in client.get(source).get_data(as_text=True), source


@only_sqlite
def test_without_a_csrf_token_nothing_is_sent(app, client, smtp):
    make_signal(app, email=EMAIL)
    before = len(smtp.messages)
    response = client.post(PAGE, data={"email": EMAIL})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Uw formulier is verlopen" in text(page)
    assert f'value="{EMAIL}"' in page  # the address stays filled in
    assert re.search(r'name="csrf_token"[^>]*value="[^"]+"', page)  # a fresh token to retry
    assert len(smtp.messages) == before
    with db_session(app) as session:
        assert (
            session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.purpose == overview.PURPOSE)
            ).all()
            == []
        )


@only_sqlite
def test_the_rate_limit_is_its_own(app_config, smtp):
    limited = create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "PRIVACY_OVERVIEW_RATE_LIMIT": "2 per hour"}
    )
    make_signal(limited, email=EMAIL)
    client = limited.test_client()
    assert ask(client, "een@voorbeeld.nl").status_code == 303
    assert ask(client, "twee@voorbeeld.nl").status_code == 303
    refused = ask(client, EMAIL)
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "U heeft in korte tijd vaak een overzicht gevraagd" in text(page)
    assert f'value="{EMAIL}"' in page
    assert overviews(smtp) == []
    # Asking for a status link counts apart (STATUS_LOOKUP_RATE_LIMIT).
    assert ask_for_link(client, "HLV-2026-000001", EMAIL).status_code == 303
