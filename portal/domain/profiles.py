"""An accountmanager's public profile on the wijk page: a short introduction, a photo and how
to reach them at work. The accountmanager edits their own; an admin may edit anyone's. Only
accountmanagers have one: they are the faces residents meet.

Everything here is published, so each part is checked as if a stranger typed it, and each
change is in the audit trail by the names of the fields that changed, never their old text
(an introduction someone took back should not live on in the log)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.photos import PhotoRejected, PhotoStore
from portal.models import Role, StaffProfile, User

INTRO_MAX = 600
PHONE_MAX = 30
EMAIL_MAX = 320
# The wijk page shows the photo as a square of about 10rem; this is sharp on a phone's
# high-density screen and a fraction of a phone photo's weight.
PHOTO_SIDE = 480
# Profile photos: JPEG and PNG (what a camera, a phone or a badge photo gives).
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})
# Kept apart from residents' uploads: the loose-upload sweep looks at the top folder only,
# and the public photo route never reaches a resident's photo.
PHOTO_SUBFOLDER = "profielfoto"

_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()\-]+$")
# "14 035" (the municipality's short number) up to an international mobile number.
_PHONE_DIGITS = (5, 15)


class ProfileRefused(ValueError):
    """What is wrong, as (field, code) pairs: ``intro``/``too_long``, ``phone``/``invalid``,
    ``phone``/``too_long``, ``email``/``invalid``, ``email``/``too_long``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(", ".join(f"{field}: {code}" for field, code in problems))
        self.problems = problems


@dataclass(frozen=True)
class ProfileInput:
    intro: str | None
    phone: str | None
    email: str | None


def has_profile(user: User) -> bool:
    return user.role == Role.ACCOUNTMANAGER


def may_edit(actor: User, target: User) -> bool:
    """An accountmanager edits their own profile, an admin anyone's; nobody else anything."""
    if not has_profile(target):
        return False
    if actor.role == Role.ADMIN:
        return True
    return actor.role == Role.ACCOUNTMANAGER and actor.id == target.id


def photo_store(upload_folder: Path | str, max_bytes: int) -> PhotoStore:
    return PhotoStore(Path(upload_folder) / PHOTO_SUBFOLDER, max_bytes)


