"""The map on /melden in a real browser: a pin by click, by keyboard, by the browser's location
and by the address lands in the right buurt, says so at once and fills the lists; a pin
outside Hilversum says that; without tiles the outlines still work; without JavaScript the form
is the same as before; the status page shows the point on a small map. axe-core checks each
state, the Nu checker every page."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.domain.geography import default_geography
from portal.models import Signal
from tests.factories import db_session
from tests.fixtures.browser import assert_accessible
from tests.test_browser_resident import confirmation, submit
from tests.test_geocoding import (  # noqa: F401 - fixtures
    NUMBER_12,
    FakeLocatieserver,
    closed_port,
    locatieserver,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

KERKELANDEN = "BU04020304"
ZUIDWEST = "WK040203"
KERKELANDEN_PIN = (5.140466, 52.215599)  # (lon, lat), well inside the buurt
WEST_OF_HILVERSUM = (5.105, 52.215)  # in view when the map opens, in no Hilversum buurt
IN_KERKELANDEN = "Buurt Kerkelanden, wijk Zuidwest"
OUTSIDE = "Deze plek ligt niet in de gemeente Hilversum."
# As static/js/report-map.js moves the pin.
STEP_METRES, BIG_STEP_METRES, METRES_PER_DEGREE = 25, 250, 111320


@pytest.fixture
def app_config(app_config: dict[str, object], request: pytest.FixtureRequest) -> dict[str, object]:
    """``"tiles unreachable"``: tiles configured at a port where nothing answers;
    ``"geocoder"``: addresses looked up at the fake Locatieserver."""
    kind = getattr(request, "param", None)
    if kind == "tiles unreachable":
        port = request.getfixturevalue("closed_port")
        return {**app_config, "MAP_TILE_URL": f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"}
    if kind == "geocoder":
        server: FakeLocatieserver = request.getfixturevalue("locatieserver")
        return {**app_config, "GEOCODER_URL": server.url}
    return app_config


def script_errors(page: Page) -> list[str]:
    """Every uncaught script error on the page from now on (there must be none)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def page_errors(page: Page) -> Iterator[list[str]]:
    errors = script_errors(page)
    yield errors
    assert errors == [], errors


# --- helpers -------------------------------------------------------------------------------------


