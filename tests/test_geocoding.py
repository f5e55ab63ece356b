"""The PDOK Locatieserver adapter (portal/domain/geocoding.py), against a real HTTP server on a
local port that answers like the Locatieserver (tests/fixtures/locatieserver_response.json), and
against no server at all: a geocoder that fails never fails the form.

The fake server is also used by tests/test_place_views.py and tests/test_browser_map.py (import
the ``locatieserver`` and ``closed_port`` fixtures from here)."""

from __future__ import annotations

import copy
import html
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.domain.geocoding import LocatieserverLocator, parse_point, split_house_number
from portal.domain.geography import default_geography
from portal.models import Signal
from tests.factories import db_session
from tests.test_report_form import no_location, only_signal, post_report, valid_form

RESPONSE = json.loads(
    (Path(__file__).parent / "fixtures" / "locatieserver_response.json").read_text("utf-8")
)
# The two addresses in the recorded answer: Kerkelandenlaan 12 and 12A, 1216 AB Hilversum.
POSTCODE = "1216 AB"
NUMBER_12 = (5.13912031, 52.21498166)
NUMBER_12A = (5.13935447, 52.21489012)
UTRECHT_DOM = "POINT(5.1214 52.0908)"
KERKELANDEN = "BU04020304"
ZUIDWEST = "WK040203"
CENTRUM = "WK040201"
SINT_VITUSBUURT = "BU04020103"
BASE_PATH = "/bzk/locatieserver/search/v3_1"


@dataclass
class FakeLocatieserver:
    """What the server was asked (path and query of each request) and how it answers:
    ``"ok"`` like the Locatieserver (the recorded answer for its postcode and number, no
    documents for any other), ``"error"`` HTTP 500, ``"garbage"`` not JSON, ``"slow"`` the
    right answer after ``delay`` seconds, ``"outside"`` a point outside Hilversum, ``"body"``
    the JSON of ``body`` whatever was asked."""

    url: str
    mode: str = "ok"
    delay: float = 0.0
    body: object = None
    requests: list[str] = field(default_factory=list)

    def answer(self, path: str) -> tuple[int, bytes]:
        self.requests.append(path)
        if self.mode == "body":
            return 200, json.dumps(self.body).encode()
        if self.mode == "error":
            return 500, b'{"message": "Internal Server Error"}'
        if self.mode == "garbage":
            return 200, b"<html><body>Onderhoud</body></html>"
        if self.mode == "slow":
            time.sleep(self.delay)
        parts = urlsplit(path)
        if parts.path != BASE_PATH + "/free":
            return 404, b'{"message": "Not Found"}'
        filters = parse_qs(parts.query).get("fq", [])
        answer = copy.deepcopy(RESPONSE)
        if not {"type:adres", "postcode:1216AB", "huisnummer:12"} <= set(filters):
            answer["response"].update(numFound=0, maxScore=0.0, docs=[])
        if self.mode == "outside":
            for doc in answer["response"]["docs"]:
                doc["centroide_ll"] = UTRECHT_DOM
        return 200, json.dumps(answer).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        status, body = self.server.fake.answer(self.path)
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeLocatieserver


