"""'Is dit al gemeld?': the open signals near a place (portal/domain/nearby.py), the fragment the
form's script asks for, and the step without JavaScript. Signals are made through the intake
operation with real points in Kerkelanden; runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from portal.domain import casework, sensitive
from portal.domain.geography import default_geography
from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.nearby import area_of, bounding_box, distance_m, open_signals_near
from portal.domain.routing import LocationInput
from portal.models import Signal
from portal.vocabulary import Kind, Theme
from tests.domain.test_photos import tiny_png
from tests.factories import ANNA, KERKELANDEN, db_session, intake_settings, make_signal, user_id
from tests.test_report_form import open_form

# (lon, lat) in buurt Kerkelanden; NORTH_120 lies 120 m north of PIN, EAST_300 300 m east.
PIN = (5.140466, 52.215599)
NORTH_120 = (5.140466, 52.216678)
EAST_300 = (5.144866, 52.215599)
UTRECHT = (5.1214, 52.0908)
RADIUS = 250.0
AGE = timedelta(days=183)
DESCRIPTION = "Geheime details die alleen Bureau Wijkzaken mag lezen, over de buren op nummer 3."


def signal_at(
    app: Flask,
    point: tuple[float, float] | None,
    *,
    title: str = "",
    theme: Theme = Theme.SCHOON,
    buurt: str | None = None,
    now: datetime | None = None,
    name: str = "Jan Jansen",
) -> str:
    """A signal sent through the intake with a pin (or a buurt); returns its reference."""
    with db_session(app) as session:
        result = submit_signal(
            session,
            Submission(
                kind=Kind.KNELPUNT,
                themes=[theme],
                title=title,
                description=DESCRIPTION,
                location=LocationInput(
                    lon=point[0] if point else None,
                    lat=point[1] if point else None,
                    buurt_code=buurt,
                ),
                reporter=ReporterInput(name=name, email="melder@example.nl"),
            ),
            intake_settings(app, now),
        )
        session.commit()
        return result.signal.reference


def _signal(session, reference: str) -> Signal:  # type: ignore[no-untyped-def]
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def close(app: Flask, reference: str) -> None:
    with db_session(app) as session:
        signal = _signal(session, reference)
        casework.change_status(
            session,
            signal,
            "resolved",
            message="Opgelost.",
            seen_version=signal.version,
            actor=casework.Actor(user_id(app, ANNA), datetime.now(UTC)),
            mail=intake_settings(app).mail,
        )
        session.commit()


def mark_sensitive(app: Flask, reference: str) -> None:
    with db_session(app) as session:
        signal = _signal(session, reference)
        sensitive.mark(
            session,
            signal,
            reason="Jeugdgroep, gedeeld met de politie.",
            seen_version=signal.version,
            actor=casework.Actor(user_id(app, ANNA), datetime.now(UTC)),
        )
        session.commit()


def near(app: Flask, point=PIN, buurt=None, limit=5, now=None):  # type: ignore[no-untyped-def]
    with db_session(app) as session:
        return open_signals_near(
            session,
            lon=point[0] if point else None,
            lat=point[1] if point else None,
            buurt_code=buurt,
            radius_m=RADIUS,
            limit=limit,
            max_age=AGE,
            now=now or datetime.now(UTC),
        )


# --- the query -------------------------------------------------------------------------------


def test_distance_and_box_agree_with_the_map() -> None:
    assert 115 < distance_m(*PIN, *NORTH_120) < 125
    assert 295 < distance_m(*PIN, *EAST_300) < 305
    min_lon, min_lat, max_lon, max_lat = bounding_box(*PIN, RADIUS)
    # The box holds the whole circle: a point just inside the radius is in it, either way.
    assert distance_m(*PIN, max_lon, PIN[1]) > RADIUS - 0.5
    assert distance_m(*PIN, PIN[0], min_lat) > RADIUS - 0.5
    assert min_lon < PIN[0] < max_lon and min_lat < PIN[1] < max_lat


def test_open_signals_within_the_radius_newest_first(app: Flask) -> None:
    now = datetime.now(UTC)
    older = signal_at(app, PIN, title="Glasbak vol", now=now - timedelta(days=3))
    newer = signal_at(app, NORTH_120, title="Losse stoeptegel", theme=Theme.HEEL, now=now)
    signal_at(app, EAST_300, title="Te ver weg")
    signal_at(app, None, buurt=KERKELANDEN, title="Zonder punt")
    found = near(app)
    assert [s.reference for s in found] == [newer, older]
    first = found[0]
    assert first.public_title == "Losse stoeptegel"
    assert first.theme_codes == ("heel",)
    assert first.buurt is not None and first.buurt.name == "Kerkelanden"
    assert first.wijk is not None and first.wijk.name == "Zuidwest"
    assert first.status == "received"
    assert first.distance_m is not None and 115 < first.distance_m < 125
    # Only what neighbours may see: no description, no reporter, no typed-in-private title.
    assert not {"description", "title", "reporter"} & set(vars(first))
    assert near(app, limit=1)[0].reference == newer


def test_never_sensitive_closed_or_too_old(app: Flask) -> None:
    now = datetime.now(UTC)
    listed = signal_at(app, PIN, title="Zwerfvuil bij de speeltuin")
    hidden = signal_at(app, PIN, title="Jongeren bij het bankje")
    closed = signal_at(app, PIN, title="Al opgelost")
    signal_at(app, PIN, title="Van lang geleden", now=now - AGE - timedelta(days=1))
    mark_sensitive(app, hidden)
    close(app, closed)
    assert [s.reference for s in near(app)] == [listed]
    assert [s.reference for s in near(app, point=None, buurt=KERKELANDEN)] == [listed]


def test_by_buurt_without_a_point_and_nothing_without_either(app: Flask) -> None:
    by_list = signal_at(app, None, buurt=KERKELANDEN, title="")
    by_pin = signal_at(app, EAST_300, title="Kapotte bank")
    elsewhere = make_signal(app, buurt="BU04020103")[0]  # Sint Vitusbuurt
    found = near(app, point=None, buurt=KERKELANDEN)
    assert [s.reference for s in found] == [by_pin, by_list]
    assert found[1].public_title is None  # the page then says "Schoon in Kerkelanden"
    assert found[0].distance_m is None
    assert elsewhere not in {s.reference for s in found}
    assert near(app, point=None, buurt=None) == []


def test_the_area_follows_what_intake_will_use() -> None:
    geo = default_geography()
    # A pin in Hilversum wins over the lists, as intake routes by the pin.
    assert area_of(geo, lon=PIN[0], lat=PIN[1], buurt_code="BU04020103").has_point  # type: ignore[union-attr]
    assert area_of(geo, lon=UTRECHT[0], lat=UTRECHT[1], buurt_code=KERKELANDEN) is None
    assert area_of(geo, lon=float("nan"), lat=PIN[1], buurt_code=None) is None
    buurt_only = area_of(geo, lon=None, lat=None, buurt_code=KERKELANDEN)
    assert buurt_only is not None and buurt_only.buurt_code == KERKELANDEN
    assert area_of(geo, lon=None, lat=None, buurt_code="BU99999999") is None
    assert area_of(geo, lon=None, lat=None, buurt_code=None) is None


# --- the fragment for the form's script ------------------------------------------------------


def test_the_fragment_lists_public_titles_and_follow_buttons(app: Flask, client) -> None:
    titled = signal_at(app, PIN, title="Glasbak vol", name="Petra Pietersen")
    untitled = signal_at(app, NORTH_120, theme=Theme.VEILIG)
    page = client.get(f"/melden/in-de-buurt?lon={PIN[0]}&lat={PIN[1]}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = html.unescape(page.get_data(as_text=True))
    assert "Is dit al gemeld?" in text
    assert 'data-announce="Er zijn 2 open meldingen in de buurt gevonden."' in text
    assert "Glasbak vol" in text
    assert "Veilig in Kerkelanden" in text  # no title typed: theme and buurt instead
    assert text.count(">Dit is mijn melding ook</button>") == 2
    for reference in (titled, untitled):
        assert f'formaction="/melden/volgen/{reference}"' in text
    assert "Gemeld " in text and "geleden" in text
    assert "Staat uw melding er niet bij? Ga dan verder met het formulier." in text
    for private in ("Geheime details", "Petra", "melder@example.nl", "Afval bij"):
        assert private not in text
    # The fragment is only the list: no page around it, no script, no second button step.
    assert "<html" not in text and "<script" not in text and "in-de-buurt-stap" not in text


def test_the_fragment_by_buurt_empty_and_vague(app: Flask, client) -> None:
    empty = client.get(f"/melden/in-de-buurt?buurt={KERKELANDEN}").get_data(as_text=True)
    assert "Er zijn in de buurt geen open meldingen gevonden." in empty
    signal_at(app, None, buurt=KERKELANDEN)
    listed = client.get(f"/melden/in-de-buurt?buurt={KERKELANDEN}").get_data(as_text=True)
    assert "Schoon in Kerkelanden" in listed
    assert "meter van de plek" not in listed  # by buurt: no distance to speak of
    # No place, a wijk alone, nonsense, a pin outside Hilversum: nothing, not even a heading.
    for query in ("", "wijk=WK040203", "lat=abc&lon=5", "lat=nan&lon=nan", "buurt=%00x"):
        assert client.get(f"/melden/in-de-buurt?{query}").get_data(as_text=True).strip() == ""
    outside = client.get(f"/melden/in-de-buurt?lon={UTRECHT[0]}&lat={UTRECHT[1]}")
    assert outside.get_data(as_text=True).strip() == ""


# --- the form without JavaScript -------------------------------------------------------------

TYPED = "De stoeptegels liggen los bij de ingang van de speeltuin."


def step_form(client, **fields: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    token, key = open_form(client)
    return {
        "csrf_token": token,
        "submission_key": key,
        "kind": "knelpunt",
        "themes": ["heel"],
        "description": TYPED,
        "wijk": "WK040203",
        "buurt": KERKELANDEN,
        "name": "Karin de Wit",
        "email": "karin@example.nl",
        "stap": "in-de-buurt",
        **fields,
    }


def stored(app: Flask) -> int:
    with db_session(app) as session:
        return session.scalar(select(func.count(Signal.id))) or 0


def test_the_step_shows_the_list_and_keeps_everything(app: Flask, client) -> None:
    reference = signal_at(app, None, buurt=KERKELANDEN, title="Losse tegels bij de speeltuin")
    before = stored(app)
    data = step_form(client, photos=(io.BytesIO(tiny_png((8, 8))), "tegel.png"))
    response = client.post("/melden", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    text = html.unescape(response.get_data(as_text=True))
    assert stored(app) == before  # nothing stored, nothing checked
    assert "Er ging iets mis" not in text
    assert "Losse tegels bij de speeltuin" in text
    assert f'formaction="/melden/volgen/{reference}"' in text
    assert TYPED in text and 'value="karin@example.nl"' in text
    assert re.search(r'name="kept_photos" value="[0-9a-f]{32}\.png:tegel\.png" checked', text)
    # The list sits inside the form, so "Dit is mijn melding ook" posts the form along.
    form = text[text.index("<form") : text.index("</form>")]
    assert "Dit is mijn melding ook" in form
    # And reporting anyway still works from here, with the kept photo.
    kept = re.search(r'name="kept_photos" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]
    final = {**data, "kept_photos": kept}
    del final["stap"], final["photos"]
    done = client.post("/melden", data=final, content_type="multipart/form-data")
    assert done.status_code == 303
    assert stored(app) == before + 1


def test_the_step_without_a_buurt_says_what_to_do(app: Flask, client) -> None:
    response = client.post("/melden", data=step_form(client, wijk="", buurt=""))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Kies eerst de buurt waar het is." in text
    assert "Is dit al gemeld?" not in text
    assert "Er ging iets mis" not in text


def test_a_form_sent_back_with_errors_keeps_the_list(app: Flask, client) -> None:
    signal_at(app, PIN, title="Glasbak vol")
    data = step_form(client, description="", lon=str(PIN[0]), lat=str(PIN[1]))
    del data["stap"]
    response = client.post("/melden", data=data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Er ging iets mis" in text
    assert "Glasbak vol" in text


def test_the_form_has_the_step_button_after_the_hidden_default_button(client) -> None:
    text = client.get("/melden").get_data(as_text=True)
    form = text[text.index("<form") : text.index("</form>")]
    buttons = re.findall(r'<button type="submit"[^>]*>[^<]*</button>', form)
    # Enter in a field uses the first submit button: a hidden "Verstuur melding" without a name.
    assert re.fullmatch(r'<button type="submit" hidden>Verstuur melding</button>', buttons[0])
    assert "Bekijk meldingen in de buurt" in buttons[1]
    assert 'data-url="/melden/in-de-buurt"' in form
    assert "Is dit al gemeld?" not in form  # no place yet: no list


def test_the_demo_has_two_open_signals_near_a_pin_in_kerkelanden(app: Flask) -> None:
    from portal.seeding import DEMO_SENSITIVE_SIGNALS, KERKELANDEN_DEMO_POINT, seed_demo_signals

    with db_session(app) as session:
        seed_demo_signals(session, intake_settings(app))
        session.commit()
        sensitive_titles = {title for _k, _t, title, *_rest in DEMO_SENSITIVE_SIGNALS}
        assert session.scalar(
            select(func.count(Signal.id)).where(
                Signal.sensitive.is_(True), Signal.title.in_(sensitive_titles)
            )
        ) == len(DEMO_SENSITIVE_SIGNALS)
    assert default_geography().locate(*KERKELANDEN_DEMO_POINT).name == "Kerkelanden"  # type: ignore[union-attr]
    found = near(app, point=KERKELANDEN_DEMO_POINT)
    assert [s.public_title for s in found] == [
        "Losse stoeptegels bij de speeltuin",
        "Afval naast de containers",
    ]
    by_list = near(app, point=None, buurt=KERKELANDEN)
    assert {s.public_title for s in by_list} == {s.public_title for s in found}