def open_form(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/melden")
    expect(map_element(page)).to_be_visible()
    # The outlines are drawn (the buurt and wijk borders, from /kaart/wijken.geojson).
    expect(page.locator("#kaart .leaflet-overlay-pane path").first).to_be_attached()
    page.evaluate(
        """() => { window.locations = [];
        document.addEventListener('portal:location', e => window.locations.push(e.detail)); }"""
    )


def map_element(page: Page):
    return page.get_by_role("application", name="Kaart van Hilversum")


def click_on_map(page: Page, lon: float, lat: float) -> None:
    """Clicks where Leaflet draws (lon, lat) now."""
    x, y = page.evaluate(
        "([lat, lon]) => { const p = document.getElementById('kaart')._portalMap"
        ".latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [lat, lon],
    )
    map_element(page).click(position={"x": x, "y": y})


def pin(page: Page) -> tuple[float, float]:
    """(lon, lat) as the form will send it."""
    return float(page.locator("#lon").input_value()), float(page.locator("#lat").input_value())


def fill_the_rest(page: Page) -> None:
    """What a resident fills in besides the place."""
    page.get_by_label("Een probleem in mijn buurt").check()
    page.get_by_label("Schoon", exact=True).check()
    page.get_by_label("Beschrijving", exact=True).fill(
        "Bij de speeltuin ligt al een week veel zwerfvuil naast de bank."
    )


def stored_signal(app: Flask) -> Signal:
    with db_session(app) as session:
        signal = session.scalars(select(Signal)).one()
        session.expunge(signal)
        return signal


def expect_in_kerkelanden(page: Page, said: str = IN_KERKELANDEN) -> None:
    expect(page.locator("#kaart-plek")).to_have_text(said)
    expect(page.get_by_label("Wijk", exact=True)).to_have_value(ZUIDWEST)
    expect(page.get_by_label("Buurt", exact=True)).to_have_value(KERKELANDEN)
    assert default_geography().locate(*pin(page)).code == KERKELANDEN
    last = page.evaluate("() => window.locations[window.locations.length - 1]")
    lon, lat = pin(page)
    assert last == {
        "lon": pytest.approx(lon, abs=1e-6),
        "lat": pytest.approx(lat, abs=1e-6),
        "buurt": KERKELANDEN,
        "wijk": ZUIDWEST,
        "inside": True,
    }


def arrow_presses(
    start: tuple[float, float], target: tuple[float, float]
) -> tuple[list[str], tuple[float, float]]:
    """The keys that take the pin from ``start`` to about ``target`` (lon, lat) in the script's
    steps (250 m with Shift, then 25 m), and the (lon, lat) where they end."""
    north = (target[1] - start[1]) * METRES_PER_DEGREE
    east = (target[0] - start[0]) * METRES_PER_DEGREE * math.cos(math.radians(start[1]))
    keys: list[str] = []
    moved = []
    for metres, positive, negative in (
        (north, "ArrowUp", "ArrowDown"),
        (east, "ArrowRight", "ArrowLeft"),
    ):
        key = positive if metres > 0 else negative
        big, rest = divmod(abs(metres), BIG_STEP_METRES)
        small = round(rest / STEP_METRES)
        keys += [f"Shift+{key}"] * int(big) + [key] * small
        moved.append(math.copysign(big * BIG_STEP_METRES + small * STEP_METRES, metres))
    end_lat = start[1] + moved[0] / METRES_PER_DEGREE
    end_lon = start[0] + moved[1] / METRES_PER_DEGREE / math.cos(math.radians(start[1]))
    return keys, (end_lon, end_lat)


# --- the pin -------------------------------------------------------------------------------------


def test_a_pin_by_click_lands_in_kerkelanden_and_is_sent(
    page: Page, live_server: str, app: Flask, page_errors: list[str]
) -> None:
    assert default_geography().locate(*KERKELANDEN_PIN).code == KERKELANDEN
    open_form(page, live_server)
    expect(page.get_by_label("Wijk", exact=True)).to_have_value("")
    assert_accessible(page)

    click_on_map(page, *KERKELANDEN_PIN)

    expect_in_kerkelanden(page)
    lon, lat = pin(page)
    assert abs(lon - KERKELANDEN_PIN[0]) < 0.001 and abs(lat - KERKELANDEN_PIN[1]) < 0.001
    expect(page.locator("#kaart .leaflet-marker-icon")).to_have_count(1)
    assert_accessible(page)

    fill_the_rest(page)
    submit(page)
    confirmation(page, live_server)
    signal = stored_signal(app)
    assert (signal.lon, signal.lat) == (pytest.approx(lon), pytest.approx(lat))
    assert (signal.wijk_code, signal.buurt_code, signal.location_source) == (
        ZUIDWEST,
        KERKELANDEN,
        "pin",
    )


def test_a_pin_by_keyboard_lands_in_kerkelanden_and_is_sent(
    page: Page, live_server: str, app: Flask, page_errors: list[str]
) -> None:
    open_form(page, live_server)
    # The map is the next stop after the address fields (and the location button).
    page.get_by_label("Postcode", exact=True).focus()
    for _ in range(3):
        page.keyboard.press("Tab")
        if map_element(page).evaluate("el => el === document.activeElement"):
            break
    expect(map_element(page)).to_be_focused()
    expect(map_element(page)).to_have_accessible_description(re.compile("pijltjestoetsen"))
    assert_accessible(page)

    page.keyboard.press("Enter")  # a pin in the middle of the map
    expect(page.locator("#kaart .leaflet-marker-icon")).to_have_count(1)
    expect(page.locator("#kaart-plek")).not_to_be_empty()
    presses, (end_lon, end_lat) = arrow_presses(pin(page), KERKELANDEN_PIN)
    # Where those steps end is in Kerkelanden.
    assert default_geography().locate(end_lon, end_lat).code == KERKELANDEN
    for key in presses:
        page.keyboard.press(key)

    expect_in_kerkelanden(page)
    lon, lat = pin(page)
    assert abs(lon - end_lon) < 0.0005 and abs(lat - end_lat) < 0.0005
    # Announced once the keys stop (not at every step).
    announced = page.evaluate("() => window.locations.length")
    assert announced <= 3, f"{announced} announcements for {len(presses)} key presses"
    zoom = page.evaluate("() => document.getElementById('kaart')._portalMap.getZoom()")
    page.evaluate(
        "() => { window.zoomed = false; document.getElementById('kaart')._portalMap"
        ".once('zoomend', () => { window.zoomed = true; }); }"
    )
    page.keyboard.press("+")
    page.wait_for_function("() => window.zoomed")
    assert page.evaluate("() => document.getElementById('kaart')._portalMap.getZoom()") == zoom + 1
    assert_accessible(page)

    fill_the_rest(page)
    submit(page)
    confirmation(page, live_server)
    signal = stored_signal(app)
    assert (signal.lon, signal.lat) == (pytest.approx(lon), pytest.approx(lat))
    assert (signal.buurt_code, signal.location_source) == (KERKELANDEN, "pin")


def test_a_pin_outside_hilversum_says_so_at_once_and_the_form_still_goes(
    page: Page, live_server: str, app: Flask, page_errors: list[str]
) -> None:
    assert default_geography().locate(*WEST_OF_HILVERSUM) is None
    open_form(page, live_server)

    click_on_map(page, *WEST_OF_HILVERSUM)

    expect(page.locator("#kaart-plek")).to_contain_text(OUTSIDE)
    expect(page.locator("#lat")).to_have_value("")
    expect(page.locator("#lon")).to_have_value("")
    assert page.evaluate("() => window.locations[window.locations.length - 1].inside") is False
    assert_accessible(page)

    # The lists still place it.
    page.get_by_label("Buurt", exact=True).select_option(label="Kerkelanden")
    fill_the_rest(page)
    submit(page)
    confirmation(page, live_server)
    signal = stored_signal(app)
    assert (signal.lon, signal.buurt_code, signal.location_source) == (None, KERKELANDEN, "buurt")


def test_choosing_another_buurt_in_the_list_takes_the_pin_away(
    page: Page, live_server: str, page_errors: list[str]
) -> None:
    open_form(page, live_server)
    click_on_map(page, *KERKELANDEN_PIN)
    expect_in_kerkelanden(page)

    page.get_by_label("Wijk", exact=True).select_option(label="Centrum")
    page.get_by_label("Buurt", exact=True).select_option(label="Sint Vitusbuurt")

    expect(page.locator("#kaart .leaflet-marker-icon")).to_have_count(0)
    expect(page.locator("#lat")).to_have_value("")
    expect(page.locator("#kaart-plek")).to_contain_text(
        "Daarom staat de speld niet meer op de kaart"
    )
    assert_accessible(page)


# --- the browser's location and the address ------------------------------------------------------


def test_my_location_puts_the_pin_where_i_am(
    new_page: Callable[..., Page], live_server: str
) -> None:
    lon, lat = KERKELANDEN_PIN
    page = new_page(geolocation={"longitude": lon, "latitude": lat}, permissions=["geolocation"])
    errors = script_errors(page)
    open_form(page, live_server)
    button = page.get_by_role("button", name="Gebruik mijn locatie")
    expect(button).to_have_accessible_description(re.compile("vraagt dan of u uw locatie"))

    button.click()

    expect_in_kerkelanden(page)
    assert pin(page) == (pytest.approx(lon, abs=1e-6), pytest.approx(lat, abs=1e-6))
    assert_accessible(page)
    assert errors == []


def test_refusing_my_location_is_answered_kindly(
    new_page: Callable[..., Page], live_server: str
) -> None:
    page = new_page()  # no permission given: the browser refuses
    errors = script_errors(page)
    open_form(page, live_server)

    page.get_by_role("button", name="Gebruik mijn locatie").click()

    expect(page.locator("#kaart-plek")).to_contain_text(
        "U heeft geen toestemming gegeven om uw locatie te gebruiken."
    )
    expect(page.locator("#lat")).to_have_value("")
    assert_accessible(page)
    assert errors == []


@pytest.mark.parametrize("app_config", ["geocoder"], indirect=True)
def test_an_address_is_put_on_the_map(
    page: Page,
    live_server: str,
    page_errors: list[str],
) -> None:
    open_form(page, live_server)

    page.get_by_label("Huisnummer", exact=True).fill("12")
    page.get_by_label("Postcode", exact=True).fill("1216 AB")
    page.get_by_label("Postcode", exact=True).blur()

    expect_in_kerkelanden(page, f"Adres gevonden op de kaart. {IN_KERKELANDEN}")
    assert pin(page) == (
        pytest.approx(NUMBER_12[0], abs=1e-6),
        pytest.approx(NUMBER_12[1], abs=1e-6),
    )
    assert_accessible(page)


# --- without tiles, without JavaScript -----------------------------------------------------------


@pytest.mark.parametrize("app_config", ["tiles unreachable"], indirect=True)
def test_with_the_tiles_unreachable_the_outlines_and_the_pin_still_work(
    page: Page, live_server: str, app: Flask, page_errors: list[str]
) -> None:
    assert app.config["MAP_TILE_URL"].startswith("http://127.0.0.1:")
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    open_form(page, live_server)
    # The tiles were asked for and failed; the map says so by its plain background.
    expect(page.locator("#kaart")).to_have_class(re.compile(r"\bportal-map--no-tiles\b"))
    assert any(url.startswith(app.config["MAP_TILE_URL"].split("{")[0]) for url in failed)
    expect(page.locator("#kaart .leaflet-control-attribution")).to_contain_text("Kadaster")

    click_on_map(page, *KERKELANDEN_PIN)

    expect_in_kerkelanden(page)
    assert_accessible(page)


def test_without_javascript_the_form_is_as_before(
    new_page: Callable[..., Page], live_server: str, app: Flask
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_server}/melden")
    expect(page.get_by_label("Beschrijving", exact=True)).to_be_visible()
    expect(page.locator("#kaart-blok")).to_be_hidden()
    expect(page.get_by_role("button", name="Gebruik mijn locatie")).to_be_hidden()

    fill_the_rest(page)
    page.get_by_label("Wijk", exact=True).select_option(label="Zuidwest")
    page.get_by_label("Buurt", exact=True).select_option(label="Kerkelanden")
    submit(page)
    confirmation(page, live_server)
    signal = stored_signal(app)
    assert (signal.lon, signal.buurt_code, signal.location_source) == (None, KERKELANDEN, "buurt")


# --- the status page -----------------------------------------------------------------------------


def test_the_status_page_shows_the_point_on_a_small_map(
    page: Page, live_server: str, page_errors: list[str]
) -> None:
    open_form(page, live_server)
    click_on_map(page, *KERKELANDEN_PIN)
    expect_in_kerkelanden(page)
    lon, lat = pin(page)
    fill_the_rest(page)
    submit(page)
    _reference, status_url = confirmation(page, live_server)

    page.goto(status_url)

    small_map = page.locator("#status-kaart")
    expect(small_map).to_be_visible()
    expect(small_map).to_have_attribute("aria-hidden", "true")
    expect(small_map.locator(".leaflet-marker-icon")).to_have_count(1)
    expect(small_map.locator(".leaflet-overlay-pane path").first).to_be_attached()
    shown = page.evaluate(
        """() => { const map = document.getElementById('status-kaart')._portalMap; const pins = [];
        map.eachLayer(layer => { if (layer instanceof L.Marker) pins.push(layer.getLatLng()); });
        return [pins.map(p => [p.lng, p.lat]), map.getBounds().contains(pins[0])]; }"""
    )
    assert shown == [[[pytest.approx(lon, abs=1e-6), pytest.approx(lat, abs=1e-6)]], True]
    # Without tiles there are no streets to see: the buurt is outlined around the pin.
    expect(small_map.locator("path[fill-opacity='0.15']")).to_have_count(1)
    # Nothing in it is a tab stop; the place is said in words, once.
    assert small_map.locator("a:not([tabindex='-1']), [tabindex='0']").count() == 0
    expect(page.locator(".portal-summary")).to_contain_text("Wijk Zuidwest, buurt Kerkelanden")
    assert_accessible(page)


def test_without_a_point_the_status_map_outlines_the_buurt(
    page: Page, live_server: str, page_errors: list[str]
) -> None:
    open_form(page, live_server)
    page.get_by_label("Buurt", exact=True).select_option(label="Kerkelanden")
    fill_the_rest(page)
    submit(page)
    _reference, status_url = confirmation(page, live_server)

    page.goto(status_url)

    small_map = page.locator("#status-kaart")
    expect(small_map).to_be_visible()
    expect(small_map.locator(".leaflet-marker-icon")).to_have_count(0)
    # The buurt's own outline, filled, on top of the city's outlines.
    expect(small_map.locator("path[fill-opacity='0.15']")).to_have_count(1)
    assert_accessible(page)
