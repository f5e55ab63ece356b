"""The public form ``/melden``: validation, location, photos, spam and double-submit guards.

Everything goes through the real app, as a browser would send it: the CSRF token and the
hidden ``submission_key`` are read from the page, the body is multipart/form-data."""

from __future__ import annotations

import html
import io
import random
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageCms
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import create_app
from portal.extensions import db
from portal.models import AuditRecord, Signal, SignalEvent, User
from tests.domain.test_photos import forbid_decoding, tiny_png
from tests.factories import db_session

ZUIDWEST = "WK040203"
KERKELANDEN = "BU04020304"
KERKELANDEN_PIN = (5.140466, 52.215599)  # (lon, lat) inside buurt Kerkelanden
UTRECHT_DOM = (5.1214, 52.0908)  # (lon, lat) well outside Hilversum
ANNA = "Anna de Vries"  # owns Zuidwest in the seeded demo staff
EVA = "Eva de Boer"  # owns the general inbox

SUBMISSION_KEY = re.compile(r'name="submission_key"[^>]*value="([^"]*)"')
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")


# --- helpers: a valid form, posting it, reading the page back ---------------------------------


def valid_form(**overrides: object) -> dict[str, object]:
    """A complete, valid knelpunt in buurt Kerkelanden; ``None`` removes a field."""
    data: dict[str, object] = {
        "kind": "knelpunt",
        "themes": ["schoon", "veilig"],
        "title": "Kapotte lantaarnpaal bij de speeltuin",
        "description": "De lantaarnpaal bij de speeltuin doet het al een week niet.",
        "wijk": ZUIDWEST,
        "buurt": KERKELANDEN,
        "street": "Kerkelandenlaan",
        "house_number": "12a",
        "postcode": "1216 AB",
        "name": "Jan Jansen",
        "email": "jan.jansen@example.nl",
        "phone": "035 123 45 67",
        "may_contact": "y",
        "may_share_with_partners": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def no_location(**overrides: object) -> dict[str, object]:
    """A valid form that says nothing about where it is (unless ``overrides`` do)."""
    empty = {"wijk": "", "buurt": "", "street": "", "house_number": "", "postcode": ""}
    return valid_form(**{**empty, **overrides})


def open_form(client: FlaskClient) -> tuple[str, str]:
    """(CSRF token, submission key) of a freshly loaded form."""
    page = client.get("/melden").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    key = SUBMISSION_KEY.search(page)
    assert token and key and key.group(1), "the form lacks its CSRF token or submission key"
    return token.group(1), key.group(1)


def photo_file(data: bytes, filename: str, content_type: str = "image/jpeg"):
    return (io.BytesIO(data), filename, content_type)


def post_report(
    client: FlaskClient,
    data: dict[str, object],
    *,
    photos: Sequence[tuple[bytes, str]] = (),
    csrf: bool = True,
    submission_key: str | None = None,
):
    """Posts the form like a browser: fresh token and key from the page, multipart body."""
    token, key = open_form(client)
    body: dict[str, object] = dict(data)
    body.setdefault("submission_key", submission_key or key)
    if csrf:
        body.setdefault("csrf_token", token)
    if photos:
        body["photos"] = [photo_file(content, name) for content, name in photos]
    return client.post("/melden", data=body, content_type="multipart/form-data")


def submit(client: FlaskClient, data: dict[str, object] | None = None, **kwargs) -> str:
    """Posts a form that must be accepted; returns the reference on the confirmation page."""
    response = post_report(client, data if data is not None else valid_form(), **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].endswith("/melden/bedankt")
    page = client.get("/melden/bedankt").get_data(as_text=True)
    match = re.search(r'class="portal-reference">([A-Z]+-\d{4}-\d{6})<', page)
    assert match, "no reference on the confirmation page"
    return match.group(1)


def signal_count(app: Flask) -> int:
    with db_session(app) as session:
        return session.scalar(select(func.count()).select_from(Signal)) or 0


def only_signal(session: Session) -> Signal:
    signals = session.scalars(select(Signal)).all()
    assert len(signals) == 1, signals
    return signals[0]


def user_id(session: Session, name: str) -> int:
    return session.scalars(select(User.id).where(User.name == name)).one()


class FormState(HTMLParser):
    """What a browser would show (and send back) from a rendered form."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self.checked: dict[str, list[str]] = {}
        self.ids: set[str] = set()
        self._textarea: str | None = None
        self._select: str | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.checked.setdefault(name, []).append(a.get("value") or "on")
            elif kind != "file":
                self.values[name] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea:
            # Browsers drop the newline right after <textarea>; WTForms writes one.
            value = self.values[self._textarea]
            self.values[self._textarea] = value[2:] if value.startswith("\r\n") else value
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


CHECKBOXES = {"may_contact", "may_share_with_partners"}


def assert_values_kept(page: str, sent: dict[str, object]) -> FormState:
    """Every value the resident entered is in the re-rendered form, as they entered it."""
    state = FormState(page)
    assert state.checked.get("kind", []) == ([sent["kind"]] if "kind" in sent else [])
    assert sorted(state.checked.get("themes", [])) == sorted(sent.get("themes", []))  # type: ignore[arg-type]
    for box in CHECKBOXES:
        assert (box in state.checked) == (box in sent), box
    for name in (
        "title",
        "description",
        "wijk",
        "buurt",
        "street",
        "house_number",
        "postcode",
        "name",
        "email",
        "phone",
        "lat",
        "lon",
    ):
        assert state.values.get(name, "") == sent.get(name, ""), name
    return state


def error_summary(page: str) -> list[tuple[str, str]]:
    """(link target, message) of each entry in the GOV.UK-style summary at the top."""
    box = re.search(r'<div[^>]*id="foutmeldingen"[^>]*>(.*?)</div>', page, re.S)
    assert box, "no error summary on the page"
    assert 'role="alert"' in box.group(0)
    assert "Er ging iets mis" in box.group(1)
    return [
        (target, html.unescape(re.sub(r"\s+", " ", text)).strip())
        for target, text in re.findall(r'<a[^>]*href="#([^"]+)"[^>]*>(.*?)</a>', box.group(1), re.S)
    ]


def field_error(page: str, field_id: str) -> str:
    """The error text shown next to a field (``<div id="<field>-error">``)."""
    match = re.search(rf'<div[^>]*id="{re.escape(field_id)}-error"[^>]*>(.*?)</div>', page, re.S)
    assert match, f"no error next to {field_id}"
    return html.unescape(re.sub(r"<[^>]+>|\s+", " ", match.group(1)))


def assert_error(response, field_id: str, message: str) -> str:
    """422, "Fout: " title, message in the summary (linking to a real element) and at the
    field."""
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title and title.group(1).strip().startswith("Fout: ")
    summary = error_summary(page)
    assert any(message in text for _target, text in summary), summary
    ids = FormState(page).ids
    for target, _text in summary:
        assert target in ids, f"summary links to #{target}, which is not on the page"
    assert message in field_error(page, field_id)
    return page


# --- photos made with Pillow ----------------------------------------------------------------


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Acme Phones"  # Make
    exif[0x0131] = "GeheimeSoftware 1.0"  # Software
    exif[0x8825] = {1: "N", 2: (52.0, 13.0, 1.5), 3: "E", 4: (5.0, 8.0, 2.5)}  # GPSInfo
    return exif.tobytes()


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def make_image(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), *, metadata: bool = True
) -> bytes:
    out = io.BytesIO()
    extra = {"exif": gps_exif(), "icc_profile": srgb_profile()} if metadata else {}
    Image.new("RGB", size, (200, 40, 40)).save(out, fmt, **extra)
    data = out.getvalue()
    if metadata:  # the test is only worth something if the original really carries GPS
        with Image.open(io.BytesIO(data)) as original:
            assert original.getexif().get_ifd(0x8825)
    return data


def noise_png(side: int) -> bytes:
    """A PNG of random pixels: it does not compress, so it is about 3 * side² bytes."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(side).randbytes(3 * side * side)).save(
        out, "PNG"
    )
    return out.getvalue()


