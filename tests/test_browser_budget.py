"""The issue's 'done when' for the wijk budget, in a real browser: the Hilversumse Meent
accountmanager opens the demo's kinderboerderij initiative, first asks for more than the
EUR 5,000 budget holds (refused, nothing typed lost), then grants EUR 750 - the signal page and
the budget page show EUR 4,250 remaining - and moves it from Adviseren to Zelf organiseren;
the initiators see their rung, what it means and the support on their status page. Also the
admin's budget form and a second person's approval. axe-core checks every page state."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.domain.tokens import issue_status_token
from portal.extensions import db
from portal.models import Signal
from portal.seeding_initiatives import KINDERBOERDERIJ, seed_demo_initiatives
from portal.vocabulary import RUNG_MEANINGS, Rung
from tests.factories import ADMIN, ANNA, intake_settings
from tests.fixtures.browser import assert_accessible
from tests.test_browser_backoffice import log_in
from tests.test_budget import KEES, MEENT, YEAR

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def demo(app: Flask) -> tuple[str, str]:
    """The demo's initiatives and budgets; the kinderboerderij's reference and a status link
    for its initiators."""
    with app.app_context():
        seed_demo_initiatives(db.session, intake_settings(app))
        farm = db.session.scalars(select(Signal).where(Signal.title == KINDERBOERDERIJ)).one()
        token = issue_status_token(db.session, farm)
        db.session.commit()
        return farm.reference, token


def test_kees_grants_750_and_the_initiators_organise_it_themselves(
    app: Flask, live_server: str, page: Page, new_page: Callable[..., Page]
) -> None:
    reference, token = demo(app)
    log_in(page, live_server, KEES)
    page.get_by_role("link", name="Mijn signalen").click()
    page.get_by_role("link", name=reference).click()
    expect(page.locator("h1")).to_contain_text(KINDERBOERDERIJ)
    part = page.locator("section[aria-labelledby='steun-titel']")
    expect(part).to_contain_text(f"Nog beschikbaar in het wijkbudget {YEAR}: € 5.000,00")
    expect(page.locator("#ladder-titel + p")).to_contain_text("Adviseren")
    assert_accessible(page)

    # More than the budget holds: refused, with what was typed still there.
    grant = page.locator("#actie-grant")
    grant.get_by_label("Bedrag", exact=True).fill("6.000")
    grant.get_by_label("Waarvoor is het geld?").fill("Hekwerk en voer voor de dieren")
    grant.get_by_role("button", name="Ken steun toe").click()
    summary = page.locator("#foutmeldingen")
    expect(summary).to_contain_text(f"Er is nog € 5.000,00 beschikbaar in het wijkbudget {YEAR}")
    expect(page.locator("#grant-amount")).to_have_value("6.000")
    expect(page.locator("#grant-purpose")).to_have_value("Hekwerk en voer voor de dieren")
    assert_accessible(page)

    page.locator("#grant-amount").fill("750")
    page.locator("#actie-grant").get_by_label(
        "Laat het bedrag zien aan de initiatiefnemers"
    ).check()
    page.locator("#actie-grant").get_by_role("button", name="Ken steun toe").click()
    expect(page.locator(".utrecht-alert--ok")).to_contain_text("€ 750,00 toegekend")
    part = page.locator("section[aria-labelledby='steun-titel']")
    expect(part).to_contain_text(f"Nog beschikbaar in het wijkbudget {YEAR}: € 4.250,00")
    expect(part).to_contain_text("Hekwerk en voer voor de dieren")
    assert_accessible(page)

    # The budget page of the wijk says the same.
    part.get_by_role("link", name=f"Bekijk het wijkbudget {YEAR}").click()
    expect(page.locator("h1")).to_have_text(f"Wijkbudget Hilversumse Meent {YEAR}")
    expect(page.locator(".portal-budget-remaining")).to_have_text("€ 4.250,00")
    expect(page.locator("main")).to_contain_text(KINDERBOERDERIJ)
    assert_accessible(page)
    page.get_by_role("link", name=f"Terug naar alle wijkbudgetten {YEAR}").click()
    meent = page.get_by_role("row", name="Hilversumse Meent")
    expect(meent).to_contain_text("€ 4.250,00")
    assert_accessible(page)

    # From Adviseren to Zelf organiseren, with the ladder's own form.
    page.goto(f"{live_server}/backoffice/signalen/{reference}")
    ladder = page.locator("#actie-ladder")
    ladder.get_by_label("Naar trede").select_option(label="Zelf organiseren")
    ladder.get_by_label("Waarom op deze trede?").fill(
        "De vereniging draait de kinderboerderij nu zelf; wij helpen met contacten."
    )
    ladder.get_by_role("button", name="Bewaar trede").click()
    expect(page.locator(".utrecht-alert--ok")).to_contain_text("Zelf organiseren")
    assert_accessible(page)

    # The initiators' own page: their rung, what it means, and the support.
    initiators = new_page()  # the initiators' own browser
    initiators.goto(f"{live_server}/status/{token}")
    summary = initiators.locator(".portal-summary")
    expect(summary).to_contain_text("Zelf organiseren")
    expect(summary).to_contain_text(RUNG_MEANINGS[Rung.ZELF_ORGANISEREN])
    expect(summary).to_contain_text("Steun van de gemeente")
    expect(summary).to_contain_text("heeft de gemeente uw initiatief gesteund met € 750,00")
    expect(initiators.locator("main")).not_to_contain_text("Hekwerk")  # the purpose is ours
    assert_accessible(initiators)


def test_an_admin_sets_a_budget_and_a_second_person_approves(
    app: Flask, live_server: str, new_page: Callable[..., Page]
) -> None:
    reference, _token = demo(app)
    admin = new_page()
    log_in(admin, live_server, ADMIN)
    admin.get_by_role("link", name="Wijkbudgetten").click()
    expect(admin.locator("h1")).to_contain_text(f"Wijkbudgetten voor initiatieven {YEAR}")
    assert_accessible(admin)
    admin.get_by_role("link", name="Centrum").click()
    expect(admin.locator("main")).to_contain_text("nog geen budget vastgesteld")
    assert_accessible(admin)
    form = admin.locator("#actie-budget")
    form.get_by_label("Budget voor het hele jaar").fill("3.500")
    form.get_by_role("button", name="Bewaar budget").click()
    expect(admin.locator("#foutmeldingen")).to_contain_text("Schrijf waarom")
    expect(admin.locator("#budget-amount")).to_have_value("3.500")
    assert_accessible(admin)
    admin.locator("#budget-reason").fill("Begroting, vastgesteld door de raad.")
    admin.locator("#actie-budget").get_by_role("button", name="Bewaar budget").click()
    expect(admin.locator(".portal-budget-remaining")).to_have_text("€ 3.500,00")
    expect(admin.locator("main")).to_contain_text("Begroting, vastgesteld door de raad.")
    assert_accessible(admin)

    # Kees asks EUR 1,500 (above the threshold); Anna approves it on the budget page.
    kees = new_page()
    log_in(kees, live_server, KEES)
    kees.goto(f"{live_server}/backoffice/signalen/{reference}")
    grant = kees.locator("#actie-grant")
    grant.get_by_label("Bedrag", exact=True).fill("1.500")
    grant.get_by_label("Waarvoor is het geld?").fill("Een stal voor de geiten")
    grant.get_by_role("button", name="Ken steun toe").click()
    expect(kees.locator(".utrecht-alert--ok")).to_contain_text("€ 1.500,00 aangevraagd")
    kees.get_by_role("link", name="Toekenning van € 1.500,00 bekijken").click()
    expect(kees.locator("main")).to_contain_text("Wacht op goedkeuring door een tweede persoon")
    expect(kees.get_by_role("button", name="Keur goed")).to_have_count(0)
    assert_accessible(kees)

    anna = new_page()
    log_in(anna, live_server, ANNA)
    anna.goto(f"{live_server}/backoffice/budget/{MEENT}/{YEAR}")
    expect(anna.locator(".portal-budget-remaining")).to_have_text("€ 3.500,00")
    assert_accessible(anna)
    anna.get_by_role("link", name="Afwijzen of bekijken").click()
    anna.locator("#actie-review").get_by_role("button", name="Wijs af").click()
    expect(anna.locator("#foutmeldingen")).to_contain_text("Schrijf de reden op.")
    assert_accessible(anna)
    anna.goto(f"{live_server}/backoffice/budget/{MEENT}/{YEAR}")
    anna.get_by_role("button", name="Keur goed").click()
    expect(anna.locator(".utrecht-alert--ok")).to_contain_text("is goedgekeurd")
    expect(anna.locator("main")).to_contain_text("Goedgekeurd door Anna de Vries")
    expect(anna.locator(".portal-budget-remaining")).to_have_text("€ 3.500,00")
    assert_accessible(anna)
