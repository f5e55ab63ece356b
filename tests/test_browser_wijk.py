"""The wijk pages in a real browser: a resident goes from /wijken to Zuidwest and finds Anna
de Vries (introduction, a phone link that does not wrap, the partners, an initiative whose
initiators allowed it); Anna edits her profile in the back office, photo upload and error
state included, and sees it on the wijk page. axe-core checks every page and state; the Nu
checker every page (at the end of the session)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Page, expect

from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.routing import LocationInput
from portal.extensions import db
from portal.seeding_outreach import seed_demo_outreach
from portal.seeding_wijk import seed_demo_profiles
from portal.vocabulary import Kind, Theme
from tests.factories import ANNA, KERKELANDEN, intake_settings
from tests.fixtures.browser import assert_accessible
from tests.test_browser_backoffice import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

INITIATIVE = "Buurtmoestuin aan de Kerkelandenlaan"


def arrange(app: Flask) -> None:
    """The demo's partners and profiles, and one initiative whose initiators ticked the box."""
    with app.app_context():
        seed_demo_outreach(db.session)
        seed_demo_profiles(db.session)
        submit_signal(
            db.session,
            Submission(
                kind=Kind.INITIATIEF,
                themes=[Theme.SOCIAAL, Theme.SCHOON],
                title=INITIATIVE,
                description="Wij willen met twintig buren een moestuin beginnen.",
                location=LocationInput(buurt_code=KERKELANDEN),
                reporter=ReporterInput(name="Petra Pieters", email="petra@example.nl"),
                public_display=True,
            ),
            intake_settings(app),
        )
        db.session.commit()


def portrait(path: Path) -> Path:
    image = Image.new("RGB", (600, 800), (70, 110, 160))
    image.paste((230, 190, 160), (200, 150, 400, 400))  # a face, roughly
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_resident_finds_anna_on_the_zuidwest_page(
    app: Flask, live_server: str, page: Page
) -> None:
    arrange(app)
    page.goto(f"{live_server}/")
    home = page.get_by_role("link", name="Zuidwest", exact=True)
    expect(home).to_have_attribute("href", "/wijken/WK040203")
    expect(page.get_by_role("main")).to_contain_text("Zuidwest: Anna de Vries")
    assert_accessible(page)

    page.get_by_role("link", name="Alle wijken en hun buurten").click()
    expect(page.locator("h1")).to_have_text("De wijken van Hilversum")
    assert_accessible(page)

    page.get_by_role("link", name="Wijk Zuidwest").click()
    expect(page.locator("h1")).to_have_text("Wijk Zuidwest")
    people = page.locator("section", has=page.locator("#accountmanager"))
    expect(people.get_by_role("heading", name="Anna de Vries")).to_be_visible()
    expect(people).to_contain_text("Ik fiets elke week door Kerkelanden")
    phone = people.get_by_role("link", name="035 629 22 11")
    expect(phone).to_have_attribute("href", "tel:+31356292211")
    # One line, also on a narrow phone: the number never wraps.
    page.set_viewport_size({"width": 320, "height": 640})
    box = phone.bounding_box()
    line_height = phone.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 24")
    assert box is not None and box["height"] < 1.5 * line_height
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(people.get_by_role("link", name=ANNA)).to_have_attribute("href", f"mailto:{ANNA}")

    team = page.locator("section", has=page.locator("#wijkteam"))
    expect(team).to_contain_text("Dudok Wonen")
    expect(team).to_contain_text("Politie Gooi en Vechtstreek")
    expect(team).not_to_contain_text("Ellen de Wit")
    initiatives = page.locator("section", has=page.locator("#initiatieven"))
    expect(initiatives.get_by_role("heading", name=INITIATIVE)).to_be_visible()
    expect(initiatives).to_contain_text("Buurt Kerkelanden")
    expect(initiatives).not_to_contain_text("twintig buren")
    expect(initiatives).not_to_contain_text("Petra")
    assert_accessible(page)

    # The same page in English: the language switch keeps the resident on it.
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{live_server}/wijken/WK040203?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page)
    page.get_by_role("link", name="Nederlands").click()

    page.get_by_role("link", name="Doe een melding in deze wijk").click()
    expect(page).to_have_url(f"{live_server}/melden?wijk=WK040203")

    page.goto(f"{live_server}/wijken/WK040299")
    expect(page.locator("h1")).to_have_text("Deze wijk kennen we niet")
    assert_accessible(page)


def test_anna_edits_her_profile_and_photo_and_sees_them_on_the_wijk_page(
    app: Flask, live_server: str, page: Page, tmp_path: Path
) -> None:
    arrange(app)
    log_in(page, live_server, ANNA)
    page.get_by_role("link", name="Mijn account").click()
    assert_accessible(page)
    page.get_by_role("link", name="Mijn wijkprofiel").click()
    expect(page.locator("h1")).to_have_text("Mijn wijkprofiel")
    assert_accessible(page)

    # Too long, and a phone number that is none: both errors, the text kept.
    page.get_by_label("Over mij").fill("Te lang. " * 80)
    page.get_by_label("Telefoonnummer voor bewoners").fill("bel mij")
    page.get_by_role("button", name="Profiel opslaan").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Uw introductie is te lang")
    expect(summary).to_be_focused()
    expect(page).to_have_title("Fout: Mijn wijkprofiel – Wijkzaken Hilversum")
    assert_accessible(page)
    summary.get_by_role("link", name="Uw introductie is te lang").click()
    expect(page.get_by_label("Over mij")).to_be_focused()

    intro = "Hallo, ik ben Anna. Kom gerust langs op het spreekuur in het wijkcentrum."
    page.get_by_label("Over mij").fill(intro)
    page.get_by_label("Telefoonnummer voor bewoners").fill("035 629 22 99")
    page.get_by_role("button", name="Profiel opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("Uw wijkprofiel is opgeslagen.")
    assert_accessible(page)

    # The photo: first something that is no photo, then a real one.
    not_a_photo = tmp_path / "cv.jpg"
    not_a_photo.write_bytes(b"dit is geen foto")
    page.get_by_label("Kies een foto").set_input_files(not_a_photo)
    page.get_by_role("button", name="Zet de foto op de wijkpagina").click()
    expect(page.get_by_role("alert")).to_contain_text("Dit is geen foto in JPG of PNG.")
    assert_accessible(page)
    page.get_by_label("Kies een foto").set_input_files(portrait(tmp_path / "anna.jpg"))
    page.get_by_role("button", name="Zet de foto op de wijkpagina").click()
    expect(page.get_by_role("status")).to_contain_text("De foto staat op de wijkpagina.")
    preview = page.get_by_role("img", name="De foto die nu op de wijkpagina staat")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 480
    assert_accessible(page)

    page.get_by_role("link", name="Bekijk de pagina van wijk Zuidwest").click()
    expect(page.locator("h1")).to_have_text("Wijk Zuidwest")
    photo = page.get_by_role("img", name="Foto van Anna de Vries")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 480
    expect(page.get_by_role("main")).to_contain_text(intro)
    expect(page.get_by_role("link", name="035 629 22 99")).to_have_attribute(
        "href", "tel:+31356292299"
    )
    assert_accessible(page)
