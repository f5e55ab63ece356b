"""Staff register a signal they received by phone, mail, at the counter or on social media
(``/backoffice/registreren``): the same intake operation as the public form, so the same
signal, routing, deadlines and mail; only the channel and the registrar differ. Through the
real app and a real SMTP server, on SQLite and PostgreSQL (the ``app`` fixture)."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import AuditRecord, Signal, SignalEvent
from tests.conftest import csrf_token
from tests.factories import ADMIN, ANNA, MANAGEMENT, SANNE, db_session, login, user_id
from tests.fixtures.mailserver import SMTPServer
from tests.test_backoffice_access import is_login_redirect
from tests.test_report_form import (
    KERKELANDEN,
    ZUIDWEST,
    FormState,
    assert_error,
    error_summary,
    make_image,
    only_signal,
    post_report,
    signal_count,
    uploads,
    valid_form,
)

INTAKE = "/backoffice/registreren"
DONE = "/backoffice/registreren/geregistreerd"
SUBMISSION_KEY = re.compile(r'name="submission_key"[^>]*value="([^"]*)"')
RESIDENT = "jan.jansen@example.nl"  # valid_form()'s address


def staff_form(**overrides: object) -> dict[str, object]:
    """The public form's valid knelpunt, as staff register it after a phone call."""
    data: dict[str, object] = {
        **valid_form(),
        "channel": "phone",
        "submitter_kind": "resident",
        "language": "nl",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_intake(
    client: FlaskClient,
    data: dict[str, object],
    *,
    photos: list[tuple[bytes, str]] | None = None,
    csrf: bool = True,
    submission_key: str | None = None,
):
    page = client.get(INTAKE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    key = SUBMISSION_KEY.search(html)
    assert token and key
    body = dict(data)
    body.setdefault("submission_key", submission_key or key.group(1))
    if csrf:
        body["csrf_token"] = token.group(1)
    if photos:
        body["photos"] = [(io.BytesIO(content), name, "image/jpeg") for content, name in photos]
    return client.post(INTAKE, data=body, content_type="multipart/form-data")


def register(client: FlaskClient, data: dict[str, object] | None = None, **kwargs) -> str:
    """Registers a signal that must be accepted; returns the reference the page shows."""
    response = post_intake(client, data if data is not None else staff_form(), **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert urlsplit(response.headers["Location"]).path == DONE
    page = client.get(DONE).get_data(as_text=True)
    match = re.search(r'class="portal-reference">([A-Z]+-\d{4}-\d{6})<', page)
    assert match, "no reference on the confirmation page"
    return match.group(1)


def signal_by(session, reference: str) -> Signal:
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def subjects(smtp: SMTPServer, address: str) -> list[str]:
    return sorted(str(m["Subject"]) for m in smtp.to(address))


# --- the same signal as the public form ---------------------------------------------------


def test_staff_intake_produces_the_same_signal_as_the_public_form(app: Flask, smtp: SMTPServer):
    response = post_report(app.test_client(), valid_form())
    assert response.status_code == 303
    with db_session(app) as session:
        public_reference = only_signal(session).reference

    staff = login(app.test_client(), SANNE)  # Centrum's accountmanager takes a Zuidwest call
    staff_reference = register(staff, staff_form(channel="phone"))

    def facts(signal: Signal) -> dict[str, object]:
        reporter = signal.reporter
        assert reporter is not None
        return {
            "kind": signal.kind,
            "themes": signal.theme_codes,
            "title": signal.title,
            "public_title": signal.public_title,
            "description": signal.description,
            "place": (signal.wijk_code, signal.buurt_code, signal.location_source),
            "flagged": signal.location_flagged,
            "address": (signal.street, signal.house_number, signal.postcode),
            "owner": signal.owner_id,
            "status": signal.status,
            "due": (signal.respond_due_on, signal.handle_due_on),
            "locale": signal.locale,
            "submitter_kind": signal.submitter_kind,
            "reporter": (
                reporter.name,
                reporter.email,
                reporter.phone,
                reporter.may_contact,
                reporter.may_share_with_partners,
                reporter.organisation_name,
                reporter.kvk_number,
            ),
            "events": [(e.kind, e.is_public, e.to_status) for e in signal.events],
        }

    with db_session(app) as session:
        public = signal_by(session, public_reference)
        registered = signal_by(session, staff_reference)
        assert facts(registered) == facts(public)
        assert public.owner_id == user_id(app, ANNA)
        assert (public.wijk_code, public.buurt_code) == (ZUIDWEST, KERKELANDEN)
        assert public.respond_due_on is not None and public.handle_due_on is not None
        # The only differences: how it came in and who registered it.
        assert (public.channel, public.registered_by_id) == ("web", None)
        assert (registered.channel, registered.registered_by_id) == ("phone", user_id(app, SANNE))
        assert public.events[0].author_id is None
        assert registered.events[0].author_id == user_id(app, SANNE)
        audit = session.scalars(
            select(AuditRecord).where(AuditRecord.signal_id == registered.id)
        ).one()
        assert audit.action == "signal.created"
        assert audit.details["channel"] == "phone"
        assert audit.details["registrar_id"] == user_id(app, SANNE)
        assert audit.actor_id == user_id(app, SANNE)
        public_audit = session.scalars(
            select(AuditRecord).where(AuditRecord.signal_id == public.id)
        ).one()
        assert public_audit.actor_id is None

    # Both residents get the same confirmation, the owner a heads-up about each.
    smtp.wait_for(4)
    assert subjects(smtp, RESIDENT) == sorted(
        f"Uw melding {r} is ontvangen" for r in (public_reference, staff_reference)
    )
    assert subjects(smtp, ANNA) == sorted(
        f"Nieuwe melding {r} in wijk Zuidwest" for r in (public_reference, staff_reference)
    )


@pytest.mark.parametrize("channel", ["phone", "email", "counter", "social", "schouw"])
def test_every_staff_channel_is_recorded(app: Flask, channel: str):
    staff = login(app.test_client(), ADMIN)
    reference = register(staff, staff_form(channel=channel))
    with db_session(app) as session:
        signal = signal_by(session, reference)
        assert signal.channel == channel
        assert signal.registered_by_id == user_id(app, ADMIN)


# --- mail to the resident and the owner ---------------------------------------------------


def test_the_resident_gets_a_confirmation_whose_status_link_opens(app: Flask, smtp: SMTPServer):
    staff = login(app.test_client(), SANNE)
    reference = register(staff, staff_form(email="Petra@Voorbeeld.nl", name="Petra"))

    page = staff.get(DONE).get_data(as_text=True)
    assert "petra@voorbeeld.nl krijgt nu een bevestiging" in page
    assert f'href="/backoffice/signalen/{reference}"' in page
    assert "Nog een melding registreren" in page
    assert staff.get(f"/backoffice/signalen/{reference}").status_code == 200

    smtp.wait_for(2)
    [mail] = smtp.to("petra@voorbeeld.nl")
    assert mail["Subject"] == f"Uw melding {reference} is ontvangen"
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    [link] = re.findall(r"http://portal\.test/status/[\w-]+", body)
    status = app.test_client().get(urlsplit(link).path)
    assert status.status_code == 200
    assert reference in status.get_data(as_text=True)


def test_a_resident_without_an_email_address_gets_nothing(app: Flask, smtp: SMTPServer):
    staff = login(app.test_client(), SANNE)
    reference = register(staff, staff_form(email="", name="", phone="035 123 45 67"))
    page = staff.get(DONE).get_data(as_text=True)
    assert "De melder gaf geen e-mailadres" in page
    smtp.wait_for(1)  # the owner's heads-up
    assert [str(m["Subject"]) for m in smtp.messages] == [
        f"Nieuwe melding {reference} in wijk Zuidwest"
    ]


def test_the_language_chosen_is_the_language_of_the_mail(app: Flask, smtp: SMTPServer):
    staff = login(app.test_client(), SANNE)
    reference = register(staff, staff_form(language="en"))
    smtp.wait_for(2)
    [mail] = smtp.to(RESIDENT)
    assert reference in str(mail["Subject"])
    assert "ontvangen" not in str(mail["Subject"])
    with db_session(app) as session:
        assert signal_by(session, reference).locale == "en"


def test_no_heads_up_for_the_owner_who_registered_it_herself(app: Flask, smtp: SMTPServer):
    own = register(login(app.test_client(), ANNA))  # Kerkelanden is Anna's
    smtp.wait_for(1)
    assert smtp.to(ANNA) == []
    assert subjects(smtp, RESIDENT) == [f"Uw melding {own} is ontvangen"]
    # Registered by a colleague, the same signal does reach her.
    other = register(login(app.test_client(), SANNE))
    smtp.wait_for(3)
    assert subjects(smtp, ANNA) == [f"Nieuwe melding {other} in wijk Zuidwest"]
    with db_session(app) as session:
        assert signal_by(session, own).owner_id == user_id(app, ANNA)


def test_the_owner_who_registers_it_is_told_so_on_the_confirmation(app: Flask):
    anna = login(app.test_client(), ANNA)
    register(anna)
    page = anna.get(DONE).get_data(as_text=True)
    assert "De melding staat bij uw eigen signalen" in page
    sanne = login(app.test_client(), SANNE)
    register(sanne)
    assert "Anna de Vries, accountmanager voor wijk Zuidwest" in sanne.get(DONE).get_data(
        as_text=True
    )


# --- organisations ------------------------------------------------------------------------


def test_an_organisation_is_recorded_as_the_submitter(app: Flask):
    staff = login(app.test_client(), SANNE)
    reference = register(
        staff,
        staff_form(
            submitter_kind="organisation",
            organisation_name="Stichting Buurtbelang Kerkelanden",
            kvk_number="1234 5678",
            name="Petra Smit",
            channel="email",
        ),
    )
    with db_session(app) as session:
        signal = signal_by(session, reference)
        assert signal.submitter_kind == "organisation"
        assert signal.reporter is not None
        assert signal.reporter.organisation_name == "Stichting Buurtbelang Kerkelanden"
        assert signal.reporter.kvk_number == "12345678"
        assert signal.reporter.name == "Petra Smit"  # the contact person
        audit = session.scalars(select(AuditRecord).where(AuditRecord.signal_id == signal.id)).one()
        assert audit.details["submitter_kind"] == "organisation"


# --- refused forms: friendly, nothing typed lost ------------------------------------------


FIELDS_KEPT = ("description", "title", "wijk", "buurt", "street", "house_number", "postcode")
FIELDS_KEPT += ("name", "email", "phone", "organisation_name", "kvk_number", "language")


def assert_kept(page: str, sent: dict[str, object]) -> FormState:
    state = FormState(page)
    for name in ("channel", "kind", "submitter_kind"):
        assert state.checked.get(name, []) == ([sent[name]] if name in sent else []), name
    assert sorted(state.checked.get("themes", [])) == sorted(sent.get("themes", []))  # type: ignore[arg-type]
    for name in FIELDS_KEPT:
        assert state.values.get(name, "") == sent.get(name, ""), name
    for box in ("may_contact", "may_share_with_partners"):
        assert (box in state.checked) == (box in sent), box
    return state


INVALID = [
    pytest.param({"channel": None}, "channel", "Kies hoe de melding binnenkwam", id="no-channel"),
    pytest.param(
        {"kind": None}, "kind", "Kies of het een knelpunt of een initiatief is", id="kind"
    ),
    pytest.param({"themes": None}, "themes", "Kies minstens één onderwerp", id="themes"),
    pytest.param({"description": "kort"}, "description", "tussen 10 en 5000", id="short"),
    pytest.param({"email": "jan@"}, "email", "Vul een geldig e-mailadres in", id="email"),
    pytest.param({"postcode": "12"}, "postcode", "Vul een geldige postcode in", id="postcode"),
    pytest.param(
        {"submitter_kind": "organisation", "organisation_name": ""},
        "organisation_name",
        "Vul de naam van de organisatie of het bedrijf in",
        id="organisation-without-name",
    ),
    pytest.param(
        {"submitter_kind": "organisation", "organisation_name": "Bakkerij", "kvk_number": "123"},
        "kvk_number",
        "Een KvK-nummer heeft 8 cijfers",
        id="kvk",
    ),
    pytest.param(
        {"submitter_kind": "resident", "organisation_name": "Per ongeluk"},
        "submitter_kind",
        "U vulde een organisatie of bedrijf in",
        id="organisation-for-a-resident",
    ),
    pytest.param(
        {"postcode": "3511 AB", "wijk": "", "buurt": ""},
        "postcode",
        "niet in de gemeente Hilversum",
        id="outside-hilversum",
    ),
]


@pytest.mark.parametrize(("overrides", "field_id", "message"), INVALID)
def test_a_refused_form_comes_back_with_the_reason_and_everything_typed(
    app: Flask, overrides: dict[str, object], field_id: str, message: str
):
    staff = login(app.test_client(), SANNE)
    sent = staff_form(**overrides)
    page = assert_error(post_intake(staff, sent), field_id, message)
    assert_kept(page, sent)
    assert signal_count(app) == 0


def test_errors_are_listed_in_page_order(app: Flask):
    staff = login(app.test_client(), SANNE)
    sent = staff_form(channel=None, themes=None, description="kort", phone="x")
    page = assert_error(post_intake(staff, sent), "channel", "Kies hoe de melding binnenkwam")
    targets = [target for target, _text in error_summary(page)]
    assert targets == ["channel-0", "themes-0", "description", "phone"]


def test_a_photo_is_kept_while_another_field_is_fixed(app: Flask):
    staff = login(app.test_client(), SANNE)
    response = post_intake(staff, staff_form(channel=None), photos=[(make_image(), "glas.jpg")])
    page = assert_error(response, "channel", "Kies hoe de melding binnenkwam")
    [kept] = FormState(page).checked["kept_photos"]
    reference = register(staff, staff_form(kept_photos=[kept]))
    with db_session(app) as session:
        [attachment] = signal_by(session, reference).attachments
        assert attachment.stored_name == kept.partition(":")[0]
    assert len(uploads(app)) == 1


def test_the_same_form_sent_twice_gives_one_signal(app: Flask):
    staff = login(app.test_client(), SANNE)
    html = staff.get(INTAKE).get_data(as_text=True)
    key = SUBMISSION_KEY.search(html).group(1)  # type: ignore[union-attr]
    first = register(staff, staff_form(), submission_key=key)
    second = register(staff, staff_form(), submission_key=key)
    assert first == second
    assert signal_count(app) == 1


# --- who may register ---------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(app: Flask, client: FlaskClient):
    for path in (INTAKE, DONE):
        assert is_login_redirect(client.get(path)), path
    token = csrf_token(client, "/backoffice/login")
    assert is_login_redirect(client.post(INTAKE, data={**staff_form(), "csrf_token": token}))
    assert signal_count(app) == 0


def test_management_may_not_register(app: Flask):
    management = login(app.test_client(), MANAGEMENT)
    assert management.get(INTAKE).status_code == 403
    assert management.get(DONE).status_code == 403
    token = csrf_token(management, "/backoffice/")
    response = management.post(INTAKE, data={**staff_form(), "csrf_token": token})
    assert response.status_code == 403
    assert signal_count(app) == 0
    # Nor is the menu item shown to them.
    assert 'href="/backoffice/registreren"' not in management.get("/backoffice/").get_data(
        as_text=True
    )


def test_a_post_without_a_csrf_token_stores_nothing(app: Flask):
    staff = login(app.test_client(), SANNE)
    response = post_intake(staff, staff_form(), csrf=False)
    assert response.status_code == 400
    assert signal_count(app) == 0


def test_the_confirmation_is_only_for_the_one_who_registered(app: Flask):
    sanne = login(app.test_client(), SANNE)
    register(sanne)
    # Another staff member (another browser) has no registration to see: back to the form.
    anna = login(app.test_client(), ANNA)
    response = anna.get(DONE)
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == INTAKE
    # The menu item leads here for those who may register.
    assert 'href="/backoffice/registreren"' in anna.get("/backoffice/").get_data(as_text=True)


def test_the_form_page_offers_every_staff_channel_and_no_web(app: Flask):
    staff = login(app.test_client(), ADMIN)
    page = staff.get(INTAKE).get_data(as_text=True)
    channels = re.findall(r'name="channel"[^>]*value="([a-z]+)"', page) or re.findall(
        r'value="([a-z]+)"[^>]*name="channel"', page
    )
    assert channels == ["phone", "email", "counter", "social", "schouw"]
    assert 'href="/backoffice/schouw"' in page


def test_the_created_step_names_the_registrar(app: Flask):
    staff = login(app.test_client(), SANNE)
    reference = register(staff)
    with db_session(app) as session:
        signal = signal_by(session, reference)
        [event] = session.scalars(
            select(SignalEvent).where(SignalEvent.signal_id == signal.id)
        ).all()
        assert (event.kind, event.author_id) == ("created", user_id(app, SANNE))
