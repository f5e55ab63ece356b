"""Schouw mode on a phone (375 x 812, touch), in a real browser: Centrum's accountmanager
walks through the Sint Vitusbuurt with residents, enters three signals in a row by tapping
and typing (one with a photo, one placed by the phone's location, one by keyboard alone),
and finishes them into one new dossier. Every state is checked by axe-core (the error state
too), fits the screen without sideways scrolling, and has large tap targets. Without
JavaScript the schouw works as well, with the buurt list."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.models import Dossier, Signal
from portal.seeding import DEMO_PASSWORD
from tests.factories import SANNE, SINT_VITUSBUURT, db_session, user_id
from tests.fixtures.browser import assert_accessible
from tests.test_browser_resident import make_photo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

PHONE = {"width": 375, "height": 812}
SINT_VITUS = {"latitude": 52.222504, "longitude": 5.181514}  # in the Sint Vitusbuurt
REFERENCE = re.compile(r"HLV-\d{4}-\d{6}")
DOSSIER_TITLE = "Integrale handhaving Sint Vitusbuurt"
MIN_TAP = 44  # px: WCAG 2.5.5 (AAA) target size; our buttons aim for 48


def phone(new_page: Callable[..., Page], **options: object) -> Page:
    return new_page(viewport=PHONE, has_touch=True, is_mobile=True, **options)


def check(page: Page) -> None:
    """axe-core, no sideways scrolling, and every button in the page big enough to tap."""
    assert_accessible(page)
    fits(page)


def fits(page: Page) -> None:
    """No sideways scrolling at phone width, and every control big enough to tap."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"
    small = page.eval_on_selector_all(
        "main button:not([hidden]), main .utrecht-select, main .utrecht-textbox",
        f"""els => els.filter(e => e.offsetParent !== null)
              .map(e => [e.textContent.trim() || e.id, e.getBoundingClientRect().height])
              .filter(([name, height]) => height < {MIN_TAP})""",
    )
    assert not small, f"too small to tap on {page.url}: {small}"


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/backoffice/login")
    page.get_by_label("E-mailadres").fill(SANNE)
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").tap()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()


def saved(page: Page, count: int) -> str:
    """After 'Opslaan en volgende': the message with the new reference and the count."""
    meldingen = "melding" if count == 1 else "meldingen"
    message = page.get_by_role("status").filter(has_text="Opgeslagen als")
    expect(message).to_contain_text(f"Deze schouw heeft nu {count} {meldingen}.")
    found = REFERENCE.search(message.inner_text())
    assert found, message.inner_text()
    expect(page.locator("#schouw-stand")).to_contain_text(f"{count} {meldingen} opgeslagen")
    expect(page.locator(".portal-schouw-entries__item")).to_have_count(count)
    # The form is empty again, in the schouw's buurt.
    expect(page.get_by_label("Wat is er aan de hand?")).to_have_value("")
    expect(page.get_by_label("Buurt", exact=True)).to_have_value(SINT_VITUSBUURT)
    return found.group(0)