@pytest.fixture
def locatieserver() -> Iterator[FakeLocatieserver]:
    """A Locatieserver on a free local port; its ``url`` is what GEOCODER_URL would be."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeLocatieserver(f"http://127.0.0.1:{server.server_address[1]}{BASE_PATH}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server.fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port that refuses connections: bound (so nobody else gets it), never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def app_config(app_config: dict[str, object], request: pytest.FixtureRequest) -> dict[str, object]:
    """``@pytest.mark.parametrize("app_config", ["geocoder"], indirect=True)``: the app asks the
    fake Locatieserver; ``"geocoder down"``: a geocoder URL where nothing answers."""
    kind = getattr(request, "param", None)
    if kind == "geocoder":
        server: FakeLocatieserver = request.getfixturevalue("locatieserver")
        return {**app_config, "GEOCODER_URL": server.url, "GEOCODER_TIMEOUT_SECONDS": 0.5}
    if kind == "geocoder down":
        port = request.getfixturevalue("closed_port")
        return {**app_config, "GEOCODER_URL": f"http://127.0.0.1:{port}{BASE_PATH}"}
    return app_config


# --- the adapter on its own ---------------------------------------------------------------------


def test_the_recorded_answer_places_kerkelandenlaan_12_in_kerkelanden(
    locatieserver: FakeLocatieserver,
) -> None:
    locator = LocatieserverLocator(locatieserver.url, timeout=2)

    point = locator.locate_address("Kerkelandenlaan", "12", POSTCODE)

    assert point == NUMBER_12
    buurt = default_geography().locate(*point)
    assert buurt is not None and buurt.code == KERKELANDEN
    (asked,) = locatieserver.requests
    query = parse_qs(urlsplit(asked).query)
    assert urlsplit(asked).path == BASE_PATH + "/free"
    assert set(query["fq"]) == {"type:adres", "postcode:1216AB", "huisnummer:12"}
    assert query["q"] == ["1216AB 12"]


@pytest.mark.parametrize(
    ("house_number", "expected"),
    [("12a", NUMBER_12A), ("12 A", NUMBER_12A), ("12", NUMBER_12), ("12-3", NUMBER_12)],
)
def test_the_addition_picks_the_right_number(
    locatieserver: FakeLocatieserver, house_number: str, expected: tuple[float, float]
) -> None:
    """12a is 12A; an addition the BAG does not know (12-3) still lands at number 12."""
    locator = LocatieserverLocator(locatieserver.url, timeout=2)
    assert locator.locate_address("", house_number, "1216ab") == expected


def test_an_address_the_server_does_not_know_is_not_found(
    locatieserver: FakeLocatieserver,
) -> None:
    locator = LocatieserverLocator(locatieserver.url, timeout=2)
    assert locator.locate_address("", "14", POSTCODE) is None
    assert locator.locate_address("", "12", "1217 AB") is None
    assert len(locatieserver.requests) == 2


def test_no_question_is_sent_for_an_address_that_cannot_exist(
    locatieserver: FakeLocatieserver,
) -> None:
    locator = LocatieserverLocator(locatieserver.url, timeout=2)
    for postcode, number in [("0123 AB", "12"), ("1216 SS", "12"), (POSTCODE, ""), (POSTCODE, "a")]:
        assert locator.locate_address("", number, postcode) is None
    assert locatieserver.requests == []


@pytest.mark.parametrize("mode", ["error", "garbage"])
def test_a_failing_server_means_not_found_with_a_warning(
    locatieserver: FakeLocatieserver, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    locatieserver.mode = mode
    locator = LocatieserverLocator(locatieserver.url, timeout=2)

    with caplog.at_level(logging.WARNING, logger="portal.domain.geocoding"):
        assert locator.locate_address("", "12", POSTCODE) is None

    assert len(locatieserver.requests) == 1
    assert any("Locatieserver" in r.getMessage() for r in caplog.records), caplog.text
    assert "1216" not in caplog.text, "the resident's address does not belong in the log"


def test_a_server_that_is_down_means_not_found(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    locator = LocatieserverLocator(f"http://127.0.0.1:{closed_port}{BASE_PATH}", timeout=2)
    with caplog.at_level(logging.WARNING, logger="portal.domain.geocoding"):
        assert locator.locate_address("", "12", POSTCODE) is None
    assert "not reachable" in caplog.text


def test_a_slow_server_is_given_up_on_after_the_timeout(
    locatieserver: FakeLocatieserver, caplog: pytest.LogCaptureFixture
) -> None:
    locatieserver.mode, locatieserver.delay = "slow", 2.0
    locator = LocatieserverLocator(locatieserver.url, timeout=0.3)

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="portal.domain.geocoding"):
        assert locator.locate_address("", "12", POSTCODE) is None

    assert time.monotonic() - started < 1.5
    assert "not reachable" in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        {"response": {"numFound": 1}},
        {"response": {"docs": "none"}},
        {"docs": []},
        [],
        {"response": {"docs": [{**RESPONSE["response"]["docs"][0], "centroide_ll": "POINT(x y)"}]}},
        {"response": {"docs": [{**RESPONSE["response"]["docs"][0], "centroide_ll": None}]}},
        {"response": {"docs": [{**RESPONSE["response"]["docs"][0], "huisnummer": "twaalf"}]}},
        # A server that ignored the filters: another address is not this one.
        {"response": {"docs": [{**RESPONSE["response"]["docs"][0], "postcode": "1211AB"}]}},
    ],
)
def test_an_answer_of_another_shape_means_not_found(
    locatieserver: FakeLocatieserver, body: object
) -> None:
    locatieserver.mode, locatieserver.body = "body", body
    locator = LocatieserverLocator(locatieserver.url, timeout=2)
    assert locator.locate_address("", "12", POSTCODE) is None


def test_only_a_web_address_is_asked() -> None:
    assert LocatieserverLocator("file:///etc", timeout=1).locate_address("", "12", POSTCODE) is None


def test_house_numbers_and_points_are_read_as_the_bag_writes_them() -> None:
    assert split_house_number("12") == (12, "")
    assert split_house_number(" 12 a ") == (12, "A")
    assert split_house_number("12-2") == (12, "2")
    assert split_house_number("12 bis") == (12, "BIS")
    assert split_house_number("twaalf") is None
    assert split_house_number("") is None
    assert parse_point("POINT(5.13912031 52.21498166)") == NUMBER_12
    assert parse_point("point ( 5.1 52.2 )") == (5.1, 52.2)
    assert parse_point("POINT(500 52.2)") is None
    assert parse_point("POLYGON((5 52, 5.1 52, 5 52))") is None
    assert parse_point(None) is None


# --- the form: placed by the address when a geocoder is configured ------------------------------


def address_only(**overrides: object) -> dict[str, object]:
    """A form with an address but no pin and no buurt chosen."""
    return no_location(street="Kerkelandenlaan", house_number="12", postcode=POSTCODE, **overrides)


@pytest.mark.parametrize("app_config", ["geocoder"], indirect=True)
def test_the_form_places_a_signal_at_its_address(
    app: Flask, client: FlaskClient, locatieserver: FakeLocatieserver
) -> None:
    response = post_report(client, address_only())

    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with db_session(app) as session:
        signal = only_signal(session)
        assert (signal.lon, signal.lat) == pytest.approx(NUMBER_12)
        assert (signal.wijk_code, signal.buurt_code) == (ZUIDWEST, KERKELANDEN)
        assert signal.location_source == "address"
        assert not signal.location_flagged
        assert signal.owner is not None and signal.owner.name == "Anna de Vries"
    assert len(locatieserver.requests) == 1


@pytest.mark.parametrize("app_config", ["geocoder"], indirect=True)
def test_a_wijk_or_buurt_chosen_elsewhere_wins_over_the_address(
    app: Flask, client: FlaskClient
) -> None:
    """The address may be the resident's own, not the place's: what they chose in the lists
    decides when the address lies elsewhere (the map's script says the same)."""
    post_report(client, address_only(wijk=CENTRUM))
    post_report(client, address_only(wijk=ZUIDWEST, buurt="BU04020303"))  # Zeverijn
    with db_session(app) as session:
        first, second = session.scalars(select(Signal).order_by(Signal.id)).all()
        assert (first.wijk_code, first.lon, first.location_source) == (CENTRUM, None, "wijk")
        assert (second.buurt_code, second.lon, second.location_source) == (
            "BU04020303",
            None,
            "buurt",
        )


@pytest.mark.parametrize("app_config", ["geocoder"], indirect=True)
def test_the_address_makes_a_chosen_wijk_or_buurt_precise(app: Flask, client: FlaskClient) -> None:
    post_report(client, address_only(wijk=ZUIDWEST))
    post_report(client, address_only(wijk=ZUIDWEST, buurt=KERKELANDEN))
    with db_session(app) as session:
        for signal in session.scalars(select(Signal)).all():
            assert (signal.lon, signal.lat) == pytest.approx(NUMBER_12)
            assert (signal.buurt_code, signal.location_source) == (KERKELANDEN, "address")


@pytest.mark.parametrize("app_config", ["geocoder"], indirect=True)
def test_a_pin_outranks_the_address_and_is_not_geocoded(
    app: Flask, client: FlaskClient, locatieserver: FakeLocatieserver
) -> None:
    # A pin in Sint Vitusbuurt (Centrum), the address in Kerkelanden: the pin is where it is.
    post_report(client, valid_form(wijk="", buurt="", lon="5.1752", lat="52.2235"))
    with db_session(app) as session:
        signal = only_signal(session)
        assert (signal.wijk_code, signal.location_source) == (CENTRUM, "pin")
    assert locatieserver.requests == []


@pytest.mark.parametrize("app_config", ["geocoder"], indirect=True)
def test_an_address_point_outside_hilversum_leaves_the_form_to_decide(
    app: Flask, client: FlaskClient, locatieserver: FakeLocatieserver
) -> None:
    locatieserver.mode = "outside"
    post_report(client, address_only(wijk=CENTRUM, buurt=SINT_VITUSBUURT))
    with db_session(app) as session:
        signal = only_signal(session)
        assert (signal.lon, signal.lat) == (None, None)
        assert (signal.buurt_code, signal.location_source) == (SINT_VITUSBUURT, "buurt")


def _placed_as_without_a_geocoder(app: Flask, client: FlaskClient) -> None:
    """The form is accepted and placed by the lists and the postcode, as offline."""
    response = post_report(client, address_only(wijk=CENTRUM, buurt=SINT_VITUSBUURT))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    response = post_report(client, address_only())
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with db_session(app) as session:
        by_buurt, by_postcode = session.scalars(select(Signal).order_by(Signal.id)).all()
        assert (by_buurt.buurt_code, by_buurt.location_source) == (SINT_VITUSBUURT, "buurt")
        assert (by_postcode.wijk_code, by_postcode.location_source) == (ZUIDWEST, "postcode")
        assert by_buurt.lon is None and by_postcode.lon is None


@pytest.mark.parametrize("app_config", ["geocoder down"], indirect=True)
def test_the_form_works_with_the_geocoder_down(app: Flask, client: FlaskClient) -> None:
    _placed_as_without_a_geocoder(app, client)


@pytest.mark.parametrize("mode", ["error", "garbage"])
@pytest.mark.parametrize("app_config", ["geocoder"], indirect=True)
def test_the_form_works_with_a_failing_geocoder(
    app: Flask, client: FlaskClient, locatieserver: FakeLocatieserver, mode: str
) -> None:
    locatieserver.mode = mode
    _placed_as_without_a_geocoder(app, client)
    assert len(locatieserver.requests) == 2


def test_without_a_geocoder_the_form_is_placed_as_before(app: Flask, client: FlaskClient) -> None:
    assert app.config["GEOCODER_URL"] == ""
    _placed_as_without_a_geocoder(app, client)


@pytest.mark.parametrize("app_config", ["geocoder"], indirect=True)
def test_the_nearby_step_without_javascript_finds_signals_by_the_address(
    app: Flask, client: FlaskClient, locatieserver: FakeLocatieserver
) -> None:
    """No pin and no buurt, only the address typed: the step "Bekijk meldingen in de buurt"
    looks around the address's point, and stores nothing."""
    from tests.test_nearby import signal_at

    signal_at(app, NUMBER_12, title="Glasbak vol bij nummer 14")
    response = post_report(client, {**address_only(), "stap": "in-de-buurt"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Is dit al gemeld?" in page and "Glasbak vol bij nummer 14" in page
    assert len(locatieserver.requests) == 1
    with db_session(app) as session:
        assert session.scalar(select(func.count(Signal.id))) == 1  # only the one seen nearby
