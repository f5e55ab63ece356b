"""Staff account security in a real browser: Anna sets up two-step login with the QR page,
logs in again with a code (a wrong one first), changes her password; an admin sends a
set-password link, the new colleague chooses a password through it. Every page, error
states included, is checked by axe-core and (at the end of the session) the Nu checker."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.seeding import DEMO_PASSWORD
from tests.factories import ADMIN, ANNA, SANNE, SINT_VITUSBUURT, make_signal
from tests.fixtures.browser import assert_accessible
from tests.fixtures.mailserver import SMTPServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

NEW_PASSWORD = "Zonnige-fiets-38-Kerkelanden"
LINK = re.compile(r"https?://\S+/backoffice/wachtwoord/[A-Za-z0-9_-]+")


def log_in(page: Page, base: str, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base}/backoffice/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()


def test_two_step_login_from_enrolment_to_the_code(
    app: Flask, smtp: SMTPServer, live_server: str, page: Page
) -> None:
    log_in(page, live_server, ANNA)
    page.get_by_role("link", name="Mijn account").click()
    assert_accessible(page)
    page.get_by_role("link", name="Tweestapsverificatie instellen").click()
    expect(page.locator("svg.portal-qr")).to_be_visible()
    assert_accessible(page)
    secret = page.locator(".portal-secret").inner_text().replace(" ", "")

    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Tweestapsverificatie aanzetten").click()
    expect(page.get_by_role("alert")).to_contain_text("Deze code klopt niet")
    assert_accessible(page)
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Tweestapsverificatie aanzetten").click()
    expect(page.get_by_role("heading", name="Uw herstelcodes")).to_be_visible()
    assert page.locator(".portal-recovery-codes li").count() == 10
    assert_accessible(page)

    page.get_by_role("link", name="Terug naar Mijn account").click()
    page.get_by_role("link", name="Herstelcodes of telefoon wijzigen").click()
    page.get_by_label("Uw wachtwoord").first.fill("niet-mijn-wachtwoord")
    page.get_by_role("button", name="Maak nieuwe herstelcodes").click()
    expect(page.get_by_role("alert")).to_contain_text("Uw wachtwoord klopt niet")
    assert_accessible(page)

    page.get_by_role("button", name="Uitloggen").click()
    log_in(page, live_server, ANNA)
    expect(page.get_by_role("heading", name="Vul de code uit uw app in")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Code").fill("123456")
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("alert")).to_contain_text("Deze code klopt niet")
    assert_accessible(page)
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()


def test_changing_my_password_and_a_set_password_link(
    app: Flask, smtp: SMTPServer, live_server: str, page: Page, new_page
) -> None:
    log_in(page, live_server, ANNA)
    page.goto(f"{live_server}/backoffice/account")
    page.get_by_label("Huidig wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_label("Nieuw wachtwoord").fill("wachtwoord123")
    page.get_by_label("Herhaal het nieuwe wachtwoord").fill("wachtwoord123")
    page.get_by_role("button", name="Wachtwoord wijzigen").click()
    expect(page.get_by_role("alert")).to_contain_text("veel gebruikt")
    assert_accessible(page)
    page.get_by_role("button", name="Log uit op alle andere apparaten").click()
    expect(page.get_by_role("status").first).to_contain_text("alle andere apparaten")
    assert_accessible(page)

    admin = new_page()
    log_in(admin, live_server, ADMIN)
    admin.get_by_role("link", name="Beheer").click()
    assert_accessible(admin)
    admin.get_by_role("link", name="Gebruikers").click()
    admin.get_by_role("link", name="Sanne Bakker", exact=True).click()
    assert_accessible(admin)
    before = len(smtp.messages)
    admin.get_by_role("button", name="Stuur een link voor een nieuw wachtwoord").click()
    expect(admin.get_by_role("status").first).to_contain_text("krijgt een e-mail met een link")
    assert_accessible(admin)

    mail = next(m for m in smtp.wait_for(before + 1)[before:] if SANNE in str(m["To"]))
    link = LINK.search(mail.get_body(("plain",)).get_content())
    assert link is not None
    sanne = new_page()
    sanne.goto(link.group(0))
    assert_accessible(sanne)
    sanne.get_by_label("Nieuw wachtwoord").fill("sannebakker2026")
    sanne.get_by_label("Herhaal het nieuwe wachtwoord").fill("sannebakker2026")
    sanne.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(sanne.get_by_role("alert")).to_contain_text("naam of uw e-mailadres")
    assert_accessible(sanne)
    sanne.get_by_label("Nieuw wachtwoord").fill(NEW_PASSWORD)
    sanne.get_by_label("Herhaal het nieuwe wachtwoord").fill(NEW_PASSWORD)
    sanne.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(sanne.get_by_role("status").first).to_contain_text("Uw wachtwoord is ingesteld")
    assert_accessible(sanne)
    sanne.goto(link.group(0))
    expect(sanne.get_by_role("heading", name="Deze link werkt niet (meer)")).to_be_visible()
    assert_accessible(sanne)
    log_in(sanne, live_server, SANNE, NEW_PASSWORD)
    expect(sanne.get_by_role("button", name="Uitloggen")).to_be_visible()


def test_a_take_over_is_visible_to_the_owner(
    app: Flask, smtp: SMTPServer, live_server: str, page: Page, new_page
) -> None:
    reference, _token = make_signal(app, buurt=SINT_VITUSBUURT, phone="06-12345678")
    log_in(page, live_server, ANNA)
    page.goto(f"{live_server}/backoffice/signalen/{reference}")
    page.locator("#reassign-owner").select_option(label="Anna de Vries (Zuidwest)")
    page.locator("#reassign-reason").fill("Sanne is met vakantie, ik neem hem over.")
    page.locator("#actie-reassign button[type=submit]").click()
    expect(page.get_by_text("Anna de Vries heeft de melding overgenomen")).to_be_visible()
    assert_accessible(page)

    admin = new_page()
    log_in(admin, live_server, ADMIN)
    admin.goto(f"{live_server}/backoffice/signalen/{reference}")
    expect(admin.get_by_text("Ingezien door anderen dan de eigenaar")).to_be_visible()
    assert_accessible(admin)


def test_the_status_link_is_shown_once_and_its_rules_are_told(
    app: Flask, smtp: SMTPServer, live_server: str, page: Page
) -> None:
    from tests.test_browser_resident import confirmation, fill_report, submit

    page.goto(f"{live_server}/melden")
    fill_report(page, description="Bij de glasbak ligt al dagen afval.", email="", photo=None)
    submit(page)
    _reference, status_link = confirmation(page, live_server)
    page.reload()
    expect(page.get_by_text("niet nog een keer")).to_be_visible()
    assert status_link not in page.content()
    assert_accessible(page)
    page.goto(status_link)
    expect(page.get_by_role("heading", name="Over deze link")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{live_server}/status/dit-is-geen-geldige-link-meer-0123456789")
    expect(page.get_by_text("90 dagen")).to_be_visible()
    assert_accessible(page)