def clean_intro(text: str | None) -> str | None:
    """Lines as typed (one paragraph each), without trailing spaces or empty lines at the
    ends; None when empty."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").split("\n")]
    cleaned = "\n".join(lines).strip()
    return cleaned or None


def clean_phone(text: str | None) -> str | None:
    """As the person wrote it (spaces collapsed), if it looks like a phone number."""
    phone = " ".join((text or "").split())
    if not phone:
        return None
    digits = sum(c.isdigit() for c in phone)
    if not _PHONE_CHARACTERS.match(phone) or not _PHONE_DIGITS[0] <= digits <= _PHONE_DIGITS[1]:
        raise ProfileRefused([("phone", "invalid")])
    if len(phone) > PHONE_MAX:
        raise ProfileRefused([("phone", "too_long")])
    return phone


def clean_email(text: str | None) -> str | None:
    email = (text or "").strip()
    if not email:
        return None
    local, at, domain = email.partition("@")
    if not (at and local and "." in domain.strip(".")) or "@" in domain:
        raise ProfileRefused([("email", "invalid")])
    if any(c.isspace() or c in "<>\"'," for c in email):
        raise ProfileRefused([("email", "invalid")])
    if len(email) > EMAIL_MAX:
        raise ProfileRefused([("email", "too_long")])
    return email


def tel_uri(phone: str) -> str:
    """The ``tel:`` link for a number as written: "035 629 22 11" -> "tel:+31356292211";
    a short number ("14 035") stays as it is dialled."""
    # "+31 (0)35 …": the bracketed trunk zero is not dialled from abroad.
    digits = re.sub(r"\D", "", phone.replace("(0)", ""))
    if phone.strip().startswith("+"):
        return f"tel:+{digits}"
    if digits.startswith("00"):
        return f"tel:+{digits[2:]}"
    if digits.startswith("0") and len(digits) == 10:
        return f"tel:+31{digits[1:]}"
    return f"tel:{digits}"


def profile_of(session: Session, user: User) -> StaffProfile | None:
    return session.get(StaffProfile, user.id)


def _profile_for_change(session: Session, user: User) -> StaffProfile:
    if not has_profile(user):
        raise ValueError("only accountmanagers have a public profile")
    profile = session.get(StaffProfile, user.id)
    if profile is None:
        profile = StaffProfile(user_id=user.id)
        session.add(profile)
    return profile


def update_profile(
    session: Session, user: User, data: ProfileInput, *, actor_id: int | None
) -> list[str]:
    """Sets the introduction, work phone and work email (all may be empty); returns the
    names of the fields that changed. Raises ProfileRefused with every problem at once."""
    problems: list[tuple[str, str]] = []
    intro = clean_intro(data.intro)
    if intro is not None and len(intro) > INTRO_MAX:
        problems.append(("intro", "too_long"))
    values: dict[str, str | None] = {"intro": intro}
    for field, clean in (("phone", clean_phone), ("email", clean_email)):
        try:
            values[field] = clean(getattr(data, field))
        except ProfileRefused as refused:
            problems += refused.problems
    if problems:
        raise ProfileRefused(problems)
    profile = _profile_for_change(session, user)
    columns = {"intro": "intro", "phone": "public_phone", "email": "public_email"}
    changed = [f for f, column in columns.items() if getattr(profile, column) != values[f]]
    for field in changed:
        setattr(profile, columns[field], values[field])
    if changed:
        audit.record(session, "profile.updated", actor_id=actor_id, user_id=user.id, fields=changed)
    session.flush()
    return changed


def set_photo(
    session: Session, user: User, store: PhotoStore, stream: BinaryIO, *, actor_id: int | None
) -> str | None:
    """Stores the photo (re-encoded without metadata, cut to a square) as the profile's;
    returns the name of the photo it replaces, for the caller to ``discard_photo`` once the
    change is committed. Raises PhotoRejected (``unsupported`` for a WebP photo)."""
    profile = _profile_for_change(session, user)
    stored = store.accept(stream)
    path = store.path(stored.stored_name)
    assert path is not None  # the store made the name
    if stored.content_type not in PHOTO_TYPES:
        path.unlink(missing_ok=True)
        raise PhotoRejected("unsupported")
    _square(path)
    previous = profile.photo_key
    profile.photo_key = stored.stored_name
    audit.record(session, "profile.photo_changed", actor_id=actor_id, user_id=user.id)
    session.flush()
    return previous


def remove_photo(session: Session, user: User, *, actor_id: int | None) -> str | None:
    """Takes the photo off the profile; returns its name (to discard after the commit), or
    None when there was none (nothing changes, nothing is recorded)."""
    profile = profile_of(session, user)
    if profile is None or profile.photo_key is None:
        return None
    previous = profile.photo_key
    profile.photo_key = None
    audit.record(session, "profile.photo_removed", actor_id=actor_id, user_id=user.id)
    session.flush()
    return previous


def discard_photo(store: PhotoStore, name: str | None) -> None:
    """Deletes a photo file no profile uses any more (after the change was committed)."""
    path = store.path(name) if name else None
    if path is not None:
        path.unlink(missing_ok=True)


def _square(path: Path) -> None:
    """Cuts the (already clean) photo to a centred square of at most PHOTO_SIDE pixels,
    a little above the middle, where a face usually is."""
    with Image.open(path) as image:
        image_format = image.format or "JPEG"
        image.load()
        side = min(PHOTO_SIDE, *image.size)
        square = ImageOps.fit(image, (side, side), centering=(0.5, 0.4))
    square.info = {}
    if image_format == "JPEG":
        square.convert("RGB").save(path, "JPEG", quality=85, optimize=True)
    else:
        square.save(path, "PNG", optimize=True)
