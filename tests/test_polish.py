"""Small things every page must get right (issue 9, "Look and polish"): the language switch
after a POST, the 403 page for staff, the home page title, references that never break,
distinct status badges and the width of the login fields."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.seeding import DEMO_PASSWORD
from tests.conftest import csrf_token
from tests.factories import ANNA, login, make_signal
from tests.fixtures.browser import assert_accessible
from tests.test_report_form import (
    assert_error,
    error_summary,
    no_location,
    post_report,
    valid_form,
)

REFERENCE = re.compile(r"HLV-\d{4}-\d{6}")


def language_link(page: str, language: str) -> str:
    match = re.search(rf'<a class="utrecht-link" href="([^"]*)" hreflang="{language}"', page)
    assert match, f"no link to the {language} page"
    return match.group(1).replace("&amp;", "&")


# --- language switch ------------------------------------------------------------------------


def test_language_switch_after_a_preview_leads_to_a_page_that_answers_get(app: Flask) -> None:
    reference, _token = make_signal(app)
    client = login(app.test_client(), ANNA)
    signal_page = f"/backoffice/signalen/{reference}"
    response = client.post(
        f"{signal_page}/status",
        data={
            "csrf_token": csrf_token(client, signal_page),
            "version": "1",
            "status": "in_progress",
            "message": "Wij gaan ermee aan de slag.",
            "action": "preview",
        },
        headers={"Referer": f"http://localhost{signal_page}"},
    )
    assert response.status_code == 200
    link = language_link(response.get_data(as_text=True), "en")
    assert link == f"{signal_page}?lang=en"
    assert client.get(link).status_code == 200


def test_language_switch_after_a_post_without_referrer_goes_to_the_start_page(
    app: Flask,
) -> None:
    reference, _token = make_signal(app)
    client = login(app.test_client(), ANNA)
    signal_page = f"/backoffice/signalen/{reference}"
    response = client.post(
        f"{signal_page}/status",
        data={
            "csrf_token": csrf_token(client, signal_page),
            "version": "1",
            "status": "in_progress",
            "message": "Wij gaan ermee aan de slag.",
            "action": "preview",
        },
        headers={"Referer": "https://elders.example/backoffice/beheer"},
    )
    link = language_link(response.get_data(as_text=True), "en")
    assert not link.startswith(("http", "//"))
    assert client.get(link, follow_redirects=True).status_code == 200


def test_language_switch_after_a_refused_public_form_stays_on_the_form(client) -> None:
    # /melden answers GET as well: the switch keeps the resident on the form.
    response = post_report(client, valid_form(description=None))
    assert response.status_code == 422
    assert language_link(response.get_data(as_text=True), "en") == "/melden?lang=en"


# --- the 403 page ---------------------------------------------------------------------------


def test_forbidden_back_office_page_keeps_the_staff_menu_and_logout(app: Flask) -> None:
    client = login(app.test_client(), ANNA)
    response = client.get("/backoffice/beheer")  # for admins only
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Geen toegang" in page
    assert "Mijn signalen" in page
    assert re.search(r"<button[^>]*>\s*Uitloggen\s*</button>", page)


def test_error_page_for_a_visitor_has_no_staff_menu(client) -> None:
    response = client.get("/backoffice/bestaat-niet")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Pagina niet gevonden" in page
    assert "Uitloggen" not in page and "Mijn signalen" not in page


# --- titles ---------------------------------------------------------------------------------


def test_home_page_title_names_the_portal_once(client) -> None:
    page = client.get("/").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title and title.group(1).strip() == "Wijkzaken Hilversum"


def test_other_pages_keep_the_portal_suffix(client) -> None:
    page = client.get("/privacy").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title and title.group(1).strip().endswith(" – Wijkzaken Hilversum")
    assert title.group(1).count("Wijkzaken Hilversum") == 1


# --- references never break -----------------------------------------------------------------


def nowrap_references(page: str) -> list[str]:
    return re.findall(
        r'class="[^"]*portal-(?:nowrap|reference|inbox-reference)[^"]*"[^>]*>\s*('
        r"HLV-\d{4}-\d{6})",
        page,
    )


def test_references_are_kept_whole_on_status_signal_inbox_and_confirmation(
    app: Flask, client
) -> None:
    reference, token = make_signal(app)
    status = client.get(f"/status/{token}", follow_redirects=True).get_data(as_text=True)
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", status, re.S)
    assert heading and reference in nowrap_references(heading.group(1))

    staff = login(app.test_client(), ANNA)
    signal = staff.get(f"/backoffice/signalen/{reference}").get_data(as_text=True)
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", signal, re.S)
    assert heading and reference in nowrap_references(heading.group(1))
    inbox = staff.get("/backoffice/signalen?scope=all").get_data(as_text=True)
    assert reference in nowrap_references(inbox)

    response = post_report(client, valid_form())
    assert response.status_code == 303
    confirmation = client.get("/melden/bedankt").get_data(as_text=True)
    assert nowrap_references(confirmation)


# --- in a real browser ----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_phone_badges_and_login_look_right(
    app: Flask, live_server: str, new_page: Callable[..., Page]
) -> None:
    reference, token = make_signal(app)
    make_signal(app, title="Losse stoeptegel")

    phone = new_page(viewport={"width": 320, "height": 640})
    phone.goto(f"{live_server}/status/{token}")
    assert_accessible(phone)
    piece = phone.locator("h1 .portal-nowrap")
    expect(piece).to_have_text(reference)
    assert piece.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    box = piece.bounding_box()
    assert box and box["height"] < 2 * float(
        piece.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 40")
    )

    desk = new_page(viewport={"width": 1280, "height": 900})
    desk.goto(f"{live_server}/backoffice/login")
    assert_accessible(desk)
    for label in ("E-mailadres", "Wachtwoord"):
        width = desk.get_by_label(label).bounding_box()
        assert width and 200 < width["width"] <= 32 * 16, (label, width)
    desk.get_by_label("E-mailadres").fill(ANNA)
    desk.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    desk.get_by_role("button", name="Inloggen").click()
    expect(desk.get_by_role("button", name="Uitloggen")).to_be_visible()

    # Two signals in two statuses: their badges differ in colour (and say it in words).
    staff = login(app.test_client(), ANNA)
    signal_page = f"/backoffice/signalen/{reference}"
    moved = staff.post(
        f"{signal_page}/status",
        data={
            "csrf_token": csrf_token(staff, signal_page),
            "version": "1",
            "status": "in_progress",
            "message": "Wij gaan ermee aan de slag.",
        },
    )
    assert moved.status_code == 303
    desk.goto(f"{live_server}/backoffice/signalen?scope=all")
    assert_accessible(desk)
    colours = {}
    for status in ("received", "in_progress"):
        badge = desk.locator(f".portal-status--{status}").first
        colours[status] = badge.evaluate(
            "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]"
        )
    assert colours["received"][0] != colours["in_progress"][0], colours
    cell = desk.locator(".portal-inbox-reference").first
    assert cell.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"


# --- the "outside Hilversum" message --------------------------------------------------------


def test_postcode_outside_hilversum_is_reported_at_the_postcode(app: Flask, client) -> None:
    response = post_report(client, no_location(postcode="1012 AB"))
    page = assert_error(response, "postcode", "niet in de gemeente Hilversum")
    assert 'id="wijk-error"' not in page
    postcode = re.search(r'<input[^>]*id="postcode"[^>]*>', page)
    assert postcode and 'aria-invalid="true"' in postcode.group(0)
    assert "postcode-error" in postcode.group(0)
    # The summary links to the postcode field, not to the wijk.
    targets = [anchor for anchor, text in error_summary(page) if "Hilversum" in text]
    assert targets == ["postcode"]


# --- the municipality's header and theme ----------------------------------------------------

STYLESHEETS = re.compile(r'<link rel="stylesheet" href="([^"]+)">')


def test_theme_stylesheet_is_loaded_last_and_can_be_another_municipalitys(
    app: Flask, client
) -> None:
    sheets = STYLESHEETS.findall(client.get("/").get_data(as_text=True))
    assert sheets[:4] == [
        "/static/vendor/utrecht/design-tokens.css",
        "/static/vendor/utrecht/component-library.css",
        "/static/css/portal.css",
        "/static/css/theme-hilversum.css",
    ]
    assert client.get("/static/css/theme-hilversum.css").status_code == 200

    app.config["THEME_STYLESHEET"] = "css/theme-gooise-meren.css"
    app.config["ORGANISATION_NAME"] = "Gemeente Gooise Meren"
    page = client.get("/privacy").get_data(as_text=True)
    assert "/static/css/theme-gooise-meren.css" in STYLESHEETS.findall(page)
    assert "theme-hilversum" not in page
    brand = re.search(r'<a class="portal-brand"[^>]*>(.*?)</a>', page, re.S)
    assert brand and re.sub(r"<[^>]+>|\s+", " ", brand.group(1)).split() == [
        "Gemeente",
        "Gooise",
        "Meren",
        "Wijkzaken",
    ]


def test_theme_defines_the_tokens_the_components_read() -> None:
    """The theme sets design-system tokens that the component library really uses (a typo
    in a token name would silently do nothing), and our own header's tokens."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    theme = (root / "static/css/theme-hilversum.css").read_text()
    components = (root / "static/vendor/utrecht/component-library.css").read_text()
    tokens = (root / "static/vendor/utrecht/design-tokens.css").read_text()
    ours = (root / "static/css/portal.css").read_text()
    defined = set(re.findall(r"(--[a-z0-9-]+)\s*:", theme))
    utrecht = {name for name in defined if name.startswith("--utrecht-")}
    assert len(utrecht) > 30
    unread = sorted(
        name
        for name in utrecht
        if f"var({name}" not in components and f"var({name}" not in tokens + ours
    )
    assert not unread, f"tokens nothing reads: {unread}"
    for name in (
        "--utrecht-focus-outline-color",
        "--utrecht-button-primary-action-background-color",
        "--utrecht-link-color",
        "--utrecht-page-header-background-color",
        "--utrecht-checkbox-checked-background-color",
        "--utrecht-radio-button-checked-background-color",
        "--portal-brand-primary",
        "--portal-brand-accent",
    ):
        assert name in defined, name
    brand = {name for name in defined if name.startswith("--portal-brand-")}
    assert all(f"var({name}" in ours + theme for name in brand), "every brand token is used"


