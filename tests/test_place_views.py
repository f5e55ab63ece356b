"""The form's map asks the server where a pin is (GET /melden/plek) and where an address is
(GET /melden/adres); the outlines every map draws (GET /kaart/wijken.geojson); and the pages
carry the map parts only as an extra (hidden until a script shows them)."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.domain.geography import default_geography
from portal.models import Buurt, Signal
from portal.public.place_views import outside_hilversum_message
from tests.factories import db_session
from tests.test_geocoding import (  # noqa: F401 - fixtures
    NUMBER_12,
    FakeLocatieserver,
    app_config,
    closed_port,
    locatieserver,
)
from tests.test_report_form import only_signal, post_report, valid_form

KERKELANDEN_PIN = (5.140466, 52.215599)  # (lon, lat)
UTRECHT_DOM = (5.1214, 52.0908)


def place(client: FlaskClient, lon: object, lat: object):
    return client.get("/melden/plek", query_string={"lon": lon, "lat": lat})


def test_a_pin_in_kerkelanden_is_named_with_its_buurt_and_wijk(client: FlaskClient) -> None:
    assert default_geography().locate(*KERKELANDEN_PIN).code == "BU04020304"

    response = place(client, *KERKELANDEN_PIN)

    assert response.status_code == 200
    assert response.json == {
        "inside": True,
        "buurt": {"code": "BU04020304", "name": "Kerkelanden"},
        "wijk": {"code": "WK040203", "name": "Zuidwest"},
        "text": "Buurt Kerkelanden, wijk Zuidwest",
    }


def test_the_names_are_the_ones_in_the_database(app: Flask, client: FlaskClient) -> None:
    with db_session(app) as session:
        session.get(Buurt, "BU04020304").name = "Kerkelanden-Noord"
        session.commit()
    assert place(client, *KERKELANDEN_PIN).json["text"] == "Buurt Kerkelanden-Noord, wijk Zuidwest"


def test_a_pin_outside_hilversum_says_so_in_the_forms_own_words(client: FlaskClient) -> None:
    assert default_geography().locate(*UTRECHT_DOM) is None

    answer = place(client, *UTRECHT_DOM).json

    assert answer == {
        "inside": False,
        "buurt": None,
        "wijk": None,
        "text": outside_hilversum_message_nl(client),
    }
    # The same words the form answers with when such a pin is sent.
    lon, lat = UTRECHT_DOM
    page = post_report(client, valid_form(lon=str(lon), lat=str(lat))).get_data(as_text=True)
    assert answer["text"] in re.sub(r"\s+", " ", page.replace("&#39;", "'"))


def outside_hilversum_message_nl(client: FlaskClient) -> str:
    with client.application.test_request_context():
        return outside_hilversum_message()


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"lon": "5.14"},
        {"lon": "oost", "lat": "52.2"},
        {"lon": "nan", "lat": "52.2"},
        {"lon": "5.14", "lat": "inf"},
    ],
)
def test_a_point_that_is_not_one_is_refused(client: FlaskClient, query: dict[str, str]) -> None:
    response = client.get("/melden/plek", query_string=query)
    assert response.status_code == 400
    assert response.is_json


def test_without_a_geocoder_no_address_is_found(client: FlaskClient) -> None:
    response = client.get("/melden/adres", query_string={"postcode": "1216 AB", "huisnummer": "12"})
    assert response.status_code == 200
    assert response.json == {"found": False}


@pytest.mark.parametrize("app_config", ["geocoder"], indirect=True)
def test_with_a_geocoder_the_address_has_its_point(
    client: FlaskClient,
    locatieserver: FakeLocatieserver,  # noqa: F811 - the fixture
) -> None:
    found = client.get("/melden/adres", query_string={"postcode": "1216ab", "huisnummer": "12"})
    missing = client.get("/melden/adres", query_string={"postcode": "1216 AB", "huisnummer": "99"})
    invalid = client.get("/melden/adres", query_string={"postcode": "12", "huisnummer": "12"})

    assert found.json == {"found": True, "lon": NUMBER_12[0], "lat": NUMBER_12[1]}
    assert missing.json == {"found": False}
    assert invalid.json == {"found": False}
    assert len(locatieserver.requests) == 2, "an invalid postcode is not even asked"


@pytest.mark.parametrize("app_config", ["geocoder down"], indirect=True)
def test_with_the_geocoder_down_the_address_is_just_not_found(client: FlaskClient) -> None:
    response = client.get("/melden/adres", query_string={"postcode": "1216 AB", "huisnummer": "12"})
    assert response.status_code == 200
    assert response.json == {"found": False}


def test_the_outlines_are_every_wijk_and_buurt(client: FlaskClient) -> None:
    response = client.get("/kaart/wijken.geojson")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    features = json.loads(response.data)["features"]
    layers = [f["properties"]["layer"] for f in features]
    geo = default_geography()
    assert layers.count("wijk") == len(geo.wijken) and layers.count("buurt") == len(geo.buurten)


# --- the map parts in the pages -----------------------------------------------------------------


def test_the_form_has_its_map_hidden_until_a_script_shows_it(client: FlaskClient) -> None:
    page = client.get("/melden").get_data(as_text=True)
    block = re.search(r'<div class="portal-report-map" id="kaart-blok"[^>]*>', page)
    assert block and " hidden" in block.group(0)
    assert 'data-place-url="/melden/plek"' in block.group(0)
    assert "data-address-url" not in block.group(0), "no geocoder, no address look-up"
    assert re.search(r'<div class="portal-map portal-map--report" id="kaart" tabindex="0"', page)
    assert 'data-tiles=""' in page
    assert "js/report-map.js" in page and "vendor/leaflet/leaflet.js" in page
    # The map comes after the lists and address fields, which stay the way without it.
    assert page.index('id="postcode"') < page.index('id="kaart-blok"')


@pytest.mark.parametrize("app_config", ["geocoder"], indirect=True)
def test_with_a_geocoder_the_form_looks_up_addresses(client: FlaskClient) -> None:
    page = client.get("/melden").get_data(as_text=True)
    assert 'data-address-url="/melden/adres"' in page


def status_page(client: FlaskClient, data: dict[str, object]) -> str:
    post_report(client, data)
    confirmation = client.get("/melden/bedankt").get_data(as_text=True)
    link = re.search(r'href="http://portal\.test(/status/[^"]+)"', confirmation)
    assert link, "no status link on the confirmation page"
    return client.get(link.group(1)).get_data(as_text=True)


def test_the_status_page_shows_the_point_on_a_small_map(app: Flask, client: FlaskClient) -> None:
    lon, lat = KERKELANDEN_PIN
    page = status_page(client, valid_form(lon=str(lon), lat=str(lat)))

    element = re.search(r'<div class="portal-map portal-map--small" id="status-kaart"[^>]*>', page)
    assert element, "no map on the status page"
    assert 'aria-hidden="true"' in element.group(0) and " hidden" in element.group(0)
    assert 'data-point="52.215599,5.140466"' in element.group(0)
    assert 'data-buurt="BU04020304"' in element.group(0)
    assert "js/status-map.js" in page
    # The place in words is there for everyone, the map repeats it.
    assert "Wijk Zuidwest, buurt Kerkelanden" in page
    with db_session(app) as session:
        assert only_signal(session).lat == pytest.approx(lat)


def test_without_a_point_the_status_map_shows_the_buurt(client: FlaskClient) -> None:
    page = status_page(client, valid_form())
    element = re.search(r'<div class="portal-map portal-map--small" id="status-kaart"[^>]*>', page)
    assert element and 'data-buurt="BU04020304"' in element.group(0)
    assert "data-point" not in element.group(0)


def test_without_a_place_there_is_no_status_map(app: Flask, client: FlaskClient) -> None:
    page = status_page(client, valid_form(wijk="", buurt="", postcode="", house_number=""))
    with db_session(app) as session:
        signal = session.scalars(select(Signal)).one()
        assert signal.buurt_code is None and signal.lat is None
    assert 'id="status-kaart"' not in page
    assert "status-map.js" not in page and "leaflet" not in page
