"""Residents' photos: the content is checked (not the file name), the image is re-encoded so
that nothing but pixels survives (EXIF with GPS, comments, colour-profile tricks), and it is
stored under a random name outside the database."""

from __future__ import annotations

import io
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow format -> (content type, file extension)
FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
MAX_PIXELS = 50_000_000
# Phone photos are far larger than anyone needs to see the problem; this keeps storage sane.
MAX_SIDE = 3000
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")


class PhotoRejected(ValueError):
    """Why a file is not accepted: ``too_large``, ``not_an_image`` or ``unsupported``."""

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


class PhotoStore:
    def __init__(self, folder: Path | str, max_bytes: int) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    def accept(self, stream: BinaryIO) -> StoredPhoto:
        data = stream.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise PhotoRejected("too_large")
        image_format, encoded, size = _reencode(data)
        content_type, extension = FORMATS[image_format]
        stored_name = secrets.token_hex(16) + extension
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / stored_name).write_bytes(encoded)
        return StoredPhoto(stored_name, content_type, len(encoded), *size)

    def load(self, stored_name: str) -> StoredPhoto | None:
        """A photo stored earlier (kept across a form that came back with errors)."""
        path = self.path(stored_name)
        if path is None or not path.is_file():
            return None
        with Image.open(path) as image:
            content_type = FORMATS[image.format or ""][0]
            return StoredPhoto(stored_name, content_type, path.stat().st_size, *image.size)

    def path(self, stored_name: str) -> Path | None:
        if not _STORED_NAME.match(stored_name):
            return None
        return self.folder / stored_name


def _reencode(data: bytes) -> tuple[str, bytes, tuple[int, int]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format = image.format or ""
                if image_format not in FORMATS:
                    raise PhotoRejected("unsupported")
                if image.width * image.height > MAX_PIXELS:
                    raise PhotoRejected("too_large")
                image.seek(0)  # animated files: the first frame is the photo
                image.load()
                # Turn the picture upright before the orientation tag is thrown away.
                clean = ImageOps.exif_transpose(image)
    except PhotoRejected:
        raise
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
    return image_format, out.getvalue(), clean.size
