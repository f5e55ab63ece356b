"""Large camera photos in a real browser: photo-resize.js makes them smaller before they are
sent, so they get through; the server still checks what arrives."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from flask import Flask
from PIL import ExifTags, Image, ImageDraw
from playwright.sync_api import Page
from sqlalchemy import select

from portal.domain.photos import MAX_SIDE
from portal.models import Signal
from tests.factories import db_session
from tests.fixtures.browser import assert_accessible
from tests.test_browser_resident import DESCRIPTION, EMAIL, confirmation, fill_report, submit

pytestmark = [
    pytest.mark.browser,
    # One backend is enough for the browser: the domain tests cover PostgreSQL.
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

BROWSER_MAX_SIDE = 2048  # photo-resize.js


def camera_photo(folder: Path, size: tuple[int, int], *, orientation: int | None = None) -> Path:
    """A 12 MP JPEG as a phone saves it, optionally with the sensor turned (EXIF orientation)."""
    image = Image.new("RGB", size, (120, 160, 90))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 200):  # some detail, so it is not a trivially small file
        draw.line((x, 0, size[0] - x, size[1]), fill=(x % 255, 40, 200), width=9)
    exif = Image.Exif()
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    path = folder / "IMG_2024.jpg"
    image.save(path, "JPEG", quality=95, exif=exif)
    return path


def chosen_files(page: Page) -> list[dict[str, object]]:
    return page.eval_on_selector(
        "#photos",
        "input => Array.from(input.files).map(f => ({name: f.name, size: f.size, type: f.type}))",
    )


def stored_sizes(app: Flask) -> list[tuple[int, int]]:
    with db_session(app) as session:
        [signal] = session.scalars(select(Signal)).all()
        return [(a.width, a.height) for a in signal.attachments]


def test_a_large_camera_photo_is_made_smaller_before_it_is_sent(
    page: Page, live_server: str, app: Flask, tmp_path: Path
) -> None:
    photo = camera_photo(tmp_path, (4000, 3000))
    # Sent as it is, the server would keep it at MAX_SIDE: the test tells the two apart.
    assert MAX_SIDE > BROWSER_MAX_SIDE

    page.goto(f"{live_server}/melden")
    assert_accessible(page)
    fill_report(page, description=DESCRIPTION, email=EMAIL, photo=photo)
    # The field ends up with one smaller JPEG instead of the original.
    page.wait_for_function(
        "size => document.getElementById('photos').files[0].size < size",
        arg=photo.stat().st_size,
    )
    [chosen] = chosen_files(page)
    assert chosen["name"] == "IMG_2024.jpg" and chosen["type"] == "image/jpeg"
    submit(page)

    confirmation(page, live_server)
    assert_accessible(page)
    assert stored_sizes(app) == [(2048, 1536)]


# Chooses the file and presses the button in one go (one JavaScript task), so the photo
# cannot be ready yet when the form is sent; set_input_files would give the script time.
CHOOSE_AND_SEND_AT_ONCE = """([name, bytes]) => {
  const data = Uint8Array.from(atob(bytes), c => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([data], name, {type: "image/jpeg"}));
  const input = document.getElementById("photos");
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", {bubbles: true}));
  document.getElementById("verstuur").click();
}"""


def test_the_photo_stays_upright_and_the_form_waits_for_it(
    page: Page, live_server: str, app: Flask, tmp_path: Path
) -> None:
    # Orientation 6: the sensor's 4000x3000 is a 3000x4000 (portrait) photo.
    photo = camera_photo(tmp_path, (4000, 3000), orientation=6)

    page.goto(f"{live_server}/melden")
    fill_report(page, description=DESCRIPTION, email=EMAIL, photo=None)
    encoded = base64.b64encode(photo.read_bytes()).decode()
    page.evaluate(CHOOSE_AND_SEND_AT_ONCE, [photo.name, encoded])

    confirmation(page, live_server)
    assert_accessible(page)
    assert stored_sizes(app) == [(1536, 2048)]
