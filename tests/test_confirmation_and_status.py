"""After the form: the confirmation page and mail, the private status page, and asking for a
fresh status link. Mail goes to a real SMTP server (aiosmtpd) and is read back from it."""

from __future__ import annotations

import html
import io
import re
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from portal.models import OutboxMessage, Signal, SignalEvent
from tests.conftest import csrf_token
from tests.factories import db_session
from tests.test_report_form import (
    ANNA,
    EVA,
    error_summary,
    make_image,
    no_location,
    only_signal,
    post_report,
    valid_form,
)

RESIDENT = "jan.jansen@example.nl"
ANNA_MAIL = "anna.de.vries@hilversum.example"
EVA_MAIL = "eva.de.boer@hilversum.example"
STATUS_LINK = re.compile(r'class="[^"]*portal-status-link[^"]*" href="([^"]+)"')
REFERENCE = re.compile(r"HLV-\d{4}-\d{6}")


# --- helpers --------------------------------------------------------------------------------


def report(client: FlaskClient, data: dict[str, object] | None = None, **kwargs) -> dict[str, str]:
    """Submits a valid form; returns what the confirmation page shows."""
    response = post_report(client, data if data is not None else valid_form(), **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    confirmation = client.get(response.headers["Location"])
    assert confirmation.status_code == 200
    page = confirmation.get_data(as_text=True)
    reference = REFERENCE.search(page)
    link = STATUS_LINK.search(page)
    assert reference and link
    return {
        "page": html.unescape(page),
        "reference": reference.group(0),
        "status_url": html.unescape(link.group(1)),
        "status_path": urlsplit(html.unescape(link.group(1))).path,
    }


def text(page: str) -> str:
    """The visible text of a page, whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None and rich is not None, "mail needs a text and an HTML part"
    return plain.get_content(), rich.get_content()


def links_in(message: EmailMessage) -> set[str]:
    plain, rich = parts(message)
    return set(re.findall(r"https?://[^\s\"'<>/]+/status/[A-Za-z0-9_-]+", plain + rich))


def status_paths(message: EmailMessage) -> set[str]:
    return {urlsplit(link).path for link in links_in(message)}


def outbox(app: Flask) -> list[tuple[str, str, str]]:
    with db_session(app) as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(m.purpose, m.recipient, m.status) for m in rows]


# --- confirmation page and mail -------------------------------------------------------------


def test_confirmation_page_names_reference_owner_days_and_link(app, client):
    shown = report(client)

    page = text(shown["page"])
    with db_session(app) as session:
        reference = only_signal(session).reference
    assert shown["reference"] == reference
    assert f"Uw meldnummer is {reference}" in page
    assert (
        "Anna de Vries, accountmanager voor wijk Zuidwest, bekijkt uw melding binnen 3 werkdagen"
        in page
    )
    assert shown["status_path"].startswith("/status/")
    token = shown["status_path"].removeprefix("/status/")
    assert len(token) >= 22  # at least 128 bits in URL-safe base64
    assert client.get(shown["status_path"]).status_code == 200
    assert f"bevestiging gestuurd naar {RESIDENT}" in page


def test_confirmation_says_when_the_wijk_came_from_the_postcode(client):
    shown = report(client, no_location(postcode="1216 AB"))
    assert "op basis van uw postcode bij wijk Zuidwest" in text(shown["page"])


def test_without_email_a_warning_and_no_mail_to_the_resident(app, client, smtp):
    shown = report(client, valid_form(email=""))

    assert "U heeft geen e-mailadres opgegeven" in text(shown["page"])
    assert "bevestiging gestuurd" not in shown["page"]
    # Only the accountmanager hears about it.
    assert [str(m["To"]) for m in smtp.messages] == [ANNA_MAIL]
    assert [purpose for purpose, _to, _status in outbox(app)] == ["owner_new_signal"]


def test_confirmation_mail_reaches_the_resident_with_the_status_link(app, client, smtp):
    shown = report(client)

    [mail] = smtp.to(RESIDENT)
    assert mail["Subject"] == f"Uw melding {shown['reference']} is ontvangen"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "wijkzaken@hilversum.example" in str(mail["From"])
    plain, rich = parts(mail)
    for body in (plain, rich):
        assert shown["reference"] in body
        assert "Anna de Vries, accountmanager voor wijk Zuidwest" in html.unescape(body)
        assert "Jan Jansen" in body  # "Beste Jan Jansen,"
    # The link in the mail opens the same status page as the one on the confirmation page.
    assert status_paths(mail) == {shown["status_path"]}
    [link] = links_in(mail)
    assert link.startswith("http://portal.test/status/")  # PUBLIC_BASE_URL
    assert client.get(urlsplit(link).path).status_code == 200
    assert all(status == "sent" for _purpose, _to, status in outbox(app))


def test_the_owner_gets_a_new_signal_mail(client, smtp):
    shown = report(client)

    [mail] = smtp.to(ANNA_MAIL)
    assert mail["Subject"].startswith(f"Nieuwe melding {shown['reference']}")
    assert "Zuidwest" in mail["Subject"]
    plain, rich = parts(mail)
    assert "Beste Anna de Vries" in plain
    assert f"/backoffice/signalen/{shown['reference']}" in plain
    assert "Kapotte lantaarnpaal bij de speeltuin" in plain
    assert RESIDENT not in plain + rich  # the owner reads the details in the back office
    assert links_in(mail) == set()  # and never gets the resident's private status link
    assert len(smtp.messages) == 2


def test_a_signal_for_the_general_inbox_mails_eva(client, smtp):
    shown = report(client, no_location(email=""))

    assert "Eva de Boer van Bureau Wijkzaken" in text(shown["page"])
    [mail] = smtp.messages
    assert str(mail["To"]) == EVA_MAIL
    assert mail["Subject"] == f"Nieuwe melding {shown['reference']} zonder wijk"
    assert "Beste Eva de Boer" in parts(mail)[0]


def test_a_rejected_form_sends_no_mail(client, smtp):
    response = post_report(client, valid_form(kind=None))
    assert response.status_code == 422
    assert smtp.messages == []


def test_confirmation_without_a_submission_is_a_friendly_404(client):
    response = client.get("/melden/bedankt")
    assert response.status_code == 404
    page = text(response.get_data(as_text=True))
    assert "Geen melding gevonden" in page
    assert "vraag een nieuwe link aan" in page
    assert "HLV-" not in page


# --- the status page ------------------------------------------------------------------------


@pytest.fixture
def reported(app, client) -> dict[str, str]:
    """A knelpunt with a photo and full contact details, plus an internal note on it."""
    shown = report(client, photos=[(make_image("JPEG", (80, 60)), "stoep.jpg")])
    with db_session(app) as session:
        signal = only_signal(session)
        session.add(
            SignalEvent(
                signal_id=signal.id,
                kind="note",
                is_public=False,
                message="INTERN: de buurman is al vaker gemeld, niet doorgeven.",
            )
        )
        session.commit()
    return shown


def test_status_page_shows_the_signal(client, reported):
    response = client.get(reported["status_path"])

    assert response.status_code == 200
    page = text(response.get_data(as_text=True))
    assert f"Uw melding {reported['reference']}" in page
    assert "Status: Ontvangen" in page
    # The resident's own word from the form, not the staff's "knelpunt".
    assert "Soort Probleem" in page and "Knelpunt" not in page
    assert "Schoon, Veilig" in page
    assert "Kapotte lantaarnpaal bij de speeltuin" in page
    assert "De lantaarnpaal bij de speeltuin doet het al een week niet." in page
    assert "Wijk Zuidwest, buurt Kerkelanden" in page
    assert ANNA in page
    assert "Uw melding is ontvangen." in page  # the timeline


def test_status_page_never_shows_personal_data_or_internal_notes(app, reported):
    other = report(
        app.test_client(),
        valid_form(
            description="Een heel andere melding over hondenpoep in het park.",
            title="Hondenpoep",
            name="Piet Pietersen",
            email="piet@example.nl",
            phone="06 98765432",
        ),
    )
    response = app.test_client().get(reported["status_path"])  # a fresh browser, no session
    raw = response.get_data(as_text=True)
    page = text(raw)

    for secret in ("Jan Jansen", RESIDENT, "035 123 45 67", "035 1234567", "INTERN", "buurman"):
        assert secret not in raw, secret
    for foreign in ("hondenpoep", "Hondenpoep", "Piet", "piet@example.nl", other["reference"]):
        assert foreign not in page, foreign


def test_status_page_photo_is_served_only_with_its_own_token(app, client, reported):
    page = client.get(reported["status_path"]).get_data(as_text=True)
    sources = re.findall(r'<img[^>]*src="([^"]+)"', page)
    assert len(sources) == 1
    photo_url = html.unescape(sources[0])
    assert photo_url.startswith(reported["status_path"] + "/foto/")

    photo = client.get(photo_url)
    assert photo.status_code == 200
    assert photo.content_type == "image/jpeg"
    assert "no-store" in photo.headers["Cache-Control"]
    with Image.open(io.BytesIO(photo.data)) as image:
        assert image.format == "JPEG"
        assert image.size == (80, 60)

    someone_else = report(app.test_client(), valid_form(email=""))
    attachment_id = photo_url.rsplit("/", 1)[1]
    stolen = app.test_client().get(f"{someone_else['status_path']}/foto/{attachment_id}")
    assert stolen.status_code == 404
    assert app.test_client().get(f"/status/verzonnen-token/foto/{attachment_id}").status_code == 404
    assert client.get(f"{reported['status_path']}/foto/999999").status_code == 404


@pytest.mark.parametrize(
    "token",
    ["onbekend", "A" * 43, "x" * 500, "%00", "..%2F..%2Fetc%2Fpasswd", "' OR '1'='1"],
)
def test_unknown_status_token_is_a_friendly_404(client, reported, token):
    response = client.get(f"/status/{token}")
    assert response.status_code == 404
    page = text(response.get_data(as_text=True))
    assert "Melding niet gevonden" in page or "Pagina niet gevonden" in page
    assert reported["reference"] not in page


def test_status_pages_are_not_cached_or_leaked(client, reported):
    response = client.get(reported["status_path"])
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer"}
    assert 'name="robots" content="noindex"' in response.get_data(as_text=True)
    assert client.get("/status/onbekend").headers["Cache-Control"] == "no-store"
    assert client.get("/melden/bedankt").headers["Cache-Control"] == "no-store"


def test_status_page_shows_public_steps_with_their_message(app, client, reported):
    with db_session(app) as session:
        signal = only_signal(session)
        session.add(
            SignalEvent(
                signal_id=signal.id,
                kind="status_changed",
                is_public=True,
                from_status="received",
                to_status="in_progress",
                message="We gaan er volgende week naar kijken.",
            )
        )
        session.commit()
    page = text(client.get(reported["status_path"]).get_data(as_text=True))
    assert "Nieuwe status: In behandeling" in page
    assert "We gaan er volgende week naar kijken." in page
    assert "INTERN" not in page


# --- asking for a fresh status link ---------------------------------------------------------


def ask_for_link(client: FlaskClient, reference: str, email: str):
    token = csrf_token(client, "/status/opvragen")
    return client.post(
        "/status/opvragen", data={"csrf_token": token, "reference": reference, "email": email}
    )


def test_fresh_link_for_matching_reference_and_email(app, client, smtp, reported):
    before = len(smtp.messages)
    response = ask_for_link(
        app.test_client(), f"  {reported['reference'].lower()} ", "Jan.JANSEN@Example.NL"
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/status/opvragen/verstuurd")
    messages = smtp.messages[before:]
    assert len(messages) == 1
    [mail] = messages
    assert str(mail["To"]) == RESIDENT
    assert reported["reference"] in mail["Subject"]
    [new_path] = status_paths(mail)
    assert new_path != reported["status_path"]  # a new link ...

    fresh = app.test_client()
    new_page = fresh.get(new_path)
    assert new_page.status_code == 200
    assert reported["reference"] in new_page.get_data(as_text=True)
    # ... and the old one stops working: whoever else may have it, asking anew locks them out.
    assert fresh.get(reported["status_path"]).status_code == 404

    with db_session(app) as session:
        assert ("status_link", RESIDENT, "sent") in [
            (m.purpose, m.recipient, m.status) for m in session.scalars(select(OutboxMessage))
        ]


@pytest.mark.parametrize(
    ("reference", "email"),
    [
        pytest.param(None, "iemand.anders@example.nl", id="wrong-email"),
        pytest.param("HLV-2026-999999", RESIDENT, id="wrong-reference"),
        pytest.param("HLV-1999-000001", RESIDENT, id="other-year"),
        pytest.param(None, "jan.jansen@example.nl.evil.example", id="email-suffix"),
        pytest.param(None, "%@example.nl", id="like-wildcard"),
    ],
)
def test_no_mail_for_a_mismatch_and_the_same_answer(app, smtp, reported, reference, email):
    before = len(smtp.messages)
    match_client, miss_client = app.test_client(), app.test_client()
    match = ask_for_link(match_client, reported["reference"], RESIDENT)
    miss = ask_for_link(miss_client, reference or reported["reference"], email)

    assert len(smtp.messages) == before + 1  # only for the match
    assert miss.status_code == match.status_code == 303
    assert miss.headers["Location"] == match.headers["Location"]
    assert miss.get_data() == match.get_data()
    match_page = match_client.get(match.headers["Location"])
    miss_page = miss_client.get(miss.headers["Location"])
    assert miss_page.status_code == match_page.status_code == 200
    assert text(miss_page.get_data(as_text=True)) == text(match_page.get_data(as_text=True))


def test_no_link_for_a_signal_without_email(app, client, smtp):
    shown = report(client, valid_form(email=""))
    before = len(smtp.messages)
    response = ask_for_link(app.test_client(), shown["reference"], "")
    assert response.status_code == 422
    response = ask_for_link(app.test_client(), shown["reference"], "jan@example.nl")
    assert response.status_code == 303
    assert len(smtp.messages) == before


@pytest.mark.parametrize(
    ("reference", "email", "messages"),
    [
        pytest.param("", "", ["Vul uw meldnummer in", "Vul het e-mailadres in"], id="empty"),
        pytest.param(
            "HLV-2026-000001", "geen-adres", ["Vul een geldig e-mailadres in"], id="bad-email"
        ),
        pytest.param("H" * 40, RESIDENT, ["Vul uw meldnummer in"], id="long-reference"),
    ],
)
def test_status_request_validation(client, smtp, reference, email, messages):
    response = ask_for_link(client, reference, email)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r"<title>\s*Fout: ", page)
    summary = error_summary(page)
    for message in messages:
        assert any(message in entry for _target, entry in summary), summary
    assert f'value="{html.escape(reference)}"' in page or not reference
    assert smtp.messages == []


def test_status_request_without_csrf_token_is_refused(client, smtp, reported):
    before = len(smtp.messages)
    response = client.post(
        "/status/opvragen", data={"reference": reported["reference"], "email": RESIDENT}
    )
    assert response.status_code == 400
    assert len(smtp.messages) == before


def test_status_request_page(client):
    response = client.get("/status/opvragen")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Link naar uw melding opvragen" in page
    assert 'id="foutmeldingen"' not in page


def test_eva_is_named_in_the_status_page_of_a_general_inbox_signal(app, client):
    shown = report(client, no_location(email=""))
    page = text(client.get(shown["status_path"]).get_data(as_text=True))
    assert EVA in page
    assert "Nog niet bekend" in page
    with db_session(app) as session:
        assert session.scalars(select(Signal.location_flagged)).one() is True


@pytest.mark.parametrize(
    ("reference", "email"),
    [
        pytest.param("HLV-2026-000001\x00", RESIDENT, id="nul-in-reference"),
        pytest.param("HLV-2026-000001", "jan\x00@example.nl", id="nul-in-email"),
        pytest.param("Ω" * 100_000, "ω" * 100_000 + "@example.nl", id="very-long"),
        pytest.param("' OR 1=1 --", "x@example.nl", id="sql-ish"),
        pytest.param("HLV-2026-000001", "jan@" + "a" * 300 + ".nl", id="long-domain"),
    ],
)
def test_hostile_status_requests_never_give_a_server_error(client, smtp, reference, email):
    response = ask_for_link(client, reference, email)
    assert 200 <= response.status_code < 500, response.status_code
    assert smtp.messages == []