def gif_image() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), (0, 0, 255)).save(out, "GIF")
    return out.getvalue()


def uploads(app: Flask) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(folder.iterdir()) if folder.exists() else []


# --- a valid knelpunt -----------------------------------------------------------------------


def test_valid_knelpunt_is_stored_routed_and_audited(app, client):
    response = post_report(client, valid_form())

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/melden/bedankt")
    with db_session(app) as session:
        signal = only_signal(session)
        assert signal.kind == "knelpunt"
        assert signal.theme_codes == ["schoon", "veilig"]
        assert signal.title == "Kapotte lantaarnpaal bij de speeltuin"
        assert signal.description == valid_form()["description"]
        assert (signal.wijk_code, signal.buurt_code) == (ZUIDWEST, KERKELANDEN)
        assert signal.location_source == "buurt"
        assert signal.location_flagged is False
        assert signal.owner_id == user_id(session, ANNA)
        assert signal.status == "received"
        assert signal.reference == f"HLV-{datetime.now(UTC).year}-000001"
        assert (signal.street, signal.house_number, signal.postcode) == (
            "Kerkelandenlaan",
            "12a",
            "1216 AB",
        )
        reporter = signal.reporter
        assert reporter is not None
        assert (reporter.name, reporter.email, reporter.phone) == (
            "Jan Jansen",
            "jan.jansen@example.nl",
            "035 123 45 67",
        )
        assert reporter.may_contact is True
        assert reporter.may_share_with_partners is True

        audit = session.scalars(select(AuditRecord).where(AuditRecord.signal_id == signal.id)).all()
        assert [a.action for a in audit] == ["signal.created"]
        assert audit[0].details["reference"] == signal.reference
        assert audit[0].details["wijk"] == ZUIDWEST

        events = session.scalars(
            select(SignalEvent).where(SignalEvent.signal_id == signal.id)
        ).all()
        assert [(e.kind, e.is_public, e.to_status) for e in events] == [
            ("created", True, "received")
        ]


