"""Thin views: parse the request, call one domain operation, commit once, redirect."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask import (
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, load_only

from portal.domain import intake, status_lookup
from portal.domain.geography import normalise_postcode
from portal.domain.nearby import PUBLIC_STATUS_LABELS
from portal.extensions import db, limiter
from portal.models import Reporter, Signal, User
from portal.public import bp
from portal.public.forms import ReportForm
from portal.public.nearby_views import NEARBY_STEP, NEARBY_STEP_FIELD, nearby_list
from portal.public.photo_uploads import KeptPhoto, collect_photos, max_mb
from portal.public.place_views import outside_hilversum_message
from portal.public.services import (
    address_locator,
    intake_settings,
    links,
    mail_context,
    page_cache,
    places_key,
    wijk_codes,
    wijken_with_buurten,
)
from portal.public.status_forms import StatusLookupForm
from portal.public.submission import submission_from

SUBMITTED = "submitted"
# The one-time keys of the forms this browser was given (the newest few).
SUBMISSION_KEYS = "submission_keys"
MAX_SUBMISSION_KEYS = 5


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
    if request.method == "GET":
        return _blank_report_form()
    form = ReportForm()
    if form.website.data:
        # A bot filled in the hidden field: thank it and store nothing.
        return render_template("public/thanks_generic.html")
    if form.submission_key.data not in session.get(SUBMISSION_KEYS, []):
        # Not a form this browser was given (tampered, or copied from someone else's
        # page): a new form, never a way back to another signal.
        form.submission_key.data = _new_submission_key()
    kept, photo_errors = collect_photos(form.photos.name)
    if request.form.get(NEARBY_STEP_FIELD) == NEARBY_STEP:
        # "Bekijk meldingen in de buurt" (without JavaScript): the form again with the open
        # signals nearby, everything typed and chosen kept; nothing checked, nothing stored.
        return _render_report(form, kept, photo_errors, nearby_step=True)
    valid = form.validate()
    if not (valid and not photo_errors):
        return _render_report(form, kept, photo_errors), 422

    data = _submission(form, kept)
    try:
        result = intake.submit_signal(db.session, data, intake_settings())
        db.session.commit()
    except intake.OutsideHilversum:
        db.session.rollback()
        message = outside_hilversum_message()
        # Next to the field that caused it: without a pin, only the postcode can lie outside.
        field = "wijk" if data.location.lon is not None else "postcode"
        return _render_report(form, kept, [], location_errors={field: [message]}), 422
    except IntegrityError:
        # The same form raced in twice (a double click): show the signal the other stored.
        db.session.rollback()
        result = intake.earlier_submission(db.session, data.submission_key, datetime.now(UTC))
        if result is None:
            raise
        db.session.commit()
    session[SUBMITTED] = {
        "reference": result.signal.reference,
        "token": result.status_token,
        "for_wijk": result.owner_is_for_wijk,
    }
    return redirect(url_for(".confirmation"), code=303)


def _blank_report_form() -> str:
    """The empty form, from the page cache: the same for everyone but for its CSRF token and
    one-time key. From a wijk page ("Doe een melding in deze wijk") that wijk is chosen, if it
    exists; any other value gives the plain form."""
    wijk = request.args.get("wijk", "")
    if wijk not in wijk_codes():
        wijk = ""
    values = {"csrf_token": generate_csrf(), "submission_key": _new_submission_key()}

    def render() -> str:
        form = ReportForm()
        form.submission_key.data = values["submission_key"]
        form.wijk.data = wijk or None
        return _render_report(form, [], [])

    key = ("report", places_key(), str(get_locale()), wijk)
    return page_cache().page(key, values, render)


def _new_submission_key() -> str:
    """A one-time key for this form, remembered in this browser's session only."""
    key = secrets.token_hex(16)
    session[SUBMISSION_KEYS] = [
        *session.get(SUBMISSION_KEYS, [])[-(MAX_SUBMISSION_KEYS - 1) :],
        key,
    ]
    return key


def report_rejected(message: str, *, keep_new_photos: bool = False):  # type: ignore[no-untyped-def]
    """The form was refused before it was read (expired session, too many tries), or could
    not be stored: show it again with everything the resident typed, and say what to do.
    ``keep_new_photos``: the photos sent with it are stored again and stay chosen (only for
    a form that passed its CSRF check)."""
    form = ReportForm(meta={"csrf": True})
    if keep_new_photos:
        for upload in request.files.getlist(form.photos.name):
            upload.stream.seek(0)  # read once already, by the view that could not store them
    kept, _photo_errors = collect_photos(form.photos.name, accept_new=keep_new_photos)
    return _render_report(form, kept, [], general_errors=[message]), 422


