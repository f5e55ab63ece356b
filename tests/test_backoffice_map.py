"""The back-office map (/backoffice/kaart) and the place on the signal page: the map lists
exactly what the inbox lists with the same filters (checked against the inbox's own query),
sensitive signals only for who may see them, a cap on the markers, the way back to the list;
"Plek corrigeren" and the title for neighbours with CSRF, roles, versions and errors. On
SQLite and PostgreSQL (the ``app`` fixture)."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.domain import relocation, sensitive
from portal.domain.casework import Actor
from portal.domain.deadlines import DeadlineRules, load_targets
from portal.domain.geography import default_geography
from portal.domain.inbox import Deadlines, InboxFilter, search_signals
from portal.models import Signal, User
from portal.vocabulary import Status
from tests.conftest import csrf_token
from tests.factories import ADMIN, ANNA, MANAGEMENT, SANNE, db_session, login, user_id
from tests.test_backoffice_inbox import move
from tests.test_relocation import (
    AMSTERDAM,
    HAVENKWARTIER,
    IN_KERKELANDEN,
    IN_SINT_VITUSBUURT,
    IN_ZEVERIJN,
    SINT_VITUSBUURT,
    ZEVERIJN,
    submit,
)

MAP = "/backoffice/kaart"
INBOX = "/backoffice/signalen"
TZ = ZoneInfo("Europe/Amsterdam")
ROW_LINK = re.compile(r'class="utrecht-link portal-inbox-reference" href="([^"]+)">([^<]+)</a>')
MARKERS = re.compile(r'<script type="application/json" id="kaart-markers">(.*?)</script>', re.S)
VERSION_INPUT = re.compile(r'name="version" value="(\d+)"')


# --- reading the pages ----------------------------------------------------------------------


def map_page(client: FlaskClient, query: str | dict[str, str] = "") -> str:
    response = client.get(MAP, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return response.get_data(as_text=True)


def markers(body: str) -> list[dict]:
    found = MARKERS.search(body)
    return json.loads(html.unescape(found.group(1))) if found else []


def table_references(body: str) -> list[str]:
    return [ref for _href, ref in ROW_LINK.findall(body)]


def text(body: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def inbox_says(app: Flask, email: str, query: dict[str, str]) -> tuple[set[str], set[str]]:
    """What the inbox's own query lists for this user and query string (every page): the
    references with a point, and those without."""
    with db_session(app) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        flt = InboxFilter.from_args(MultiDict(query), default_scope="all")
        rules = DeadlineRules(
            respond_working_days=app.config["RESPONSE_WORKING_DAYS"],
            handle_working_days=app.config["HANDLE_WORKING_DAYS"],
            pause_while_awaiting_resident=app.config["PAUSE_WHILE_AWAITING_RESIDENT"],
        )
        deadlines = Deadlines.at(
            datetime.now(UTC),
            rules.respond_working_days,
            TZ,
            targets=load_targets(session, rules),
        )
        page = search_signals(session, user, flt, 10_000, deadlines=deadlines)
        listed = [r.signal.reference for r in page.rows]
        points = dict(
            session.execute(
                select(Signal.reference, Signal.lat).where(Signal.reference.in_(listed))
            ).all()
        )
        with_point = {ref for ref in listed if points[ref] is not None}
        without = {ref for ref in listed if points[ref] is None}
        return with_point, without


def arrange(app: Flask) -> dict[str, str]:
    """Signals across two wijken, with and without a point, one closed, one initiative."""
    refs = {
        "kerkelanden": submit(app, point=IN_KERKELANDEN, title="Afval bij de glasbak"),
        "zeverijn": submit(app, point=IN_ZEVERIJN, title="Losse stoeptegel"),
        "centrum": submit(app, point=IN_SINT_VITUSBUURT, title="Afval in het centrum"),
        "no_point": submit(app, buurt=HAVENKWARTIER, title="Afval zonder punt"),
        "nowhere": submit(app, title="Afval ergens"),
    }
    move(app, refs["zeverijn"], Status.IN_PROGRESS, Status.RESOLVED)
    return refs


# --- the map page ---------------------------------------------------------------------------


QUERIES = [
    {"scope": "all"},
    {"scope": "mine"},
    {"scope": "all", "wijk": "WK040203"},
    {"scope": "all", "status": "open"},
    {"scope": "all", "status": "resolved", "wijk": "WK040203"},
    {"scope": "all", "q": "afval"},
    {"scope": "all", "buurt": ZEVERIJN},
    {"scope": "all", "wijk": "none"},
    {"scope": "all", "kind": "initiatief"},
    {"scope": "all", "respond_late": "1"},
    {"scope": "mine", "theme": "schoon", "status": "closed"},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_the_map_lists_exactly_what_the_inbox_lists_with_the_same_filters(app, client, query):
    arrange(app)
    login(client, ANNA)
    body = map_page(client, query)
    with_point, without = inbox_says(app, ANNA, query)
    on_map = markers(body)
    assert {m["reference"] for m in on_map} == with_point
    assert set(table_references(body)) == with_point
    total = len(with_point) + len(without)
    words = text(body)
    assert f"{total} signa" in words  # "1 signaal ..." / "3 signalen met deze filters."
    if without:
        n = len(without)
        assert (
            f"{n} signaal heeft geen punt" in words
            if n == 1
            else f"{n} signalen hebben geen punt" in words
        )
    else:
        assert "geen punt" not in words


def test_markers_link_to_their_signal_and_the_table_has_place_status_and_point(app, client):
    refs = arrange(app)
    login(client, ANNA)
    body = map_page(client, {"scope": "all", "wijk": "WK040203"})
    by_ref = {m["reference"]: m for m in markers(body)}
    kerkelanden = by_ref[refs["kerkelanden"]]
    assert kerkelanden == {
        "reference": refs["kerkelanden"],
        "title": "Afval bij de glasbak",
        "status": "Ontvangen",
        "lat": IN_KERKELANDEN[1],
        "lon": IN_KERKELANDEN[0],
        "url": f"/backoffice/signalen/{refs['kerkelanden']}",
    }
    assert by_ref[refs["zeverijn"]]["status"] == "Afgehandeld"
    # Newest first, in the table as on the map.
    assert table_references(body) == [refs["zeverijn"], refs["kerkelanden"]]
    row = re.search(rf"<tr[^>]*>\s*<th[^>]*><a[^>]*>{refs['kerkelanden']}</a>.*?</tr>", body, re.S)
    assert row
    cells = text(row.group(0))
    assert "Kerkelanden" in cells and "Zuidwest" in cells and "Ontvangen" in cells
    assert f"{IN_KERKELANDEN[1]:.5f}, {IN_KERKELANDEN[0]:.5f}" in cells
    # Hidden until the script draws it; the table is there without it.
    assert re.search(r'<div class="portal-map portal-backoffice-map" id="kaart"[^>]* hidden', body)


def test_a_title_cannot_break_out_of_the_marker_data(app, client):
    reference = submit(app, point=IN_KERKELANDEN, title="</script><script>alert(1)</script>")
    login(client, ANNA)
    body = map_page(client, {"scope": "all"})
    assert "<script>alert(1)" not in body
    [marker] = markers(body)
    assert marker["reference"] == reference
    assert marker["title"] == "</script><script>alert(1)</script>"


def test_the_filters_in_words_and_the_way_back_to_the_list(app, client):
    arrange(app)
    login(client, ANNA)
    query = {"scope": "all", "wijk": "WK040203", "status": "open", "q": "afval", "page": "3"}
    body = map_page(client, query)
    words = text(body)
    assert "Kaart: alle signalen" in words
    for expected in ("Zoeken: “afval”", "Status: Open", "Wijk: Zuidwest"):
        assert expected in words
    back = re.search(r'class="utrecht-link portal-map-list-link" href="([^"]+)"', body)
    assert back
    url = urlsplit(html.unescape(back.group(1)))
    assert url.path == INBOX
    assert parse_qs(url.query) == {
        "scope": ["all"],
        "wijk": ["WK040203"],
        "status": ["open"],
        "q": ["afval"],
    }


def test_the_inbox_links_to_the_map_with_its_filters(app, client):
    refs = arrange(app)
    login(client, ANNA)
    body = client.get(INBOX, query_string={"scope": "all", "wijk": "WK040203", "page": "1"})
    found = re.search(
        r'<p class="utrecht-paragraph portal-map-link"><a class="utrecht-link" href="([^"]+)">'
        r"Bekijk deze signalen op de kaart</a>",
        body.get_data(as_text=True),
    )
    assert found
    url = urlsplit(html.unescape(found.group(1)))
    assert url.path == MAP
    assert parse_qs(url.query) == {"scope": ["all"], "wijk": ["WK040203"]}
    shown = {m["reference"] for m in markers(map_page(client, url.query))}
    assert shown == {refs["kerkelanden"], refs["zeverijn"]}


def test_sensitive_signals_are_on_the_map_only_for_who_may_see_them(app):
    reference = submit(app, point=IN_KERKELANDEN, title="Jongeren bij het speelveld")
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        sensitive.mark(
            session,
            signal,
            reason="APJ-zaak",
            seen_version=signal.version,
            actor=Actor(user_id(app, ANNA), datetime.now(UTC)),
        )
        session.commit()
    for email, sees in ((ANNA, True), (ADMIN, True), (SANNE, False), (MANAGEMENT, False)):
        body = map_page(login(app.test_client(), email), {"scope": "all"})
        assert (reference in body) is sees, email
        assert ("Jongeren bij het speelveld" in body) is sees, email


def test_the_markers_are_capped_newest_first_and_the_page_says_so(app, client):
    references = [submit(app, point=IN_KERKELANDEN, title=f"Afval {i}") for i in range(4)]
    submit(app, buurt=HAVENKWARTIER, title="Zonder punt")
    app.config["BACKOFFICE_MAP_MAX_MARKERS"] = 2
    login(client, ANNA)
    body = map_page(client, {"scope": "all"})
    assert [m["reference"] for m in markers(body)] == references[:1:-1]
    assert table_references(body) == references[:1:-1]
    words = text(body)
    assert "Er zijn 4 signalen met een punt. De kaart toont alleen de 2 nieuwste." in words
    assert "5 signalen met deze filters. 2 staan op de kaart." in words
    assert "1 signaal heeft geen punt en staat niet op de kaart." in words


def test_no_map_when_no_signal_has_a_point(app, client):
    submit(app, buurt=HAVENKWARTIER)
    login(client, ANNA)
    body = map_page(client, {"scope": "all"})
    assert 'id="kaart"' not in body and "backoffice-map.js" not in body
    assert "Geen van deze signalen heeft een punt op de kaart." in text(body)
    assert "Geen signalen gevonden met deze filters." in text(map_page(client, {"q": "niets"}))


def test_management_sees_the_map_and_anonymous_visitors_log_in_first(app):
    reference = submit(app, point=IN_KERKELANDEN)
    body = map_page(login(app.test_client(), MANAGEMENT), {"scope": "all"})
    assert reference in body
    response = app.test_client().get(MAP)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/backoffice/login"


# --- the signal page: the small map and "Plek corrigeren" ------------------------------------


def page_of(client: FlaskClient, reference: str) -> str:
    response = client.get(f"/backoffice/signalen/{reference}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client: FlaskClient, reference: str, path: str, **data: str):  # type: ignore[no-untyped-def]
    base = f"/backoffice/signalen/{reference}"
    page = page_of(client, reference)
    if "version" not in data:
        data["version"] = VERSION_INPUT.search(page).group(1)  # type: ignore[union-attr]
    return client.post(f"{base}/{path}", data={"csrf_token": csrf_token(client, base), **data})


def stored(app: Flask, reference: str) -> Signal:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        session.expunge(signal)
        return signal


def test_the_page_shows_the_small_map_and_the_form_only_to_who_may_work_it(app):
    reference = submit(app, point=IN_KERKELANDEN)
    anna = page_of(login(app.test_client(), ANNA), reference)
    small_map = re.search(
        r'<div class="portal-map portal-signal-map" id="melding-kaart"[^>]*>', anna, re.S
    )
    assert small_map
    tag = small_map.group(0)
    assert f'data-lat="{IN_KERKELANDEN[1]}"' in tag and f'data-lon="{IN_KERKELANDEN[0]}"' in tag
    assert 'data-buurt="BU04020304"' in tag and 'data-editable="true"' in tag and " hidden" in tag
    assert 'id="actie-relocate"' in anna and 'id="actie-public_title"' in anna
    assert "Wat buurtbewoners zien" in anna
    management = page_of(login(app.test_client(), MANAGEMENT), reference)
    assert 'id="melding-kaart"' in management and "data-editable" not in management
    assert 'id="actie-relocate"' not in management and 'id="actie-public_title"' not in management
    assert "Afval bij de glasbak" in text(management)  # the public title, shown to all staff


def test_a_point_moves_the_signal_and_another_wijk_is_only_a_notice(app, client):
    reference = submit(app, point=IN_KERKELANDEN)
    login(client, ANNA)
    response = post(
        client, reference, "plek", lat="52,222504", lon=f"{IN_SINT_VITUSBUURT[0]}", buurt=""
    )
    assert response.status_code == 303
    signal = stored(app, reference)
    assert (signal.lon, signal.lat) == IN_SINT_VITUSBUURT
    assert signal.buurt_code == SINT_VITUSBUURT and signal.wijk_code == "WK040201"
    assert signal.owner_id == user_id(app, ANNA)  # not re-routed
    words = text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "De plek is gecorrigeerd: buurt Sint Vitusbuurt, wijk Centrum." in words
    assert "De melding ligt nu in wijk Centrum. Anna de Vries blijft de eigenaar." in words
    assert "Plek bepaald via punt gezet door een medewerker" in words
    assert default_geography().locate(signal.lon, signal.lat).code == SINT_VITUSBUURT  # type: ignore[arg-type, union-attr]


def test_without_the_map_a_buurt_from_the_list(app, client):
    reference = submit(app, point=IN_KERKELANDEN)
    login(client, ANNA)
    response = post(client, reference, "plek", buurt=HAVENKWARTIER, lat="", lon="")
    assert response.status_code == 303
    signal = stored(app, reference)
    assert signal.buurt_code == HAVENKWARTIER and signal.lat is None
    words = text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "De plek is gecorrigeerd: buurt Havenkwartier, wijk Zuidwest." in words
    assert "ligt nu in wijk" not in words  # the same wijk


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"lat": str(AMSTERDAM[1]), "lon": str(AMSTERDAM[0])},
            "Dit punt ligt buiten Hilversum. Kies een punt binnen de gemeente, of alleen een "
            "buurt.",
        ),
        (
            {"lat": "52.2", "lon": ""},
            "Vul de breedtegraad én de lengtegraad in, of laat beide leeg.",
        ),
        ({"lat": "noord", "lon": "5.1"}, "Vul een getal in, zoals 52.2213 of 5.1492."),
        ({}, "Kies een buurt, of zet een punt op de kaart."),
        ({"buurt": "BU04020304"}, "Dit is al de plek van de melding: er verandert niets."),
        (
            {"lat": str(IN_ZEVERIJN[1]), "lon": str(IN_ZEVERIJN[0]), "buurt": HAVENKWARTIER},
            "Het punt ligt in buurt Zeverijn, niet in de gekozen buurt.",
        ),
        ({"buurt": "BU99999999"}, "Kies een buurt uit de lijst."),
    ],
)
def test_a_refused_correction_comes_back_with_what_was_typed(app, client, data, message):
    reference = submit(app, point=IN_KERKELANDEN)
    login(client, ANNA)
    response = post(client, reference, "plek", **{"lat": "", "lon": "", "buurt": "", **data})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in text(body)
    assert 'class="portal-action portal-action--active" id="actie-relocate"' in body
    if data.get("lat"):
        assert f'value="{data["lat"]}"' in body  # the form keeps what was typed
    signal = stored(app, reference)
    assert signal.buurt_code == "BU04020304" and (signal.lon, signal.lat) == IN_KERKELANDEN


def test_a_stale_correction_is_refused_with_the_fresh_state(app, client):
    reference = submit(app, point=IN_KERKELANDEN)
    login(client, ANNA)
    version = VERSION_INPUT.search(page_of(client, reference)).group(1)  # type: ignore[union-attr]
    assert post(client, reference, "titel-voor-buurt", public_title="Afval").status_code == 303
    response = post(client, reference, "plek", buurt=HAVENKWARTIER, version=version)
    assert response.status_code == 409
    assert stored(app, reference).buurt_code == "BU04020304"


def test_who_may_not_work_it_gets_403_and_who_may_not_see_it_404(app):
    reference = submit(app, point=IN_KERKELANDEN)
    management = login(app.test_client(), MANAGEMENT)
    for path in ("plek", "titel-voor-buurt"):
        response = post(management, reference, path, buurt=HAVENKWARTIER, version="1")
        assert response.status_code == 403
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        sensitive.mark(
            session,
            signal,
            reason="Zorgsignaal",
            seen_version=signal.version,
            actor=Actor(user_id(app, ANNA), datetime.now(UTC)),
        )
        session.commit()
    sanne = login(app.test_client(), SANNE)
    token = csrf_token(sanne, "/backoffice/")
    for path in ("plek", "titel-voor-buurt"):
        response = sanne.post(
            f"/backoffice/signalen/{reference}/{path}",
            data={"csrf_token": token, "version": "2", "buurt": HAVENKWARTIER},
        )
        assert response.status_code == 404
    anna = login(app.test_client(), ANNA)
    no_token = anna.post(
        f"/backoffice/signalen/{reference}/plek", data={"version": "2", "buurt": HAVENKWARTIER}
    )
    assert no_token.status_code == 400
    assert post(anna, reference, "plek", buurt=HAVENKWARTIER).status_code == 303
    assert stored(app, reference).buurt_code == HAVENKWARTIER


# --- the title for neighbours ---------------------------------------------------------------


def test_the_title_for_neighbours_is_set_shown_and_cleared(app, client):
    reference = submit(app, point=IN_KERKELANDEN, title="Afval bij nummer 12")
    login(client, ANNA)
    response = post(client, reference, "titel-voor-buurt", public_title=" Afval bij de glasbak ")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Buurtbewoners zien nu de titel ‘Afval bij de glasbak’." in text(page)
    shown = re.search(r'<dd class="portal-public-title__shown">(.*?)</dd>', page, re.S)
    assert shown and text(shown.group(1)) == "Afval bij de glasbak"

    response = post(client, reference, "titel-voor-buurt", public_title="", action="clear")
    assert response.status_code == 303
    assert stored(app, reference).public_title is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    shown = re.search(r'<dd class="portal-public-title__shown">(.*?)</dd>', page, re.S)
    assert (
        shown
        and text(shown.group(1)) == "Schoon in Kerkelanden (gemaakt uit het onderwerp en de buurt)"
    )
    assert "Wis titel" not in page  # nothing left to clear


def test_a_title_too_long_comes_back_with_the_rule(app, client):
    reference = submit(app, point=IN_KERKELANDEN, title="Afval")
    login(client, ANNA)
    long_title = "x" * (relocation.PUBLIC_TITLE_MAX + 1)
    response = post(client, reference, "titel-voor-buurt", public_title=long_title)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Schrijf de titel in hoogstens 120 tekens." in text(body)
    assert f'value="{long_title}"' in body
    response = post(client, reference, "titel-voor-buurt", public_title="Afval")
    assert response.status_code == 422
    assert "Deze titel staat er al zo." in text(response.get_data(as_text=True))
    assert stored(app, reference).public_title == "Afval"


def test_a_title_made_from_the_description_is_never_shown_to_neighbours(app, client):
    # No title typed: the signal's title comes from the description, which is for staff only.
    reference = submit(app, buurt=ZEVERIJN, title="")
    assert stored(app, reference).title.startswith("Er ligt al dagen afval")
    login(client, ANNA)
    shown = re.search(
        r'<dd class="portal-public-title__shown">(.*?)</dd>', page_of(client, reference), re.S
    )
    assert shown
    assert text(shown.group(1)) == "Schoon in Zeverijn (gemaakt uit het onderwerp en de buurt)"
