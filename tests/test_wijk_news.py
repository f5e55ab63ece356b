"""Wijk news: an accountmanager posts, edits and withdraws news for her own wijk in the back
office; residents see it on the wijk page and a page per item, with its photo (re-encoded,
without what the camera wrote in it). Authorisation on every route and object. SQLite and
PostgreSQL."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from PIL import ExifTags, Image
from sqlalchemy import select

from portal.domain import wijk_news
from portal.extensions import db
from portal.models import AuditRecord, WijkNews
from portal.seeding_news import DEMO_NEWS, seed_demo_news
from tests.conftest import csrf_token
from tests.factories import ADMIN, ANNA, MANAGEMENT, SANNE, db_session, login

ZUIDWEST = "WK040203"
CENTRUM = "WK040201"
NEW = "/backoffice/wijknieuws/nieuw"
LIST = "/backoffice/wijknieuws"
TITLE = "Schouw in Kerkelanden op donderdag"
TEXT = "We lopen donderdagavond door Kerkelanden.\nLoopt u mee? We starten om 19.00 uur."
ALT = "Bewoners en de wijkagent bij het winkelcentrum"


def photo_bytes(size: tuple[int, int] = (400, 300)) -> bytes:
    """A real JPEG with a camera name and a place in its EXIF, as a phone saves it."""
    image = Image.new("RGB", size, (120, 160, 90))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Testcamera"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 13.0, 4.8)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def visible(html: str) -> str:
    """The page's text as a person reads it (tags gone, entities decoded, spaces collapsed)."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def post_news(
    client: FlaskClient,
    *,
    url: str = NEW,
    wijk: str = ZUIDWEST,
    title: str = TITLE,
    text: str = TEXT,
    photo: bytes | None = None,
    alt: str = "",
    **extra: str,
):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, LIST),
        "wijk": wijk,
        "title": title,
        "text": text,
        "photo_alt": alt,
        **extra,
    }
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "IMG_0001.jpg")
    return client.post(url, data=data, content_type="multipart/form-data")


def news_rows(app: Flask) -> list[WijkNews]:
    with db_session(app) as session:
        return list(session.scalars(select(WijkNews).order_by(WijkNews.id)))


def news_photos(app: Flask) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / wijk_news.PHOTO_SUBFOLDER
    return sorted(folder.iterdir()) if folder.is_dir() else []


def audit_actions(app: Flask) -> list[str]:
    with db_session(app) as session:
        query = select(AuditRecord.action).where(AuditRecord.action.like("wijk_news.%"))
        return list(session.scalars(query.order_by(AuditRecord.id)))


def anna_posts(app: Flask, **fields: object) -> WijkNews:
    client = login(app.test_client(), ANNA)
    response = post_news(client, **fields)  # type: ignore[arg-type]
    assert response.status_code == 303, visible(response.get_data(as_text=True))[:800]
    return news_rows(app)[-1]


# --- posting ----------------------------------------------------------------------------------


