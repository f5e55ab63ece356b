"""Thin views: parse the request, call one domain operation, commit once, redirect."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.utils import secure_filename

from portal.domain import intake, status_lookup
from portal.domain.geography import normalise_postcode
from portal.domain.photos import MAX_PIXELS, PhotoStore, StoredPhoto
from portal.domain.routing import LocationInput
from portal.domain.tokens import LINK_DAYS_AFTER_CLOSING as LINK_DAYS
from portal.domain.tokens import MAX_LINKS_PER_SIGNAL, links_expire_at, signal_for_token
from portal.extensions import db, limiter
from portal.models import Attachment, Signal
from portal.public import bp
from portal.public.forms import ReportForm
from portal.public.services import (
    intake_settings,
    links,
    mail_context,
    photo_store,
    wijken_with_buurten,
)
from portal.public.status_forms import StatusLookupForm
from portal.vocabulary import Kind, Theme

SUBMITTED = "submitted"
# The one-time keys of the forms this browser was given (the newest few).
SUBMISSION_KEYS = "submission_keys"
MAX_SUBMISSION_KEYS = 5

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


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    return render_template("public/home.html", wijken=wijken_with_buurten())


@bp.get("/privacy")
def privacy():  # type: ignore[no-untyped-def]
    return render_template("public/privacy.html")


@bp.get("/toegankelijkheid")
def accessibility():  # type: ignore[no-untyped-def]
    return render_template("public/accessibility.html")


@bp.route("/melden", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SUBMIT_RATE_LIMIT"], methods=["POST"])
def report():  # type: ignore[no-untyped-def]
    form = ReportForm()
    if request.method == "GET":
        form.submission_key.data = _new_submission_key()
        return _render_report(form, [], [])
    if form.website.data:
        # A bot filled in the hidden field: thank it and store nothing.
        return render_template("public/thanks_generic.html")
    if form.submission_key.data not in session.get(SUBMISSION_KEYS, []):
        # Not a form this browser was given (tampered, or copied from someone else's
        # page): a new form, never a way back to another signal.
        form.submission_key.data = _new_submission_key()
    kept, photo_errors = _collect_photos(form)
    valid = form.validate()
    if not (valid and not photo_errors):
        return _render_report(form, kept, photo_errors), 422

    data = _submission(form, kept)
    try:
        result = intake.submit_signal(db.session, data, intake_settings())
        db.session.commit()
    except intake.OutsideHilversum:
        db.session.rollback()
        message = _(
            "Deze plek ligt niet in de gemeente Hilversum. Wijkzaken Hilversum kan alleen "
            "meldingen over Hilversum behandelen. Gaat het om een plek in een andere gemeente? "
            "Neem dan contact op met die gemeente."
        )
        return _render_report(form, kept, [], location_errors=[message]), 422
    except IntegrityError:
        # The same form raced in twice (a double click): show the signal the other stored.
        db.session.rollback()
        result = intake.earlier_submission(db.session, data.submission_key, datetime.now(UTC))
        if result is None:
            raise
        db.session.commit()
    session[SUBMITTED] = {"reference": result.signal.reference, "token": result.status_token}
    return redirect(url_for(".confirmation"), code=303)


def _new_submission_key() -> str:
    """A one-time key for this form, remembered in this browser's session only."""
    key = secrets.token_hex(16)
    session[SUBMISSION_KEYS] = [
        *session.get(SUBMISSION_KEYS, [])[-(MAX_SUBMISSION_KEYS - 1) :],
        key,
    ]
    return key


def report_rejected(message: str):  # type: ignore[no-untyped-def]
    """The form was refused before it was read (expired session, too many tries): show it
    again with everything the resident typed, and say what to do."""
    form = ReportForm(meta={"csrf": True})
    kept, _photo_errors = _collect_photos(form, accept_new=False)
    return _render_report(form, kept, [], general_errors=[message]), 422


def report_after_csrf_failure():  # type: ignore[no-untyped-def]
    return report_rejected(
        _(
            "Uw formulier is verlopen. Controleer uw gegevens en klik nog een keer op "
            "'Verstuur melding'. Foto's die u had gekozen moet u opnieuw kiezen."
        )
    )


def report_after_rate_limit():  # type: ignore[no-untyped-def]
    return report_rejected(
        _(
            "U heeft in korte tijd veel meldingen verstuurd. Wacht even en probeer het dan "
            "opnieuw. Wat u heeft ingevuld staat nog klaar."
        )
    )


def _render_report(
    form: ReportForm,
    kept: list[KeptPhoto],
    photo_errors: list[str],
    *,
    location_errors: list[str] | None = None,
    general_errors: list[str] | None = None,
):  # type: ignore[no-untyped-def]
    wijken = wijken_with_buurten()
    errors = form.error_summary({"wijk": location_errors or [], "photos": photo_errors})
    errors += [("verstuur", message) for message in general_errors or []]
    return render_template(
        "public/report.html",
        form=form,
        wijken=wijken,
        kept_photos=kept,
        photo_errors=photo_errors,
        location_errors=location_errors or [],
        errors=errors,
        wijk_options=[(w.code, w.name) for w, _b in wijken],
        buurt_groups=[(w.name, [(b.code, b.name) for b in buurten]) for w, buurten in wijken],
        max_photos=current_app.config["MAX_PHOTOS"],
        max_mb=max_mb(),
    )