def contrast(foreground: str, background: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_theme_colours_have_enough_contrast() -> None:
    from pathlib import Path

    theme = (Path(__file__).resolve().parents[1] / "static/css/theme-hilversum.css").read_text()
    colour = dict(re.findall(r"(--portal-brand-[a-z-]+):\s*(#[0-9a-f]{6})", theme))
    white = "#ffffff"
    text_pairs = [
        ("--portal-brand-on-primary", "--portal-brand-primary"),
        ("--portal-brand-on-primary-muted", "--portal-brand-primary"),
        ("--portal-brand-on-primary", "--portal-brand-primary-hover"),
        ("--portal-brand-link", white),
        ("--portal-brand-link-hover", white),
        ("--portal-brand-link-visited", white),
        ("--portal-brand-ink", white),
        ("--portal-brand-muted", white),
        ("--portal-brand-error", white),
        ("--portal-brand-ink", "--portal-brand-accent"),  # the skip link
        ("--portal-brand-ink", "--portal-brand-surface"),
        ("--portal-brand-link", "--portal-brand-surface"),
        ("--portal-brand-muted", "--portal-brand-surface"),
        ("--portal-brand-primary", "--portal-brand-tint"),
    ]
    for text, background in text_pairs:
        ratio = contrast(colour.get(text, text), colour.get(background, background))
        assert ratio >= 4.5, (text, background, round(ratio, 2))
    # The accent is no text colour; as the focus ring and stripe it stands out from the blue.
    assert contrast(colour["--portal-brand-accent"], colour["--portal-brand-primary"]) >= 3


# --- phone numbers --------------------------------------------------------------------------

TEL_LINK = re.compile(r'<a class="utrecht-link portal-nowrap" href="tel:([0-9+]+)">([^<]+)</a>')


def test_phone_numbers_are_tel_links_on_the_trust_and_error_pages(client) -> None:
    for path in ("/privacy", "/toegankelijkheid", "/bestaat-niet", "/antwoord/partner/onbekend"):
        page = client.get(path).get_data(as_text=True)
        links = TEL_LINK.findall(page)
        assert ("14035", "14 035") in links, path
        # No bare number left in the text beside the links.
        assert page.count("14 035") == len([text for _tel, text in links if text == "14 035"])


def test_a_configured_phone_number_becomes_its_own_tel_link(app: Flask, client) -> None:
    app.config["PRIVACY_CONTACT_PHONE"] = "0800 123-45 67"
    page = client.get("/privacy").get_data(as_text=True)
    assert TEL_LINK.findall(page).count(("08001234567", "0800 123-45 67")) == 2


def test_error_pages_for_staff_do_not_send_them_to_the_public_phone(app: Flask) -> None:
    client = login(app.test_client(), ANNA)
    page = client.get("/backoffice/beheer").get_data(as_text=True)  # 403
    assert "tel:" not in page


# --- form controls in the macros ------------------------------------------------------------


def test_every_checkbox_the_form_draws_uses_the_design_systems_own_look(client) -> None:
    page = client.get("/melden").get_data(as_text=True)
    checkboxes = re.findall(r'<input[^>]*type="checkbox"[^>]*>', page)
    assert len(checkboxes) >= 6
    assert all("utrecht-checkbox--custom" in box for box in checkboxes), checkboxes
    radios = re.findall(r'<input[^>]*type="radio"[^>]*>', page)
    assert radios and all("utrecht-radio-button--html-input" in r for r in radios)


def test_photo_field_is_a_plain_file_field_with_the_scripts_texts(client) -> None:
    page = client.get("/melden").get_data(as_text=True)
    field = re.search(r'<div class="[^"]*portal-file"(.*?)</fieldset>', page, re.S)
    assert field
    markup = field.group(0)
    assert re.search(r'<input class="portal-file__native" type="file" id="photos"', markup)
    assert 'data-max="3"' in markup
    assert 'data-status-count="Gekozen foto&#39;s: {count} van de {max}."' in markup
    assert 'aria-live="polite"' in markup
    assert '<script src="/static/js/file-input.js" defer></script>' in page
    # The script runs before photo-resize.js, which makes large photos smaller.
    assert page.index("js/file-input.js") < page.index("js/photo-resize.js")
