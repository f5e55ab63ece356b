"""The issue's 'done when', in a real browser: a resident reports something in Kerkelanden;
it is in the Zuidwest accountmanager's inbox and not in Centrum's; she answers with a
standard text, moves it to 'In behandeling' and then 'Afgehandeld'; the resident gets the
mails and sees both steps. axe-core checks every back-office page on the way."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.domain.standard_texts import save_text
from portal.extensions import db
from portal.models import User
from portal.seeding import DEMO_PASSWORD
from tests.factories import ANNA, SANNE
from tests.fixtures.browser import assert_accessible
from tests.fixtures.mailserver import SMTPServer
from tests.test_browser_resident import REFERENCE, fill_report, mail_to, submit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

RESIDENT = "r.de.boer@voorbeeld.nl"


def add_standard_text(app: Flask) -> None:
    with app.app_context():
        admin = db.session.query(User).filter_by(role="admin").first()
        assert admin is not None
        save_text(
            db.session,
            None,
            title="Bedankt, we kijken ernaar",
            body="Bedankt voor melding {meldnummer}. Ik ben {accountmanager}, "
            "accountmanager voor wijk {wijk}, en ik ga ermee aan de slag.",
            status=None,
            kind=None,
            active=True,
            actor_id=admin.id,
        )
        db.session.commit()


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/backoffice/login")
    assert_accessible(page)
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()


def my_signals(page: Page) -> None:
    page.get_by_role("link", name="Mijn signalen").click()
    expect(page.locator("h1")).to_contain_text("Mijn signalen")
    assert_accessible(page)


def test_accountmanager_handles_a_new_signal_end_to_end(
    app: Flask, live_server: str, new_page: Callable[..., Page], smtp: SMTPServer
) -> None:
    add_standard_text(app)

    resident = new_page()
    resident.goto(f"{live_server}/melden")
    fill_report(
        resident,
        description="Glasbak aan de Kerkelandenlaan puilt uit.",
        email=RESIDENT,
        photo=None,
    )
    submit(resident)
    reference = REFERENCE.search(resident.locator("main").inner_text()).group(0)  # type: ignore[union-attr]
    status_url = resident.locator(".portal-status-link").get_attribute("href")
    assert status_url

    # Centrum's accountmanager does not see it among her own signals.
    sanne = new_page()
    log_in(sanne, live_server, SANNE)
    my_signals(sanne)
    expect(sanne.get_by_role("link", name=reference)).to_have_count(0)

    anna = new_page()
    log_in(anna, live_server, ANNA)
    my_signals(anna)
    anna.get_by_role("link", name=reference).click()
    expect(anna.locator("h1")).to_contain_text(reference)
    assert_accessible(anna)

    # A public reply from a standard text: preview first, nothing sent yet.
    reply = anna.locator("#actie-reply")
    reply.get_by_label("Begin met een standaardtekst (niet verplicht)").select_option(
        label="Bedankt, we kijken ernaar"
    )
    reply.get_by_role("button", name="Bekijk voorbeeld").click()
    preview = anna.locator("#voorbeeld")
    expect(preview).to_contain_text(f"Bedankt voor melding {reference}")
    expect(preview).to_contain_text("Anna de Vries")
    expect(preview).to_contain_text("wijk Zuidwest")
    assert_accessible(anna)
    assert len(mail_to(smtp, RESIDENT, timeout=0.5)) == 1  # only the confirmation so far
    anna.locator("#actie-reply").get_by_role("button", name="Verstuur bericht").click()
    expect(anna.locator("main")).to_contain_text("Bedankt voor melding")
    assert_accessible(anna)

    for code, message in [
        ("in_progress", "We gaan de glasbak laten legen."),
        ("resolved", "De glasbak is geleegd en de plek is schoongemaakt."),
    ]:
        status = anna.locator("#actie-status")
        status.get_by_label("Nieuwe status", exact=True).select_option(value=code)
        status.get_by_label("Bericht bij de nieuwe status").fill(message)
        status.get_by_role("button", name="Wijzig status").click()
        expect(anna.locator("main")).to_contain_text(message)
        assert_accessible(anna)
    expect(anna.locator(".portal-status").first).to_have_text("Afgehandeld")

    # The resident: a mail for each public step, and both steps on the status page.
    subjects = [m["Subject"] for m in mail_to(smtp, RESIDENT)]
    for _attempt in range(50):
        if len(subjects) >= 4:
            break
        smtp.wait_for(len(smtp.messages) + 1, timeout=0.1)
        subjects = [m["Subject"] for m in smtp.to(RESIDENT)]
    assert subjects == [
        f"Uw melding {reference} is ontvangen",
        f"Nieuw bericht over uw melding {reference}",
        f"Uw melding {reference}: In behandeling",
        f"Uw melding {reference}: Afgehandeld",
    ]
    resident.goto(status_url)
    timeline = resident.locator(".portal-timeline")
    expect(timeline).to_contain_text("Nieuwe status: In behandeling")
    expect(timeline).to_contain_text("We gaan de glasbak laten legen.")
    expect(timeline).to_contain_text("Nieuwe status: Afgehandeld")
    expect(timeline).to_contain_text("De glasbak is geleegd")
    expect(resident.locator(".portal-status").first).to_have_text("Afgehandeld")
    assert re.search(r"Bedankt voor melding HLV-", timeline.inner_text())
    assert_accessible(resident)
