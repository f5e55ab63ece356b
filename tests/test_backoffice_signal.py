"""The signal page in the back office and its actions, through HTTP, on SQLite and PostgreSQL,
with mail read back from a real SMTP server (aiosmtpd).

Covers: what the page shows (and to whom: contact details, photos), the whole transition
table walked through the status form, public replies from standard texts with a preview,
internal notes that never reach the resident, reassignment, the follow-up date, optimistic
locking, and the roles that may act."""

from __future__ import annotations

import html
import io
import re
from collections import deque
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import event, func, select, update

from portal.domain import workflow
from portal.domain.casework import LOCAL_TIMEZONE
from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.photos import PhotoStore
from portal.domain.routing import LocationInput
from portal.extensions import db
from portal.models import (
    AuditRecord,
    OutboxMessage,
    Signal,
    SignalEvent,
    StandardText,
)
from portal.vocabulary import STAFF_STATUS_LABELS, STATUS_LABELS, Kind, Status, Theme
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    EVA,
    KERKELANDEN,
    MANAGEMENT,
    SANNE,
    SINT_VITUSBUURT,
    intake_settings,
    login,
    make_signal,
    user_id,
)

RESIDENT = "bewoner@example.nl"
STALE = (
    "Iemand anders heeft deze melding net gewijzigd. Bekijk de nieuwe situatie en probeer het "
    "opnieuw."
)
VERSION_INPUT = re.compile(r'name="version" value="(\d+)"')
STATUS_URL = re.compile(r"https?://[^\s\"'<>]+/status/[A-Za-z0-9_-]+")
ACTION_PATHS = {
    "status": "status",
    "reply": "antwoord",
    "note": "notitie",
    "reassign": "toewijzen",
    "follow_up": "opvolgen",
}


# --- helpers --------------------------------------------------------------------------------


def page_url(reference: str) -> str:
    return f"/backoffice/signalen/{reference}"


def visible(page: str) -> str:
    """The visible text of a page, whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def logged_in(app: Flask, email: str) -> FlaskClient:
    return login(app.test_client(), email)


def token_for(client: FlaskClient, reference: str) -> str:
    """The session's CSRF token, as a browser finds it on the signal page (every staff page
    has one in its logout form, so this works for management too)."""
    cached = getattr(client, "_csrf", None)
    if cached is None:
        cached = csrf_token(client, page_url(reference))
        client._csrf = cached  # type: ignore[attr-defined]
    return cached


def version_of(app: Flask, reference: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Signal.version).where(Signal.reference == reference))


def post_action(
    client: FlaskClient,
    app: Flask,
    reference: str,
    action: str,
    data: dict[str, str] | None = None,
    *,
    version: int | None = None,
):  # type: ignore[no-untyped-def]
    form = {
        "csrf_token": token_for(client, reference),
        "version": str(version if version is not None else version_of(app, reference)),
        **(data or {}),
    }
    return client.post(f"{page_url(reference)}/{ACTION_PATHS[action]}", data=form)


def snapshot(app: Flask, reference: str) -> dict[str, object]:
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
        return {
            "status": signal.status,
            "version": signal.version,
            "owner_id": signal.owner_id,
            "wijk": signal.wijk_code,
            "buurt": signal.buurt_code,
            "follow_up_on": signal.follow_up_on,
            "events": [(e.kind, e.message) for e in signal.events],
            "outbox": db.session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.signal_id == signal.id)
            ),
        }


def audits(app: Flask, reference: str, action: str) -> list[AuditRecord]:
    with app.app_context():
        signal_id = db.session.scalar(select(Signal.id).where(Signal.reference == reference))
        return list(
            db.session.scalars(
                select(AuditRecord)
                .where(AuditRecord.signal_id == signal_id, AuditRecord.action == action)
                .order_by(AuditRecord.id)
            )
        )


def plain(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return body.get_content().replace("\r\n", "\n")  # SMTP sends CRLF line ends


def rich(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return body.get_content()


def label(status: str) -> str:
    """As staff screens name it."""
    return STAFF_STATUS_LABELS[Status(status)]


def resident_label(status: str) -> str:
    """As the resident's mail and status page name it."""
    return STATUS_LABELS[Status(status)]


def path_to(target: Status) -> list[Status]:
    """The shortest walk of allowed moves from 'received' to ``target``."""
    previous: dict[Status, Status | None] = {Status.RECEIVED: None}
    queue = deque([Status.RECEIVED])
    while queue:
        current = queue.popleft()
        for nxt in workflow.allowed_targets(current):
            if nxt not in previous:
                previous[nxt] = current
                queue.append(nxt)
    steps: list[Status] = []
    node: Status | None = target
    while node is not None and node != Status.RECEIVED:
        steps.append(node)
        node = previous[node]
    return list(reversed(steps))


def drive_to(client: FlaskClient, app: Flask, reference: str, target: Status) -> None:
    for step in path_to(target):
        response = post_action(
            client, app, reference, "status", {"status": step.value, "message": f"Op weg: {step}"}
        )
        assert response.status_code == 303, visible(response.get_data(as_text=True))[:800]
    assert snapshot(app, reference)["status"] == target.value


