"""The photo store: content checked, re-encoded, metadata gone, names random."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageFile, PngImagePlugin

from portal.domain.photos import MAX_PIXELS, MAX_SIDE, PhotoRejected, PhotoStore


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


def tiny_png(size: tuple[int, int]) -> bytes:
    """A file of a few kilobytes whose header claims ``size`` (one colour compresses to nothing)."""
    out = io.BytesIO()
    Image.new("1", size).save(out, "PNG")
    return out.getvalue()


class Decoded(BaseException):
    """Not an Exception, so that no ``except`` in the code under test can swallow it."""


def forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to decode pixels fails the test (Pillow reads headers without ``load``)."""

    def refuse(self: ImageFile.ImageFile):  # type: ignore[no-untyped-def]
        raise Decoded(f"decoded a {self.size[0]}x{self.size[1]} image")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_decoding(monkeypatch)


def test_more_pixels_than_the_cap_are_refused(store: PhotoStore) -> None:
    # 30 MP in a few kB: over the 24 MP cap, but far below what Pillow refuses by itself.
    assert MAX_PIXELS < 6000 * 5000 < Image.MAX_IMAGE_PIXELS
    data = tiny_png((6000, 5000))
    assert len(data) < 50_000
    with pytest.raises(PhotoRejected) as rejected:
        store.accept(io.BytesIO(data))
    assert rejected.value.reason == "too_many_pixels"
    assert not store.folder.exists() or not list(store.folder.iterdir())


def test_the_pixel_cap_is_checked_before_decoding(store: PhotoStore, no_decoding: None) -> None:
    with pytest.raises(PhotoRejected) as rejected:
        store.accept(io.BytesIO(tiny_png((7000, 7000))))
    assert rejected.value.reason == "too_many_pixels"


def test_a_photo_at_the_pixel_cap_is_accepted(store: PhotoStore) -> None:
    stored = store.accept(io.BytesIO(tiny_png((6000, 4000))))  # exactly 24 MP
    assert max(stored.width, stored.height) == MAX_SIDE


def test_too_many_files_are_refused_without_reading_any(
    store: PhotoStore, no_decoding: None
) -> None:
    class Unreadable(io.BytesIO):
        def read(self, *args: object) -> bytes:
            raise AssertionError("a file was read")

    result = store.accept_all([Unreadable() for _ in range(4)], room=3)
    assert result.too_many
    assert result.stored == [] and result.refused == []


def test_one_refused_file_stores_none_of_the_request(store: PhotoStore) -> None:
    good = io.BytesIO(jpeg_with_gps())
    result = store.accept_all(
        [good, io.BytesIO(b"not an image"), io.BytesIO(tiny_png((7000, 7000)))], room=3
    )
    assert result.stored == []
    assert result.refused == [(1, "not_an_image"), (2, "too_many_pixels")]
    assert not store.folder.exists() or not list(store.folder.iterdir())


def test_a_file_that_breaks_while_decoding_stores_none_of_the_request(store: PhotoStore) -> None:
    data = jpeg_with_gps((400, 400))
    truncated = data[: len(data) // 2]  # the header is fine; the pixels are not all there
    result = store.accept_all([io.BytesIO(jpeg_with_gps()), io.BytesIO(truncated)], room=3)
    assert result.stored == []
    assert result.refused == [(1, "not_an_image")]
    assert not store.folder.exists() or not list(store.folder.iterdir())


def test_a_batch_within_the_room_is_stored(store: PhotoStore) -> None:
    result = store.accept_all([io.BytesIO(jpeg_with_gps()) for _ in range(2)], room=2)
    assert not result.refused and not result.too_many
    assert sorted(p.name for p in store.folder.iterdir()) == sorted(
        s.stored_name for s in result.stored
    )