def test_a_schouw_at_phone_width_into_a_new_dossier(
    app: Flask, live_server: str, new_page: Callable[..., Page], tmp_path: Path
) -> None:
    page = phone(new_page, geolocation=SINT_VITUS, permissions=["geolocation"])
    log_in(page, live_server)
    page.get_by_role("link", name="Melding registreren").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Melding registreren")
    check(page)
    page.get_by_role("link", name=re.compile("Gebruik de schouwmodus")).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schouw starten")
    check(page)

    # Starting without a buurt: the reason, at the top and at the field.
    page.get_by_role("button", name="Start de schouw").tap()
    expect(page.locator("#foutmeldingen")).to_contain_text("Kies de buurt van de schouw.")
    expect(page.locator("#foutmeldingen")).to_be_focused()
    check(page)
    page.get_by_label("In welke buurt is de schouw?").select_option(label="Sint Vitusbuurt")
    page.get_by_label("Zet alle meldingen van deze schouw in één nieuw dossier").tap()
    page.get_by_label("Titel van het dossier").fill(DOSSIER_TITLE)
    page.get_by_role("button", name="Start de schouw").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schouw in Sint Vitusbuurt")
    expect(page.locator("#schouw-stand")).to_contain_text("0 meldingen opgeslagen")
    expect(page.get_by_label("Buurt", exact=True)).to_have_value(SINT_VITUSBUURT)
    expect(page.get_by_label("Knelpunt")).to_be_checked()
    check(page)

    # 1. Tapped, with a photo; first sent without a description.
    page.get_by_label("Veilig", exact=True).tap()
    page.get_by_label("Maak of kies een foto").set_input_files(make_photo(tmp_path))
    page.get_by_role("button", name="Opslaan en volgende").tap()
    summary = page.locator("#foutmeldingen")
    expect(summary).to_contain_text("Beschrijf wat er aan de hand is.")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Veilig", exact=True)).to_be_checked()
    expect(page.get_by_label("stoep.jpg")).to_be_checked()  # the photo is kept
    check(page)
    summary.get_by_role("link", name="Beschrijf wat er aan de hand is.").tap()
    expect(page.get_by_label("Wat is er aan de hand?")).to_be_focused()
    page.keyboard.type("Fietsen staan op de stoep voor de kerk, er kan geen rolstoel langs.")
    page.get_by_role("button", name="Opslaan en volgende").tap()
    first = saved(page, 1)
    check(page)

    # 2. Placed by the phone's location, with a resident's address for updates.
    page.get_by_role("button", name="Gebruik mijn locatie").tap()
    expect(page.locator("#schouw-locatie-status")).to_have_text(
        "Uw locatie wordt gebruikt: Buurt Sint Vitusbuurt, wijk Centrum."
    )
    expect(page.get_by_role("button", name="Locatie niet gebruiken")).to_be_visible()
    check(page)
    page.get_by_label("Schoon", exact=True).tap()
    page.get_by_label("Wat is er aan de hand?").fill("Afvalzakken naast de container.")
    page.get_by_label("E-mailadres van de bewoner (niet verplicht)").fill("buur@voorbeeld.nl")
    page.get_by_role("button", name="Opslaan en volgende").tap()
    second = saved(page, 2)
    expect(page.get_by_role("button", name="Locatie niet gebruiken")).to_be_hidden()

    # 3. With the keyboard alone: an initiative.
    page.get_by_label("Initiatief").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # to the first theme
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(page.get_by_label("Sociaal", exact=True)).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Wat is er aan de hand?")).to_be_focused()
    page.keyboard.type("Bewoners willen samen een buurtmoestuin beginnen bij de kerk.")
    page.get_by_role("button", name="Opslaan en volgende").focus()
    page.keyboard.press("Enter")
    third = saved(page, 3)
    entries = page.locator(".portal-schouw-entries")
    for reference in (first, second, third):
        expect(entries.get_by_role("link", name=reference)).to_be_visible()
    expect(page.locator("#schouw-stand")).to_contain_text(DOSSIER_TITLE)
    check(page)

    page.get_by_role("button", name="Schouw afronden").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schouw in Sint Vitusbuurt afgerond")
    expect(page.locator("main")).to_contain_text("U heeft 3 meldingen geregistreerd.")
    check(page)

    with db_session(app) as session:
        [dossier] = session.scalars(select(Dossier)).all()
        assert dossier.title == DOSSIER_TITLE
        expect(
            page.get_by_role("link", name=re.compile(re.escape(dossier.reference)))
        ).to_be_visible()
        signals = session.scalars(select(Signal).order_by(Signal.id)).all()
        assert [s.reference for s in signals] == [first, second, third]
        assert {s.dossier_id for s in signals} == {dossier.id}
        assert {(s.channel, s.registered_by_id) for s in signals} == {
            ("schouw", user_id(app, SANNE))
        }
        assert {s.buurt_code for s in signals} == {SINT_VITUSBUURT}
        assert [s.location_source for s in signals] == ["buurt", "pin", "buurt"]
        assert [len(s.attachments) for s in signals] == [1, 0, 0]
        assert [s.kind for s in signals] == ["knelpunt", "knelpunt", "initiatief"]
        assert [s.theme_codes for s in signals] == [["veilig"], ["schoon"], ["sociaal"]]
        assert signals[1].reporter is not None
        assert signals[1].reporter.email == "buur@voorbeeld.nl"


def test_a_schouw_works_without_javascript(
    app: Flask, live_server: str, new_page: Callable[..., Page]
) -> None:
    page = phone(new_page, java_script_enabled=False)
    log_in(page, live_server)
    page.goto(f"{live_server}/backoffice/schouw")
    page.get_by_label("In welke buurt is de schouw?").select_option(label="Sint Vitusbuurt")
    page.get_by_role("button", name="Start de schouw").tap()
    # The location block needs a script: without one it is not offered.
    expect(page.get_by_role("button", name="Gebruik mijn locatie")).to_be_hidden()
    page.get_by_label("Heel", exact=True).tap()
    page.get_by_label("Wat is er aan de hand?").fill("Een lantaarnpaal bij de kerk is kapot.")
    page.get_by_role("button", name="Opslaan en volgende").tap()
    reference = saved(page, 1)
    # axe-core needs scripts (it is judged with them on in the test above): here the layout.
    fits(page)
    page.get_by_role("button", name="Schouw afronden").tap()
    expect(page.locator("main")).to_contain_text("U heeft 1 melding geregistreerd.")
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    with db_session(app) as session:
        [signal] = session.scalars(select(Signal)).all()
        assert (signal.channel, signal.buurt_code, signal.dossier_id) == (
            "schouw",
            SINT_VITUSBUURT,
            None,
        )
