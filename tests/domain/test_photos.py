"""The photo store: content checked, re-encoded, metadata gone, names random."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from portal.domain.photos import MAX_SIDE, PhotoRejected, PhotoStore


def jpeg_with_gps(size: tuple[int, int] = (64, 48), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (52.0, 13.0, 24.0)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "E", (5.0, 10.0, 12.0)
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> PhotoStore:
    return PhotoStore(tmp_path / "uploads", max_bytes=2_000_000)


def test_jpeg_is_reencoded_without_exif_or_gps(store: PhotoStore) -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the test is real
    stored = store.accept(io.BytesIO(original))
    path = store.path(stored.stored_name)
    assert path is not None
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info
    assert stored.content_type == "image/jpeg"
    assert (stored.width, stored.height) == (64, 48)
    assert stored.stored_name.endswith(".jpg")
    assert len(stored.stored_name) == 36  # 32 random hex digits + ".jpg"


def test_orientation_is_applied_before_the_tag_is_dropped(store: PhotoStore) -> None:
    # Orientation 6 means "rotate 90°": a 64x48 sensor image is a 48x64 photo.
    stored = store.accept(io.BytesIO(jpeg_with_gps((64, 48), orientation=6)))
    assert (stored.width, stored.height) == (48, 64)


def test_png_text_chunks_are_dropped(store: PhotoStore) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jan Jansen, Kerkelandenlaan 12")
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 255, 128)).save(out, "PNG", pnginfo=info)
    stored = store.accept(io.BytesIO(out.getvalue()))
    with Image.open(store.path(stored.stored_name)) as image:
        assert image.format == "PNG"
        assert "Author" not in image.info
        assert image.mode == "RGBA"


def test_webp_is_accepted(store: PhotoStore) -> None:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "green").save(out, "WEBP")
    assert store.accept(io.BytesIO(out.getvalue())).content_type == "image/webp"


def test_large_photo_is_scaled_down(store: PhotoStore) -> None:
    out = io.BytesIO()
    Image.new("RGB", (MAX_SIDE * 2, 100), "white").save(out, "JPEG")
    stored = store.accept(io.BytesIO(out.getvalue()))
    assert (stored.width, stored.height) == (MAX_SIDE, 50)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"this is not an image", "not_an_image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "not_an_image"),  # a JPEG header and nothing else
        (b"GIF89a" + b"\x00" * 40, "not_an_image"),
    ],
)
def test_non_images_are_rejected(store: PhotoStore, data: bytes, reason: str) -> None:
    with pytest.raises(PhotoRejected) as rejected:
        store.accept(io.BytesIO(data))
    assert rejected.value.reason == reason


def test_other_image_formats_are_rejected(store: PhotoStore) -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(PhotoRejected) as rejected:
        store.accept(io.BytesIO(out.getvalue()))
    assert rejected.value.reason == "unsupported"


def test_truncated_jpeg_is_rejected(store: PhotoStore) -> None:
    data = jpeg_with_gps((400, 400))
    with pytest.raises(PhotoRejected):
        store.accept(io.BytesIO(data[: len(data) // 2]))


def test_too_many_bytes_is_rejected_without_reading_everything(tmp_path: Path) -> None:
    small = PhotoStore(tmp_path, max_bytes=100)
    with pytest.raises(PhotoRejected) as rejected:
        small.accept(io.BytesIO(jpeg_with_gps()))
    assert rejected.value.reason == "too_large"
    assert not list(tmp_path.iterdir())


def test_decompression_bomb_is_rejected(store: PhotoStore) -> None:
    # A tiny file that claims 20000 x 20000 pixels (400 MP).
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")
    with pytest.raises(PhotoRejected):
        store.accept(io.BytesIO(out.getvalue()))


def test_load_only_accepts_names_the_store_made(store: PhotoStore) -> None:
    stored = store.accept(io.BytesIO(jpeg_with_gps()))
    assert store.load(stored.stored_name) == stored
    assert store.load("../../etc/passwd") is None
    assert store.load("0" * 32 + ".jpg") is None
