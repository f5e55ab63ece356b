"""Schouw mode (``/backoffice/schouw``): a staff member on a walk-through enters several
signals in a row, each through the intake operation with channel 'schouw' and themselves as
registrar, optionally all in one new dossier. Through the real app on SQLite and PostgreSQL
(the ``app`` fixture) and a real SMTP server."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.domain import schouw as schouw_ops
from portal.domain.intake import Submission
from portal.domain.routing import LocationInput
from portal.models import Dossier, DossierEvent, Signal
from portal.vocabulary import Kind, Theme
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    KERKELANDEN,
    MANAGEMENT,
    SANNE,
    SINT_VITUSBUURT,
    db_session,
    intake_settings,
    login,
    make_signal,
    user_id,
)
from tests.fixtures.mailserver import SMTPServer
from tests.test_backoffice_access import is_login_redirect
from tests.test_report_form import (
    UTRECHT_DOM,
    FormState,
    assert_error,
    make_image,
    signal_count,
)

SCHOUW = "/backoffice/schouw"
START = "/backoffice/schouw/starten"
ENTRY = "/backoffice/schouw/melding"
FINISH = "/backoffice/schouw/afronden"
SUMMARY = "/backoffice/schouw/afgerond"
CENTRUM = "WK040201"
SINT_VITUS_PIN = (5.181514, 52.222504)  # (lon, lat) inside Sint Vitusbuurt
TITLE = "Integrale handhaving Sint Vitusbuurt"
HIDDEN = re.compile(r'name="(schouw|submission_key|csrf_token)"[^>]*value="([^"]*)"')


def hidden_values(client: FlaskClient) -> dict[str, str]:
    page = client.get(SCHOUW)
    assert page.status_code == 200
    return dict(HIDDEN.findall(page.get_data(as_text=True)))


def start(client: FlaskClient, *, buurt: str = SINT_VITUSBUURT, dossier: str | None = TITLE):
    token = csrf_token(client, SCHOUW)
    data = {"csrf_token": token, "buurt": buurt}
    if dossier is not None:
        data |= {"in_dossier": "y", "dossier_title": dossier}
    return client.post(START, data=data)


def entry(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "knelpunt",
        "themes": ["veilig"],
        "description": "Fietsen op de stoep bij de kerk, voetgangers kunnen er niet langs.",
        "buurt": SINT_VITUSBUURT,
        "street": "Kerkstraat",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_entry(
    client: FlaskClient,
    data: dict[str, object],
    *,
    photo: bytes | None = None,
    hidden: dict[str, str] | None = None,
):
    values = hidden or hidden_values(client)
    body = {**values, **data}
    if photo is not None:
        body["photos"] = [(io.BytesIO(photo), "fietsen.jpg", "image/jpeg")]
    return client.post(ENTRY, data=body, content_type="multipart/form-data")


def save(client: FlaskClient, data: dict[str, object], **kwargs) -> str:
    """An entry that must be saved; returns its reference (from the message shown)."""
    response = post_entry(client, data, **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert urlsplit(response.headers["Location"]).path == SCHOUW
    page = client.get(SCHOUW).get_data(as_text=True)
    match = re.search(r"Opgeslagen als ([A-Z]+-\d{4}-\d{6})\.", page)
    assert match, "no reference in the message"
    return match.group(1)


def finish(client: FlaskClient) -> str:
    response = client.post(FINISH, data={"csrf_token": csrf_token(client, SCHOUW)})
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == SUMMARY
    return client.get(SUMMARY).get_data(as_text=True)


def schouw_signals(app: Flask) -> list[Signal]:
    with db_session(app) as session:
        signals = session.scalars(select(Signal).order_by(Signal.id)).all()
        for signal in signals:  # loaded while the session is open
            _ = (signal.reporter, signal.attachments, signal.events, signal.theme_codes)
        session.expunge_all()
        return list(signals)


# --- a schouw into one new dossier --------------------------------------------------------


def test_three_entries_go_into_one_new_dossier_in_one_go(app: Flask, smtp: SMTPServer):
    sanne = login(app.test_client(), SANNE)
    assert start(sanne).status_code == 303
    page = sanne.get(SCHOUW).get_data(as_text=True)
    assert "Schouw in Sint Vitusbuurt" in page
    assert FormState(page).values["buurt"] == SINT_VITUSBUURT  # preselected

    first = save(sanne, entry(), photo=make_image())
    lon, lat = SINT_VITUS_PIN
    second = save(
        sanne,
        entry(
            themes=["schoon"],
            description="Afvalzakken naast de container op de hoek.",
            lon=str(lon),
            lat=str(lat),
            email="Bewoner@Voorbeeld.nl",
        ),
    )
    third = save(
        sanne,
        entry(
            kind="initiatief",
            themes=["sociaal"],
            description="Bewoners willen een buurtmoestuin op het braakliggende stuk.",
            street="",
        ),
    )
    page = sanne.get(SCHOUW).get_data(as_text=True)
    assert "3 meldingen opgeslagen" in page
    assert [first, second, third] == re.findall(r">(HLV-\d{4}-\d{6})</a>", page)

    summary = finish(sanne)
    assert "Schouw in Sint Vitusbuurt afgerond" in summary
    assert "U heeft 3 meldingen geregistreerd." in summary
    assert "Alle meldingen staan in het dossier" in summary
    for reference in (first, second, third):
        assert f'href="/backoffice/signalen/{reference}"' in summary

    sanne_id = user_id(app, SANNE)
    with db_session(app) as session:
        [dossier] = session.scalars(select(Dossier)).all()
        assert dossier.title == TITLE
        assert dossier.reference in summary
        assert (dossier.owner_id, dossier.wijk_code, dossier.created_by_id) == (
            sanne_id,
            CENTRUM,
            sanne_id,
        )
        assert "Sint Vitusbuurt" in dossier.description
        assert [s.reference for s in dossier.signals] == [first, second, third]
        steps = session.scalars(
            select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
        ).all()
        assert [e.kind for e in steps] == ["created", *["signal_added"] * 3]

    signals = schouw_signals(app)
    assert [s.reference for s in signals] == [first, second, third]
    for signal in signals:
        assert signal.channel == "schouw"
        assert signal.registered_by_id == sanne_id
        assert signal.events[0].author_id == sanne_id
        assert (signal.wijk_code, signal.buurt_code) == (CENTRUM, SINT_VITUSBUURT)
        assert signal.owner_id == sanne_id  # routing: Centrum is hers
        assert signal.status == "received"
        assert [e.kind for e in signal.events] == ["created", "dossier_joined"]
    assert [s.kind for s in signals] == ["knelpunt", "knelpunt", "initiatief"]
    assert [s.theme_codes for s in signals] == [["veilig"], ["schoon"], ["sociaal"]]
    assert [s.location_source for s in signals] == ["buurt", "pin", "buurt"]
    assert [len(s.attachments) for s in signals] == [1, 0, 0]
    assert [s.street for s in signals] == ["Kerkstraat", "Kerkstraat", None]
    assert signals[1].reporter is not None
    assert (signals[1].reporter.email, signals[1].reporter.may_contact) == (
        "bewoner@voorbeeld.nl",
        True,
    )
    assert signals[0].reporter is None and signals[2].reporter is None
    # The resident who left an address got the confirmation; Sanne, who registered her own
    # wijk's signals, got no heads-up about them.
    smtp.wait_for(1)
    assert [str(m["Subject"]) for m in smtp.to("bewoner@voorbeeld.nl")] == [
        f"Uw melding {second} is ontvangen"
    ]
    assert smtp.to(SANNE) == []


def test_a_resident_on_the_schouw_can_get_their_mail_in_english(app: Flask, smtp: SMTPServer):
    sanne = login(app.test_client(), SANNE)
    start(sanne)
    reference = save(sanne, entry(email="resident@example.org", language="en"))
    smtp.wait_for(1)
    assert [str(m["Subject"]) for m in smtp.to("resident@example.org")] == [
        f"Your report {reference} has been received"
    ]
    assert 'lang="en"' in sanne.get(SCHOUW).get_data(as_text=True)  # the next entry's list


def test_without_a_dossier_the_entries_stand_alone(app: Flask):
    sanne = login(app.test_client(), SANNE)
    start(sanne, dossier=None)
    save(sanne, entry())
    save(sanne, entry(description="Nog een losse melding van de schouw."))
    summary = finish(sanne)
    assert "U heeft 2 meldingen geregistreerd." in summary
    assert all(s.dossier_id is None and s.channel == "schouw" for s in schouw_signals(app))
    with db_session(app) as session:
        assert session.scalar(select(func.count()).select_from(Dossier)) == 0


def test_a_schouw_without_entries_leaves_no_empty_dossier(app: Flask):
    sanne = login(app.test_client(), SANNE)
    start(sanne)
    summary = finish(sanne)
    assert "U heeft 0 meldingen geregistreerd." in summary
    assert "Er is geen dossier gemaakt" in summary
    with db_session(app) as session:
        assert session.scalar(select(func.count()).select_from(Dossier)) == 0


def test_an_admin_schouw_in_centrum_gives_the_dossier_to_its_accountmanager(app: Flask):
    admin = login(app.test_client(), ADMIN)
    start(admin)
    save(admin, entry())
    with db_session(app) as session:
        [dossier] = session.scalars(select(Dossier)).all()
        assert dossier.owner_id == user_id(app, SANNE)
        assert dossier.created_by_id == user_id(app, ADMIN)
    [signal] = schouw_signals(app)
    assert signal.registered_by_id == user_id(app, ADMIN)


def test_a_dossier_closed_during_the_schouw_gets_no_more_signals(app: Flask):
    sanne = login(app.test_client(), SANNE)
    start(sanne)
    first = save(sanne, entry())
    with db_session(app) as session:
        [dossier] = session.scalars(select(Dossier)).all()
        dossier.state = "closed"  # its owner closed it meanwhile (as closing it does)
        session.commit()
    response = post_entry(sanne, entry(description="Nog een melding na het sluiten."))
    assert response.status_code == 303
    page = sanne.get(SCHOUW).get_data(as_text=True)
    assert "is intussen gesloten. Deze melding staat er niet in." in page
    [second] = re.findall(r"Opgeslagen als ([A-Z]+-\d{4}-\d{6})\.", page)
    with db_session(app) as session:
        [dossier] = session.scalars(select(Dossier)).all()
        assert [s.reference for s in dossier.signals] == [first]
    assert [s.reference for s in schouw_signals(app)] == [first, second]
    summary = " ".join(finish(sanne).split())
    assert "1 van de 2 meldingen staan in het dossier" in summary
    assert "Alle meldingen staan in het dossier" not in summary


def test_a_double_tap_saves_one_signal(app: Flask):
    sanne = login(app.test_client(), SANNE)
    start(sanne)
    hidden = hidden_values(sanne)
    first = save(sanne, entry(), hidden=hidden)
    again = save(sanne, entry(), hidden=hidden)
    assert first == again
    assert signal_count(app) == 1
    assert "1 melding opgeslagen" in sanne.get(SCHOUW).get_data(as_text=True)
    with db_session(app) as session:
        [dossier] = session.scalars(select(Dossier)).all()
        assert len(dossier.signals) == 1


def test_a_first_entry_sent_again_after_a_lost_answer_keeps_the_one_dossier(app: Flask):
    # A bad connection: the first entry was saved, but the answer (with the schouw's new
    # state in the session cookie) never arrived, so the tap again carries the old state.
    sanne = login(app.test_client(), SANNE)
    start(sanne)
    hidden = hidden_values(sanne)
    with sanne.session_transaction() as state:
        before = dict(state["schouw"])
    first = save(sanne, entry(), hidden=hidden)
    with sanne.session_transaction() as state:
        state["schouw"] = before
    assert save(sanne, entry(), hidden=hidden) == first
    save(sanne, entry(description="Afval naast de containers aan de Sint Vitusstraat."))
    with db_session(app) as session:
        [dossier] = session.scalars(select(Dossier)).all()
        assert len(dossier.signals) == 2


def test_each_entry_starts_empty_but_in_the_schouw_buurt(app: Flask):
    sanne = login(app.test_client(), SANNE)
    start(sanne)
    save(sanne, entry(email="a@voorbeeld.nl", buurt="BU04020102"))  # Havenstraatbuurt
    state = FormState(sanne.get(SCHOUW).get_data(as_text=True))
    assert state.values["buurt"] == SINT_VITUSBUURT
    assert state.checked.get("kind") == ["knelpunt"]
    assert "themes" not in state.checked
    for name in ("description", "street", "email", "lat", "lon"):
        assert state.values.get(name, "") == "", name


# --- refused entries: the schouw goes on, nothing typed is lost -----------------------------


def test_a_missing_description_comes_back_with_everything_else(app: Flask):
    sanne = login(app.test_client(), SANNE)
    start(sanne)
    sent = entry(description="", email="bewoner@voorbeeld.nl", kind="initiatief")
    response = post_entry(sanne, sent, photo=make_image())
    page = assert_error(response, "description", "Beschrijf wat er aan de hand is.")
    state = FormState(page)
    assert state.checked["kind"] == ["initiatief"]
    assert state.checked["themes"] == ["veilig"]
    assert (state.values["buurt"], state.values["street"], state.values["email"]) == (
        SINT_VITUSBUURT,
        "Kerkstraat",
        "bewoner@voorbeeld.nl",
    )
    [kept] = state.checked["kept_photos"]
    assert "Schouw in Sint Vitusbuurt" in page
    assert signal_count(app) == 0

    reference = save(sanne, {**sent, "description": "Losse stoeptegels.", "kept_photos": kept})
    [signal] = schouw_signals(app)
    assert signal.reference == reference
    assert [a.stored_name for a in signal.attachments] == [kept.partition(":")[0]]


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"themes": None}, "themes", "Kies minstens één onderwerp"),
        ({"kind": None}, "kind", "Kies of het een knelpunt of een initiatief is"),
        ({"email": "bewoner@"}, "email", "Vul een geldig e-mailadres in"),
        ({"buurt": ""}, "buurt", "Kies de buurt, of gebruik uw locatie"),
        (
            {"lon": str(UTRECHT_DOM[0]), "lat": str(UTRECHT_DOM[1])},
            "buurt",
            "niet in de gemeente Hilversum",
        ),
    ],
    ids=["themes", "kind", "email", "no-place", "outside-hilversum"],
)
def test_a_refused_entry_says_why(app: Flask, overrides, field_id, message):
    sanne = login(app.test_client(), SANNE)
    start(sanne)
    page = assert_error(post_entry(sanne, entry(**overrides)), field_id, message)
    assert FormState(page).values.get("description") == entry()["description"]
    assert signal_count(app) == 0


def test_two_photos_are_one_too_many(app: Flask):
    sanne = login(app.test_client(), SANNE)
    start(sanne)
    body = {**hidden_values(sanne), **entry()}
    body["photos"] = [(io.BytesIO(make_image()), f"{n}.jpg", "image/jpeg") for n in "ab"]
    response = sanne.post(ENTRY, data=body, content_type="multipart/form-data")
    assert_error(response, "photos", "maximaal 1 foto")
    assert signal_count(app) == 0


@pytest.mark.parametrize(
    ("data", "field_id", "message"),
    [
        ({"buurt": ""}, "schouw-buurt", "Kies de buurt van de schouw."),
        ({"buurt": "BU99999999"}, "schouw-buurt", "Kies een buurt uit de lijst."),
        ({"buurt": SINT_VITUSBUURT, "in_dossier": "y"}, "dossier_title", "Geef het dossier"),
        (
            {"buurt": SINT_VITUSBUURT, "in_dossier": "y", "dossier_title": "x" * 121},
            "dossier_title",
            "hoogstens 120 tekens",
        ),
    ],
    ids=["no-buurt", "unknown-buurt", "no-title", "long-title"],
)
def test_a_schouw_needs_a_buurt_and_a_dossier_a_title(app: Flask, data, field_id, message):
    sanne = login(app.test_client(), SANNE)
    response = sanne.post(START, data={"csrf_token": csrf_token(sanne, SCHOUW), **data})
    page = assert_error(response, field_id, message)
    assert FormState(page).values.get("dossier_title", "") == data.get("dossier_title", "")
    assert "Schouw starten" in sanne.get(SCHOUW).get_data(as_text=True)  # none started


def test_a_running_schouw_is_not_replaced_by_a_second_start(app: Flask):
    sanne = login(app.test_client(), SANNE)
    start(sanne)
    save(sanne, entry())
    response = start(sanne, buurt=KERKELANDEN, dossier=None)
    assert response.status_code == 303
    page = sanne.get(SCHOUW).get_data(as_text=True)
    assert "Schouw in Sint Vitusbuurt" in page
    assert "Er loopt al een schouw" in page
    assert "1 melding opgeslagen" in page


def test_a_form_of_a_finished_schouw_saves_nothing(app: Flask):
    sanne = login(app.test_client(), SANNE)
    start(sanne)
    stale = hidden_values(sanne)
    finish(sanne)
    start(sanne, dossier=None)  # a new schouw, with another id
    response = post_entry(sanne, entry(), hidden=stale)
    assert response.status_code == 303
    assert "Deze schouw is al afgerond" in sanne.get(SCHOUW).get_data(as_text=True)
    assert signal_count(app) == 0


def test_an_entry_without_a_schouw_saves_nothing(app: Flask):
    sanne = login(app.test_client(), SANNE)
    token = csrf_token(sanne, SCHOUW)
    response = sanne.post(ENTRY, data={"csrf_token": token, **entry()})
    assert response.status_code == 303
    assert signal_count(app) == 0
    assert finish_without_schouw(sanne) == SCHOUW
    assert urlsplit(sanne.get(SUMMARY).headers["Location"]).path == SCHOUW


def finish_without_schouw(client: FlaskClient) -> str:
    response = client.post(FINISH, data={"csrf_token": csrf_token(client, SCHOUW)})
    assert response.status_code == 303
    return urlsplit(response.headers["Location"]).path


# --- whose schouw -------------------------------------------------------------------------


def test_a_schouw_list_shows_only_the_users_own_entries(app: Flask):
    other, _token = make_signal(app, buurt=SINT_VITUSBUURT, title="Van het webformulier")
    sanne = login(app.test_client(), SANNE)
    start(sanne, dossier=None)
    mine = save(sanne, entry())
    # The session's list names another user's signal and a web signal: neither is shown.
    with db_session(app) as session:
        ids = dict(session.execute(select(Signal.reference, Signal.id)).all())
    with sanne.session_transaction() as state:
        state["schouw"]["signals"] = [ids[other], ids[mine]]
    page = sanne.get(SCHOUW).get_data(as_text=True)
    assert mine in page and other not in page

    anna = login(app.test_client(), ANNA)
    start(anna, buurt=KERKELANDEN, dossier=None)
    page = anna.get(SCHOUW).get_data(as_text=True)
    assert mine not in page and "Nog niets" in page


def test_the_domain_lists_only_what_this_user_registered_on_a_schouw(app: Flask):
    web, _token = make_signal(app, buurt=SINT_VITUSBUURT)
    sanne_id, anna_id = user_id(app, SANNE), user_id(app, ANNA)
    with db_session(app) as session:
        running = schouw_ops.Schouw(
            id="s1", user_id=sanne_id, buurt_code=SINT_VITUSBUURT, wijk_code=CENTRUM
        )
        recorded = schouw_ops.record_entry(
            session,
            running,
            Submission(
                kind=Kind.KNELPUNT,
                themes=[Theme.HEEL],
                title="",
                description="Een kapotte bank bij de kerk.",
                location=LocationInput(buurt_code=SINT_VITUSBUURT),
            ),
            intake_settings(app, datetime.now(UTC)),
            dossier_description="",
            dossier_prefix="DOS",
        )
        session.commit()
        web_id = session.scalar(select(Signal.id).where(Signal.reference == web))
        ids = (web_id, recorded.result.signal.id)
        assert [s.id for s in schouw_ops.entries(session, sanne_id, ids)] == [ids[1]]
        assert schouw_ops.entries(session, anna_id, ids) == []
        assert recorded.dossier is None  # no dossier asked for
    state = recorded.schouw.as_state()
    assert schouw_ops.Schouw.from_state(state, sanne_id) == recorded.schouw
    assert schouw_ops.Schouw.from_state(state, anna_id) is None
    assert schouw_ops.Schouw.from_state({"user": sanne_id, "signals": "x"}, sanne_id) is None


# --- who may --------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(app: Flask, client: FlaskClient):
    for path in (SCHOUW, SUMMARY):
        assert is_login_redirect(client.get(path)), path
    token = csrf_token(client, "/backoffice/login")
    for path in (START, ENTRY, FINISH):
        assert is_login_redirect(client.post(path, data={"csrf_token": token})), path


def test_management_may_not_run_a_schouw(app: Flask):
    management = login(app.test_client(), MANAGEMENT)
    for path in (SCHOUW, SUMMARY):
        assert management.get(path).status_code == 403, path
    token = csrf_token(management, "/backoffice/")
    for path, data in (
        (START, {"buurt": SINT_VITUSBUURT}),
        (ENTRY, entry()),
        (FINISH, {}),
    ):
        assert management.post(path, data={"csrf_token": token, **data}).status_code == 403
    assert signal_count(app) == 0


def test_posts_without_a_csrf_token_are_refused(app: Flask):
    sanne = login(app.test_client(), SANNE)
    sanne.get(SCHOUW)
    assert sanne.post(START, data={"buurt": SINT_VITUSBUURT}).status_code == 400
    start(sanne)
    hidden = hidden_values(sanne)
    del hidden["csrf_token"]
    response = sanne.post(ENTRY, data={**hidden, **entry()}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert sanne.post(FINISH).status_code == 400
    assert signal_count(app) == 0
    assert "Schouw in Sint Vitusbuurt" in sanne.get(SCHOUW).get_data(as_text=True)