def make_photo_signal(app: Flask) -> str:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(out, "JPEG")
    with app.app_context():
        store = PhotoStore(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"])
        photo = store.accept(io.BytesIO(out.getvalue()))
        result = submit_signal(
            db.session,
            Submission(
                kind=Kind.KNELPUNT,
                themes=[Theme.HEEL],
                title="Kapotte stoeptegel",
                description="Een losse stoeptegel voor nummer 12, mensen struikelen erover.",
                location=LocationInput(buurt_code=KERKELANDEN),
                photos=[photo],
                reporter=ReporterInput(email=RESIDENT, may_contact=True),
            ),
            intake_settings(app),
        )
        db.session.commit()
        return result.signal.reference


# --- the page -------------------------------------------------------------------------------


def test_the_page_shows_everything_the_resident_sent(app: Flask, smtp) -> None:
    reference, _token = make_signal(
        app,
        kind=Kind.INITIATIEF,
        themes=(Theme.SOCIAAL, Theme.SCHOON),
        title="Buurtmaaltijd",
        description="Wij willen een buurtmaaltijd organiseren.\nWie helpt er mee?",
        phone="035 123 45 67",
    )
    client = logged_in(app, ANNA)
    response = client.get(page_url(reference))
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    page = visible(response.get_data(as_text=True))
    for expected in (
        f"Melding {reference}",
        "Initiatief",
        "Schoon, Sociaal",
        "Buurtmaaltijd",
        "Wij willen een buurtmaaltijd organiseren.",
        "Wie helpt er mee?",
        "Zuidwest (WK040203)",
        "Kerkelanden (BU04020304)",
        "Ontvangen",
        "Anna de Vries",
        "Melding ontvangen",
        "De melder stuurde geen foto's met het formulier.",
        # The mail about this signal, with its delivery state.
        f"Uw melding {reference} is ontvangen",
        "Verstuurd",
        "anna.de.vries@hilversum.example",
    ):
        assert expected in page, expected
    assert "Locatie onbekend" not in page
    # Actions on the right, each with its own button and what the resident will receive.
    for button in ("Wijzig status", "Verstuur bericht", "Bewaar notitie", "Verplaats of wijs toe"):
        assert button in page
    assert "De melder krijgt een e-mail met dit bericht" in page
    assert "De melder ziet dit niet en krijgt er geen e-mail over." in page


def test_the_status_menu_offers_only_the_allowed_moves(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    source = logged_in(app, ANNA).get(page_url(reference)).get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="status".*?</select>', source, re.S)
    assert select_html is not None
    offered = set(re.findall(r'<option value="([a-z_]+)"', select_html.group(0)))
    assert offered == {s.value for s in workflow.allowed_targets(Status.RECEIVED)}


def test_a_signal_without_a_place_is_flagged(app: Flask, smtp) -> None:
    reference, _token = make_signal(app, buurt=None)
    page = visible(logged_in(app, EVA).get(page_url(reference)).get_data(as_text=True))
    assert "Locatie onbekend" in page


def test_an_unknown_reference_is_not_found(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    client = logged_in(app, ANNA)
    token = token_for(client, reference)
    assert client.get(page_url("HLV-2026-999999")).status_code == 404
    response = client.post(
        f"{page_url('HLV-2026-999999')}/notitie",
        data={"csrf_token": token, "version": "1", "message": "x"},
    )
    assert response.status_code == 404
    assert client.get(f"{page_url('HLV-2026-999999')}/foto/1").status_code == 404


def test_the_page_needs_a_login(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    response = app.test_client().get(page_url(reference))
    assert response.status_code in (302, 303)
    assert "/backoffice/login" in response.headers["Location"]


# --- photos ---------------------------------------------------------------------------------


def test_photos_are_served_to_logged_in_staff_only(app: Flask, smtp) -> None:
    reference = make_photo_signal(app)
    other, _token = make_signal(app)
    client = logged_in(app, ANNA)
    source = client.get(page_url(reference)).get_data(as_text=True)
    sources = re.findall(r'<img src="([^"]+)"', source)
    assert len(sources) == 1
    photo_url = sources[0]
    assert photo_url.startswith(f"/backoffice/signalen/{reference}/foto/")

    response = client.get(photo_url)
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, no-store"
    with Image.open(io.BytesIO(response.data)) as image:
        assert image.size == (40, 30)

    # Management reads everything, photos too.
    assert logged_in(app, MANAGEMENT).get(photo_url).status_code == 200
    # Not logged in: no photo, a login page instead.
    anonymous = app.test_client().get(photo_url)
    assert anonymous.status_code in (302, 303)
    assert anonymous.data[:3] != b"\xff\xd8\xff"
    # The photo of one signal is not reachable through another signal's address.
    attachment_id = photo_url.rsplit("/", 1)[1]
    assert client.get(f"/backoffice/signalen/{other}/foto/{attachment_id}").status_code == 404
    assert client.get(f"/backoffice/signalen/{reference}/foto/999999").status_code == 404


# --- contact details ------------------------------------------------------------------------


def test_owner_and_admin_see_contact_details_and_each_view_is_logged(app: Flask, smtp) -> None:
    reference, _token = make_signal(app, phone="035 123 45 67")
    anna = logged_in(app, ANNA)
    for _view in range(2):
        page = visible(anna.get(page_url(reference)).get_data(as_text=True))
        assert "Jan Jansen" in page
        assert RESIDENT in page
        assert "035 123 45 67" in page
    views = audits(app, reference, "reporter.viewed")
    assert [v.actor_id for v in views] == [user_id(app, ANNA)] * 2

    page = visible(logged_in(app, ADMIN).get(page_url(reference)).get_data(as_text=True))
    assert "Jan Jansen" in page and RESIDENT in page
    views = audits(app, reference, "reporter.viewed")
    assert [v.actor_id for v in views][-1] == user_id(app, ADMIN)
    assert len(views) == 3
    # Looking does not count as changing: no colleague's save becomes stale because of it.
    assert snapshot(app, reference)["version"] == 1


@pytest.mark.parametrize("who", [SANNE, MANAGEMENT])
def test_others_do_not_see_contact_details(app: Flask, smtp, who: str) -> None:
    reference, _token = make_signal(app, phone="035 123 45 67")
    response = logged_in(app, who).get(page_url(reference))
    assert response.status_code == 200
    page = visible(response.get_data(as_text=True))
    assert "Jan Jansen" not in page
    assert RESIDENT not in page  # not in the mail table either
    assert "035 123 45 67" not in page
    assert "Alleen de eigenaar van de melding en beheerders zien de contactgegevens." in page
    assert "De melder" in page  # the confirmation mail is listed, its address is not
    assert audits(app, reference, "reporter.viewed") == []


def test_management_reads_but_sees_no_actions(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    page = visible(logged_in(app, MANAGEMENT).get(page_url(reference)).get_data(as_text=True))
    assert "U kunt deze melding bekijken, maar niet wijzigen." in page
    assert "Wijzig status" not in page
    assert "Bewaar notitie" not in page


@pytest.mark.parametrize("action", list(ACTION_PATHS))
def test_management_may_not_act(app: Flask, smtp, action: str) -> None:
    reference, _token = make_signal(app)
    before = snapshot(app, reference)
    client = logged_in(app, MANAGEMENT)
    data = {
        "status": "in_progress",
        "message": "Ik mag dit niet",
        "reason": "x",
        "owner": "1",
        "follow_up_on": "2099-01-01",
    }
    assert post_action(client, app, reference, action, data).status_code == 403
    assert snapshot(app, reference) == before


# --- the whole transition table through HTTP ------------------------------------------------


@pytest.mark.parametrize("current", list(Status), ids=lambda s: s.value)
def test_walk_the_transition_table(app: Flask, smtp, current: Status) -> None:
    """From ``current`` every allowed move works (with its audit record and the resident's
    mail with a working status link); every other move is refused and changes nothing."""
    client = logged_in(app, ANNA)
    anna = user_id(app, ANNA)
    for target in Status:
        resident = f"bewoner.{current.value}.{target.value}@example.nl"
        reference, _token = make_signal(app, email=resident)
        drive_to(client, app, reference, current)
        before = snapshot(app, reference)
        mails_before = len(smtp.to(resident))
        message = f"Bericht bij de stap van {current.value} naar {target.value}.\nTweede regel."
        response = post_action(
            client, app, reference, "status", {"status": target.value, "message": message}
        )
        after = snapshot(app, reference)

        if not workflow.is_allowed(current, target):
            assert response.status_code == 422, (current, target)
            page = visible(response.get_data(as_text=True))
            assert f"Van ‘{label(current)}’ naar ‘{label(target)}’ kan niet." in page
            assert "Er ging iets mis" in page
            assert message.split("\n")[0] in page  # what was typed is still there
            assert after == before
            assert len(smtp.to(resident)) == mails_before
            continue

        assert response.status_code == 303, (current, target, visible(response.text)[:1000])
        assert urlsplit(response.headers["Location"]).path == page_url(reference)
        assert after["status"] == target.value
        assert after["version"] == before["version"] + 1  # type: ignore[operator]
        assert after["events"][-1] == ("status_changed", message)  # type: ignore[index]
        with app.app_context():
            last = db.session.scalars(
                select(SignalEvent)
                .join(Signal)
                .where(Signal.reference == reference)
                .order_by(SignalEvent.id.desc())
            ).first()
            assert last is not None
            assert (last.is_public, last.from_status, last.to_status, last.author_id) == (
                True,
                current.value,
                target.value,
                anna,
            )
        record = audits(app, reference, "signal.status_changed")[-1]
        assert record.actor_id == anna
        assert record.created_at is not None
        assert record.details == {
            "from_status": current.value,
            "to_status": target.value,
            "message": message,
        }

        mails = smtp.to(resident)  # OUTBOX_DELIVERY "sync": delivered at commit
        assert len(mails) == mails_before + 1, (current, target)
        mail = mails[-1]
        assert mail["Subject"] == f"Uw melding {reference}: {resident_label(target)}"
        body, body_html = plain(mail), rich(mail)
        assert f"De status van uw melding {reference} is nu: {resident_label(target)}." in body
        assert message in body
        assert "Tweede regel." in body_html
        if target == Status.RESOLVED:
            assert "niet tevreden" in body
        if target == Status.AWAITING_RESIDENT:
            assert "Wij hebben uw antwoord nodig" in body
        links = set(STATUS_URL.findall(body))
        assert len(links) == 1
        status_page = client.get(urlsplit(links.pop()).path)
        assert status_page.status_code == 200
        status_text = visible(status_page.get_data(as_text=True))
        assert f"Nieuwe status: {resident_label(target)}" in status_text
        assert message.split("\n")[0] in status_text


def test_a_required_message_cannot_be_left_out(app: Flask, smtp) -> None:
    client = logged_in(app, ANNA)
    for current, target in [
        (Status.RECEIVED, Status.AWAITING_RESIDENT),
        (Status.RECEIVED, Status.RESOLVED),
        (Status.RECEIVED, Status.DECLINED),
        (Status.RESOLVED, Status.REOPENED),
    ]:
        reference, _token = make_signal(app)
        drive_to(client, app, reference, current)
        before = snapshot(app, reference)
        response = post_action(
            client, app, reference, "status", {"status": target.value, "message": "   "}
        )
        assert response.status_code == 422
        page = visible(response.get_data(as_text=True))
        assert (
            f"Schrijf een bericht aan de melder: bij de status ‘{label(target)}’ is dat verplicht."
            in page
        )
        assert snapshot(app, reference) == before


def test_a_move_that_needs_no_message_goes_without_one(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    client = logged_in(app, ANNA)
    response = post_action(client, app, reference, "status", {"status": "in_progress"})
    assert response.status_code == 303
    assert snapshot(app, reference)["status"] == "in_progress"
    mail = smtp.to(RESIDENT)[-1]
    assert mail["Subject"] == f"Uw melding {reference}: In behandeling"
    # The success message says what happened, and that the resident was mailed.
    page = visible(client.get(page_url(reference)).get_data(as_text=True))
    assert "De status is nu ‘In behandeling’. De melder krijgt een e-mail." in page


@pytest.mark.parametrize("bad", ["", "gesloten", "received"])
def test_nonsense_targets_are_refused(app: Flask, smtp, bad: str) -> None:
    reference, _token = make_signal(app)
    before = snapshot(app, reference)
    response = post_action(
        logged_in(app, ANNA), app, reference, "status", {"status": bad, "message": "x"}
    )
    assert response.status_code == 422
    assert snapshot(app, reference) == before


def test_status_change_preview_sends_nothing(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    client = logged_in(app, ANNA)
    before = snapshot(app, reference)
    mails = len(smtp.messages)
    response = post_action(
        client,
        app,
        reference,
        "status",
        {"status": "resolved", "message": "De glasbak is leeg.", "action": "preview"},
    )
    assert response.status_code == 200
    page = visible(response.get_data(as_text=True))
    assert "Voorbeeld: dit krijgt de melder" in page
    assert f"Uw melding {reference}: Afgehandeld" in page
    assert "De glasbak is leeg." in page
    assert snapshot(app, reference) == before
    assert len(smtp.messages) == mails


def test_the_resident_status_page_shows_each_public_step(app: Flask, smtp) -> None:
    reference, token = make_signal(app)
    client = logged_in(app, ANNA)
    steps = [
        ("in_progress", "Wij gaan de glasbak laten legen."),
        ("resolved", "De glasbak is geleegd en het afval is opgeruimd."),
    ]
    for status, message in steps:
        response = post_action(
            client, app, reference, "status", {"status": status, "message": message}
        )
        assert response.status_code == 303
    page = visible(app.test_client().get(f"/status/{token}").get_data(as_text=True))
    assert "Nieuwe status: In behandeling" in page
    assert "Wij gaan de glasbak laten legen." in page
    assert "Nieuwe status: Afgehandeld" in page
    assert "De glasbak is geleegd en het afval is opgeruimd." in page
    # One mail per public step, each with its own message.
    subjects = [m["Subject"] for m in smtp.to(RESIDENT)]
    assert subjects == [
        f"Uw melding {reference} is ontvangen",
        f"Uw melding {reference}: In behandeling",
        f"Uw melding {reference}: Afgehandeld",
    ]


# --- public reply and standard texts --------------------------------------------------------


def add_text(app: Flask, title: str, body: str, **kwargs: object) -> int:
    with app.app_context():
        text_row = StandardText(title=title, body=body, **kwargs)
        db.session.add(text_row)
        db.session.commit()
        return text_row.id


def test_reply_from_a_standard_text_is_previewed_then_sent(app: Flask, smtp) -> None:
    reference, token = make_signal(app)
    body = (
        "Beste melder,\n\nUw melding {meldnummer} in wijk {wijk} ligt bij {accountmanager}. "
        "Wij nemen binnen een week contact op."
    )
    text_id = add_text(app, "Eerste reactie", body, status="received")
    hidden_ids = [
        add_text(app, "Voor later", "Opgelost: {meldnummer}", status="resolved"),
        add_text(app, "Voor initiatieven", "Mooi idee {meldnummer}", kind="initiatief"),
        add_text(app, "Oud", "Niet meer gebruiken", active=False),
    ]
    client = logged_in(app, ANNA)
    source = client.get(page_url(reference)).get_data(as_text=True)
    reply_select = re.search(r'<select[^>]*id="reply-standard_text".*?</select>', source, re.S)
    assert reply_select is not None
    assert f'value="{text_id}"' in reply_select.group(0)
    for hidden in hidden_ids:
        assert f'value="{hidden}"' not in reply_select.group(0)

    before = snapshot(app, reference)
    mails = len(smtp.messages)
    response = post_action(
        client, app, reference, "reply", {"standard_text": str(text_id), "action": "preview"}
    )
    assert response.status_code == 200
    filled = (
        f"Beste melder,\n\nUw melding {reference} in wijk Zuidwest ligt bij Anna de Vries. "
        "Wij nemen binnen een week contact op."
    )
    source = response.get_data(as_text=True)
    page = visible(source)
    assert "Voorbeeld: dit krijgt de melder" in page
    assert f"Nieuw bericht over uw melding {reference}" in page  # the mail subject
    assert f"Uw melding {reference} in wijk Zuidwest ligt bij Anna de Vries." in page
    assert "{meldnummer}" not in source and "{wijk}" not in source
    # The filled text now sits in the message box, ready to be edited and sent.
    box = re.search(r'<textarea[^>]*id="reply-message"[^>]*>(.*?)</textarea>', source, re.S)
    assert box is not None and html.unescape(box.group(1)).strip() == filled
    # A preview writes nothing and mails nobody.
    assert snapshot(app, reference) == before
    assert len(smtp.messages) == mails

    response = post_action(client, app, reference, "reply", {"message": filled, "action": "send"})
    assert response.status_code == 303
    after = snapshot(app, reference)
    assert after["events"][-1] == ("public_message", filled)  # type: ignore[index]
    assert after["status"] == "received"  # a reply does not move the status
    mail = smtp.to(RESIDENT)[-1]
    assert mail["Subject"] == f"Nieuw bericht over uw melding {reference}"
    assert f"Uw melding {reference} in wijk Zuidwest ligt bij Anna de Vries." in plain(mail)
    assert [r.actor_id for r in audits(app, reference, "signal.replied")] == [user_id(app, ANNA)]
    page = visible(app.test_client().get(f"/status/{token}").get_data(as_text=True))
    assert "ligt bij Anna de Vries" in page


def test_a_standard_text_is_never_sent_unseen(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    text_id = add_text(app, "Dank", "Dank voor uw melding {meldnummer}.")
    client = logged_in(app, ANNA)
    before = snapshot(app, reference)
    mails = len(smtp.messages)
    # "Send" with only a standard text chosen: shown first, not sent.
    response = post_action(
        client, app, reference, "reply", {"standard_text": str(text_id), "action": "send"}
    )
    assert response.status_code == 200
    assert f"Dank voor uw melding {reference}." in visible(response.get_data(as_text=True))
    # Typed words are never replaced by a standard text.
    response = post_action(
        client,
        app,
        reference,
        "reply",
        {"standard_text": str(text_id), "message": "Mijn eigen woorden.", "action": "send"},
    )
    assert response.status_code == 200
    page = visible(response.get_data(as_text=True))
    assert "daarom is de standaardtekst niet overgenomen" in page
    assert "Mijn eigen woorden." in page
    assert snapshot(app, reference) == before
    assert len(smtp.messages) == mails


def test_a_reply_needs_words_and_a_fitting_text(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    other_kind = add_text(app, "Initiatief", "Mooi idee", kind="initiatief")
    client = logged_in(app, ANNA)
    before = snapshot(app, reference)
    response = post_action(client, app, reference, "reply", {"message": "", "action": "send"})
    assert response.status_code == 422
    assert "Schrijf een bericht aan de melder, of kies een standaardtekst." in visible(
        response.get_data(as_text=True)
    )
    response = post_action(
        client, app, reference, "reply", {"standard_text": str(other_kind), "action": "preview"}
    )
    assert response.status_code == 422
    assert "past niet (meer) bij deze melding" in visible(response.get_data(as_text=True))
    response = post_action(client, app, reference, "reply", {"message": "x" * 5001})
    assert response.status_code == 422
    assert "hoogstens 5000 tekens" in visible(response.get_data(as_text=True))
    assert snapshot(app, reference) == before


def test_a_resident_without_email_gets_no_mail_and_is_told_so(app: Flask, smtp) -> None:
    reference, token = make_signal(app, email=None)
    client = logged_in(app, ANNA)
    page = visible(client.get(page_url(reference)).get_data(as_text=True))
    assert "De melder heeft geen e-mailadres gegeven" in page
    mails = len(smtp.messages)
    assert (
        post_action(client, app, reference, "reply", {"message": "Wij kijken ernaar."}).status_code
        == 303
    )
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.purpose.like("public_%"))
            )
            == 0
        )
    assert len(smtp.messages) == mails
    assert "Wij kijken ernaar." in app.test_client().get(f"/status/{token}").get_data(as_text=True)


# --- internal notes -------------------------------------------------------------------------


def test_internal_notes_never_reach_the_resident(app: Flask, smtp) -> None:
    reference, token = make_signal(app)
    secret = "GEHEIM: de buurman heeft dit al drie keer gemeld"
    client = logged_in(app, ANNA)
    response = post_action(client, app, reference, "note", {"message": secret})
    assert response.status_code == 303
    staff = client.get(page_url(reference)).get_data(as_text=True)
    note = re.search(
        r'<li class="[^"]*portal-timeline__item--internal_note[^"]*">.*?</li>', staff, re.S
    )
    assert note is not None
    assert secret in visible(note.group(0)) and "Intern" in visible(note.group(0))
    assert "Uw interne notitie is opgeslagen" in visible(staff)

    # Public steps after the note: each mail to the resident is free of it.
    assert (
        post_action(
            client,
            app,
            reference,
            "status",
            {"status": "in_progress", "message": "We gaan aan de slag."},
        ).status_code
        == 303
    )
    assert (
        post_action(client, app, reference, "reply", {"message": "Nog een vraag?"}).status_code
        == 303
    )
    assert (
        post_action(
            client, app, reference, "status", {"status": "resolved", "message": "Klaar."}
        ).status_code
        == 303
    )

    status_page = app.test_client().get(f"/status/{token}").get_data(as_text=True)
    assert "We gaan aan de slag." in status_page
    assert secret not in status_page and "GEHEIM" not in status_page

    messages = smtp.wait_for(5)
    resident_mails = smtp.to(RESIDENT)
    assert len(resident_mails) == 4  # confirmation + three public steps
    for message in messages:
        assert "GEHEIM" not in plain(message) and "GEHEIM" not in rich(message)
        assert "GEHEIM" not in str(message["Subject"])
    with app.app_context():
        bodies = db.session.scalars(select(OutboxMessage.body_text)).all()
        assert bodies and not any("GEHEIM" in b for b in bodies)
    events = snapshot(app, reference)["events"]
    assert ("internal_note", secret) in events  # type: ignore[operator]
    assert [r.actor_id for r in audits(app, reference, "signal.noted")] == [user_id(app, ANNA)]


def test_an_empty_note_is_refused(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    before = snapshot(app, reference)
    response = post_action(logged_in(app, ANNA), app, reference, "note", {"message": " \n "})
    assert response.status_code == 422
    assert "Schrijf een notitie." in visible(response.get_data(as_text=True))
    assert snapshot(app, reference) == before


# --- reassignment ---------------------------------------------------------------------------


def test_reassign_to_another_owner_mails_the_new_owner(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    client = logged_in(app, ANNA)
    sanne = user_id(app, SANNE)
    reason = "Sanne kent deze bewoners goed."
    response = post_action(
        client, app, reference, "reassign", {"owner": str(sanne), "reason": reason}
    )
    assert response.status_code == 303
    after = snapshot(app, reference)
    assert after["owner_id"] == sanne
    assert after["wijk"] == "WK040203"  # only the owner moved
    mail = smtp.to(SANNE)[-1]
    assert mail["Subject"] == f"Melding {reference} is aan u toegewezen"
    assert reason in plain(mail)
    assert f"/backoffice/signalen/{reference}" in plain(mail)
    record = audits(app, reference, "signal.reassigned")[-1]
    assert record.actor_id == user_id(app, ANNA)
    assert record.details["before"]["owner_id"] == user_id(app, ANNA)  # type: ignore[index]
    assert record.details["after"]["owner_id"] == sanne  # type: ignore[index]
    assert record.details["reason"] == reason
    page = visible(client.get(page_url(reference)).get_data(as_text=True))
    assert "Eigenaar: Anna de Vries → Sanne Bakker" in page
    assert reason in page
    assert "Sanne Bakker krijgt een e-mail." in page
    # The resident is not told about internal reassignments.
    assert [m["Subject"] for m in smtp.to(RESIDENT)] == [f"Uw melding {reference} is ontvangen"]


def test_reassign_to_another_wijk(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    client = logged_in(app, ANNA)
    response = post_action(
        client, app, reference, "reassign", {"wijk": "WK040201", "reason": "Ligt in Centrum."}
    )
    assert response.status_code == 303, visible(response.get_data(as_text=True))[:1500]
    after = snapshot(app, reference)
    assert (after["wijk"], after["buurt"]) == ("WK040201", None)
    # No owner named: the signal follows the new wijk's routing rule (Sanne owns Centrum).
    assert after["owner_id"] == user_id(app, SANNE)
    assert smtp.to(SANNE)[-1]["Subject"] == f"Melding {reference} is aan u toegewezen"
    record = audits(app, reference, "signal.reassigned")[-1]
    assert record.details["before"]["wijk"] == "WK040203"  # type: ignore[index]
    assert record.details["after"]["wijk"] == "WK040201"  # type: ignore[index]
    assert record.details["after"]["buurt"] is None  # type: ignore[index]
    page = visible(client.get(page_url(reference)).get_data(as_text=True))
    assert "Wijk: Zuidwest → Centrum" in page

    # A buurt names its wijk; wijk, buurt and owner can move in one go.
    sanne = user_id(app, SANNE)
    response = post_action(
        client,
        app,
        reference,
        "reassign",
        {"buurt": SINT_VITUSBUURT, "owner": str(sanne), "reason": "Precies: Sint Vitusbuurt."},
    )
    assert response.status_code == 303
    after = snapshot(app, reference)
    assert (after["wijk"], after["buurt"], after["owner_id"]) == (
        "WK040201",
        SINT_VITUSBUURT,
        sanne,
    )
    assert smtp.to(SANNE)[-1]["Subject"] == f"Melding {reference} is aan u toegewezen"
    assert "Centrum" in plain(smtp.to(SANNE)[-1])


def test_a_flagged_signal_loses_its_flag_when_placed(app: Flask, smtp) -> None:
    reference, _token = make_signal(app, buurt=None)
    client = logged_in(app, EVA)
    response = post_action(
        client, app, reference, "reassign", {"buurt": KERKELANDEN, "reason": "Adres nagebeld."}
    )
    assert response.status_code == 303
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
        assert (signal.wijk_code, signal.buurt_code, signal.location_flagged) == (
            "WK040203",
            KERKELANDEN,
            False,
        )
        assert signal.owner is not None and signal.owner.email == ANNA


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"owner": "{anna}", "reason": "Geen wijziging"}, "nu verandert er niets"),
        ({"wijk": "WK040203", "reason": "Zelfde wijk"}, "nu verandert er niets"),
        ({"owner": "{sanne}", "reason": ""}, "Schrijf waarom u de melding verplaatst"),
        ({"owner": "{management}", "reason": "Baas"}, "Kies een eigenaar uit de lijst"),
        ({"owner": "abc", "reason": "Onzin"}, "Kies een eigenaar uit de lijst"),
        ({"wijk": "WK999999", "reason": "Bestaat niet"}, "Kies een wijk uit de lijst"),
        (
            {"wijk": "WK040203", "buurt": SINT_VITUSBUURT, "reason": "Past niet"},
            "Kies een buurt die in de gekozen wijk ligt",
        ),
    ],
)
def test_reassign_refusals(app: Flask, smtp, data: dict[str, str], message: str) -> None:
    reference, _token = make_signal(app)
    ids = {"anna": user_id(app, ANNA), "sanne": user_id(app, SANNE)}
    ids["management"] = user_id(app, MANAGEMENT)
    data = {k: v.format(**ids) for k, v in data.items()}
    before = snapshot(app, reference)
    mails = len(smtp.messages)
    response = post_action(logged_in(app, ANNA), app, reference, "reassign", data)
    assert response.status_code == 422
    page = visible(response.get_data(as_text=True))
    assert message in page
    if data.get("reason"):
        assert data["reason"] in page  # the typed reason is kept
    assert snapshot(app, reference) == before
    assert len(smtp.messages) == mails


# --- follow-up date -------------------------------------------------------------------------


def test_follow_up_date_set_and_cleared(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    client = logged_in(app, ANNA)
    today = datetime.now(LOCAL_TIMEZONE).date()
    day = today + timedelta(days=7)
    response = post_action(client, app, reference, "follow_up", {"follow_up_on": day.isoformat()})
    assert response.status_code == 303
    assert snapshot(app, reference)["follow_up_on"] == day
    page = client.get(page_url(reference)).get_data(as_text=True)
    assert f'value="{day.isoformat()}"' in page
    assert "De opvolgdatum is nu" in visible(page)

    # Today is fine, and a Dutch way of writing the date too.
    response = post_action(
        client, app, reference, "follow_up", {"follow_up_on": today.strftime("%d-%m-%Y")}
    )
    assert response.status_code == 303
    assert snapshot(app, reference)["follow_up_on"] == today

    response = post_action(client, app, reference, "follow_up", {"action": "clear"})
    assert response.status_code == 303
    assert snapshot(app, reference)["follow_up_on"] is None
    records = audits(app, reference, "signal.follow_up_set")
    assert [(r.details["before"], r.details["after"]) for r in records] == [
        (None, day.isoformat()),
        (day.isoformat(), today.isoformat()),
        (today.isoformat(), None),
    ]
    # Follow-up dates are for staff: nothing went to the resident.
    assert len(smtp.to(RESIDENT)) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("past", "Kies vandaag of een dag in de toekomst."),
        ("morgen", "Vul een datum in zoals 31-12-2026."),
        ("2026-02-30", "Vul een datum in zoals 31-12-2026."),
        ("", "Deze opvolgdatum staat al zo ingesteld."),
    ],
)
def test_follow_up_refusals(app: Flask, smtp, value: str, message: str) -> None:
    reference, _token = make_signal(app)
    if value == "past":
        value = (datetime.now(LOCAL_TIMEZONE).date() - timedelta(days=1)).isoformat()
    before = snapshot(app, reference)
    response = post_action(
        logged_in(app, ANNA), app, reference, "follow_up", {"follow_up_on": value}
    )
    assert response.status_code == 422
    assert message in visible(response.get_data(as_text=True))
    assert snapshot(app, reference) == before


# --- optimistic locking ---------------------------------------------------------------------


def test_the_second_of_two_saves_is_refused_and_sees_the_first(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    anna = logged_in(app, ANNA)
    sanne = logged_in(app, SANNE)
    seen = VERSION_INPUT.search(anna.get(page_url(reference)).get_data(as_text=True))
    assert seen is not None
    anna_version = int(seen.group(1))

    # Sanne saves first.
    response = post_action(
        sanne,
        app,
        reference,
        "status",
        {"status": "in_progress", "message": "Sanne pakt dit op."},
        version=anna_version,
    )
    assert response.status_code == 303
    after_sanne = snapshot(app, reference)

    # Anna saves on top of what she saw: refused, with the fresh state and her text kept.
    typed = "Anna's antwoord dat niet verloren mag gaan."
    response = post_action(
        anna,
        app,
        reference,
        "status",
        {"status": "declined", "message": typed},
        version=anna_version,
    )
    assert response.status_code == 409
    source = response.get_data(as_text=True)
    page = visible(source)
    assert STALE in page
    assert "Sanne pakt dit op." in page  # the other change is on screen
    assert "In behandeling" in page
    box = re.search(r'<textarea[^>]*id="status-message"[^>]*>(.*?)</textarea>', source, re.S)
    assert box is not None and typed in html.unescape(box.group(1))
    assert snapshot(app, reference) == after_sanne  # nothing overwritten
    # The form now carries the version on screen: after looking, Anna can try again.
    versions = set(VERSION_INPUT.findall(source))
    assert versions == {str(after_sanne["version"])}
    response = post_action(
        anna,
        app,
        reference,
        "status",
        {"status": "declined", "message": typed},
        version=int(versions.pop()),
    )
    assert response.status_code == 303
    assert snapshot(app, reference)["status"] == "declined"


@pytest.mark.parametrize("action", list(ACTION_PATHS))
def test_every_action_refuses_a_stale_form(app: Flask, smtp, action: str) -> None:
    reference, _token = make_signal(app)
    anna = logged_in(app, ANNA)
    old = version_of(app, reference)
    assert post_action(anna, app, reference, "note", {"message": "Tussendoor"}).status_code == 303
    current = snapshot(app, reference)
    typed = "Mijn getypte tekst blijft staan"
    data = {
        "status": "in_progress",
        "message": typed,
        "reason": typed,
        "owner": str(user_id(app, SANNE)),
        "follow_up_on": (date.today() + timedelta(days=3)).isoformat(),
    }
    response = post_action(anna, app, reference, action, data, version=old)
    assert response.status_code == 409
    page = visible(response.get_data(as_text=True))
    assert STALE in page
    if action not in ("follow_up",):
        assert typed in page
    assert snapshot(app, reference) == current


def test_a_form_without_a_version_is_treated_as_stale(app: Flask, smtp) -> None:
    reference, _token = make_signal(app)
    client = logged_in(app, ANNA)
    before = snapshot(app, reference)
    response = client.post(
        f"{page_url(reference)}/notitie",
        data={"csrf_token": token_for(client, reference), "message": "Zonder versie"},
    )
    assert response.status_code == 409
    assert snapshot(app, reference) == before


def test_a_race_past_the_check_is_caught_by_the_version_column(app: Flask, smtp) -> None:
    """A colleague's save that lands between our version check and our write: the version
    column makes the UPDATE miss (StaleDataError), and the user gets the same answer."""
    reference, _token = make_signal(app)
    client = logged_in(app, ANNA)
    version = version_of(app, reference)
    factory = app.extensions["portal.db"]
    fired = []

    def colleague_saves_first(session, flush_context, instances):  # type: ignore[no-untyped-def]
        if fired:
            return
        fired.append(True)
        with db.engine(app).begin() as connection:
            connection.execute(
                update(Signal)
                .where(Signal.reference == reference)
                .values(title="Door een collega gewijzigd", version=Signal.version + 1)
            )

    event.listen(factory, "before_flush", colleague_saves_first)
    try:
        response = post_action(
            client,
            app,
            reference,
            "status",
            {"status": "in_progress", "message": "Mijn tekst"},
            version=version,
        )
    finally:
        event.remove(factory, "before_flush", colleague_saves_first)
    assert fired
    assert response.status_code == 409
    page = visible(response.get_data(as_text=True))
    assert STALE in page
    assert "Door een collega gewijzigd" in page
    assert "Mijn tekst" in page
    after = snapshot(app, reference)
    assert after["status"] == "received"
    assert after["version"] == version + 1
    assert ("status_changed", "Mijn tekst") not in after["events"]  # type: ignore[operator]
    with app.app_context():
        public_mail = select(func.count(OutboxMessage.id)).where(
            OutboxMessage.purpose.like("public_%")
        )
        assert db.session.scalar(public_mail) == 0
    # Nothing of the failed save is left behind.
    assert audits(app, reference, "signal.status_changed") == []


# --- in a real browser ----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_signal_page_is_accessible_and_works_without_script(
    app: Flask, smtp, live_server: str, page
) -> None:
    from playwright.sync_api import expect

    from portal.seeding import DEMO_PASSWORD
    from tests.fixtures.browser import assert_accessible

    reference = make_photo_signal(app)
    add_text(app, "Eerste reactie", "Uw melding {meldnummer} ligt bij {accountmanager}.")
    page.goto(f"{live_server}/backoffice/login")
    page.get_by_label("E-mailadres").fill(ANNA)
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.goto(f"{live_server}{page_url(reference)}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    expect(page.locator("img[src*='/foto/']")).to_have_count(1)
    assert_accessible(page)

    # A refused action: the error summary, the message next to the field.
    status = page.locator("#actie-status")
    status.get_by_label("Nieuwe status", exact=True).select_option("resolved")
    status.get_by_role("button", name="Wijzig status").click()
    expect(page.get_by_role("alert")).to_contain_text("is dat verplicht")
    assert_accessible(page)

    # A reply from a standard text: preview first, then send.
    reply = page.locator("#actie-reply")
    reply.get_by_label("Begin met een standaardtekst").select_option(label="Eerste reactie")
    reply.get_by_role("button", name="Bekijk voorbeeld").click()
    preview = page.locator("#voorbeeld")
    expect(preview).to_contain_text(f"Uw melding {reference} ligt bij Anna de Vries.")
    expect(preview).to_contain_text(f"Nieuw bericht over uw melding {reference}")
    assert_accessible(page)
    page.locator("#actie-reply").get_by_role("button", name="Verstuur bericht").click()
    expect(page.get_by_role("status").first).to_contain_text("Uw bericht is verstuurd")
    expect(page.locator(".portal-timeline")).to_contain_text("ligt bij Anna de Vries")
    assert_accessible(page)