def report_after_csrf_failure():  # type: ignore[no-untyped-def]
    return report_rejected(
        _(
            "Uw formulier is verlopen. Controleer uw gegevens en klik nog een keer op "
            "'Verstuur melding'. Foto's die u had gekozen moet u opnieuw kiezen."
        )
    )


def report_after_outage():  # type: ignore[no-untyped-def]
    return report_rejected(
        _(
            "Uw melding is nog niet verstuurd: door een storing bij ons kon hij niet worden "
            "opgeslagen. Wat u heeft ingevuld staat nog klaar. Probeer het over een paar "
            "minuten opnieuw met 'Verstuur melding'."
        ),
        keep_new_photos=True,
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
    location_errors: dict[str, list[str]] | None = None,
    general_errors: list[str] | None = None,
    nearby_step: bool = False,
):  # type: ignore[no-untyped-def]
    """``nearby_step``: the resident asked for the open signals nearby (without JavaScript);
    they are shown whenever the form knows the place, so a form sent back keeps them too."""
    wijken = wijken_with_buurten()
    pin = form.pin()
    if pin is None and nearby_step and not form.buurt.data:
        pin = _address_point(form)
    location_errors = location_errors or {}
    errors = form.error_summary({**location_errors, "photos": photo_errors})
    errors += [("verstuur", message) for message in general_errors or []]
    return render_template(
        "public/report.html",
        form=form,
        wijken=wijken,
        kept_photos=kept,
        photo_errors=photo_errors,
        location_errors=location_errors,
        errors=errors,
        wijk_options=[(w.code, w.name) for w, _b in wijken],
        buurt_groups=[(w.name, [(b.code, b.name) for b in buurten]) for w, buurten in wijken],
        max_photos=current_app.config["MAX_PHOTOS"],
        max_mb=max_mb(),
        nearby=nearby_list(pin[0] if pin else None, pin[1] if pin else None, form.buurt.data),
        nearby_step=nearby_step,
        others_status_labels=PUBLIC_STATUS_LABELS,
    )


def _address_point(form: ReportForm) -> tuple[float, float] | None:
    """The typed address's point, for the nearby step without a pin or a buurt (only where a
    geocoder is configured; the geocoder never raises)."""
    postcode = normalise_postcode(form.postcode.data or "")
    if not (postcode and form.house_number.data):
        return None
    return address_locator().locate_address(
        form.street.data or "", form.house_number.data, postcode
    )


def _submission(form: ReportForm, kept: list[KeptPhoto]) -> intake.Submission:
    return submission_from(
        form,
        kept,
        locale=session.get("lang", current_app.config["BABEL_DEFAULT_LOCALE"]),
        public_display=form.public_display.data,
    )


@bp.get("/melden/bedankt")
def confirmation():  # type: ignore[no-untyped-def]
    submitted = session.get(SUBMITTED) or {}
    signal = None
    if submitted.get("reference"):
        # What the page names, in the same statement and no more (not the description, not
        # the owner's password hash): it is part of every resident's visit.
        signal = db.session.scalars(
            select(Signal)
            .where(Signal.reference == submitted["reference"])
            .options(
                load_only(
                    Signal.reference, Signal.location_source, Signal.owner_id, Signal.wijk_code
                ),
                joinedload(Signal.owner).load_only(User.name),
                joinedload(Signal.wijk),
                joinedload(Signal.reporter).load_only(Reporter.email),
            )
        ).first()
    if signal is None:
        return render_template("public/confirmation_missing.html"), 404
    # The link is shown once: the (signed, not encrypted) cookie must not keep it, and the
    # next person at a shared computer must not find it by going back to this page.
    token = submitted.get("token")
    for_wijk = submitted.get("for_wijk")
    if not isinstance(for_wijk, bool):  # a reload, or a double click's earlier signal
        for_wijk = intake.owner_is_for_wijk(db.session, signal)
    session[SUBMITTED] = {"reference": signal.reference, "for_wijk": for_wijk}
    return render_template(
        "public/confirmation.html",
        signal=signal,
        status_url=links().status(token) if token else None,
        owner_is_for_wijk=for_wijk,
        working_days=current_app.config["RESPONSE_WORKING_DAYS"],
    )


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
