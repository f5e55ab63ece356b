"""Photos sent with a public form (the report form, a message on the status page): checked
and stored as the request comes in, and kept while the resident fixes other fields, so a
refused form never asks them to pick the same photos again."""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass

from flask import Response, abort, current_app, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.utils import secure_filename

from portal.domain.photos import MAX_PIXELS, PhotoStore, StoredPhoto
from portal.extensions import db
from portal.models import Attachment, Signal
from portal.public.services import photo_store

log = logging.getLogger(__name__)

KEPT_FIELD = "kept_photos"
# The upload folder cannot take the photos: its disk is full, the portal's quota is used up,
# or a file is larger than the file system (or the process's file-size limit) allows.
STORAGE_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})

PHOTO_ERRORS = {
    "too_large": _l("%(name)s is groter dan %(mb)d MB. Kies een kleinere foto."),
    "too_many_pixels": _l(
        "%(name)s is te groot: een foto mag hooguit %(mp)d megapixel zijn. Kies een kleinere foto."
    ),
    "not_an_image": _l("%(name)s is geen foto in JPG, PNG of WebP. Kies een andere foto."),
    "unsupported": _l("%(name)s is geen foto in JPG, PNG of WebP. Kies een andere foto."),
}


@dataclass(frozen=True)
class KeptPhoto:
    """A photo accepted earlier in this form, kept while the resident fixes other fields."""

    stored: StoredPhoto
    label: str

    @property
    def value(self) -> str:
        return f"{self.stored.stored_name}:{self.label}"


def collect_photos(
    field_name: str, *, limit: int | None = None, accept_new: bool = True
) -> tuple[list[KeptPhoto], list[str]]:
    """The photos of this form: those kept from an earlier try plus the new files in
    ``field_name``, which are all stored or (when one is refused, or there are too many) none
    of them. Returns them with the error messages for the resident."""
    store = photo_store()
    kept = _kept_photos(store)
    limit = current_app.config["MAX_PHOTOS"] if limit is None else limit
    errors: list[str] = []
    if accept_new:
        # Counted before anything is read: a request with hundreds of files costs nothing.
        uploads = [u for u in request.files.getlist(field_name) if u and u.filename]
        labels = [secure_filename(u.filename or "")[:100] or _("foto") for u in uploads]
        try:
            batch = store.accept_all([u.stream for u in uploads], room=limit - len(kept))
        except OSError as error:
            if error.errno not in STORAGE_FULL:
                raise
            # The store removed what it had written; the form comes back with all the rest.
            log.error("Photos sent to %s not stored, no room for them: %s", request.path, error)
            errors.append(
                _(
                    "Door een storing bij ons konden uw foto's niet worden opgeslagen. Er is "
                    "nog niets verstuurd en wat u heeft ingevuld staat nog klaar. Probeer het "
                    "later opnieuw, of verstuur het formulier zonder foto's."
                )
            )
            return kept, errors
        kept += [KeptPhoto(s, label) for s, label in zip(batch.stored, labels, strict=False)]
        sizes = {"mb": max_mb(), "mp": MAX_PIXELS // 1_000_000}
        errors += [
            str(PHOTO_ERRORS[why] % {"name": labels[i], **sizes}) for i, why in batch.refused
        ]
        if batch.too_many:
            errors.append(
                ngettext(
                    "U kunt maximaal %(num)d foto meesturen. Kies minder foto's en verstuur "
                    "het formulier opnieuw.",
                    "U kunt maximaal %(num)d foto's meesturen. Kies minder foto's en verstuur "
                    "het formulier opnieuw.",
                    limit,
                )
            )
            return kept, errors
    if len(kept) > limit:
        errors.append(
            ngettext(
                "U kunt maximaal %(num)d foto meesturen. Haal het vinkje weg bij de foto's "
                "die u niet wilt meesturen.",
                "U kunt maximaal %(num)d foto's meesturen. Haal het vinkje weg bij de foto's "
                "die u niet wilt meesturen.",
                limit,
            )
        )
    return kept, errors


def _kept_photos(store: PhotoStore) -> list[KeptPhoto]:
    kept: list[KeptPhoto] = []
    for value in dict.fromkeys(request.form.getlist(KEPT_FIELD)):
        stored_name, _sep, label = value.partition(":")
        stored = store.load(stored_name)
        if stored is not None:
            kept.append(KeptPhoto(stored, label[:100] or _("foto")))
    if kept:  # a kept photo must be a loose upload, never one already attached to a signal
        attached = set(
            db.session.scalars(
                select(Attachment.stored_name).where(
                    Attachment.stored_name.in_([k.stored.stored_name for k in kept])
                )
            )
        )
        kept = [k for k in kept if k.stored.stored_name not in attached]
    return kept


def max_mb() -> int:
    return max(1, current_app.config["MAX_PHOTO_BYTES"] // (1024 * 1024))


def send_signal_photo(signal: Signal, attachment_id: int) -> Response:
    """One of the signal's photos (404 for another signal's), never kept in any cache."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.signal_id != signal.id:
        abort(404)
    path = photo_store().path(attachment.stored_name)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
