"""The conversation in a real browser, as the issue's "done when" walks it: the Zuidwest
accountmanager asks a Kerkelanden resident a question, the resident answers on the status
page (after a mistake) and, to a second question, by replying to the mail (over real SMTP to
the inbound endpoint); the signal is resolved, the resident says they are not satisfied (in
English) and the accountmanager reopens it. Every page and error state visited is checked with
axe-core here and with the Nu HTML checker at the end of the session."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.inbound_server import InboundServer, start_server
from tests.factories import ANNA
from tests.fixtures.browser import assert_accessible
from tests.fixtures.databases import free_port
from tests.fixtures.mailserver import SMTPServer
from tests.test_browser_backoffice import log_in, my_signals
from tests.test_browser_resident import REFERENCE, fill_report, mail_to, submit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

RESIDENT = "k.de.wit@voorbeeld.nl"
QUESTION = "Om welk huisnummer gaat het?"


def change_status(anna: Page, code: str, message: str) -> None:
    status = anna.locator("#actie-status")
    status.get_by_label("Nieuwe status", exact=True).select_option(value=code)
    status.get_by_label("Bericht bij de nieuwe status").fill(message)
    status.get_by_role("button", name="Wijzig status").click()
    expect(anna.locator("main")).to_contain_text(message)
    assert_accessible(anna)


@pytest.fixture
def inbound(app: Flask) -> Iterator[InboundServer]:
    server = start_server(app, host="127.0.0.1", port=free_port(), protocol="smtp")
    yield server
    server.stop()


def test_question_answered_on_the_page_and_by_mail_then_not_satisfied_and_reopened(
    app: Flask,
    live_server: str,
    new_page: Callable[..., Page],
    smtp: SMTPServer,
    inbound: InboundServer,
) -> None:
    resident = new_page()
    resident.goto(f"{live_server}/melden")
    fill_report(
        resident,
        description="De glasbak bij ons huis puilt al dagen uit.",
        email=RESIDENT,
        photo=None,
    )
    submit(resident)
    reference = REFERENCE.search(resident.locator("main").inner_text()).group(0)  # type: ignore[union-attr]
    status_url = resident.locator(".portal-status-link").get_attribute("href")
    assert status_url

    anna = new_page()
    log_in(anna, live_server, ANNA)
    my_signals(anna)
    anna.get_by_role("link", name=reference).click()
    change_status(anna, "awaiting_resident", QUESTION)
    expect(anna.locator(".portal-status").first).to_have_text("Wacht op reactie bewoner")

    # The resident's mail holds the question; the page shows it at the top with a form.
    mails = mail_to(smtp, RESIDENT)
    for _attempt in range(50):
        if len(mails) >= 2:
            break
        smtp.wait_for(len(smtp.messages) + 1, timeout=0.1)
        mails = smtp.to(RESIDENT)
    assert QUESTION in mails[-1].get_body(("plain",)).get_content()
    resident.goto(status_url)
    question = resident.locator(".portal-question")
    expect(question).to_contain_text(QUESTION)
    expect(question).to_contain_text("Bericht van Anna de Vries, Bureau Wijkzaken")
    assert_accessible(resident)

    # A mistake first: sending nothing.
    resident.get_by_role("button", name="Verstuur antwoord").click()
    expect(resident.locator("#foutmeldingen")).to_contain_text("Schrijf uw bericht.")
    assert_accessible(resident)

    resident.get_by_label("Uw bericht").fill("Het gaat om nummer 12.\nDe glasbak staat ervoor.")
    resident.get_by_role("button", name="Verstuur antwoord").click()
    expect(resident.locator("#bericht-ontvangen")).to_contain_text("Bedankt voor uw antwoord")
    expect(resident.locator(".portal-status").first).to_have_text("In behandeling")
    timeline = resident.locator(".portal-timeline")
    expect(timeline).to_contain_text("Uw bericht, via deze pagina")
    expect(timeline).to_contain_text("De glasbak staat ervoor.")
    assert_accessible(resident)

    # Anna sees the answer on the timeline and asks once more; this time the resident simply
    # replies to the mail, which the inbound endpoint puts on the timeline.
    anna.reload()
    expect(anna.locator(".portal-timeline")).to_contain_text("Antwoord van de melder")
    expect(anna.locator(".portal-timeline")).to_contain_text("Het gaat om nummer 12.")
    change_status(anna, "awaiting_resident", "Staat de glasbak links of rechts van de deur?")
    for _attempt in range(50):
        if len(smtp.to(RESIDENT)) >= 3:
            break
        smtp.wait_for(len(smtp.messages) + 1, timeout=0.1)
    second_question = smtp.to(RESIDENT)[-1]
    answer = EmailMessage()
    answer["From"] = f"Karin de Wit <{RESIDENT}>"
    answer["To"] = str(second_question["Reply-To"])
    answer["Subject"] = "Re: " + str(second_question["Subject"])
    answer.set_content(
        "Rechts, naast de lantaarnpaal.\n\n"
        "Op 1 dec. 2026 om 11:00 schreef Wijkzaken Hilversum <wijkzaken@hilversum.example>:\n"
        "> Staat de glasbak links of rechts van de deur?\n"
    )
    with smtplib.SMTP("127.0.0.1", inbound.port, timeout=30) as client:
        client.send_message(answer, from_addr=RESIDENT)
    anna.reload()
    timeline = anna.locator(".portal-timeline")
    expect(timeline).to_contain_text("de melder, per e-mail")
    expect(timeline).to_contain_text("Rechts, naast de lantaarnpaal.")
    expect(timeline).not_to_contain_text("> Staat de glasbak")
    expect(anna.locator(".portal-status").first).to_have_text("In behandeling")
    assert_accessible(anna)
    anna.get_by_role("link", name="Bekijk de hele e-mail").click()
    expect(anna.locator("main")).to_contain_text("> Staat de glasbak links of rechts van de deur?")
    assert_accessible(anna)
    anna.go_back()
    change_status(anna, "resolved", "De glasbak is geleegd.")

    # The resident, now in English, is not satisfied.
    resident.goto(status_url)
    resident.get_by_role("navigation", name="Taal").get_by_role("link", name="English").click()
    expect(resident.locator("html")).to_have_attribute("lang", "en")
    survey = resident.locator("#tevreden").locator("xpath=..")
    expect(survey).to_be_visible()
    assert_accessible(resident)
    resident.get_by_role("button", name="Send answer").click()  # forgot to choose
    expect(resident.locator("#foutmeldingen")).to_be_visible()
    assert_accessible(resident)
    resident.get_by_label("No, I am not satisfied").check()
    resident.get_by_label("Would you like to explain? (optional)").fill(
        "There is rubbish next to the bottle bank again."
    )
    resident.get_by_role("button", name="Send answer").click()
    expect(resident.locator("#bericht-ontvangen")).to_be_visible()
    assert_accessible(resident)

    # Anna finds the reopen request in her inbox and reopens the signal.
    anna.goto(f"{live_server}/backoffice/signalen?scope=mine&reopen_requested=1")
    expect(anna.get_by_role("link", name=reference)).to_be_visible()
    expect(anna.locator(".portal-mark-reopen")).to_have_count(1)
    assert_accessible(anna)
    anna.get_by_role("link", name=reference).click()
    action = anna.locator("#actie-reopen")
    expect(action).to_contain_text("There is rubbish next to the bottle bank again.")
    action.get_by_role("button", name="Besluit versturen").click()  # nothing chosen yet
    expect(anna.locator("#foutmeldingen")).to_be_visible()
    assert_accessible(anna)
    action = anna.locator("#actie-reopen")
    action.get_by_label("Melding heropenen").check()
    action.get_by_label("Uitleg aan de melder").fill("We halen het afval opnieuw op.")
    action.get_by_role("button", name="Besluit versturen").click()
    expect(anna.locator(".portal-status").first).to_have_text("Heropend")
    assert_accessible(anna)

    resident.goto(status_url)
    expect(resident.locator(".portal-status").first).to_have_text("Reopened")
    expect(resident.locator(".portal-timeline")).to_contain_text("We halen het afval opnieuw op.")
    assert_accessible(resident)