def test_an_initiatief_with_all_themes_and_without_consents(app, client):
    data = valid_form(
        kind="initiatief",
        themes=["sociaal", "schoon", "heel", "veilig"],
        may_contact=None,
        may_share_with_partners=None,
    )
    submit(client, data)

    with db_session(app) as session:
        signal = only_signal(session)
        assert signal.kind == "initiatief"
        assert signal.theme_codes == ["schoon", "heel", "veilig", "sociaal"]
        assert signal.reporter is not None
        assert signal.reporter.may_contact is False
        assert signal.reporter.may_share_with_partners is False


def test_references_count_up(app, client):
    year = datetime.now(UTC).year
    assert submit(client) == f"HLV-{year}-000001"
    assert submit(client) == f"HLV-{year}-000002"


def test_the_form_page_has_a_fresh_key_and_no_errors(client):
    first = client.get("/melden")
    second = client.get("/melden")
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert "<title>Doe een melding" in page
    assert 'id="foutmeldingen"' not in page
    keys = {SUBMISSION_KEY.search(r.get_data(as_text=True)).group(1) for r in (first, second)}
    assert len(keys) == 2


# --- validation: 422, summary + message at the field, everything kept ------------------------

TOO_LONG = "x" * 5001

INVALID = [
    pytest.param({"kind": None}, "kind", "Kies wat u wilt doorgeven", id="missing-kind"),
    pytest.param({"themes": None}, "themes", "Kies minstens één onderwerp", id="no-theme"),
    pytest.param(
        {"description": "123456789"}, "description", "tussen 10 en 5000 tekens", id="desc-9"
    ),
    pytest.param({"description": TOO_LONG}, "description", "tussen 10 en 5000", id="desc-5001"),
    pytest.param({"description": ""}, "description", "Beschrijf wat er", id="desc-empty"),
    pytest.param({"title": "t" * 121}, "title", "maximaal 120 tekens", id="title-121"),
    *[
        pytest.param({"postcode": pc}, "postcode", "Vul een geldige postcode in", id=f"pc-{pc}")
        for pc in [
            "1216",
            "1216 A",
            "1216 ABC",
            "0216 AB",
            "12165 AB",
            "AB 1216",
            "1216-AB",
            "1216 SS",
            "١٢١٦ AB",
        ]
    ],
    *[
        pytest.param({"email": e}, "email", "Vul een geldig e-mailadres in", id=f"email-{e}")
        for e in ["jan", "jan@", "@example.nl", "jan@@example.nl", "jan example@example.nl"]
    ],
    *[
        pytest.param({"phone": p}, "phone", "Vul een geldig telefoonnummer in", id=f"phone-{p}")
        for p in ["abc", "12345", "035 123 45 67 ext 8", "+31 6 " + "1" * 30]
    ],
    *[
        pytest.param({"house_number": h}, "house_number", "Vul een huisnummer in", id=f"house-{h}")
        for h in ["abc", "1234567890123", "-12", "12 <b>", "123456"]
    ],
]


@pytest.mark.parametrize(("overrides", "field_id", "message"), INVALID)
def test_invalid_form_comes_back_with_errors_and_every_value(
    app, client, overrides, field_id, message
):
    sent = valid_form(**overrides)
    response = post_report(client, sent)

    page = assert_error(response, field_id, message)
    assert_values_kept(page, sent)
    assert signal_count(app) == 0


def test_several_errors_are_listed_in_page_order(client):
    sent = valid_form(
        kind=None, themes=None, description="kort", title="t" * 121, email="jan@", phone="x"
    )
    page = assert_error(post_report(client, sent), "kind", "Kies wat u wilt doorgeven")
    targets = [target for target, _text in error_summary(page)]
    assert set(targets) == {"kind-0", "themes-0", "description", "title", "email", "phone"}
    main = page[page.index('<form method="post"') :]
    assert targets == sorted(targets, key=lambda t: main.index(f'id="{t}"'))
    assert_values_kept(page, sent)


# --- postcodes and location -----------------------------------------------------------------


