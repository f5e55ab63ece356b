"""A resident's privacy request (AVG art. 15 and 17) at the admin's screen: everything held
about an email address or phone number found, downloaded as one ZIP, and erased with a
reason; on SQLite and PostgreSQL, with the real SMTP server and upload folder. Asserts on the
ZIP's contents, the rows and the files afterwards."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.models import (
    Attachment,
    AuditRecord,
    OutboxMessage,
    Reporter,
    Signal,
    SignalEvent,
    SignalFollower,
    WijkAlert,
)
from tests.conftest import csrf_token
from tests.factories import ADMIN, ANNA, MANAGEMENT, db_session, login, make_signal
from tests.test_alerts import subscribe
from tests.test_following import follow
from tests.test_jobs import stored_photo

EMAIL, NAME = "jan.jansen@example.nl", "Jan Jansen"
PAGE = "/beheer/privacy"
BACKOFFICE = "/backoffice"
FIELD = re.compile(r'name="(download|wissen)-csrf_token"[^>]*value="([^"]+)"')


def url(path: str) -> str:
    return BACKOFFICE + path


def search(client: FlaskClient, text: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, url(PAGE))
    return client.post(url(PAGE), data={"csrf_token": token, "subject": text})


def form_tokens(page: str) -> dict[str, str]:
    return dict(FIELD.findall(page))


def jans_signals(app: Flask) -> dict[str, object]:
    """Two signals of Jan's (one with two photos, one with only his phone number, written
    differently), one of somebody else's; Jan follows that one and asked for wijk alerts."""
    photos = [stored_photo(app), stored_photo(app)]
    first, _ = make_signal(
        app,
        name=NAME,
        email=EMAIL,
        phone="06-12345678",
        photos=photos,
        description="Afval bij de glasbak. Groet, Jan Jansen",
    )
    second, _ = make_signal(
        app, name=NAME, email=None, phone="+31 6 1234 5678", title="Losse stoeptegel"
    )
    other, _ = make_signal(app, name="Piet Pietersen", email="piet@example.nl", phone="0351234567")
    return {"first": first, "second": second, "other": other, "photos": photos}


def test_an_export_holds_every_signal_and_photo_of_an_address(app, client, smtp):
    made = jans_signals(app)
    follow(client, made["other"], email=EMAIL.upper())  # matched whatever its case
    assert subscribe(client, EMAIL).status_code == 303
    login(client, ADMIN)

    found = search(client, f"  {EMAIL.upper()} ")
    page = found.get_data(as_text=True)
    assert found.status_code == 200, page
    assert made["first"] in page and made["other"] not in page.split("Meldingen van")[1]
    assert "1 melding<" in page and "2 foto's" in page and "1 gevolgde melding" in page
    assert "1 aanmelding voor wijkberichten" in page

    tokens = form_tokens(page)
    download = client.post(
        url(PAGE + "/download"),
        data={"download-csrf_token": tokens["download"], "download-subject": EMAIL},
    )
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    assert "no-store" in download.headers["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    data = json.loads(archive.read("gegevens.json"))
    [signal] = data["meldingen"]
    assert signal["meldnummer"] == made["first"]
    assert signal["melder"]["naam"] == NAME and signal["melder"]["telefoon"] == "06-12345678"
    assert signal["omschrijving"].endswith("Jan Jansen")
    # Every photo, byte for byte as stored.
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert len(signal["fotos"]) == 2
    stored = {p.stored_name for p in made["photos"]}
    files = {archive.read(p["bestand"]) for p in signal["fotos"]}
    assert files == {(folder / name).read_bytes() for name in stored}
    assert [f["meldnummer"] for f in data["gevolgde_meldingen"]] == [made["other"]]
    assert [a["e_mailadres"] for a in data["wijkberichten"]] == [EMAIL]
    purposes = {m["status"] for m in data["e_mails_aan_u"]}
    assert data["e_mails_aan_u"] and purposes <= {"pending", "sending", "sent"}
    assert all(m["aan"] == EMAIL for m in data["e_mails_aan_u"])
    assert "signal.created" in {r["handeling"] for r in data["logboek"]}
    summary = archive.read("samenvatting.txt").decode()
    assert made["first"] in summary and made["other"] in summary  # the followed one, by number
    assert EMAIL in summary and "Afval bij de glasbak" in summary

    # Looking and downloading are on record, without the address.
    with db_session(app) as session:
        records = session.scalars(
            select(AuditRecord).where(AuditRecord.action.like("subject_access.%"))
        ).all()
    assert [r.action for r in records] == ["subject_access.searched", "subject_access.exported"]
    assert all(r.actor_id and len(r.details["subject"]) == 64 for r in records)
    assert records[0].details["subject"] == records[1].details["subject"]
    assert all(EMAIL not in json.dumps(r.details).lower() for r in records)


def test_a_phone_number_matches_however_it_is_written(app, client):
    made = jans_signals(app)
    login(client, ADMIN)
    page = search(client, "0031 (0)6 1234-5678").get_data(as_text=True)
    assert made["first"] in page and made["second"] in page and made["other"] not in page
    assert "2 meldingen" in page
    page = search(client, "06 1234 567").get_data(as_text=True)  # one digit short
    assert "Wij bewaren niets" in page


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Vul een e-mailadres of telefoonnummer in."),
        ("jan@", "Vul een e-mailadres in (zoals naam@voorbeeld.nl) of een telefoonnummer."),
        ("1234", "Vul een e-mailadres in (zoals naam@voorbeeld.nl) of een telefoonnummer."),
        ("<script>alert(1)</script>", "Vul een e-mailadres in"),
        ("x" * 400, "Dit is te lang voor een e-mailadres."),
    ],
)
def test_what_is_not_an_address_or_number_is_refused_kindly(app, client, typed, message):
    login(client, ADMIN)
    refused = search(client, typed)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert message in page
    assert "<script>alert(1)</script>" not in page
    with db_session(app) as session:
        assert not session.scalar(
            select(func.count()).where(AuditRecord.action.like("subject_access.%"))
        )


