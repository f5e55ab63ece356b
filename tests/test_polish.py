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
