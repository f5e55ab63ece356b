"""The back-office map and "Plek corrigeren" in a real browser: Anna opens Zuidwest's signals
on the map, finds the right markers and rows, opens one from its popup and moves its point by
clicking on the map into the next buurt; without JavaScript she picks a buurt from the list,
and a point outside Hilversum is refused. axe-core checks every state with scripts, errors
included; the Nu HTML checker every page."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.domain.geography import default_geography
from portal.models import Signal
from portal.seeding import DEMO_PASSWORD
from tests.factories import ANNA, db_session
from tests.fixtures.browser import assert_accessible
from tests.test_browser_backoffice import log_in
from tests.test_relocation import (
    AMSTERDAM,
    HAVENKWARTIER,
    IN_SINT_VITUSBUURT,
    ZEVERIJN,
    submit,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

# Kerkelanden, some 70 m from its border with Zeverijn, and a point as far across it.
NEAR_THE_BORDER = (5.147257, 52.21699)  # (lon, lat)
ACROSS_THE_BORDER = (5.149657, 52.21699)
IN_HAVENKWARTIER = (5.140934, 52.221929)
HET_RODE_DORP = "BU04020302"


def world_pixels(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Web Mercator, as Leaflet places a point at ``zoom`` (256-pixel tiles)."""
    size = 256 * 2**zoom
    x = (lon + 180) / 360 * size
    sin = math.sin(math.radians(lat))
    y = (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * size
    return x, y


def click_on_map(page: Page, center: tuple[float, float], target: tuple[float, float]) -> None:
    """Clicks the map where ``target`` is, the map being centred on ``center``."""
    element = page.locator("#melding-kaart")
    zoom = int(element.get_attribute("data-detail-zoom") or "16")
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    assert box
    cx, cy = world_pixels(*center, zoom)
    tx, ty = world_pixels(*target, zoom)
    page.mouse.click(box["x"] + box["width"] / 2 + tx - cx, box["y"] + box["height"] / 2 + ty - cy)


def log_in_without_scripts(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/backoffice/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()


def stored_point(app: Flask, reference: str) -> tuple[float | None, float | None, str | None]:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        return signal.lon, signal.lat, signal.buurt_code


def test_anna_finds_zuidwest_on_the_map_and_moves_a_point_by_clicking(
    app: Flask, live_server: str, page: Page
) -> None:
    near = submit(app, point=NEAR_THE_BORDER, title="Afval bij de glasbak")
    haven = submit(app, point=IN_HAVENKWARTIER, title="Losse stoeptegel")
    centrum = submit(app, point=IN_SINT_VITUSBUURT, title="Afval in het centrum")
    no_point = submit(app, buurt=ZEVERIJN, title="Bankje kapot")

    log_in(page, live_server, ANNA)
    page.goto(f"{live_server}/backoffice/signalen?scope=all&wijk=WK040203")
    assert_accessible(page)
    page.get_by_role("link", name="Bekijk deze signalen op de kaart").click()
    expect(page.locator("h1")).to_have_text("Kaart: alle signalen")
    expect(page.locator("main")).to_contain_text("Wijk: Zuidwest")
    expect(page.locator("#kaart")).to_be_visible()
    rows = page.locator(".portal-map-table tbody th a")
    expect(rows).to_have_text([haven, near])  # newest first
    expect(page.locator("main")).to_contain_text(
        "1 signaal heeft geen punt en staat niet op de kaart."
    )
    main = page.locator("main").inner_text()
    assert centrum not in main and no_point not in main
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    assert_accessible(page)

    # Some 700 m apart: two markers, not one cluster, once the map fits them both.
    marker = page.locator(f'img.leaflet-marker-icon[title="{near}"]')
    expect(marker).to_be_visible()
    expect(page.locator("img.leaflet-marker-icon")).to_have_count(2)
    marker.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Afval bij de glasbak")
    expect(popup).to_contain_text("Status: Ontvangen")
    assert_accessible(page)
    popup.get_by_role("link", name=near).click()
    expect(page.locator("h1")).to_contain_text(near)

    # The small map, centred on the point; a click across the border picks Zeverijn.
    expect(page.locator("#melding-kaart")).to_be_visible()
    expect(page.locator("#relocate-map-hint")).to_be_visible()
    expect(page.locator("#melding-kaart .leaflet-marker-icon")).to_have_count(1)
    page.wait_for_function(
        "() => document.querySelectorAll('#melding-kaart path.leaflet-interactive, "
        "#melding-kaart path').length > 0"
    )
    assert_accessible(page)
    click_on_map(page, NEAR_THE_BORDER, ACROSS_THE_BORDER)
    found = page.locator("#relocate-found")
    expect(found).to_have_text(
        "Gekozen plek: buurt Zeverijn, wijk Zuidwest. Klik op ‘Bewaar plek’ om dit op te slaan."
    )
    section = page.locator("#actie-relocate")
    expect(section.get_by_label("Buurt", exact=True)).to_have_value(ZEVERIJN)
    lat = float(section.get_by_label("Breedtegraad").input_value())
    lon = float(section.get_by_label("Lengtegraad").input_value())
    assert abs(lat - ACROSS_THE_BORDER[1]) < 0.0001 and abs(lon - ACROSS_THE_BORDER[0]) < 0.0001
    assert_accessible(page)
    section.get_by_role("button", name="Bewaar plek").click()

    expect(page.locator("main")).to_contain_text(
        "De plek is gecorrigeerd: buurt Zeverijn, wijk Zuidwest."
    )
    expect(page.locator(".portal-location__buurt")).to_have_text("Zeverijn (BU04020303)")
    expect(page.locator("main")).not_to_contain_text("ligt nu in wijk")  # still Zuidwest
    saved_lon, saved_lat, buurt = stored_point(app, near)
    assert buurt == ZEVERIJN
    assert saved_lon is not None and saved_lat is not None
    found_buurt = default_geography().locate(saved_lon, saved_lat)
    assert found_buurt is not None and found_buurt.code == ZEVERIJN
    assert (round(saved_lat, 4), round(saved_lon, 4)) == (round(lat, 4), round(lon, 4))
    assert_accessible(page)

    # Coordinates typed outside Hilversum: said at once, and refused when saved anyway.
    section.get_by_label("Breedtegraad").fill(str(AMSTERDAM[1]))
    section.get_by_label("Lengtegraad").fill(str(AMSTERDAM[0]))
    section.get_by_label("Lengtegraad").blur()
    expect(found).to_have_text("Dit punt ligt buiten Hilversum. Kies een punt binnen de gemeente.")
    assert_accessible(page)
    section.get_by_label("Buurt", exact=True).select_option(value="")
    section.get_by_role("button", name="Bewaar plek").click()
    summary = page.locator(".portal-error-summary")
    expect(summary).to_contain_text("Dit punt ligt buiten Hilversum.")
    expect(page).to_have_title(re.compile(r"^Fout: "))
    assert_accessible(page)
    assert stored_point(app, near)[2] == ZEVERIJN


def test_without_javascript_a_buurt_from_the_list_and_the_title_for_neighbours(
    app: Flask, live_server: str, new_page: Callable[..., Page]
) -> None:
    reference = submit(app, point=IN_HAVENKWARTIER, title="Losse stoeptegel bij nummer 3")
    # axe-core needs scripts: without them the Nu HTML checker checks these pages (each one
    # is saved); the same states with scripts are checked by axe in the test above.
    page = new_page(java_script_enabled=False)
    log_in_without_scripts(page, live_server, ANNA)
    page.goto(f"{live_server}/backoffice/kaart?scope=all&wijk=WK040203")
    expect(page.locator("#kaart")).to_be_hidden()
    expect(page.locator(".portal-map-table tbody th a")).to_have_text([reference])
    page.get_by_role("link", name=reference).click()
    expect(page.locator("#melding-kaart")).to_be_hidden()
    expect(page.locator("#relocate-map-hint")).to_be_hidden()

    section = page.locator("#actie-relocate")
    section.get_by_label("Buurt", exact=True).select_option(label="Het Rode Dorp")
    section.get_by_role("button", name="Bewaar plek").click()
    expect(page.locator("main")).to_contain_text(
        "De plek is gecorrigeerd: buurt Het Rode Dorp, wijk Zuidwest."
    )
    expect(page.locator(".portal-location__buurt")).to_have_text("Het Rode Dorp (BU04020302)")
    expect(page.locator(".portal-location__point")).to_have_text("geen")  # not in that buurt
    assert stored_point(app, reference) == (None, None, HET_RODE_DORP)

    # A point outside Hilversum, typed: the error sits at the field, what was typed stays.
    section.get_by_label("Breedtegraad").fill(str(AMSTERDAM[1]))
    section.get_by_label("Lengtegraad").fill(str(AMSTERDAM[0]))
    section.get_by_role("button", name="Bewaar plek").click()
    expect(page).to_have_title(re.compile(r"^Fout: "))
    expect(page.locator(".portal-error-summary")).to_contain_text(
        "Dit punt ligt buiten Hilversum. Kies een punt binnen de gemeente, of alleen een buurt."
    )
    expect(section.locator("#relocate-lat-error")).to_contain_text("buiten Hilversum")
    expect(section.get_by_label("Breedtegraad")).to_have_value(str(AMSTERDAM[1]))
    assert stored_point(app, reference) == (None, None, HET_RODE_DORP)

    # A point in Havenkwartier again, typed: the buurt follows from it.
    section.get_by_label("Breedtegraad").fill("52,221929")
    section.get_by_label("Lengtegraad").fill("5,140934")
    section.get_by_role("button", name="Bewaar plek").click()
    expect(page.locator(".portal-location__buurt")).to_have_text("Havenkwartier (BU04020301)")
    assert stored_point(app, reference) == (*IN_HAVENKWARTIER, HAVENKWARTIER)

    # The title neighbours see: without the house number.
    titles = page.locator("#actie-public_title")
    titles.get_by_label("Titel voor buurtbewoners").fill("Losse stoeptegel")
    titles.get_by_role("button", name="Bewaar titel").click()
    expect(page.locator(".portal-public-title__shown")).to_have_text("Losse stoeptegel")


def test_signals_close_together_are_one_cluster_until_you_zoom_in(
    app: Flask, live_server: str, page: Page
) -> None:
    first = submit(app, point=NEAR_THE_BORDER, title="Afval bij de glasbak")
    second = submit(app, point=(5.14805, 52.21699), title="Nog meer afval")  # some 55 m away
    far = submit(app, point=IN_HAVENKWARTIER, title="Losse stoeptegel")
    log_in(page, live_server, ANNA)
    page.goto(f"{live_server}/backoffice/kaart?scope=all")
    cluster = page.locator(".portal-map-cluster")
    expect(cluster).to_have_count(1)
    expect(cluster.locator("div")).to_have_attribute(
        "title", "2 signalen hier; klik om in te zoomen"
    )
    expect(page.locator(f'img.leaflet-marker-icon[title="{far}"]')).to_be_visible()
    assert_accessible(page)
    cluster.click()
    for reference in (first, second):
        expect(page.locator(f'img.leaflet-marker-icon[title="{reference}"]')).to_be_visible()
    expect(cluster).to_have_count(0)
    page.wait_for_timeout(400)  # the zoom's animation ends before axe reads the colours
    assert_accessible(page)
