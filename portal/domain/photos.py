"""Residents' photos: the content is checked (not the file name), the image is re-encoded so
that nothing but pixels survives (EXIF with GPS, comments, colour-profile tricks), and it is
stored under a random name outside the database.

Decoding is the expensive part (a 190 kB PNG can claim 49 million pixels), so everything that
can be decided without it is decided first: how many files, how many bytes, which format and
how many pixels the header claims. Only a request that passes all of that is decoded."""

from __future__ import annotations

import io
import re
import secrets
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow format -> (content type, file extension)
FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
# Phones save 12 MP by default; twice that leaves room for the larger modes without letting one
# file cost a second of CPU and 100 MB of memory to decode. Browsers with JavaScript scale
# photos down before they are sent, so this only refuses large photos sent without it.
MAX_PIXELS = 24_000_000
# Phone photos are far larger than anyone needs to see the problem; this keeps storage sane.
MAX_SIDE = 3000
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")


def is_stored_name(name: str) -> bool:
    """True for names this store makes (32 random hex digits and our extension)."""
    return bool(_STORED_NAME.match(name))


class PhotoRejected(ValueError):
    """Why a file is not accepted: ``too_large`` (bytes), ``too_many_pixels``,
    ``not_an_image`` or ``unsupported``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StoredPhoto:
    stored_name: str
    content_type: str
    byte_size: int
    width: int
    height: int


@dataclass(frozen=True)
class BatchResult:
    """What became of the files of one request: all of them stored, or none of them."""

    stored: list[StoredPhoto] = field(default_factory=list)
    # (position in the request, reason) of each refused file
    refused: list[tuple[int, str]] = field(default_factory=list)
    # More files than there was room for: none of them was read.
    too_many: bool = False


class PhotoStore:
    def __init__(self, folder: Path | str, max_bytes: int) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    def accept(self, stream: BinaryIO) -> StoredPhoto:
        [stored] = self._write([_reencode(self._checked_bytes(stream))])
        return stored

    def accept_all(self, streams: Sequence[BinaryIO], *, room: int) -> BatchResult:
        """Stores every file, or none when the request has more than ``room`` files or any
        file is refused; nothing is decoded unless every file passed the cheap checks."""
        if len(streams) > max(room, 0):
            return BatchResult(too_many=True)
        checked: list[bytes] = []
        refused: list[tuple[int, str]] = []
        for index, stream in enumerate(streams):
            try:
                checked.append(self._checked_bytes(stream))
            except PhotoRejected as rejected:
                refused.append((index, rejected.reason))
        if refused:
            return BatchResult(refused=refused)
        encoded = []
        for index, data in enumerate(checked):
            try:
                encoded.append(_reencode(data))
            except PhotoRejected as rejected:
                refused.append((index, rejected.reason))
        if refused:
            return BatchResult(refused=refused)
        return BatchResult(stored=self._write(encoded))

    def load(self, stored_name: str) -> StoredPhoto | None:
        """A photo stored earlier (kept across a form that came back with errors)."""
        path = self.path(stored_name)
        if path is None or not path.is_file():
            return None
        with Image.open(path) as image:
            content_type = FORMATS[image.format or ""][0]
            return StoredPhoto(stored_name, content_type, path.stat().st_size, *image.size)

    def remove(self, stored_names: Sequence[str]) -> None:
        """Files whose rows are gone (erased on request): not left for the day-long sweep."""
        for name in stored_names:
            path = self.path(name)
            if path is not None:
                path.unlink(missing_ok=True)

    def path(self, stored_name: str) -> Path | None:
        if not is_stored_name(stored_name):
            return None
        return self.folder / stored_name

    def _checked_bytes(self, stream: BinaryIO) -> bytes:
        data = stream.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise PhotoRejected("too_large")
        _check_header(data)
        return data

    def _write(self, encoded: list[_Encoded]) -> list[StoredPhoto]:
        self.folder.mkdir(parents=True, exist_ok=True)
        stored: list[StoredPhoto] = []
        names: list[str] = []
        try:
            for item in encoded:
                content_type, extension = FORMATS[item.image_format]
                names.append(secrets.token_hex(16) + extension)
                (self.folder / names[-1]).write_bytes(item.data)
                stored.append(StoredPhoto(names[-1], content_type, len(item.data), *item.size))
        except OSError:
            # All or nothing, also when the disk is full: the file being written when it
            # filled up is gone too (what fitted of it would otherwise stay until the sweep).
            for name in names:
                (self.folder / name).unlink(missing_ok=True)
            raise
        return stored


@dataclass(frozen=True)
class _Encoded:
    image_format: str
    data: bytes
    size: tuple[int, int]


def _check_header(data: bytes) -> str:
    """Format and size from the header alone (Pillow's ``open`` decodes no pixels)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format = image.format or ""
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise PhotoRejected("not_an_image") from None
    if image_format not in FORMATS:
        raise PhotoRejected("unsupported")
    if width * height > MAX_PIXELS:
        raise PhotoRejected("too_many_pixels")
    return image_format


def _reencode(data: bytes) -> _Encoded:
    image_format = _check_header(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.seek(0)  # animated files: the first frame is the photo
                image.load()
                # Turn the picture upright before the orientation tag is thrown away.
                clean = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected("not_an_image") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        # Truncated or malformed files surface as any of these from the decoders.
        raise PhotoRejected("not_an_image") from None

    clean.thumbnail((MAX_SIDE, MAX_SIDE))
    # Encoders copy some of ``info`` (EXIF, ICC, XMP, text chunks) into the file they write.
    clean.info = {k: v for k, v in clean.info.items() if k == "transparency"}
    out = io.BytesIO()
    if image_format == "JPEG":
        clean.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif image_format == "PNG":
        if clean.mode not in {"1", "L", "LA", "P", "RGB", "RGBA"}:
            clean = clean.convert("RGBA")
        clean.save(out, "PNG", optimize=True)
    else:
        if clean.mode not in {"RGB", "RGBA"}:
            clean = clean.convert("RGBA")
        clean.save(out, "WEBP", quality=85)
    return _Encoded(image_format, out.getvalue(), clean.size)
