"""An organisation reports through the public form on a phone (375 px), with and without
JavaScript: mistakes are summarised and nothing typed is lost; then the accountmanager finds
it in the inbox with "Ingediend door: Organisatie of bedrijf" and sees on the signal page how
it came in. axe-core checks every state, the Nu checker every page (at the session's end)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.models import Signal
from tests.factories import ANNA, db_session
from tests.fixtures.browser import assert_accessible
from tests.test_browser_backoffice import log_in
from tests.test_browser_resident import DESCRIPTION, EMAIL, confirmation, submit
from tests.test_organisations import BAKKERIJ, organisation_signal

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

PHONE = {"width": 375, "height": 800}


def fill_problem(page: Page) -> None:
    """The parts every report has, filled in the way a person does: by what the labels say."""
    page.get_by_label("Een probleem in mijn buurt").check()
    page.get_by_label("Schoon", exact=True).check()
    page.get_by_label("Beschrijving", exact=True).fill(DESCRIPTION)
    page.get_by_label("Wijk", exact=True).select_option(label="Zuidwest")
    page.get_by_label("Buurt", exact=True).select_option(label="Kerkelanden")
    page.get_by_label("E-mailadres", exact=True).fill(EMAIL)


def stored(app: Flask, reference: str) -> tuple[str, str | None, str | None, str | None]:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        reporter = signal.reporter
        assert reporter is not None
        return (
            signal.submitter_kind,
            reporter.organisation_name,
            reporter.kvk_number,
            reporter.name,
        )


def fits(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width


def test_an_organisation_reports_on_a_phone(app: Flask, live_server: str, page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/melden")
    organisation = page.get_by_label("Naam van de organisatie of het bedrijf")
    kvk = page.get_by_label("KvK-nummer (niet verplicht)")
    # As a resident (chosen already) the organisation's fields stay out of the way.
    expect(page.get_by_label("Ik meld als inwoner")).to_be_checked()
    expect(organisation).to_be_hidden()
    expect(page.get_by_label("Naam", exact=True)).to_be_visible()
    assert_accessible(page)

    fill_problem(page)
    on_behalf = page.get_by_label("Ik meld namens een organisatie of bedrijf")
    on_behalf.check()
    expect(organisation).to_be_visible()
    expect(on_behalf).to_have_accessible_description(re.compile("Bijvoorbeeld een winkel"))
    # The name field now asks for the contact person.
    contact = page.get_by_label("Naam van de contactpersoon", exact=True)
    expect(contact).to_be_visible()
    contact.fill("Jan Jansen")
    kvk.fill("1234 567")
    fits(page)
    assert_accessible(page)
    submit(page)

    # Two mistakes: both in the summary, both at their fields, nothing lost.
    expect(page).to_have_title(re.compile(r"^Fout: "))
    summary = page.get_by_role("alert").filter(
        has=page.get_by_role("heading", name="Er ging iets mis")
    )
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(2)
    name_missing = "Vul de naam van de organisatie of het bedrijf in."
    kvk_wrong = re.compile(r"Een KvK-nummer heeft 8 cijfers")
    expect(organisation).to_be_visible()
    expect(organisation).to_have_accessible_description(re.compile(re.escape(name_missing)))
    expect(kvk).to_have_accessible_description(kvk_wrong)
    expect(kvk).to_have_value("1234 567")
    expect(page.get_by_label("Ik meld namens een organisatie of bedrijf")).to_be_checked()
    expect(page.get_by_label("Naam van de contactpersoon", exact=True)).to_have_value("Jan Jansen")
    expect(page.get_by_label("Beschrijving", exact=True)).to_have_value(DESCRIPTION)
    fits(page)
    assert_accessible(page)

    summary.get_by_role("link", name=name_missing).click()
    expect(organisation).to_be_focused()
    organisation.fill(BAKKERIJ)
    kvk.fill("1234 5678")
    submit(page)
    reference, _status_url = confirmation(page, live_server)
    assert_accessible(page)
    assert stored(app, reference) == ("organisation", BAKKERIJ, "12345678", "Jan Jansen")


def test_back_to_resident_sends_no_organisation(app: Flask, live_server: str, page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/melden")
    fill_problem(page)
    page.get_by_label("Ik meld namens een organisatie of bedrijf").check()
    page.get_by_label("Naam van de organisatie of het bedrijf").fill(BAKKERIJ)
    page.get_by_label("Ik meld als inwoner").check()
    # Hidden again, and its text kept for when they change their mind once more.
    expect(page.get_by_label("Naam van de organisatie of het bedrijf")).to_be_hidden()
    page.get_by_label("Naam", exact=True).fill("Jan Jansen")
    submit(page)
    reference, _status_url = confirmation(page, live_server)
    assert stored(app, reference) == ("resident", None, None, "Jan Jansen")


def without_organisation_script(page: Page) -> Page:
    """The page as it is without report-organisation.js (an old browser, a failed download),
    while axe, which needs scripts, can still check it."""
    page.route(
        "**/static/js/report-organisation.js",
        lambda route: route.fulfill(body="", content_type="text/javascript"),
    )
    return page


def test_an_organisation_reports_without_javascript(
    app: Flask, live_server: str, new_page: Callable[..., Page]
) -> None:
    page = new_page(java_script_enabled=False)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/melden")
    # The organisation's fields are simply there, saying when to fill them in.
    organisation = page.get_by_label("Naam van de organisatie of het bedrijf")
    expect(organisation).to_be_visible()
    expect(page.get_by_text("Alleen invullen als u namens een organisatie")).to_be_visible()

    fill_problem(page)
    organisation.fill(BAKKERIJ)  # but "als inwoner" is still chosen
    page.get_by_label("Naam", exact=True).fill("Jan Jansen")
    submit(page)
    summary = page.get_by_role("alert").filter(
        has=page.get_by_role("heading", name="Er ging iets mis")
    )
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(summary).to_contain_text("U heeft een organisatie of bedrijf ingevuld.")
    expect(organisation).to_have_value(BAKKERIJ)
    expect(page.get_by_label("Naam", exact=True)).to_have_value("Jan Jansen")

    page.get_by_label("Ik meld namens een organisatie of bedrijf").check()
    page.get_by_label("KvK-nummer (niet verplicht)").fill("12.34.56.78")
    submit(page)
    reference, _status_url = confirmation(page, live_server)
    assert stored(app, reference) == ("organisation", BAKKERIJ, "12345678", "Jan Jansen")


def test_the_form_without_its_script_is_accessible_on_a_phone(live_server: str, page: Page) -> None:
    without_organisation_script(page)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/melden")
    organisation = page.get_by_label("Naam van de organisatie of het bedrijf")
    expect(organisation).to_be_visible()
    expect(organisation).to_be_enabled()
    fits(page)
    assert_accessible(page)

    fill_problem(page)
    organisation.fill(BAKKERIJ)
    page.get_by_label("KvK-nummer (niet verplicht)").fill("1234")
    submit(page)
    summary = page.get_by_role("alert").filter(
        has=page.get_by_role("heading", name="Er ging iets mis")
    )
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("U heeft een organisatie of bedrijf ingevuld.")
    expect(page.get_by_label("KvK-nummer (niet verplicht)")).to_have_value("1234")
    fits(page)
    assert_accessible(page)


def test_the_accountmanager_filters_on_organisations(
    app: Flask, live_server: str, page: Page
) -> None:
    reference = organisation_signal(app)
    resident = organisation_signal(app, organisation=None, title="Kapotte stoeptegel")
    page.set_viewport_size(PHONE)
    log_in(page, live_server, ANNA)
    page.goto(f"{live_server}/backoffice/signalen")
    expect(page.get_by_role("link", name=resident)).to_be_visible()

    page.get_by_text("Meer filters").click()
    page.get_by_label("Ingediend door").select_option(label="Organisatie of bedrijf")
    page.get_by_label("Binnengekomen via").select_option(label="Formulier op de website")
    assert_accessible(page)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"submitter=organisation"))
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    expect(page.get_by_role("link", name=resident)).to_have_count(0)
    expect(page.locator(".portal-mark-organisation")).to_have_text(f"Organisatie: {BAKKERIJ}")
    expect(page.get_by_label("Ingediend door")).to_have_value("organisation")
    assert_accessible(page)

    page.get_by_label("Zoeken", exact=True).fill("1234 5678")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=reference).click()
    summary = page.get_by_role("region", name="Wat de melder stuurde")
    expect(summary).to_contain_text("Binnengekomen via")
    expect(summary.locator(".portal-submitter-channel")).to_have_text("Formulier op de website")
    expect(summary.locator(".portal-submitter-kind")).to_have_text("Organisatie of bedrijf")
    expect(summary.locator(".portal-submitter-organisation")).to_have_text(BAKKERIJ)
    expect(summary.locator(".portal-submitter-kvk")).to_have_text("12345678")
    fits(page)
    assert_accessible(page)