def _collect_photos(
    form: ReportForm, *, accept_new: bool = True
) -> tuple[list[KeptPhoto], list[str]]:
    """The photos of this form: those kept from an earlier try plus the new files, which are
    all stored or (when one is refused, or there are too many) none of them."""
    store = photo_store()
    kept = _kept_photos(store)
    limit = current_app.config["MAX_PHOTOS"]
    errors: list[str] = []
    if accept_new:
        # Counted before anything is read: a request with hundreds of files costs nothing.
        uploads = [u for u in request.files.getlist(form.photos.name) if u and u.filename]
        labels = [secure_filename(u.filename or "")[:100] or _("foto") for u in uploads]
        batch = store.accept_all([u.stream for u in uploads], room=limit - len(kept))
        kept += [KeptPhoto(s, label) for s, label in zip(batch.stored, labels, strict=False)]
        sizes = {"mb": max_mb(), "mp": MAX_PIXELS // 1_000_000}
        errors += [
            str(PHOTO_ERRORS[why] % {"name": labels[i], **sizes}) for i, why in batch.refused
        ]
        if batch.too_many:
            errors.append(
                _(
                    "U kunt maximaal %(max)d foto's meesturen. Kies minder foto's en verstuur "
                    "het formulier opnieuw.",
                    max=limit,
                )
            )
            return kept, errors
    if len(kept) > limit:
        errors.append(
            _(
                "U kunt maximaal %(max)d foto's meesturen. Haal het vinkje weg bij de foto's "
                "die u niet wilt meesturen.",
                max=limit,
            )
        )
    return kept, errors


def _kept_photos(store: PhotoStore) -> list[KeptPhoto]:
    kept: list[KeptPhoto] = []
    for value in dict.fromkeys(request.form.getlist("kept_photos")):
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


def _submission(form: ReportForm, kept: list[KeptPhoto]) -> intake.Submission:
    pin = form.pin()
    return intake.Submission(
        kind=Kind(form.kind.data),
        themes=[Theme(t) for t in form.themes.data if t in set(Theme)],
        title=form.title.data or "",
        description=form.description.data,
        location=LocationInput(
            lon=pin[0] if pin else None,
            lat=pin[1] if pin else None,
            buurt_code=form.buurt.data or None,
            wijk_code=form.wijk.data or None,
            postcode=normalise_postcode(form.postcode.data or ""),
        ),
        street=form.street.data or None,
        house_number=form.house_number.data or None,
        photos=[k.stored for k in kept],
        reporter=intake.ReporterInput(
            name=form.name.data or None,
            email=(form.email.data or "").lower() or None,
            phone=form.phone.data or None,
            may_contact=form.may_contact.data,
            may_share_with_partners=form.may_share_with_partners.data,
        ),
        locale=session.get("lang", current_app.config["BABEL_DEFAULT_LOCALE"]),
        submission_key=form.submission_key.data,
    )


@bp.get("/melden/bedankt")
def confirmation():  # type: ignore[no-untyped-def]
    submitted = session.get(SUBMITTED) or {}
    signal = None
    if submitted.get("reference"):
        signal = db.session.scalars(
            select(Signal).where(Signal.reference == submitted["reference"])
        ).first()
    if signal is None:
        return render_template("public/confirmation_missing.html"), 404
    # The link is shown once: the (signed, not encrypted) cookie must not keep it, and the
    # next person at a shared computer must not find it by going back to this page.
    token = submitted.get("token")
    session[SUBMITTED] = {"reference": signal.reference}
    return render_template(
        "public/confirmation.html",
        signal=signal,
        status_url=links().status(token) if token else None,
        owner_is_for_wijk=intake.owner_is_for_wijk(db.session, signal),
        working_days=current_app.config["RESPONSE_WORKING_DAYS"],
    )


@bp.get("/status/<token>")
def status(token: str):  # type: ignore[no-untyped-def]
    signal = signal_for_token(db.session, token, datetime.now(UTC))
    if signal is None:
        return render_template("public/status_unknown.html", link_days=LINK_DAYS), 404
    timeline = [event for event in signal.events if event.is_public]
    return render_template(
        "public/status.html",
        signal=signal,
        timeline=timeline,
        token=token,
        expires_at=links_expire_at(signal),
        max_links=MAX_LINKS_PER_SIGNAL,
        link_days=LINK_DAYS,
    )


@bp.get("/status/<token>/foto/<int:attachment_id>")
def status_photo(token: str, attachment_id: int):  # type: ignore[no-untyped-def]
    # The token first: nothing about photos is looked up for someone without a valid link.
    signal = signal_for_token(db.session, token, datetime.now(UTC))
    if signal is None:
        abort(404)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.signal_id != signal.id:
        abort(404)
    path = photo_store().path(attachment.stored_name)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/status/opvragen", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STATUS_LOOKUP_RATE_LIMIT"], methods=["POST"])
def status_request():  # type: ignore[no-untyped-def]
    form = StatusLookupForm()
    if form.validate_on_submit():
        status_lookup.send_fresh_link(
            db.session, form.reference.data, form.email.data, mail_context()
        )
        db.session.commit()
        # The same answer whether or not they matched: no way to find out who reported what.
        return redirect(url_for(".status_request_sent"), code=303)
    code = 422 if request.method == "POST" else 200
    errors = form.error_summary()
    return render_template("public/status_request.html", form=form, errors=errors), code


@bp.get("/status/opvragen/verstuurd")
def status_request_sent():  # type: ignore[no-untyped-def]
    return render_template("public/status_request_sent.html")