@pytest.mark.parametrize("postcode", ["1216 AB", "1216ab", "1216AB", " 1216  aB "])
def test_postcode_spellings_are_accepted_and_normalised(app, client, postcode):
    submit(client, valid_form(postcode=postcode))
    with db_session(app) as session:
        assert only_signal(session).postcode == "1216 AB"


def test_postcode_alone_suggests_a_wijk(app, client):
    submit(client, no_location(postcode="1216ab"))
    with db_session(app) as session:
        signal = only_signal(session)
        assert signal.wijk_code == ZUIDWEST
        assert signal.buurt_code is None
        assert signal.location_source == "postcode"
        assert signal.location_flagged is False
        assert signal.owner_id == user_id(session, ANNA)


def test_postcode_outside_hilversum_is_refused_with_values_kept(app, client):
    sent = no_location(postcode="3511 AB", street="Domplein", house_number="1")
    response = post_report(client, sent)

    page = assert_error(response, "postcode", "niet in de gemeente Hilversum")
    assert_values_kept(page, sent)
    assert signal_count(app) == 0


def test_pin_inside_kerkelanden_places_the_signal(app, client):
    lon, lat = KERKELANDEN_PIN
    submit(client, no_location(lon=str(lon), lat=str(lat)))
    with db_session(app) as session:
        signal = only_signal(session)
        assert (signal.wijk_code, signal.buurt_code) == (ZUIDWEST, KERKELANDEN)
        assert signal.location_source == "pin"
        assert signal.lon == pytest.approx(lon)
        assert signal.lat == pytest.approx(lat)
        assert signal.owner_id == user_id(session, ANNA)


def test_pin_outside_hilversum_is_refused_with_values_kept(app, client):
    lon, lat = UTRECHT_DOM
    sent = valid_form(lon=str(lon), lat=str(lat))
    page = assert_error(post_report(client, sent), "wijk", "niet in de gemeente Hilversum")
    assert_values_kept(page, sent)
    assert signal_count(app) == 0


def test_no_location_goes_to_the_general_inbox_flagged(app, client):
    submit(client, no_location())
    with db_session(app) as session:
        signal = only_signal(session)
        assert signal.wijk_code is None and signal.buurt_code is None
        assert signal.location_source == "unknown"
        assert signal.location_flagged is True
        assert signal.owner_id == user_id(session, EVA)


# --- title ----------------------------------------------------------------------------------


def test_empty_title_is_made_from_the_description(app, client):
    submit(client, valid_form(title="", description="  Veel   zwerfvuil\nbij het\tbankje.  "))
    with db_session(app) as session:
        assert only_signal(session).title == "Veel zwerfvuil bij het bankje."


def test_title_from_a_long_description_is_cut_at_a_word(app, client):
    description = " ".join(["zwerfvuil"] * 100)
    submit(client, valid_form(title="   ", description=description))
    with db_session(app) as session:
        title = only_signal(session).title
    assert len(title) <= 120
    assert title.endswith("…")
    assert description.startswith(title[:-1])
    assert not title[:-1].endswith("zwerfvu")  # not cut in the middle of a word


# --- photos ---------------------------------------------------------------------------------


def test_three_photos_of_each_format_are_accepted(app, client):
    photos = [
        (make_image("JPEG"), "straat.jpg"),
        (make_image("PNG"), "lantaarn.png"),
        (make_image("WEBP"), "speeltuin.webp"),
    ]
    submit(client, valid_form(), photos=photos)

    with db_session(app) as session:
        attachments = only_signal(session).attachments
        assert [a.content_type for a in attachments] == ["image/jpeg", "image/png", "image/webp"]
        assert [a.position for a in attachments] == [0, 1, 2]
        assert all((a.width, a.height) == (64, 48) for a in attachments)
        names = [a.stored_name for a in attachments]
    stored = uploads(app)
    assert sorted(p.name for p in stored) == sorted(names)
    for name in names:
        assert STORED_NAME.match(name), name
        assert not any(original in name for original in ("straat", "lantaarn", "speeltuin"))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_gps_and_colour_profile_are_stripped(app, client, fmt):
    submit(client, valid_form(), photos=[(make_image(fmt), f"IMG_0001.{fmt.lower()}")])

    [path] = uploads(app)
    with Image.open(path) as stored:
        assert stored.format == fmt
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info
        assert "icc_profile" not in stored.info
        assert "xmp" not in stored.info
    assert b"Acme Phones" not in path.read_bytes()
    assert b"GeheimeSoftware" not in path.read_bytes()


