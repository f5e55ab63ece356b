"""Escalation and partner sharing in a real browser, as the issue's "done when" walks them:
Anna (accountmanager Zuidwest) escalates a Kerkelanden signal to a functionary, who answers
through the link in the mail (after sending an empty answer first) without an account; the
answer appears on Anna's timeline. Then Anna shares the signal with Versa Welzijn, contact
details included because the resident consented, and Versa answers through its own link.
The admin keeps both registers. Every page visited, and the mail those people receive, is
checked with axe-core here and with the Nu HTML checker at the end of the session."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.domain.working_days import local_date
from portal.seeding_outreach import seed_demo_outreach
from tests.factories import ADMIN, ANNA, db_session, make_signal
from tests.fixtures.browser import assert_accessible
from tests.fixtures.mailserver import SMTPServer
from tests.test_browser_backoffice import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

FUNCTIONARY = "karin.van.leeuwen@hilversum.example"
VERSA = "m.jansen@versawelzijn.example"
RESIDENT = ("Karin de Wit", "k.de.wit@voorbeeld.nl", "06 12345678")
QUESTION = "Het veld achter de school ligt vol afval en niemand pakt het op. Kunt u doorpakken?"
ANSWER = "Openbare Ruimte maakt het veld deze week schoon; ik spreek de aannemer aan."
PURPOSE = "Wilt u met de bewoners een buurtgesprek over het veld organiseren?"
PARTNER_ANSWER = "Wij bellen de melder en plannen een gesprek in het buurthuis."
LINK = re.compile(r"https?://[^\s\"'<>]+/antwoord/(?:escalatie|partner)/[A-Za-z0-9_-]+")


def wait_for_mail(smtp: SMTPServer, address: str, count: int = 1) -> list[EmailMessage]:
    for _attempt in range(100):
        if len(smtp.to(address)) >= count:
            break
        smtp.wait_for(len(smtp.messages) + 1, timeout=0.1)
    mails = smtp.to(address)
    assert len(mails) >= count, f"no mail to {address}"
    return mails


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return part.get_content()


def check_mail(page: Page, message: EmailMessage, name: str, html_snapshots) -> None:  # type: ignore[no-untyped-def]
    """The HTML part as the recipient's mail program shows it: accessible and valid. ``page``
    is a blank one of its own (a portal page's Content-Security-Policy would block the mail's
    inline styles, as the portal's own pages must)."""
    html = body(message, "html")
    html_snapshots.save(html.encode(), f"mail:{name}")
    page.set_content(html)
    assert_accessible(page)


def test_anna_escalates_the_functionary_answers_then_she_shares_with_versa(
    app: Flask,
    live_server: str,
    new_page: Callable[..., Page],
    smtp: SMTPServer,
    html_snapshots,  # type: ignore[no-untyped-def]
) -> None:
    with db_session(app) as session:
        assert seed_demo_outreach(session) == 8
        session.commit()
        assert seed_demo_outreach(session) == 0  # runs again without doubling
    name, email, phone = RESIDENT
    reference, _token = make_signal(
        app,
        title="Afval op het veld achter de school",
        description="Het veld achter de school ligt al maanden vol afval.",
        name=name,
        email=email,
        phone=phone,
        may_share=True,
    )

    anna = new_page()
    log_in(anna, live_server, ANNA)
    anna.goto(f"{live_server}/backoffice/signalen/{reference}")
    assert_accessible(anna)

    # Anna escalates, after forgetting the question.
    section = anna.locator("#actie-escalate")
    section.get_by_label("Aan wie vraagt u het?").select_option(
        label="Karin van Leeuwen, Afdelingshoofd Openbare Ruimte (Openbare Ruimte)"
    )
    section.get_by_role("button", name="Verstuur escalatie").click()
    expect(anna.locator("#foutmeldingen")).to_contain_text("Schrijf uw vraag of advies.")
    assert_accessible(anna)
    section = anna.locator("#actie-escalate")
    section.get_by_label("Uw vraag of advies").fill(QUESTION)
    section.get_by_label("Dringend", exact=True).check()
    reply_by = local_date(datetime.now(UTC)) + timedelta(days=7)
    section.get_by_label("Antwoord graag uiterlijk op").fill(reply_by.isoformat())
    section.get_by_role("button", name="Verstuur escalatie").click()
    expect(anna.locator("main")).to_contain_text("Uw vraag is naar Karin van Leeuwen gestuurd.")
    expect(anna.locator("#actie-escalate")).to_contain_text("Wacht op antwoord")
    assert_accessible(anna)

    # The functionary's mail: a summary without the resident, and a link.
    [request] = wait_for_mail(smtp, FUNCTIONARY)
    text = body(request, "plain")
    assert QUESTION in text and reference in text
    for value in RESIDENT:
        assert value not in text and value not in body(request, "html")
    link = LINK.search(text)
    assert link

    functionary = new_page()  # another browser: no account, no session
    functionary.goto(link.group(0))
    expect(functionary.locator("h1")).to_have_text(f"Vraag over melding {reference}")
    expect(functionary.locator("main")).to_contain_text(QUESTION)
    expect(functionary.locator("main")).to_contain_text("Dringend")
    expect(functionary.locator("main")).not_to_contain_text(name)
    assert_accessible(functionary)
    functionary.get_by_role("button", name="Verstuur antwoord").click()  # nothing written
    expect(functionary.locator("#foutmeldingen")).to_contain_text("Schrijf uw antwoord.")
    expect(functionary).to_have_title(re.compile("^Fout: "))
    assert_accessible(functionary)
    functionary.get_by_label("Uw antwoord").fill(ANSWER)
    functionary.get_by_role("button", name="Verstuur antwoord").click()
    expect(functionary.locator("h1")).to_have_text("Bedankt voor uw antwoord")
    assert_accessible(functionary)
    functionary.goto(link.group(0))  # once
    expect(functionary.locator("h1")).to_have_text("Deze vraag is al beantwoord")
    assert_accessible(functionary)
    mail_viewer = new_page()
    check_mail(mail_viewer, request, "escalation_request", html_snapshots)

    # The answer is on Anna's timeline, and she was mailed.
    answered = [m for m in wait_for_mail(smtp, ANNA) if "Antwoord van" in str(m["Subject"])]
    for _attempt in range(50):
        if answered:
            break
        smtp.wait_for(len(smtp.messages) + 1, timeout=0.1)
        answered = [m for m in smtp.to(ANNA) if "Antwoord van" in str(m["Subject"])]
    assert answered and ANSWER in body(answered[0], "plain")
    anna.reload()
    timeline = anna.locator("section[aria-labelledby='tijdlijn-titel']")
    expect(timeline).to_contain_text(ANSWER)
    expect(timeline).to_contain_text(QUESTION)
    expect(anna.locator("#actie-escalate")).to_contain_text("Beantwoord")
    assert_accessible(anna)

    # Anna shares it with Versa Welzijn; the resident consented, so the contact details may go.
    share = anna.locator("#actie-share")
    expect(share).to_contain_text(
        "De melder heeft toestemming gegeven om naam, e-mailadres en telefoonnummer met "
        "partners te delen."
    )
    share.get_by_label("Waarom deelt u de melding?").fill(PURPOSE)
    share.get_by_role("button", name="Deel met partner").click()  # no partner chosen yet
    expect(anna.locator("#foutmeldingen")).to_contain_text("Kies minstens één partner.")
    assert_accessible(anna)
    share = anna.locator("#actie-share")
    expect(share.get_by_label("Waarom deelt u de melding?")).to_have_value(PURPOSE)
    share.get_by_label("Versa Welzijn (Marieke Jansen)").check()
    share.get_by_label("Naam, e-mailadres en telefoonnummer van de melder").check()
    share.get_by_role("button", name="Deel met partner").click()
    expect(anna.locator("main")).to_contain_text("De melding is gedeeld met Versa Welzijn.")
    expect(anna.locator("#actie-share")).to_contain_text(PURPOSE)
    expect(timeline).to_contain_text(PURPOSE)
    assert_accessible(anna)

    [shared] = wait_for_mail(smtp, VERSA)
    for value in RESIDENT:
        assert value in body(shared, "plain")
    partner_link = LINK.search(body(shared, "plain"))
    assert partner_link
    versa = new_page()
    versa.goto(partner_link.group(0))
    expect(versa.locator("h1")).to_have_text(f"Gedeelde melding {reference}")
    expect(versa.locator("main")).to_contain_text(phone)
    assert_accessible(versa)
    versa.get_by_label("Uw antwoord").fill(PARTNER_ANSWER)
    versa.get_by_role("button", name="Verstuur antwoord").click()
    expect(versa.locator("h1")).to_have_text("Bedankt voor uw antwoord")
    check_mail(mail_viewer, shared, "partner_share", html_snapshots)
    check_mail(mail_viewer, answered[0], "escalation_answered", html_snapshots)

    anna.reload()
    expect(anna.locator("section[aria-labelledby='tijdlijn-titel']")).to_contain_text(
        PARTNER_ANSWER
    )
    assert_accessible(anna)


def test_the_admin_keeps_the_registers(
    app: Flask, live_server: str, page: Page, smtp: SMTPServer
) -> None:
    log_in(page, live_server, ADMIN)
    page.goto(f"{live_server}/backoffice/beheer/functionarissen")
    assert_accessible(page)
    page.get_by_role("link", name="Nieuwe functionaris").click()
    assert_accessible(page)
    page.get_by_label("Naam").fill("Bas Verhoeven")
    page.get_by_role("button", name="Functionaris opslaan").click()
    expect(page.locator("#foutmeldingen")).to_contain_text("Vul de functie in.")
    assert_accessible(page)
    page.get_by_label("Functie").fill("Teamleider Toezicht en Handhaving")
    page.get_by_label("Afdeling").fill("Veiligheid, Toezicht en Handhaving")
    page.get_by_label("E-mailadres").fill("bas.verhoeven@hilversum.example")
    page.get_by_role("button", name="Functionaris opslaan").click()
    expect(page.locator("main")).to_contain_text("Bas Verhoeven staat in de lijst")
    page.get_by_role("link", name="Bas Verhoeven").click()
    expect(page.get_by_label("Naam")).to_have_value("Bas Verhoeven")
    assert_accessible(page)

    page.goto(f"{live_server}/backoffice/beheer/partners")
    assert_accessible(page)
    page.get_by_role("link", name="Nieuwe partner").click()
    page.get_by_label("Organisatie").fill("Dudok Wonen")
    page.get_by_role("button", name="Partner opslaan").click()
    expect(page.locator("#foutmeldingen")).to_contain_text("Vul de naam van de contactpersoon in.")
    assert_accessible(page)
    page.get_by_label("Contactpersoon").fill("Ellen de Wit")
    page.get_by_label("E-mailadres").fill("e.dewit@dudokwonen.example")
    page.get_by_label("Zuidwest").check()
    page.get_by_role("button", name="Partner opslaan").click()
    expect(page.locator("main")).to_contain_text("Dudok Wonen staat in de lijst")
    expect(page.locator("table")).to_contain_text("Zuidwest")
    assert_accessible(page)
    page.goto(f"{live_server}/antwoord/partner/bestaat-niet")
    expect(page.locator("h1")).to_have_text("Deze link werkt niet (meer)")
    assert_accessible(page)