def test_erasing_keeps_the_signals_and_removes_every_trace_of_the_person(app, client, smtp):
    made = jans_signals(app)
    follow(client, made["other"], email=EMAIL)
    assert subscribe(client, EMAIL).status_code == 303
    folder = Path(app.config["UPLOAD_FOLDER"])
    with db_session(app) as session:  # a mail to Jan still waiting to go out
        first = session.scalars(select(Signal).where(Signal.reference == made["first"])).one()
        session.add(
            OutboxMessage(
                purpose="status_link",
                signal_id=first.id,
                recipient=EMAIL,
                subject="Uw melding",
                body_text=f"Beste {NAME}",
                next_attempt_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
        session.commit()
    login(client, ADMIN)
    page = search(client, EMAIL).get_data(as_text=True)
    tokens = form_tokens(page)
    erase = {"wissen-csrf_token": tokens["wissen"], "wissen-subject": EMAIL}

    # Without a reason or the confirmation: refused, nothing erased, the reason kept.
    refused = client.post(url(PAGE + "/wissen"), data={**erase, "wissen-reason": "Verzoek"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Vink aan dat u weet dat dit niet ongedaan kan worden." in text
    assert "Verzoek</textarea>" in text
    with db_session(app) as session:
        assert session.scalar(select(func.count()).where(func.lower(Reporter.email) == EMAIL))

    done = client.post(
        url(PAGE + "/wissen"),
        data={
            **erase,
            "wissen-reason": "Verzoek van de bewoner per e-mail van 1 december",
            "wissen-with_photos": "y",
            "wissen-confirm": "y",
        },
    )
    assert done.status_code == 303
    flashed = html.unescape(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "Gewist. Meldingen zonder contactgegevens: 1. Foto's: 2." in flashed
    assert "Gevolgde meldingen: 1. Aanmeldingen voor wijkberichten: 1." in flashed

    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == made["first"])).one()
        reporter = session.scalars(select(Reporter).where(Reporter.signal_id == signal.id)).one()
        assert (reporter.name, reporter.email, reporter.phone) == (None, None, None)
        assert signal.status == "received" and "Jan Jansen" not in signal.description
        assert signal.contact_data_removed_at is not None
        mails = session.scalars(select(OutboxMessage).where(OutboxMessage.signal_id == signal.id))
        for mail in mails:
            assert EMAIL not in mail.recipient and NAME not in (mail.body_text or "")
            assert mail.status in ("sent", "failed")  # the waiting one will not go out
        assert not session.scalar(
            select(func.count()).where(func.lower(OutboxMessage.recipient) == EMAIL)
        )
        assert not session.scalars(
            select(SignalFollower).where(SignalFollower.email == EMAIL)
        ).all()
        assert not session.scalars(select(WijkAlert).where(WijkAlert.email == EMAIL)).all()
        assert not session.scalars(
            select(Attachment).where(Attachment.signal_id == signal.id)
        ).all()
        kinds = session.scalars(
            select(SignalEvent.kind).where(SignalEvent.signal_id == signal.id)
        ).all()
        assert "contact_data_erased" in kinds and "photos_erased" in kinds
        [erased] = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "subject_access.erased")
        ).all()
        assert erased.details["reason"].startswith("Verzoek van de bewoner")
        assert erased.details["references"] == [made["first"]]
        assert EMAIL not in json.dumps(erased.details)
        # Somebody else's signal is untouched; Jan's phone-only one is his too, but this
        # request was for his address.
        others = session.scalars(select(Reporter.email).where(Reporter.email.is_not(None)))
        assert set(others) == {"piet@example.nl"}
        assert session.scalar(select(func.count()).where(Reporter.phone == "+31 6 1234 5678"))
    for photo in made["photos"]:
        assert not (folder / photo.stored_name).exists()  # not left for the sweep

    # The accountmanager's page says why the details are gone; a new search finds nothing.
    page = client.get(url(f"/signalen/{made['first']}")).get_data(as_text=True)
    assert "op verzoek van de melder" in page and EMAIL not in page
    assert "Wij bewaren niets" in search(client, EMAIL).get_data(as_text=True)


@pytest.mark.parametrize("who", [ANNA, MANAGEMENT])
def test_only_admins_reach_it(app, client, who):
    make_signal(app, email=EMAIL)
    login(client, who)
    assert client.get(url(PAGE)).status_code == 403
    token = csrf_token(client, "/backoffice/afwezigheid")  # a valid token of their own
    posts = {
        PAGE: {"csrf_token": token, "subject": EMAIL},
        PAGE + "/download": {"download-csrf_token": token, "download-subject": EMAIL},
        PAGE + "/wissen": {
            "wissen-csrf_token": token,
            "wissen-subject": EMAIL,
            "wissen-reason": "Zomaar",
            "wissen-confirm": "y",
        },
    }
    for path, data in posts.items():
        assert client.post(url(path), data=data).status_code == 403
    with db_session(app) as session:
        assert session.scalar(select(func.count()).where(Reporter.email == EMAIL)) == 1
        assert not session.scalar(
            select(func.count()).where(AuditRecord.action.like("subject_access.%"))
        )