def test_content_decides_not_the_file_name(app, client):
    text = b"Dit is helemaal geen foto, maar een tekstbestand.\n" * 20
    sent = valid_form()
    response = post_report(client, sent, photos=[(text, "x.jpg")])

    page = assert_error(response, "photos", "x.jpg is geen foto in JPG, PNG of WebP")
    assert_values_kept(page, sent)
    assert signal_count(app) == 0
    assert uploads(app) == []

    submit(client, valid_form(), photos=[(make_image("PNG"), "eigenlijk-een-png.jpg")])
    with db_session(app) as session:
        [attachment] = only_signal(session).attachments
        assert attachment.content_type == "image/png"
        assert attachment.stored_name.endswith(".png")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, id="png-header-only"),
        pytest.param(make_image("JPEG", metadata=False)[:200], id="truncated-jpeg"),
        pytest.param(gif_image(), id="gif"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
        pytest.param(b"", id="empty-file"),
    ],
)
def test_broken_and_unsupported_files_are_refused_kindly(app, client, content):
    response = post_report(client, valid_form(), photos=[(content, "foto.jpg")])
    assert_error(response, "photos", "foto.jpg is geen foto in JPG, PNG of WebP")
    assert signal_count(app) == 0
    assert uploads(app) == []


@pytest.fixture
def small_photo_app(app_config) -> Iterator[Flask]:
    app = create_app({**app_config, "MAX_PHOTO_BYTES": 50_000})
    yield app
    with app.app_context():
        db.engine().dispose()


def test_photo_over_the_size_limit_is_refused(small_photo_app):
    client = small_photo_app.test_client()
    big = noise_png(200)
    assert len(big) > 50_000
    sent = valid_form()
    response = post_report(client, sent, photos=[(big, "groot.png")])

    page = assert_error(response, "photos", "groot.png is groter dan")
    assert_values_kept(page, sent)
    assert signal_count(small_photo_app) == 0
    assert uploads(small_photo_app) == []

    submit(client, valid_form(), photos=[(make_image("PNG"), "klein.png")])
    with db_session(small_photo_app) as session:
        assert len(only_signal(session).attachments) == 1


def test_photo_over_10_mb_is_refused_by_default(app, client):
    over = b"\xff\xd8\xff\xe0" + b"\x00" * (10 * 1024 * 1024)
    response = post_report(client, valid_form(), photos=[(over, "enorm.jpg")])
    assert_error(response, "photos", "enorm.jpg is groter dan 10 MB")
    assert signal_count(app) == 0


def test_four_photos_are_refused_before_any_is_read_and_none_is_kept(app, client, monkeypatch):
    forbid_decoding(monkeypatch)
    photos = [(make_image("JPEG", (40 + i, 30)), f"foto{i}.jpg") for i in range(4)]
    sent = valid_form()
    response = post_report(client, sent, photos=photos)

    page = assert_error(response, "photos", "maximaal 3 foto's")
    assert "Kies minder foto's" in field_error(page, "photos")
    state = assert_values_kept(page, sent)
    assert "kept_photos" not in state.checked
    assert uploads(app) == []
    assert signal_count(app) == 0


def test_a_limit_of_one_photo_is_said_in_the_singular(app_config):
    app = create_app({**app_config, "MAX_PHOTOS": 1})
    two = [(make_image("JPEG", (40 + i, 30)), f"foto{i}.jpg") for i in range(2)]
    response = post_report(app.test_client(), valid_form(), photos=two)
    page = assert_error(response, "photos", "maximaal 1 foto meesturen")
    assert "1 foto's" not in page


def test_kept_photos_and_too_many_new_ones_keep_only_the_kept(app, client):
    sent = valid_form(kind=None)
    two = [(make_image("JPEG", (40 + i, 30)), f"foto{i}.jpg") for i in range(2)]
    response = post_report(client, sent, photos=two)
    kept = assert_values_kept(assert_error(response, "kind", "Kies wat"), sent).checked[
        "kept_photos"
    ]
    assert len(kept) == 2 and len(uploads(app)) == 2

    # Two kept and two new is one too many: the new ones are refused, the kept ones stay.
    more = [(make_image("PNG", (50 + i, 30)), f"extra{i}.png") for i in range(2)]
    response = post_report(client, valid_form(kept_photos=kept), photos=more)
    page = assert_error(response, "photos", "maximaal 3 foto's")
    assert FormState(page).checked["kept_photos"] == kept
    assert len(uploads(app)) == 2

    # The resident unticks one kept photo and adds one of the new ones again.
    submit(client, valid_form(kept_photos=[kept[1]]), photos=more[:1])
    with db_session(app) as session:
        attachments = only_signal(session).attachments
        assert attachments[0].stored_name == kept[1].partition(":")[0]
        assert [(a.width, a.content_type) for a in attachments] == [
            (41, "image/jpeg"),
            (50, "image/png"),
        ]


