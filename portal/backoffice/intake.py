"""Back office: staff register a signal received by phone, email, at the counter, through
social media or seen on a schouw ("ogen en oren"). It goes through the one intake operation
of the public form, so it is routed, numbered, timed and mailed exactly the same; only the
channel and the registrar (the staff member) differ. Schouw mode is in ``schouw.py``.

Admins and accountmanagers register; management reads and registers nothing."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.backoffice import bp
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.backoffice.intake_forms import StaffIntakeForm
from portal.domain import intake as intake_ops
from portal.extensions import db
from portal.models import Signal
from portal.public.photo_uploads import KeptPhoto, collect_photos, max_mb
from portal.public.services import intake_settings, wijken_with_buurten
from portal.public.submission import submission_from
from portal.vocabulary import Channel

# The one-time keys of the staff forms this browser was given (the newest few): a double
# click or a refresh gives the first signal back instead of a second one.
SUBMISSION_KEYS = "staff_submission_keys"
MAX_SUBMISSION_KEYS = 10
REGISTERED = "staff_registered"


def new_submission_key() -> str:
    key = secrets.token_hex(16)
    session[SUBMISSION_KEYS] = [
        *session.get(SUBMISSION_KEYS, [])[-(MAX_SUBMISSION_KEYS - 1) :],
        key,
    ]
    return key


def own_submission_key(key: str | None) -> str:
    """``key`` when this browser was given it; otherwise a fresh one (a tampered or copied
    key is a new form, never a way to another signal)."""
    if key and key in session.get(SUBMISSION_KEYS, []):
        return key
    return new_submission_key()


def outside_hilversum_message() -> str:
    return _(
        "Deze plek ligt niet in de gemeente Hilversum. Wijkzaken kan alleen meldingen over "
        "Hilversum registreren. Verwijs de melder naar de gemeente waar het is, of kies een "
        "plek in Hilversum."
    )


def location_choices() -> dict[str, object]:
    """The wijk and buurt lists of every form that asks where (names as the admin set them)."""
    wijken = wijken_with_buurten()
    return {
        "wijk_options": [(w.code, w.name) for w, _b in wijken],
        "buurt_groups": [(w.name, [(b.code, b.name) for b in buurten]) for w, buurten in wijken],
    }


def submit_once(data: intake_ops.Submission) -> intake_ops.IntakeResult:
    """The intake operation and the one commit; the same form raced in twice (a double
    click) gives the signal the other request stored. Raises OutsideHilversum (rolled back)."""
    try:
        result = intake_ops.submit_signal(db.session, data, intake_settings())
        db.session.commit()
        return result
    except intake_ops.OutsideHilversum:
        db.session.rollback()
        raise
    except IntegrityError:
        db.session.rollback()
        earlier = intake_ops.earlier_submission(db.session, data.submission_key, datetime.now(UTC))
        if earlier is None:
            raise
        db.session.commit()
        return earlier


@bp.route("/registreren", methods=["GET", "POST"])
@roles_required(*WORKER_ROLES)
def intake():  # type: ignore[no-untyped-def]
    form = StaffIntakeForm()
    if request.method == "GET":
        form.submission_key.data = new_submission_key()
        return _render(form, [], [])
    form.submission_key.data = own_submission_key(form.submission_key.data)
    kept, photo_errors = collect_photos(form.photos.name)
    valid = form.validate()
    if not valid or photo_errors:
        return _render(form, kept, photo_errors), 422
    data = _submission(form, kept)
    try:
        result = submit_once(data)
    except intake_ops.OutsideHilversum:
        # Next to the field that caused it: without a pin, only the postcode can lie outside.
        field = "wijk" if data.location.lon is not None else "postcode"
        return _render(form, kept, [], location_errors={field: [outside_hilversum_message()]}), 422
    session[REGISTERED] = {"reference": result.signal.reference, "user": current_user.id}
    return redirect(url_for(".intake_done"), code=303)


def _render(
    form: StaffIntakeForm,
    kept: list[KeptPhoto],
    photo_errors: list[str],
    *,
    location_errors: dict[str, list[str]] | None = None,
):  # type: ignore[no-untyped-def]
    location_errors = location_errors or {}
    return render_template(
        "backoffice/intake/form.html",
        form=form,
        errors=form.error_summary({**location_errors, "photos": photo_errors}),
        kept_photos=kept,
        photo_errors=photo_errors,
        location_errors=location_errors,
        max_photos=current_app.config["MAX_PHOTOS"],
        max_mb=max_mb(),
        nav="intake",
        **location_choices(),
    )


def _submission(form: StaffIntakeForm, kept: list[KeptPhoto]) -> intake_ops.Submission:
    return submission_from(
        form,
        kept,
        locale=form.language.data or current_app.config["BABEL_DEFAULT_LOCALE"],
        channel=Channel(form.channel.data),
        registrar_id=current_user.id,
    )


@bp.get("/registreren/geregistreerd")
@roles_required(*WORKER_ROLES)
def intake_done():  # type: ignore[no-untyped-def]
    """What to tell the caller: the reference, who handles it, whether they get mail."""
    registered = session.get(REGISTERED) or {}
    signal = None
    if registered.get("user") == current_user.id and registered.get("reference"):
        signal = db.session.scalars(
            select(Signal).where(Signal.reference == registered["reference"])
        ).first()
    if signal is None:
        return redirect(url_for(".intake"), code=303)
    return render_template(
        "backoffice/intake/registered.html",
        signal=signal,
        owner_is_for_wijk=intake_ops.owner_is_for_wijk(db.session, signal),
        working_days=current_app.config["RESPONSE_WORKING_DAYS"],
        nav="intake",
    )
