"""'Is dit al gemeld?' and 'Dit is mijn melding ook' in a real browser: choosing buurt Kerkelanden
lists its two open signals (never the sensitive one, never the closed one); following one of
them gives its link on screen and by mail (real SMTP); without JavaScript the "Bekijk
meldingen in de buurt" button does the same; and reporting anyway still works. Every state is
checked with axe-core, and every page by the Nu HTML checker."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.domain.geography import default_geography
from portal.vocabulary import Theme
from tests.fixtures.browser import assert_accessible
from tests.fixtures.mailserver import SMTPServer
from tests.test_browser_resident import mail_to
from tests.test_nearby import NORTH_120, PIN, close, mark_sensitive, signal_at

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

FOLLOWER = "buurvrouw@voorbeeld.nl"
TYPED = "De stoeptegels bij de ingang van de speeltuin liggen los."
LISTED = ["Losse tegels bij de speeltuin", "Schoon in Kerkelanden"]
NEVER = ["Jongeren bij het bankje", "Al opgelost"]


@pytest.fixture
def check_without_javascript(new_page, live_server: str):  # type: ignore[no-untyped-def]
    """axe-core needs timers, and a page without JavaScript never runs them (axe.run would
    wait forever). So the document such a page shows - its HTML without the scripts - is
    checked in a page that runs them, on the portal's origin, with the portal's stylesheets."""
    checker: Page = new_page()

    def check(page: Page) -> None:
        html = re.sub(r"<script\b[^>]*>.*?</script>", "", page.content(), flags=re.S)
        checker.goto(f"{live_server}/privacy")
        checker.set_content(html)
        assert_accessible(checker)

    return check


@pytest.fixture
def kerkelanden(app: Flask) -> None:
    """Two open signals, a sensitive and a closed one, all with a pin in Kerkelanden."""
    for point in (PIN, NORTH_120):
        assert default_geography().locate(*point).name == "Kerkelanden"  # type: ignore[union-attr]
    signal_at(app, PIN, title="")  # no title typed: listed as "Schoon in Kerkelanden"
    signal_at(app, NORTH_120, title=LISTED[0], theme=Theme.HEEL)
    mark_sensitive(app, signal_at(app, PIN, title=NEVER[0], theme=Theme.VEILIG))
    close(app, signal_at(app, NORTH_120, title=NEVER[1]))


def start_report(page: Page) -> None:
    page.get_by_label("Een probleem in mijn buurt").check()
    page.get_by_label("Heel", exact=True).check()
    page.get_by_label("Beschrijving", exact=True).fill(TYPED)
    page.get_by_label("E-mailadres", exact=True).fill(FOLLOWER)
    page.get_by_label("Wijk", exact=True).select_option(label="Zuidwest")
    buurt = page.get_by_label("Buurt", exact=True)
    buurt.focus()  # as a keyboard user chooses it
    buurt.select_option(label="Kerkelanden")


def map_settled(page: Page) -> None:
    """The form's map zooms to a chosen buurt when the page loads with one (report-map.js);
    while Leaflet animates that, axe cannot tell the colours of the text above the map."""
    page.wait_for_function("() => !document.querySelector('.leaflet-zoom-anim')")
    page.wait_for_timeout(400)  # an animation may start only once the outlines are in
    page.wait_for_function("() => !document.querySelector('.leaflet-zoom-anim')")


def listed_titles(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#in-de-buurt h3").all_inner_texts()]


def expect_the_two_open_signals(page: Page) -> None:
    expect(page.get_by_role("heading", name="Is dit al gemeld?")).to_be_visible()
    assert listed_titles(page) == LISTED
    main = page.get_by_role("main")
    for title in NEVER:
        expect(main).not_to_contain_text(title)
    expect(page.get_by_role("button", name="Dit is mijn melding ook")).to_have_count(2)
    expect(main).to_contain_text("Staat uw melding er niet bij? Ga dan verder met het formulier.")


def test_choosing_the_buurt_lists_nearby_signals_and_one_is_followed(
    page: Page, live_server: str, smtp: SMTPServer, kerkelanden: None
) -> None:
    page.goto(f"{live_server}/melden")
    # With JavaScript the list comes by itself: no page-load button.
    expect(page.get_by_role("button", name="Bekijk meldingen in de buurt")).to_be_hidden()
    assert_accessible(page)
    start_report(page)
    expect_the_two_open_signals(page)
    expect(page.locator("#in-de-buurt-bericht")).to_have_text(
        "Er zijn 2 open meldingen in de buurt gevonden."
    )
    # Choosing the buurt did not move focus into the list.
    expect(page.get_by_label("Buurt", exact=True)).to_be_focused()
    assert_accessible(page)

    # "Dit is mijn melding ook" -> the follow page, with the address typed on the form.
    page.get_by_role("button", name="Dit is mijn melding ook").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deze melding volgen")
    expect(page.get_by_role("main")).to_contain_text(LISTED[0])
    expect(page.get_by_label("E-mailadres (niet verplicht)")).to_have_value(FOLLOWER)
    assert_accessible(page)

    # Changing one's mind costs nothing: back to the form, all still there.
    page.get_by_role("button", name="Terug naar het formulier").click()
    expect(page.get_by_label("Beschrijving", exact=True)).to_have_value(TYPED)
    expect(page.get_by_label("Buurt", exact=True)).to_have_value("BU04020304")
    expect_the_two_open_signals(page)
    map_settled(page)
    assert_accessible(page)

    page.get_by_role("button", name="Dit is mijn melding ook").first.click()
    email = page.get_by_label("E-mailadres (niet verplicht)")
    email.fill("geen adres")
    page.get_by_role("button", name="Volg deze melding").click()
    expect(page.get_by_role("alert")).to_contain_text("Vul een geldig e-mailadres in")
    expect(page).to_have_title(re.compile(r"^Fout: "))
    assert_accessible(page)
    page.get_by_label("E-mailadres (niet verplicht)").fill(FOLLOWER)
    page.get_by_role("button", name="Volg deze melding").click()

    expect(page).to_have_url(f"{live_server}/melden/volgen/bedankt")
    expect(page.get_by_role("heading", level=1)).to_have_text("U volgt deze melding")
    follow_url = page.locator("a.portal-follow-link").get_attribute("href") or ""
    assert re.fullmatch(re.escape(live_server) + r"/volgen/[\w-]{40,}", follow_url), follow_url
    assert_accessible(page)

    [mail] = mail_to(smtp, FOLLOWER)
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert follow_url in body and LISTED[0] in body
    assert TYPED not in body
    assert mail["List-Unsubscribe"] == f"<{follow_url}/afmelden>"

    page.goto(follow_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(LISTED[0])
    expect(page.get_by_role("main")).to_contain_text("De melding is ontvangen.")
    assert_accessible(page)
    page.get_by_role("button", name="Stop met volgen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("U volgt deze melding niet meer")
    assert_accessible(page)


def place_pin(page: Page, lon: float, lat: float, buurt: str | None, inside: bool) -> None:
    """What the form's map does when a pin is placed (the contract of report-map.js): set the
    hidden point and the lists, then tell the page."""
    page.evaluate(
        """([lon, lat, buurt, inside]) => {
            document.getElementById("lon").value = String(lon);
            document.getElementById("lat").value = String(lat);
            document.getElementById("buurt").value = buurt || "";
            document.dispatchEvent(new CustomEvent("portal:location",
                {detail: {lon: lon, lat: lat, buurt: buurt, wijk: null, inside: inside}}));
        }""",
        [lon, lat, buurt, inside],
    )


def test_a_pin_lists_what_is_near_it_and_a_pin_outside_lists_nothing(
    page: Page, live_server: str, kerkelanden: None
) -> None:
    page.goto(f"{live_server}/melden")
    place_pin(page, PIN[0], PIN[1], "BU04020304", True)
    expect_the_two_open_signals(page)
    # By the pin, each with roughly how far it is (in bands: never a way to find the spot).
    expect(page.locator("#in-de-buurt")).to_contain_text(
        "minder dan 100 meter van de plek die u koos"
    )
    expect(page.locator("#in-de-buurt")).to_contain_text("100 tot 250 meter van de plek die u koos")
    assert_accessible(page)
    place_pin(page, 5.1214, 52.0908, None, False)  # Utrecht
    expect(page.get_by_role("heading", name="Is dit al gemeld?")).to_have_count(0)
    expect(page.locator("#in-de-buurt-bericht")).to_have_text("")


def test_reporting_anyway_with_the_list_shown(
    page: Page, live_server: str, kerkelanden: None
) -> None:
    page.goto(f"{live_server}/melden")
    start_report(page)
    expect_the_two_open_signals(page)
    # Enter in a field still sends the report, not "Dit is mijn melding ook" (the first
    # visible button of the form by now).
    page.get_by_label("Naam", exact=True).fill("Karin de Wit")
    page.get_by_label("Naam", exact=True).press("Enter")
    expect(page).to_have_url(f"{live_server}/melden/bedankt")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt, uw melding is ontvangen")
    assert_accessible(page)


def test_without_javascript_the_button_shows_the_list(
    new_page, live_server: str, kerkelanden: None, check_without_javascript
) -> None:
    page: Page = new_page(java_script_enabled=False)
    page.goto(f"{live_server}/melden")
    start_report(page)
    expect(page.get_by_role("heading", name="Is dit al gemeld?")).to_have_count(0)
    page.get_by_role("button", name="Bekijk meldingen in de buurt").click()
    expect(page).to_have_url(f"{live_server}/melden#in-de-buurt")
    expect_the_two_open_signals(page)
    expect(page.get_by_label("Beschrijving", exact=True)).to_have_value(TYPED)
    expect(page.get_by_role("alert")).to_have_count(0)  # not a failed form: no errors
    check_without_javascript(page)

    # Following works without JavaScript too, and so does going back.
    page.get_by_role("button", name="Dit is mijn melding ook").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deze melding volgen")
    expect(page.get_by_role("main")).to_contain_text(LISTED[1])
    check_without_javascript(page)
    page.get_by_role("button", name="Terug naar het formulier").click()
    expect(page.get_by_label("Beschrijving", exact=True)).to_have_value(TYPED)

    # Not there: report anyway.
    page.get_by_role("button", name="Verstuur melding").click()
    expect(page).to_have_url(f"{live_server}/melden/bedankt")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt, uw melding is ontvangen")
    check_without_javascript(page)


def test_without_javascript_and_without_a_buurt_the_button_says_what_to_do(
    new_page, live_server: str, kerkelanden: None, check_without_javascript
) -> None:
    page: Page = new_page(java_script_enabled=False)
    page.goto(f"{live_server}/melden")
    page.get_by_role("button", name="Bekijk meldingen in de buurt").click()
    expect(page.get_by_role("main")).to_contain_text("Kies eerst de buurt waar het is.")
    expect(page.get_by_role("heading", name="Is dit al gemeld?")).to_have_count(0)
    check_without_javascript(page)