def test_more_kept_photos_than_allowed_are_refused(app, client):
    """Only a changed page sends four kept photos (the form keeps at most three), but a signal
    must never get more photos than allowed: untick one, and nothing is stored yet."""
    kept = []
    for i in range(4):
        response = post_report(
            client, valid_form(kind=None), photos=[(make_image("JPEG", (40 + i, 30)), f"f{i}.jpg")]
        )
        kept += FormState(response.get_data(as_text=True)).checked["kept_photos"]
    assert len(kept) == 4
    response = post_report(client, valid_form(kept_photos=kept))
    page = assert_error(response, "photos", "Haal het vinkje weg")
    assert FormState(page).checked["kept_photos"] == kept
    assert signal_count(app) == 0


def test_a_photo_is_kept_while_another_field_is_fixed(app, client):
    sent = valid_form(kind=None)
    response = post_report(client, sent, photos=[(make_image("JPEG"), "stoep.jpg")])

    page = assert_error(response, "kind", "Kies wat u wilt doorgeven")
    state = assert_values_kept(page, sent)
    [kept] = state.checked["kept_photos"]
    stored_name, _sep, label = kept.partition(":")
    assert STORED_NAME.match(stored_name)
    assert label == "stoep.jpg"
    assert "stoep.jpg" in page  # the resident sees which photo is kept
    assert [p.name for p in uploads(app)] == [stored_name]

    submit(client, valid_form(kept_photos=[kept]))  # no file uploaded this time
    with db_session(app) as session:
        [attachment] = only_signal(session).attachments
        assert attachment.stored_name == stored_name
        assert attachment.content_type == "image/jpeg"
    assert [p.name for p in uploads(app)] == [stored_name]


def test_a_kept_photo_cannot_be_taken_from_another_signal(app, client):
    submit(client, valid_form(), photos=[(make_image("JPEG"), "mijn.jpg")])
    with db_session(app) as session:
        [attachment] = only_signal(session).attachments
        taken = attachment.stored_name

    other = app.test_client()
    submit(other, valid_form(kept_photos=[f"{taken}:mijn.jpg"]))
    with db_session(app) as session:
        signals = session.scalars(select(Signal).order_by(Signal.id)).all()
        assert len(signals) == 2
        assert signals[1].attachments == []


@pytest.mark.parametrize(
    "value",
    ["../../etc/passwd:x", "/etc/passwd", "0" * 32 + ".jpg:x", "x" * 10_000, ":", "\x00"],
)
def test_forged_kept_photos_are_ignored(app, client, value):
    submit(client, valid_form(kept_photos=[value]))
    with db_session(app) as session:
        assert only_signal(session).attachments == []


@pytest.mark.parametrize("size", [(7000, 7000), (6000, 5000)], ids=["49-MP", "30-MP"])
def test_a_photo_over_24_megapixels_is_refused_without_decoding(app, client, monkeypatch, size):
    forbid_decoding(monkeypatch)
    small_file = tiny_png(size)
    assert len(small_file) < 100_000  # far below the 10 MB limit: only the pixels are too many
    sent = valid_form()
    response = post_report(client, sent, photos=[(small_file, "camera.png")])

    page = assert_error(response, "photos", "camera.png is te groot")
    assert "hooguit 24 megapixel" in field_error(page, "photos")
    assert_values_kept(page, sent)
    assert uploads(app) == []
    assert signal_count(app) == 0


def test_many_huge_pngs_with_a_wrong_field_cost_no_decoding_and_leave_no_file(
    app, client, monkeypatch
):
    # The reported attack: small files claiming 49 million pixels each, and a description too
    # short, so that the form comes back. Nothing may be decoded or left on disk.
    forbid_decoding(monkeypatch)
    bomb = tiny_png((7000, 7000))
    sent = valid_form(description="kort")
    response = post_report(client, sent, photos=[(bomb, f"groot{i}.png") for i in range(6)])

    page = assert_error(response, "photos", "maximaal 3 foto's")
    assert_error(response, "description", "tussen 10 en 5000 tekens")
    assert_values_kept(page, sent)
    assert uploads(app) == []


def test_one_refused_photo_leaves_none_of_the_request_behind(app, client):
    sent = valid_form()
    photos = [(make_image("JPEG"), "goed.jpg"), (b"geen foto", "fout.jpg")]
    response = post_report(client, sent, photos=photos)

    page = assert_error(response, "photos", "fout.jpg is geen foto")
    assert "goed.jpg" not in field_error(page, "photos")
    assert "kept_photos" not in FormState(page).checked
    assert uploads(app) == []