def test_anna_posts_news_with_a_photo_and_residents_see_it(app: Flask, client: FlaskClient):
    login(client, ANNA)
    response = post_news(client, photo=photo_bytes(), alt=ALT)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(LIST)
    listing = visible(client.get(LIST).get_data(as_text=True))
    assert f"Uw bericht ‘{TITLE}’ staat op de pagina van wijk Zuidwest." in listing

    [news] = news_rows(app)
    assert (news.wijk_code, news.title, news.body) == (ZUIDWEST, TITLE, TEXT)
    assert wijk_news.photo_alt(news) == ALT
    assert audit_actions(app) == ["wijk_news.posted"]

    resident = Flask.test_client(app)
    item = resident.get(f"/wijken/{ZUIDWEST}/nieuws/{news.id}")
    assert item.status_code == 200
    html = item.get_data(as_text=True)
    assert TITLE in visible(html) and "Loopt u mee?" in visible(html)
    assert "door Anna de Vries, Bureau Wijkzaken" in visible(html)
    [photo_url] = re.findall(rf'<img src="(/wijken/{ZUIDWEST}/nieuws/{news.id}/foto[^"]*)"', html)
    assert f'<img src="{photo_url}" alt="{ALT}">' in html

    wijk_page = resident.get(f"/wijken/{ZUIDWEST}").get_data(as_text=True)
    assert TITLE in wijk_page and f'alt="{ALT}"' in wijk_page
    assert TITLE not in resident.get(f"/wijken/{CENTRUM}").get_data(as_text=True)

    photo = resident.get(photo_url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert "public" in photo.headers["Cache-Control"]
    with Image.open(io.BytesIO(photo.data)) as image:
        assert not image.getexif()  # no camera, no place: only the pixels survive
        assert image.size == (400, 300)


def test_a_photo_needs_a_description_and_a_refused_form_keeps_no_file(app, client):
    login(client, ANNA)
    response = post_news(client, photo=photo_bytes(), alt="")
    assert response.status_code == 422
    page = visible(response.get_data(as_text=True))
    assert "Beschrijf wat er op de foto staat, voor wie de foto niet kan zien." in page
    assert "<title>Fout: Nieuw bericht voor de wijk" in response.get_data(as_text=True)
    assert TITLE in response.get_data(as_text=True)  # what was typed stays
    assert news_rows(app) == [] and news_photos(app) == []


def test_not_a_photo_is_refused_next_to_the_photo_field(app, client):
    login(client, ANNA)
    response = post_news(client, photo=b"%PDF-1.4 not an image", alt=ALT)
    assert response.status_code == 422
    assert "is geen foto in JPG, PNG of WebP" in visible(response.get_data(as_text=True))
    assert news_rows(app) == [] and news_photos(app) == []


def test_title_and_text_have_limits(app, client):
    login(client, ANNA)
    response = post_news(client, title="x" * 121, text="y" * 2001)
    assert response.status_code == 422
    page = visible(response.get_data(as_text=True))
    assert "De titel mag maximaal 120 tekens zijn." in page
    assert "De tekst mag maximaal 2000 tekens zijn." in page
    empty = visible(post_news(client, title=" ", text="").get_data(as_text=True))
    assert "Vul een titel in." in empty and "Schrijf de tekst van het bericht." in empty
    assert news_rows(app) == []
    # The limits themselves are allowed.
    assert post_news(client, title="x" * 120, text="y" * 2000).status_code == 303


def test_an_accountmanager_posts_only_for_her_own_wijk(app, client):
    login(client, ANNA)
    form = client.get(NEW).get_data(as_text=True)
    assert f'<option value="{ZUIDWEST}"' in form and f'value="{CENTRUM}"' not in form
    response = post_news(client, wijk=CENTRUM)
    assert response.status_code == 422
    assert "Kies een van uw wijken." in visible(response.get_data(as_text=True))
    assert news_rows(app) == []


def test_an_admin_posts_for_any_wijk(app, client):
    login(client, ADMIN)
    unchosen = post_news(client, wijk="")
    assert unchosen.status_code == 422
    assert "Kies een wijk." in visible(unchosen.get_data(as_text=True))
    assert post_news(client, wijk=CENTRUM).status_code == 303
    [news] = news_rows(app)
    assert news.wijk_code == CENTRUM


# --- editing and withdrawing ----------------------------------------------------------------


def test_anna_edits_her_news_and_a_new_photo_replaces_the_old_file(app):
    news = anna_posts(app, photo=photo_bytes(), alt=ALT)
    [old_file] = news_photos(app)
    client = login(app.test_client(), ANNA)
    edit = f"/backoffice/wijknieuws/{news.id}"
    form = client.get(edit).get_data(as_text=True)
    assert TITLE in form and ALT in form

    response = post_news(
        client, url=edit, title="Schouw verplaatst", photo=photo_bytes((200, 100)), alt="Plein"
    )
    assert response.status_code == 303
    [edited] = news_rows(app)
    assert edited.title == "Schouw verplaatst" and wijk_news.photo_alt(edited) == "Plein"
    [new_file] = news_photos(app)
    assert new_file != old_file and not old_file.exists()
    # A new photo, a new URL: a cached copy of the old one is never shown for it.
    page = app.test_client().get(f"/wijken/{ZUIDWEST}/nieuws/{news.id}").get_data(as_text=True)
    assert f"v={new_file.name[:8]}" in page

    # Taking the photo away: no photo, no file, and no alt text needed any more.
    assert post_news(client, url=edit, remove_photo="y").status_code == 303
    [bare] = news_rows(app)
    assert wijk_news.photo_name(bare) is None and news_photos(app) == []
    assert app.test_client().get(f"/wijken/{ZUIDWEST}/nieuws/{bare.id}/foto").status_code == 404
    assert audit_actions(app) == ["wijk_news.posted", "wijk_news.changed", "wijk_news.changed"]


def test_withdrawn_news_is_gone_from_page_feed_and_photo(app):
    news = anna_posts(app, photo=photo_bytes(), alt=ALT)
    client = login(app.test_client(), ANNA)
    resident = app.test_client()
    item, photo = (
        f"/wijken/{ZUIDWEST}/nieuws/{news.id}",
        f"/wijken/{ZUIDWEST}/nieuws/{news.id}/foto",
    )
    assert resident.get(item).status_code == 200 and resident.get(photo).status_code == 200

    edit_page = client.get(f"/backoffice/wijknieuws/{news.id}").get_data(as_text=True)
    assert "Wie het al per e-mail kreeg, houdt het." in visible(edit_page)
    response = client.post(
        f"/backoffice/wijknieuws/{news.id}/intrekken", data={"csrf_token": csrf_token(client, LIST)}
    )
    assert response.status_code == 303
    assert "Ingetrokken op" in visible(client.get(LIST).get_data(as_text=True))

    assert resident.get(item).status_code == 404
    assert resident.get(photo).status_code == 404
    assert TITLE not in resident.get(f"/wijken/{ZUIDWEST}").get_data(as_text=True)
    assert TITLE not in resident.get(f"/wijken/{ZUIDWEST}/nieuws.atom").get_data(as_text=True)
    with app.app_context():
        assert wijk_news.recent_for_wijk(db.session, ZUIDWEST) == []
    [row] = news_rows(app)
    assert row.withdrawn_at is not None  # kept for the audit trail
    assert audit_actions(app) == ["wijk_news.posted", "wijk_news.withdrawn"]
    # Withdrawn is final: no edit, no second withdrawal.
    assert post_news(client, url=f"/backoffice/wijknieuws/{news.id}").status_code == 303
    assert news_rows(app)[0].title == TITLE


def test_another_wijks_accountmanager_cannot_see_or_touch_the_news(app):
    news = anna_posts(app)
    sanne = login(app.test_client(), SANNE)
    assert TITLE not in sanne.get(LIST).get_data(as_text=True)
    assert sanne.get(f"/backoffice/wijknieuws/{news.id}").status_code == 404
    token = csrf_token(sanne, LIST)
    assert (
        post_news(sanne, url=f"/backoffice/wijknieuws/{news.id}", wijk=CENTRUM).status_code == 404
    )
    withdraw = sanne.post(f"/backoffice/wijknieuws/{news.id}/intrekken", data={"csrf_token": token})
    assert withdraw.status_code == 404
    [row] = news_rows(app)
    assert (row.title, row.wijk_code, row.withdrawn_at) == (TITLE, ZUIDWEST, None)


def test_management_reads_the_list_and_changes_nothing(app):
    news = anna_posts(app)
    marco = login(app.test_client(), MANAGEMENT)
    listing = marco.get(LIST)
    assert listing.status_code == 200 and TITLE in listing.get_data(as_text=True)
    assert f"/backoffice/wijknieuws/{news.id}" not in listing.get_data(as_text=True)
    assert "Nieuw bericht" not in visible(listing.get_data(as_text=True))
    assert marco.get(NEW).status_code == 403
    assert marco.get(f"/backoffice/wijknieuws/{news.id}").status_code == 403
    token = csrf_token(marco, LIST)
    withdraw = marco.post(f"/backoffice/wijknieuws/{news.id}/intrekken", data={"csrf_token": token})
    assert withdraw.status_code == 403
    assert news_rows(app)[0].withdrawn_at is None


def test_the_news_screens_need_a_login_and_a_csrf_token(app, client):
    assert client.get(LIST).status_code == 302
    login(client, ANNA)
    without_token = client.post(NEW, data={"wijk": ZUIDWEST, "title": TITLE, "text": TEXT})
    assert without_token.status_code == 400
    assert news_rows(app) == []


# --- public pages -------------------------------------------------------------------------------


def test_unknown_wijk_or_news_is_not_found(app, client):
    news = anna_posts(app)
    assert client.get(f"/wijken/{CENTRUM}/nieuws/{news.id}").status_code == 404  # other wijk
    assert client.get(f"/wijken/WK999999/nieuws/{news.id}").status_code == 404
    assert client.get(f"/wijken/{ZUIDWEST}/nieuws/{news.id + 1}").status_code == 404
    assert client.get(f"/wijken/{ZUIDWEST}/nieuws/{news.id}/foto").status_code == 404  # no photo
    assert client.get("/wijken/WK999999/nieuws.atom").status_code == 404
    assert client.get("/wijken/WK999999/attendering").status_code == 404


def test_the_text_is_shown_as_written_never_as_html(app, client):
    news = anna_posts(app, title="Veilig <b>fietsen</b>", text="Eerste regel\n<script>x</script>")
    html = client.get(f"/wijken/{ZUIDWEST}/nieuws/{news.id}").get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<b>fietsen</b>" not in html
    assert '<p class="utrecht-paragraph">Eerste regel</p>' in html


# --- demo data --------------------------------------------------------------------------------


def test_demo_news_is_seeded_once(app):
    with app.app_context():
        assert seed_demo_news(db.session) == len(DEMO_NEWS)
        db.session.commit()
        assert seed_demo_news(db.session) == 0
        zuidwest = wijk_news.recent_for_wijk(db.session, ZUIDWEST)
        assert [n.author.name for n in zuidwest] == ["Anna de Vries", "Anna de Vries"]
        assert "Kerkelanden" in zuidwest[0].title  # newest first: the schouw
        assert [n.author.name for n in wijk_news.recent_for_wijk(db.session, CENTRUM)] == [
            "Sanne Bakker"
        ]


def test_seed_demo_adds_the_news_on_the_first_run_only(app, runner):
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert f"Wijk news: {len(DEMO_NEWS)} new." in first.output
    again = runner.invoke(args=["seed", "demo"])
    assert "Wijk news: 0 new." in again.output
    assert len(news_rows(app)) == len(DEMO_NEWS)
