"""The accountmanager's public profile: the checks on what is published, the photo (JPEG or
PNG, re-encoded without metadata, cut square), the audit trail (which fields changed, never
the old text), and the back-office pages: her own at /backoffice/profiel, anyone's for an
admin, nobody else's for anyone else. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from portal.domain import profiles
from portal.domain.photos import PhotoRejected
from portal.domain.profiles import ProfileInput, ProfileRefused
from portal.domain.upload_sweep import sweep_loose_uploads
from portal.models import AuditRecord, Signal, StaffProfile, User
from portal.seeding import seed_demo_signals
from portal.seeding_wijk import seed_demo_profiles
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    MANAGEMENT,
    SANNE,
    db_session,
    intake_settings,
    login,
    user_id,
)

OWN = "/backoffice/profiel"
ZUIDWEST = "WK040203"


def admin_page(user: int) -> str:
    return f"/backoffice/beheer/gebruikers/{user}/profiel"


def jpeg_with_location(size: tuple[int, int] = (900, 600)) -> bytes:
    """A camera photo with GPS and a comment in its EXIF: what must never reach the page."""
    image = Image.new("RGB", size, (120, 160, 90))
    exif = Image.Exif()
    exif[0x010E] = "Thuis, Kerkelandenlaan 12"  # ImageDescription
    exif[0x8825] = {2: (52.0, 13.0, 0.0), 4: (5.0, 10.0, 0.0)}  # GPS latitude/longitude
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def image_bytes(image_format: str, size: tuple[int, int] = (50, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, image_format)
    return buffer.getvalue()


def profile(app: Flask, email: str) -> StaffProfile | None:
    with db_session(app) as session:
        found = session.scalar(
            select(StaffProfile)
            .join(User, User.id == StaffProfile.user_id)
            .where(User.email == email)
        )
        if found is not None:
            session.expunge(found)
        return found


def records(app: Flask, prefix: str = "profile.") -> list[AuditRecord]:
    with db_session(app) as session:
        found = list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.action.startswith(prefix))
                .order_by(AuditRecord.id)
            )
        )
        for record in found:
            session.expunge(record)
        return found


def save(client: FlaskClient, url: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {"intro": "", "public_phone": "", "public_email": "", **fields}
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def upload(client: FlaskClient, url: str, data: bytes, filename: str = "foto.jpg"):  # type: ignore[no-untyped-def]
    return client.post(
        url + "/foto",
        data={"csrf_token": csrf_token(client, url), "photo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def photo_path(app: Flask, name: str):  # type: ignore[no-untyped-def]
    store = profiles.photo_store(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"])
    return store.path(name)


# --- the checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept", "uri"),
    [
        ("035 629 22 11", "035 629 22 11", "tel:+31356292211"),
        ("  035  629 2211 ", "035 629 2211", "tel:+31356292211"),
        ("06-12345678", "06-12345678", "tel:+31612345678"),
        ("+31 (0)35 629 22 11", "+31 (0)35 629 22 11", "tel:+31356292211"),
        ("0031 35 629 22 11", "0031 35 629 22 11", "tel:+31356292211"),
        ("14 035", "14 035", "tel:14035"),
    ],
)
def test_phone_numbers_are_kept_as_written_and_dialled_right(typed, kept, uri):
    assert profiles.clean_phone(typed) == kept
    assert profiles.tel_uri(kept) == uri


@pytest.mark.parametrize("typed", ["bel me", "035-abc", "1234", "0" * 16, "035 629 22 11 <b>"])
def test_what_is_no_phone_number_is_refused(typed):
    with pytest.raises(ProfileRefused) as refused:
        profiles.clean_phone(typed)
    assert refused.value.problems == [("phone", "invalid")]


@pytest.mark.parametrize(
    "typed",
    ["anna", "anna@", "@hilversum.nl", "anna@hilversum", "a b@hilversum.nl", 'a"@x.nl', "a@b@c.nl"],
)
def test_what_is_no_email_address_is_refused(typed):
    with pytest.raises(ProfileRefused) as refused:
        profiles.clean_email(typed)
    assert refused.value.problems == [("email", "invalid")]


def test_every_problem_is_reported_at_once_and_nothing_is_stored(app):
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        with pytest.raises(ProfileRefused) as refused:
            profiles.update_profile(
                session,
                anna,
                ProfileInput(intro="x" * 601, phone="bel me", email="geen adres"),
                actor_id=anna.id,
            )
        assert refused.value.problems == [
            ("intro", "too_long"),
            ("phone", "invalid"),
            ("email", "invalid"),
        ]
        session.rollback()
        assert session.get(StaffProfile, anna.id) is None
        # 600 characters is allowed, once the line ends and outer spaces are tidied.
        changed = profiles.update_profile(
            session,
            anna,
            ProfileInput(intro="  " + "x" * 600 + "\r\n\r\n", phone="", email=""),
            actor_id=anna.id,
        )
        session.commit()
        assert changed == ["intro"]
        assert session.get(StaffProfile, anna.id).intro == "x" * 600  # type: ignore[union-attr]


def test_only_accountmanagers_have_a_profile_and_only_they_or_an_admin_edit_it(app):
    with db_session(app) as session:
        users = {u.email: u for u in session.scalars(select(User))}
        anna, sanne, admin, management = users[ANNA], users[SANNE], users[ADMIN], users[MANAGEMENT]
        assert profiles.may_edit(anna, anna)
        assert not profiles.may_edit(anna, sanne)
        assert profiles.may_edit(admin, sanne)
        assert not profiles.may_edit(management, anna)
        assert not profiles.may_edit(admin, admin)  # an admin has no wijk profile
        assert not profiles.may_edit(admin, management)
        with pytest.raises(ValueError):
            profiles.update_profile(
                session, admin, ProfileInput("Hallo", None, None), actor_id=admin.id
            )


def test_a_change_is_audited_by_field_names_never_by_the_old_text(app):
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        profiles.update_profile(
            session,
            anna,
            ProfileInput("Mijn eerste tekst.", "035 629 22 11", None),
            actor_id=anna.id,
        )
        profiles.update_profile(
            session,
            anna,
            ProfileInput("Mijn tweede tekst.", "035 629 22 11", None),
            actor_id=anna.id,
        )
        assert (
            profiles.update_profile(
                session,
                anna,
                ProfileInput("Mijn tweede tekst.", "035 629 22 11", None),
                actor_id=anna.id,
            )
            == []
        )
        session.commit()
        anna_id = anna.id
    found = records(app)
    assert [(r.action, r.details["fields"]) for r in found] == [
        ("profile.updated", ["intro", "phone"]),
        ("profile.updated", ["intro"]),
    ]
    assert all(r.actor_id == anna_id and r.details["user_id"] == anna_id for r in found)
    logged = json.dumps([r.details for r in found])
    assert "tekst" not in logged and "629" not in logged


# --- the photo -------------------------------------------------------------------------------


def test_a_photo_is_re_encoded_without_metadata_and_cut_square(app):
    store = profiles.photo_store(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"])
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        assert (
            profiles.set_photo(
                session, anna, store, io.BytesIO(jpeg_with_location()), actor_id=anna.id
            )
            is None
        )
        session.commit()
        name = session.get(StaffProfile, anna.id).photo_key  # type: ignore[union-attr]
    path = store.path(name)
    assert path is not None and path.parent.name == profiles.PHOTO_SUBFOLDER
    raw = path.read_bytes()
    assert b"Kerkelandenlaan" not in raw
    with Image.open(path) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (profiles.PHOTO_SIDE, profiles.PHOTO_SIDE)
        assert not stored.getexif()
    png = image_bytes("PNG")
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        previous = profiles.set_photo(session, anna, store, io.BytesIO(png), actor_id=anna.id)
        session.commit()
        assert previous == name  # the caller discards it after the commit
        new_name = session.get(StaffProfile, anna.id).photo_key  # type: ignore[union-attr]
    assert new_name.endswith(".png")
    with Image.open(store.path(new_name)) as small:  # type: ignore[arg-type]
        assert small.size == (50, 50)  # never blown up beyond its own size
    profiles.discard_photo(store, previous)
    assert not path.exists()


def test_webp_and_what_is_no_image_are_refused_and_leave_nothing_behind(app):
    store = profiles.photo_store(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"])
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        for data, reason in [
            (image_bytes("WEBP"), "unsupported"),
            (b"%PDF-1.4 geen foto", "not_an_image"),
        ]:
            with pytest.raises(PhotoRejected) as rejected:
                profiles.set_photo(session, anna, store, io.BytesIO(data), actor_id=anna.id)
            assert rejected.value.reason == reason
        session.rollback()
        assert session.get(StaffProfile, anna.id) is None
    assert not store.folder.exists() or not any(store.folder.iterdir())
    assert records(app) == []


def test_removing_the_photo_is_audited_and_removing_nothing_changes_nothing(app):
    store = profiles.photo_store(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"])
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        assert profiles.remove_photo(session, anna, actor_id=anna.id) is None
        profiles.set_photo(session, anna, store, io.BytesIO(image_bytes("JPEG")), actor_id=anna.id)
        name = profiles.remove_photo(session, anna, actor_id=anna.id)
        session.commit()
        assert name and session.get(StaffProfile, anna.id).photo_key is None  # type: ignore[union-attr]
    assert [r.action for r in records(app)] == ["profile.photo_changed", "profile.photo_removed"]


# --- the back-office pages -------------------------------------------------------------------


def test_anna_edits_her_own_profile_and_residents_see_it(app, client):
    login(client, ANNA)
    account = client.get("/backoffice/account").get_data(as_text=True)
    assert f'href="{OWN}"' in account and "Mijn wijkprofiel" in account
    page = client.get(OWN)
    assert page.status_code == 200
    assert '<h1 class="utrecht-heading-1">Mijn wijkprofiel</h1>' in page.get_data(as_text=True)
    response = save(
        client,
        OWN,
        intro="Ik ben Anna.\nIk help u graag.",
        public_phone="035 629 22 11",
        public_email="a.devries@hilversum.example",
    )
    assert response.status_code == 303 and response.headers["Location"] == OWN
    assert "Uw wijkprofiel is opgeslagen." in client.get(OWN).get_data(as_text=True)
    wijk = client.get(f"/wijken/{ZUIDWEST}").get_data(as_text=True)
    assert "Ik help u graag." in wijk and 'href="tel:+31356292211"' in wijk
    [record] = records(app)
    assert record.actor_id == user_id(app, ANNA)
    assert record.details == {"user_id": user_id(app, ANNA), "fields": ["intro", "phone", "email"]}


def test_a_refused_profile_comes_back_filled_in_with_the_errors(app, client):
    login(client, ANNA)
    long_intro = "Lang verhaal. " * 50
    response = save(client, OWN, intro=long_intro, public_phone="bel me maar", public_email="anna")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = re.search(r'<div class="[^"]*portal-error-summary.*?</div>', page, re.S)
    assert summary and 'href="#intro"' in summary.group(0)
    assert "Uw introductie is te lang: gebruik hoogstens 600 tekens." in page
    assert long_intro.strip() in page  # what she typed is still there
    assert "<title>Fout: Mijn wijkprofiel" in page
    assert profile(app, ANNA) is None
    # The form's own length check passed? Then the domain still reports all three at once.
    response = save(client, OWN, intro="Kort.", public_phone="bel me maar", public_email="anna")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vul een telefoonnummer in met alleen cijfers en spaties" in page
    assert "Vul een geldig e-mailadres in" in page
    assert 'value="bel me maar"' in page


def test_anna_uploads_replaces_and_removes_her_photo(app, client):
    login(client, ANNA)
    response = upload(client, OWN, jpeg_with_location())
    assert response.status_code == 303
    first = profile(app, ANNA).photo_key  # type: ignore[union-attr]
    page = client.get(OWN).get_data(as_text=True)
    assert f'src="/profielfoto/{first}"' in page and "De foto staat op de wijkpagina." in page
    assert client.get(f"/profielfoto/{first}").status_code == 200

    assert upload(client, OWN, image_bytes("PNG"), "pasfoto.png").status_code == 303
    second = profile(app, ANNA).photo_key  # type: ignore[union-attr]
    assert second != first
    assert not photo_path(app, first).exists()  # the old file is gone
    assert client.get(f"/profielfoto/{first}").status_code == 404

    refused = upload(client, OWN, image_bytes("WEBP"), "foto.webp")
    assert refused.status_code == 422
    assert "Dit is geen foto in JPG of PNG. Kies een andere foto." in refused.get_data(as_text=True)
    empty = client.post(OWN + "/foto", data={"csrf_token": csrf_token(client, OWN)})
    assert empty.status_code == 422 and "Kies een foto om te uploaden." in empty.get_data(
        as_text=True
    )
    assert profile(app, ANNA).photo_key == second  # type: ignore[union-attr]

    removed = client.post(OWN + "/foto/verwijderen", data={"csrf_token": csrf_token(client, OWN)})
    assert removed.status_code == 303
    assert profile(app, ANNA).photo_key is None  # type: ignore[union-attr]
    assert not photo_path(app, second).exists()
    assert "portal-contact__initials" in client.get(f"/wijken/{ZUIDWEST}").get_data(as_text=True)
    assert [r.action for r in records(app)] == [
        "profile.photo_changed",
        "profile.photo_changed",
        "profile.photo_removed",
    ]


def test_another_accountmanager_cannot_edit_annas_profile(app, client):
    anna = user_id(app, ANNA)
    login(client, SANNE)
    token = csrf_token(client, OWN)
    assert client.get(admin_page(anna)).status_code == 403
    for path in (
        admin_page(anna),
        admin_page(anna) + "/foto",
        admin_page(anna) + "/foto/verwijderen",
    ):
        response = client.post(path, data={"csrf_token": token, "intro": "Overgenomen door Sanne."})
        assert response.status_code == 403, path
    # Her own page edits only her own profile, whatever the form says.
    response = save(client, OWN, intro="Ik ben Sanne.", user_id=str(anna))
    assert response.status_code == 303
    assert profile(app, ANNA) is None
    assert profile(app, SANNE).intro == "Ik ben Sanne."  # type: ignore[union-attr]


@pytest.mark.parametrize("email", [ADMIN, MANAGEMENT], ids=["admin", "management"])
def test_staff_without_a_wijk_profile_have_no_own_profile_page(client, email):
    login(client, email)
    assert client.get(OWN).status_code == 403
    assert "Mijn wijkprofiel" not in client.get("/backoffice/account").get_data(as_text=True)


def test_an_admin_edits_any_accountmanagers_profile(app, client):
    anna = user_id(app, ANNA)
    login(client, ADMIN)
    users = client.get("/backoffice/beheer/gebruikers").get_data(as_text=True)
    assert f'href="{admin_page(anna)}"' in users
    assert f'href="{admin_page(user_id(app, ADMIN))}"' not in users  # admins have none
    page = client.get(admin_page(anna)).get_data(as_text=True)
    assert "Wijkprofiel van Anna de Vries" in page
    response = save(client, admin_page(anna), intro="Anna werkt in Zuidwest.")
    assert response.status_code == 303 and response.headers["Location"] == admin_page(anna)
    assert upload(client, admin_page(anna), image_bytes("JPEG")).status_code == 303
    assert profile(app, ANNA).intro == "Anna werkt in Zuidwest."  # type: ignore[union-attr]
    assert all(
        r.actor_id == user_id(app, ADMIN) and r.details["user_id"] == anna for r in records(app)
    )
    # Only accountmanagers have a profile; a number nobody has is no page either.
    assert client.get(admin_page(user_id(app, MANAGEMENT))).status_code == 404
    assert client.get(admin_page(999999)).status_code == 404


def test_profile_changes_need_the_csrf_token(app, client):
    login(client, ANNA)
    for path in (OWN, OWN + "/foto", OWN + "/foto/verwijderen"):
        assert client.post(path, data={"intro": "Zonder token."}).status_code == 400, path
    assert profile(app, ANNA) is None


# --- demo data -------------------------------------------------------------------------------


def test_demo_profiles_and_the_public_demo_initiative_can_be_seeded_twice(app):
    with db_session(app) as session:
        seed_demo_signals(session, intake_settings(app))
        session.commit()
        assert seed_demo_profiles(session) == 2
        session.commit()
        assert seed_demo_profiles(session) == 0
        session.commit()
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        demo = session.get(StaffProfile, anna.id)
        assert demo is not None and demo.public_phone == "035 629 22 11"
        assert demo.public_email == ANNA and demo.intro and len(demo.intro) <= profiles.INTRO_MAX
        initiatives = session.scalars(select(Signal).where(Signal.kind == "initiatief")).all()
        assert initiatives and all(s.public_display for s in initiatives)
        knelpunten = session.scalars(select(Signal).where(Signal.kind == "knelpunt")).all()
        assert knelpunten and not any(s.public_display for s in knelpunten)


def test_the_loose_upload_sweep_leaves_profile_photos_alone(app):
    store = profiles.photo_store(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"])
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        profiles.set_photo(session, anna, store, io.BytesIO(image_bytes("JPEG")), actor_id=anna.id)
        session.commit()
        name = session.get(StaffProfile, anna.id).photo_key  # type: ignore[union-attr]
        later = datetime.now(UTC) + timedelta(days=30)
        sweep_loose_uploads(session, Path(app.config["UPLOAD_FOLDER"]), now=later)
    assert store.path(name).is_file()  # type: ignore[union-attr]