def test_the_request_limit_follows_the_photo_settings(app_config):
    default = create_app(app_config)
    assert default.config["MAX_CONTENT_LENGTH"] == 3 * 10 * 1024 * 1024 + 1024 * 1024
    five = create_app({**app_config, "MAX_PHOTOS": 5, "MAX_PHOTO_BYTES": 2_000_000})
    assert five.config["MAX_CONTENT_LENGTH"] == 5 * 2_000_000 + 1024 * 1024
    chosen = create_app({**app_config, "MAX_CONTENT_LENGTH": 12345})
    assert chosen.config["MAX_CONTENT_LENGTH"] == 12345
    for made in (default, five, chosen):
        with made.app_context():
            db.engine().dispose()


def test_a_request_over_the_limit_gets_the_friendly_413_page(small_photo_app):
    client = small_photo_app.test_client()
    limit = small_photo_app.config["MAX_CONTENT_LENGTH"]
    assert limit == 3 * 50_000 + 1024 * 1024
    response = post_report(client, valid_form(), photos=[(b"\xff" * limit, "enorm.jpg")])

    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Wat u stuurde is te groot" in page
    assert signal_count(small_photo_app) == 0
    assert uploads(small_photo_app) == []


# --- spam, CSRF, double submit --------------------------------------------------------------


def test_honeypot_filled_stores_nothing_and_says_thanks(app, client):
    response = post_report(client, valid_form(website="http://spam.example"))
    assert response.status_code == 200
    assert "Bedankt" in response.get_data(as_text=True)
    assert "HLV-" not in response.get_data(as_text=True)
    assert signal_count(app) == 0


def test_post_without_csrf_token_keeps_the_values_and_explains(app, client):
    sent = valid_form()
    response = post_report(client, sent, csrf=False)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Uw formulier is verlopen" in html.unescape(page)
    assert_values_kept(page, sent)
    assert signal_count(app) == 0
    # ... and the re-rendered form carries a fresh token that works.
    state = FormState(page)
    assert state.values.get("csrf_token")
    again = client.post(
        "/melden",
        data={
            **sent,
            "csrf_token": state.values["csrf_token"],
            "submission_key": state.values["submission_key"],
        },
        content_type="multipart/form-data",
    )
    assert again.status_code == 303
    assert signal_count(app) == 1


def test_post_with_a_forged_csrf_token_stores_nothing(app, client):
    response = post_report(client, valid_form(csrf_token="forged"))
    assert response.status_code == 422
    assert signal_count(app) == 0


def test_the_same_form_posted_twice_gives_one_signal(app, client):
    token, key = open_form(client)
    body = {**valid_form(), "csrf_token": token, "submission_key": key}
    first = client.post("/melden", data=body, content_type="multipart/form-data")
    first_page = client.get("/melden/bedankt").get_data(as_text=True)
    second = client.post("/melden", data=body, content_type="multipart/form-data")
    second_page = client.get("/melden/bedankt").get_data(as_text=True)

    assert first.status_code == second.status_code == 303
    assert second.headers["Location"].endswith("/melden/bedankt")
    with db_session(app) as session:
        reference = only_signal(session).reference
    assert reference in first_page
    assert reference in second_page


def test_another_sessions_key_opens_nothing(app, client):
    """Finding 12: re-posting another signal's key used to return that signal with a fresh
    status token. A key counts only in the browser session that was given it."""
    _token, key = open_form(client)
    first = submit(client, valid_form(), submission_key=key)
    other = app.test_client()
    again = submit(
        other, valid_form(description="Iets heel anders, bij de speeltuin."), submission_key=key
    )
    assert again != first
    assert signal_count(app) == 2
    assert first not in other.get("/melden/bedankt").get_data(as_text=True)


def test_a_key_is_honoured_only_for_a_short_while(app, client):
    from datetime import timedelta

    from portal.domain.intake import SUBMISSION_WINDOW

    _token, key = open_form(client)
    first = submit(client, valid_form(), submission_key=key)
    assert submit(client, valid_form(), submission_key=key) == first  # a refresh: the same
    with db_session(app) as session:
        signal = only_signal(session)
        signal.created_at -= SUBMISSION_WINDOW + timedelta(minutes=1)
        session.commit()
    later = submit(client, valid_form(), submission_key=key)
    assert later != first
    assert signal_count(app) == 2


