"""A resident in a real browser: report a problem, fix mistakes, follow the status, all pages
accessible (axe-core, WCAG 2.1 AA) and valid HTML (the Nu checker, at the end of the session),
and the form working without JavaScript too."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.fixtures.browser import assert_accessible
from tests.fixtures.mailserver import SMTPServer

pytestmark = [
    pytest.mark.browser,
    # One backend is enough for the browser: the domain tests cover PostgreSQL.
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

REFERENCE = re.compile(r"HLV-\d{4}-\d{6}")
EMAIL = "j.jansen@voorbeeld.nl"
DESCRIPTION = (
    "Bij de speeltuin aan de Kerkelandenlaan ligt al een week veel zwerfvuil.\n"
    "De lantaarnpaal ernaast is ook kapot."
)


def make_photo(folder: Path, name: str = "stoep.jpg") -> Path:
    """A small real JPEG, as a phone makes it: with the place it was taken in its EXIF."""
    image = Image.new("RGB", (400, 300), (120, 160, 90))
    ImageDraw.Draw(image).rectangle((100, 80, 300, 220), fill=(90, 60, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Testcamera"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 13.0, 4.8)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (5.0, 8.0, 30.5)
    path = folder / name
    image.save(path, "JPEG", exif=exif)
    with Image.open(path) as check:  # the test photo really carries a location
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return path


def fill_report(page: Page, *, description: str, email: str, photo: Path | None) -> None:
    """Fills /melden the way a resident does: by what the labels say."""
    page.get_by_label("Een probleem in mijn buurt").check()
    page.get_by_label("Schoon", exact=True).check()
    page.get_by_label("Heel", exact=True).check()
    page.get_by_label("Beschrijving", exact=True).fill(description)
    page.get_by_label("Wijk", exact=True).select_option(label="Zuidwest")
    page.get_by_label("Buurt", exact=True).select_option(label="Kerkelanden")
    page.get_by_label("Straat", exact=True).fill("Kerkelandenlaan")
    page.get_by_label("Huisnummer", exact=True).fill("12")
    page.get_by_label("Postcode", exact=True).fill("1216 AB")
    if photo is not None:
        page.get_by_label("Kies foto's").set_input_files(photo)
    page.get_by_label("Naam", exact=True).fill("Jan Jansen")
    page.get_by_label("E-mailadres", exact=True).fill(email)
    page.get_by_label("U mag contact met mij opnemen over deze melding.").check()


def mail_to(smtp: SMTPServer, address: str, timeout: float = 10.0) -> list[EmailMessage]:
    """The mail that reached the SMTP server for ``address``, waiting a little for it."""
    deadline = time.monotonic() + timeout
    while not smtp.to(address) and time.monotonic() < deadline:
        smtp.wait_for(len(smtp.messages) + 1, timeout=0.1)
    return smtp.to(address)


def submit(page: Page) -> None:
    page.get_by_role("button", name="Verstuur melding").click()


def confirmation(page: Page, base_url: str) -> tuple[str, str]:
    """Checks the confirmation page; returns the reference and the status link."""
    expect(page).to_have_url(f"{base_url}/melden/bedankt")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt, uw melding is ontvangen")
    reference = page.locator(".portal-reference").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    status_url = page.locator("a.portal-status-link").get_attribute("href") or ""
    assert re.fullmatch(re.escape(base_url) + r"/status/[\w-]{20,}", status_url), status_url
    expect(page.get_by_role("link", name=status_url)).to_be_visible()
    return reference, status_url


def photos_on_status_page(page: Page) -> list[tuple[str, int]]:
    """(src, naturalWidth) of each photo once it has loaded."""
    images = page.get_by_role("img", name=re.compile(r"^Foto \d+ bij uw melding$"))
    result = []
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()  # they load lazily
        image_handle = image.element_handle()
        page.wait_for_function("img => img.complete", arg=image_handle)
        width = image.evaluate("img => img.naturalWidth")
        result.append((image.evaluate("img => img.currentSrc"), width))
    return result


def test_resident_reports_a_problem_and_follows_it(
    page: Page, live_server: str, smtp: SMTPServer, tmp_path: Path
) -> None:
    photo = make_photo(tmp_path)

    page.goto(f"{live_server}/")
    assert_accessible(page)
    page.get_by_role("link", name="Doe een melding of deel uw initiatief").click()
    expect(page).to_have_url(f"{live_server}/melden")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Doe een melding of deel uw initiatief"
    )
    # Optional fields say "(niet verplicht)"; `required` on a theme box would claim all four.
    expect(page.locator("[required]")).to_have_count(0)
    assert_accessible(page)

    fill_report(page, description=DESCRIPTION, email=EMAIL, photo=photo)
    submit(page)

    reference, status_url = confirmation(page, live_server)
    expect(page.get_by_role("main")).to_contain_text(
        "Anna de Vries, accountmanager voor wijk Zuidwest, bekijkt uw melding binnen 3 werkdagen."
    )
    assert_accessible(page)

    expect(page.get_by_role("main")).to_contain_text(
        f"We hebben een bevestiging gestuurd naar {EMAIL}"
    )
    mails = mail_to(smtp, EMAIL)
    assert len(mails) == 1, [m["To"] for m in smtp.messages]
    mail = mails[0]
    assert mail["Subject"] == f"Uw melding {reference} is ontvangen"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert reference in body
    assert status_url in body

    page.get_by_role("link", name=status_url).click()
    expect(page).to_have_url(status_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Uw melding {reference}")
    expect(page.locator(".portal-status")).to_have_text("Ontvangen")
    text = page.locator(".portal-resident-text")
    for line in DESCRIPTION.splitlines():
        expect(text).to_contain_text(line)
    expect(page.locator(".portal-summary")).to_contain_text("Wijk Zuidwest, buurt Kerkelanden")
    photos = photos_on_status_page(page)
    assert len(photos) == 1
    src, width = photos[0]
    assert width > 0, f"the photo at {src} did not load"
    served = page.request.get(src)
    assert served.ok
    with Image.open(io.BytesIO(served.body())) as shown:
        assert not shown.getexif().get_ifd(ExifTags.IFD.GPSInfo), "GPS data left in the photo"
    assert_accessible(page)


def test_errors_are_summarised_and_nothing_typed_is_lost(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    photo = make_photo(tmp_path, "lantaarnpaal.jpg")
    page.goto(f"{live_server}/melden")
    fill_report(page, description="Kapot", email="jan@voorbeeld", photo=photo)
    submit(page)

    expect(page).to_have_title(re.compile(r"^Fout: "))
    summary = page.get_by_role("alert").filter(
        has=page.get_by_role("heading", name="Er ging iets mis")
    )
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)
    assert_accessible(page)

    # Each error links to its field, and the field says the same thing next to it.
    description = page.get_by_label("Beschrijving", exact=True)
    email = page.get_by_label("E-mailadres", exact=True)
    for message, field, anchor in [
        ("De beschrijving moet tussen 10 en 5000 tekens lang zijn.", description, "description"),
        ("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl.", email, "email"),
    ]:
        summary.get_by_role("link", name=message).click()
        expect(page).to_have_url(re.compile(f"#{anchor}$"))
        expect(field).to_be_focused()
        expect(field).to_be_in_viewport()
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(re.compile(re.escape(message)))

    # What was typed and chosen is still there.
    expect(description).to_have_value("Kapot")
    expect(email).to_have_value("jan@voorbeeld")
    expect(page.get_by_label("Naam", exact=True)).to_have_value("Jan Jansen")
    expect(page.get_by_label("Een probleem in mijn buurt")).to_be_checked()
    expect(page.get_by_label("Schoon", exact=True)).to_be_checked()
    expect(page.get_by_label("Heel", exact=True)).to_be_checked()
    expect(page.get_by_label("Veilig", exact=True)).not_to_be_checked()
    expect(page.get_by_label("Buurt", exact=True).locator("option:checked")).to_have_text(
        "Kerkelanden"
    )
    expect(page.get_by_label("Straat", exact=True)).to_have_value("Kerkelandenlaan")
    expect(page.get_by_label("Postcode", exact=True)).to_have_value("1216 AB")
    expect(page.get_by_label("U mag contact met mij opnemen over deze melding.")).to_be_checked()
    # ... and so is the photo: kept on the server, listed as a ticked box with its name.
    kept = page.get_by_role("checkbox", name="lantaarnpaal.jpg")
    expect(kept).to_be_checked()

    description.fill(DESCRIPTION)
    email.fill(EMAIL)
    submit(page)
    _reference, status_url = confirmation(page, live_server)

    page.goto(status_url)
    photos = photos_on_status_page(page)
    assert len(photos) == 1
    assert photos[0][1] > 0


def test_the_form_works_without_javascript(
    new_page: Callable[..., Page], live_server: str, tmp_path: Path
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_server}/melden")
    # report.js would have added the character counter: proof that scripts are off.
    expect(page.get_by_label("Beschrijving", exact=True)).to_be_visible()
    expect(page.locator("#description-counter")).to_have_count(0)
    fill_report(page, description=DESCRIPTION, email=EMAIL, photo=make_photo(tmp_path))
    submit(page)
    _reference, status_url = confirmation(page, live_server)
    page.goto(status_url)
    expect(page.locator(".portal-status")).to_have_text("Ontvangen")
    expect(page.get_by_role("img", name="Foto 1 bij uw melding")).to_have_count(1)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/status/opvragen", "Link naar uw melding opvragen"),
        ("/privacy", "Privacyverklaring"),
        ("/toegankelijkheid", "Toegankelijkheid"),
    ],
)
def test_information_pages_are_accessible_in_both_languages(
    page: Page, live_server: str, path: str, heading: str
) -> None:
    page.goto(f"{live_server}{path}")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page)

    english = page.get_by_role("navigation", name="Taal").get_by_role("link", name="English")
    expect(english).to_have_attribute("hreflang", "en")
    english.click()
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}{path}?lang=en") + "$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Nederlands")).to_have_attribute("hreflang", "nl")
    assert_accessible(page)


def test_status_lookup_errors_are_accessible(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/status/opvragen")
    page.get_by_label("E-mailadres", exact=True).fill("niet-een-adres")
    page.get_by_role("button", name="Stuur mij een nieuwe link").click()
    summary = page.get_by_role("alert").filter(
        has=page.get_by_role("heading", name="Er ging iets mis")
    )
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(2)
    expect(page.get_by_label("E-mailadres", exact=True)).to_have_value("niet-een-adres")
    assert_accessible(page)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/status/doesnotexist", "Melding niet gevonden"),
        ("/bestaat-niet", "Pagina niet gevonden"),
    ],
)
def test_not_found_pages_are_accessible(
    page: Page, live_server: str, path: str, heading: str
) -> None:
    response = page.goto(f"{live_server}{path}")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page)


def test_axe_check_fails_on_a_broken_page(page: Page, live_server: str) -> None:
    """The check above must be able to fail: break a real page in three ways and see it."""
    page.goto(f"{live_server}/status/opvragen")
    page.evaluate(
        """() => {
            document.querySelector('label[for="email"]').remove();
            document.querySelector("h1 + p").style.color = "#bbb";
            document.querySelector("footer").style.backgroundImage =
                "linear-gradient(45deg, #c00, #d63433)";
        }"""
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    message = str(failure.value)
    assert "label (critical)" in message
    assert "at #email: <input" in message
    assert "color-contrast (serious)" in message
    assert "axe could not check this" in message
