"""Back office: schouw mode. On a walk-through with residents a staff member enters what they
see, one signal after another, on a phone: the buurt is chosen once, the place can come from
the phone ("Gebruik mijn locatie", static/js/schouw.js; without JavaScript the buurt list),
and every signal can go into one new dossier. ``domain/schouw.py`` does the work.

The schouw in progress is a few values in the staff member's own session (signed by Flask,
so not forged; bound to their user id, so another person in the same browser never sees or
adds to it). Its list shows only signals this user registered on a schouw."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.backoffice import bp
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.backoffice.intake import (
    location_choices,
    new_submission_key,
    own_submission_key,
)
from portal.backoffice.intake_forms import SchouwEntryForm, SchouwStartForm
from portal.domain import intake as intake_ops
from portal.domain import schouw as schouw_ops
from portal.domain.dossiers.dossiers import TITLE_MAX as DOSSIER_TITLE_MAX
from portal.domain.geography import default_geography
from portal.domain.routing import LocationInput
from portal.domain.schouw import Schouw, SchouwError
from portal.domain.working_days import local_date
from portal.extensions import db
from portal.models import Buurt, Dossier
from portal.public.photo_uploads import KeptPhoto, collect_photos, max_mb
from portal.public.services import intake_settings
from portal.vocabulary import Kind, Theme

RUNNING = "schouw"
FINISHED = "schouw_finished"
# A schouw entry has one photo: on a walk-through there is no time to choose more.
SCHOUW_PHOTOS = 1


def _running() -> Schouw | None:
    return Schouw.from_state(session.get(RUNNING), current_user.id)


def _buurt_name(code: str) -> str:
    buurt = db.session.get(Buurt, code)
    return buurt.name if buurt is not None else code


def dossier_url(dossier: Dossier) -> str:
    return url_for("backoffice.dossier_detail", dossier_reference=dossier.reference)


@bp.get("/schouw")
@roles_required(*WORKER_ROLES)
def schouw():  # type: ignore[no-untyped-def]
    running = _running()
    if running is None:
        return _render_start(SchouwStartForm(formdata=None))
    return _render_entry(running, _blank_entry(running), [], [])


def _blank_entry(running: Schouw) -> SchouwEntryForm:
    form = SchouwEntryForm(formdata=None)
    form.schouw.data = running.id
    form.buurt.data = running.buurt_code
    form.submission_key.data = new_submission_key()
    return form


@bp.post("/schouw/starten")
@roles_required(*WORKER_ROLES)
def schouw_start():  # type: ignore[no-untyped-def]
    if _running() is not None:
        flash(_("Er loopt al een schouw. Rond die eerst af voordat u een nieuwe begint."), "info")
        return redirect(url_for(".schouw"), code=303)
    form = SchouwStartForm()
    if not form.validate():
        return _render_start(form), 422
    try:
        running = schouw_ops.start(
            default_geography(),
            schouw_id=secrets.token_hex(8),
            user_id=current_user.id,
            buurt_code=form.buurt.data or "",
            dossier_title=form.dossier_title.data,
            in_dossier=form.in_dossier.data,
        )
    except SchouwError as problem:
        field, message = _start_problem(form, problem.code)
        field.errors.append(message)
        return _render_start(form), 422
    session[RUNNING] = running.as_state()
    return redirect(url_for(".schouw"), code=303)


def _start_problem(form: SchouwStartForm, code: str):  # type: ignore[no-untyped-def]
    if code == "unknown_buurt":
        return form.buurt, _("Kies een buurt uit de lijst.")
    if code == "dossier_title_required":
        return form.dossier_title, _("Geef het dossier een titel, of zet het vinkje uit.")
    return form.dossier_title, _("Gebruik hoogstens %(max)d tekens.", max=DOSSIER_TITLE_MAX)


def _render_start(form: SchouwStartForm):  # type: ignore[no-untyped-def]
    return render_template(
        "backoffice/intake/schouw_start.html",
        form=form,
        errors=form.error_summary(),
        nav="intake",
        **location_choices(),
    )


@bp.post("/schouw/melding")
@roles_required(*WORKER_ROLES)
def schouw_entry():  # type: ignore[no-untyped-def]
    running = _running()
    form = SchouwEntryForm()
    if running is None or form.schouw.data != running.id:
        # A page of a schouw that was finished meanwhile (another tab, the back button).
        flash(
            _("Deze schouw is al afgerond. Er is niets opgeslagen. Start zo nodig een nieuwe."),
            "error",
        )
        return redirect(url_for(".schouw"), code=303)
    if running.full:
        flash(_("Deze schouw is vol. Rond hem af en start een nieuwe."), "error")
        return redirect(url_for(".schouw"), code=303)
    form.submission_key.data = own_submission_key(form.submission_key.data)
    kept, photo_errors = collect_photos(form.photos.name, limit=SCHOUW_PHOTOS)
    valid = form.validate()
    if not valid or photo_errors:
        return _render_entry(running, form, kept, photo_errors), 422
    data = _submission(form, kept)
    try:
        recorded, reference = _record(running, data)
    except intake_ops.OutsideHilversum:
        form.buurt.errors.append(
            _(
                "Deze plek ligt niet in de gemeente Hilversum. Haal de speld weg en kies de "
                "buurt uit de lijst."
            )
        )
        return _render_entry(running, form, kept, []), 422
    session[RUNNING] = recorded.as_state()
    count = len(recorded.signal_ids)
    flash(
        ngettext(
            "Opgeslagen als %(reference)s. Deze schouw heeft nu %(num)d melding.",
            "Opgeslagen als %(reference)s. Deze schouw heeft nu %(num)d meldingen.",
            count,
            reference=reference,
        ),
        "ok",
    )
    return redirect(url_for(".schouw"), code=303)


def _record(running: Schouw, data: intake_ops.Submission) -> tuple[Schouw, str]:
    """The entry and its place in the schouw's dossier, committed once; the schouw with it
    and its reference. The same form sent twice at once (a double tap) gives the signal the
    other request stored."""
    settings = intake_settings()
    try:
        recorded = schouw_ops.record_entry(
            db.session,
            running,
            data,
            settings,
            dossier_description=_(
                "Meldingen van de schouw in %(buurt)s op %(day)s.",
                buurt=_buurt_name(running.buurt_code),
                day=format_date(local_date(settings.now), "d MMMM y"),
            ),
            dossier_prefix=current_app.config["DOSSIER_REFERENCE_PREFIX"],
        )
        db.session.commit()
        if recorded.dossier_closed and recorded.dossier is not None:
            flash(
                _(
                    "Dossier %(reference)s is intussen gesloten. Deze melding staat er niet in.",
                    reference=recorded.dossier.reference,
                ),
                "info",
            )
        return recorded.schouw, recorded.result.signal.reference
    except intake_ops.OutsideHilversum:
        db.session.rollback()
        raise
    except IntegrityError:
        db.session.rollback()
        earlier = intake_ops.earlier_submission(db.session, data.submission_key, datetime.now(UTC))
        if earlier is None:
            raise
        db.session.commit()
        return schouw_ops.repeated(running, earlier.signal), earlier.signal.reference


def _submission(form: SchouwEntryForm, kept: list[KeptPhoto]) -> intake_ops.Submission:
    pin = form.pin()
    email = (form.email.data or "").lower() or None
    return intake_ops.Submission(
        kind=Kind(form.kind.data),
        themes=[Theme(t) for t in form.themes.data if t in set(Theme)],
        title="",  # made from the description; no time to type one on a walk-through
        description=form.description.data,
        location=LocationInput(
            lon=pin[0] if pin else None,
            lat=pin[1] if pin else None,
            buurt_code=form.buurt.data or None,
        ),
        street=form.street.data or None,
        photos=[k.stored for k in kept],
        # A resident who gives their address on the spot asks to hear about it.
        reporter=intake_ops.ReporterInput(email=email, may_contact=email is not None),
        locale=form.language.data or current_app.config["BABEL_DEFAULT_LOCALE"],
        submission_key=form.submission_key.data,
    )


def _render_entry(
    running: Schouw,
    form: SchouwEntryForm,
    kept: list[KeptPhoto],
    photo_errors: list[str],
):  # type: ignore[no-untyped-def]
    dossier = db.session.get(Dossier, running.dossier_id) if running.dossier_id else None
    return render_template(
        "backoffice/intake/schouw.html",
        running=running,
        form=form,
        errors=form.error_summary({"photos": photo_errors}),
        kept_photos=kept,
        photo_errors=photo_errors,
        max_mb=max_mb(),
        buurt_name=_buurt_name(running.buurt_code),
        entries=schouw_ops.entries(db.session, running.user_id, running.signal_ids),
        dossier=dossier,
        dossier_url=dossier_url(dossier) if dossier is not None else None,
        nav="intake",
        **location_choices(),
    )


@bp.post("/schouw/afronden")
@roles_required(*WORKER_ROLES)
def schouw_finish():  # type: ignore[no-untyped-def]
    running = _running()
    if running is None:
        return redirect(url_for(".schouw"), code=303)
    session.pop(RUNNING, None)
    session[FINISHED] = running.as_state()
    return redirect(url_for(".schouw_summary"), code=303)


@bp.get("/schouw/afgerond")
@roles_required(*WORKER_ROLES)
def schouw_summary():  # type: ignore[no-untyped-def]
    finished = Schouw.from_state(session.get(FINISHED), current_user.id)
    if finished is None:
        return redirect(url_for(".schouw"), code=303)
    dossier = db.session.get(Dossier, finished.dossier_id) if finished.dossier_id else None
    return render_template(
        "backoffice/intake/schouw_done.html",
        finished=finished,
        buurt_name=_buurt_name(finished.buurt_code),
        entries=schouw_ops.entries(db.session, finished.user_id, finished.signal_ids),
        dossier=dossier,
        dossier_url=dossier_url(dossier) if dossier is not None else None,
        nav="intake",
    )