def test_two_concurrent_posts_of_the_same_form_give_one_signal(app):
    """A double click: one browser (one session cookie) sends the same form twice at once."""
    first = app.test_client()
    token, key = open_form(first)
    second = app.test_client()
    second.set_cookie("session", first.get_cookie("session").value)  # type: ignore[union-attr]
    clients = [first, second]
    bodies = [{**valid_form(), "csrf_token": token, "submission_key": key} for _ in clients]
    barrier = threading.Barrier(len(clients))
    responses: list[object] = [None] * len(clients)
    errors: list[BaseException] = []

    def post(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            responses[i] = clients[i].post(
                "/melden", data=bodies[i], content_type="multipart/form-data"
            )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert [r.status_code for r in responses] == [303, 303]  # type: ignore[union-attr]
    assert signal_count(app) == 1
    with db_session(app) as session:
        reference = only_signal(session).reference
    for c in clients:
        assert reference in c.get("/melden/bedankt").get_data(as_text=True)
    # The loser's reference number was given back: the next signal has the next number.
    assert submit(clients[0]) == reference[:-6] + "000002"


# --- never a 500 ----------------------------------------------------------------------------

LONG = "Ω" * 100_000

HOSTILE = {
    "long-everything": {
        **{
            k: LONG
            for k in (
                "title",
                "description",
                "street",
                "house_number",
                "postcode",
                "name",
                "email",
                "phone",
                "wijk",
                "buurt",
                "lat",
                "lon",
            )
        },
        "kind": LONG,
        "themes": [LONG],
    },
    "long-submission-key": valid_form(submission_key="k" * 10_000),
    "long-valid-fields-at-the-limit": valid_form(
        title="t" * 120, description="d" * 5000, street="s" * 200, name="n" * 200
    ),
    "nul-in-description": valid_form(description="Kapotte\x00 lantaarnpaal bij de speeltuin"),
    "nul-in-title": valid_form(title="Lantaarn\x00paal"),
    "nul-in-street": valid_form(street="Kerkelanden\x00laan"),
    "nul-in-name": valid_form(name="Jan\x00Jansen"),
    "nul-in-every-field": {
        k: f"{v}\x00" if isinstance(v, str) else v for k, v in valid_form().items()
    },
    "nul-in-submission-key": valid_form(submission_key="abc\x00def"),
    "unicode": valid_form(
        title="Kapot 🚧 \u202etxet\u202c ﷽",
        description="Zwerfvuil bij de Kerk 🗑️ — ë ñ ß 漢字 \u0301\u200b\ud7ff" * 3,
        name="Zoë 🧑‍🦱 O'Brien",
        street="Ĳsselstraat",
    ),
    "invalid-kind": valid_form(kind="klacht"),
    "two-kinds": valid_form(kind=["knelpunt", "initiatief"]),
    "unknown-wijk-and-buurt": valid_form(wijk="WK999999", buurt="BU99999999"),
    "wijk-and-buurt-from-different-wijken": valid_form(wijk="WK040201", buurt=KERKELANDEN),
    "lat-lon-nan": no_location(lat="nan", lon="nan"),
    "lat-lon-inf": no_location(lat="1e999", lon="-1e999"),
    "lat-lon-abc": no_location(lat="abc", lon="def"),
    "lat-only": no_location(lat="52.2"),
    "lat-lon-swapped": no_location(lat=str(KERKELANDEN_PIN[0]), lon=str(KERKELANDEN_PIN[1])),
    "lat-lon-huge": no_location(lat="1e308", lon="1e308"),
    "themes-nope": valid_form(themes=["nope"]),
    "themes-many": valid_form(themes=["schoon", "heel"] * 400),
    "themes-too-many-parts": valid_form(themes=["schoon"] * 5000),
    "empty-body": {},
    "email-idn": valid_form(email="jan@xn--bcher-kva.example"),
    "email-unicode": valid_form(email="zoë@bücher.example"),
    "may-contact-odd": valid_form(may_contact="false", may_share_with_partners=LONG),
    "website-long": valid_form(website=LONG),
}


@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_never_gives_a_server_error(app, client, data):
    response = post_report(client, data)
    assert 200 <= response.status_code < 500, response.status_code
    assert signal_count(app) == (1 if response.status_code == 303 else 0)


def test_invalid_utf8_never_gives_a_server_error(app, client):
    token, key = open_form(client)
    body = (
        f"csrf_token={token}&submission_key={key}&kind=knelpunt&themes=schoon"
        "&description=Zwerfvuil%ff%fe%c3%28+bij+de+kerk&name=%ed%a0%80&buurt=%ff"
    )
    response = client.post("/melden", data=body, content_type="application/x-www-form-urlencoded")
    assert 200 <= response.status_code < 500, response.status_code


def test_the_form_does_not_grow_with_every_request(app):
    """Binding a form must not change the class's fields: a filter added per request would
    make every later request slower (and use more memory) for as long as the process runs."""
    from portal.public.forms import ReportForm

    with app.test_request_context("/melden", method="POST"):
        first = [len(field.filters) for field in ReportForm()]
        for _ in range(10):
            ReportForm()
        later = [len(field.filters) for field in ReportForm()]
    assert later == first
