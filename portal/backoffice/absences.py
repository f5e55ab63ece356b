"""Absence and cover: an accountmanager records their own absence with a stand-in (an admin
for anyone), ends it early, and the stand-in hands back what came in meanwhile. Also the
"waarneming voor …" note at the top of the inbox (templates/backoffice/inbox/_cover.html),
worked out here by a context processor so the inbox view needs to know nothing about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import Field, StringField
from wtforms.validators import ValidationError

from portal.backoffice import bp
from portal.backoffice.access import WORKER_ROLES, roles_required, safe_next
from portal.backoffice.forms import ConfirmForm
from portal.backoffice.signal_forms import DATE_FORMATS
from portal.domain import absences, permissions
from portal.domain.absences import AbsenceError
from portal.domain.casework import CaseworkError
from portal.domain.ids import parse_id
from portal.domain.working_days import local_date
from portal.extensions import db
from portal.models import Absence, User
from portal.public.form_base import PortalForm
from portal.public.services import mail_context

# An ended cover keeps its "Geef terug" note in the inbox this long.
HAND_BACK_NOTE_DAYS = 30


def _today() -> date:
    return local_date(datetime.now(UTC))


MIN_YEAR, MAX_YEAR = 1900, 2999


def _parse_date(value: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            day = datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
        # Far-off years are typing errors, and near year 1 the time zone maths overflows.
        return day if MIN_YEAR <= day.year <= MAX_YEAR else None
    return None


def _day(day: date) -> str:
    """The day as the pages write it: 18 december, with the year when it is not this one."""
    return format_date(day, "d MMMM" if day.year == _today().year else "d MMMM y")


class AbsenceForm(PortalForm):
    user = StringField(_l("Wie is er afwezig?"), id="absence-user")
    stand_in = StringField(_l("Wie neemt waar?"), id="absence-stand_in")
    starts_on = StringField(_l("Eerste dag van de afwezigheid"), id="absence-starts_on")
    ends_on = StringField(_l("Laatste dag van de afwezigheid"), id="absence-ends_on")

    def validate_stand_in(self, field: StringField) -> None:
        if parse_id(field.data) is None:
            raise ValidationError(_l("Kies wie er voor u waarneemt."))

    def validate_starts_on(self, field: StringField) -> None:
        if _parse_date(field.data or "") is None:
            raise ValidationError(_l("Vul de eerste dag in zoals 14-12-2026."))

    def validate_ends_on(self, field: StringField) -> None:
        if _parse_date(field.data or "") is None:
            raise ValidationError(_l("Vul de laatste dag in zoals 18-12-2026."))


def _people() -> list[User]:
    """Who can be away or stand in: the active accountmanagers and admins."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_(absences.COVER_ROLES))
            .order_by(User.name, User.id)
        )
    )


@dataclass(frozen=True)
class AbsenceRow:
    absence: Absence
    state: str  # "coming" | "current" | "over"
    may_end: bool
    to_hand_back: int


def _render(form: AbsenceForm, code: int = 200):  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    today = _today()
    rows = []
    for absence in absences.listing(db.session, user, today):
        state = (
            "coming"
            if absence.starts_on > today
            else ("current" if absence.ends_on >= today else "over")
        )
        waiting = 0
        if state == "over" and absences.may_hand_back(user, absence):
            waiting = len(absences.to_hand_back(db.session, absence))
        may_end = state != "over" and absences.may_end(user, absence)
        rows.append(AbsenceRow(absence, state, may_end, waiting))
    people = _people()
    for_others = absences.may_record_for_others(user)
    return (
        render_template(
            "backoffice/absences.html",
            form=form,
            errors=form.error_summary(),
            rows=rows,
            for_others=for_others,
            user_options=[(str(p.id), p.name) for p in people],
            stand_in_options=[(str(p.id), p.name) for p in people if for_others or p.id != user.id],
            nav="absences",
        ),
        code,
    )


@bp.get("/afwezigheid", endpoint="absences")
@roles_required(*WORKER_ROLES)
def absences_page():  # type: ignore[no-untyped-def]
    return _render(AbsenceForm(formdata=None))


def _add_error(field: Field, message: str) -> None:
    field.errors = [*field.errors, message]


def _explain(form: AbsenceForm, code: str) -> None:
    messages: dict[str, tuple[Field, str]] = {
        "unknown_user": (form.user, _("Kies wie er afwezig is.")),
        "unknown_stand_in": (form.stand_in, _("Kies een collega uit de lijst.")),
        "stand_in_is_self": (
            form.stand_in,
            _("Iemand kan niet voor zichzelf waarnemen. Kies een collega."),
        ),
        "ends_before_start": (
            form.ends_on,
            _("De laatste dag kan niet vóór de eerste dag liggen."),
        ),
        "ends_in_past": (form.ends_on, _("De laatste dag is al voorbij. Kies vandaag of later.")),
        "starts_too_early": (
            form.starts_on,
            _("De eerste dag mag hoogstens een week geleden zijn."),
        ),
        "stand_in_away": (
            form.stand_in,
            _("Deze collega is in die periode zelf afwezig. Kies iemand anders."),
        ),
        "overlaps": (
            form.starts_on,
            _(
                "In deze periode is al een afwezigheid vastgelegd. Pas de data aan, of beëindig "
                "eerst de andere afwezigheid."
            ),
        ),
    }
    target, message = messages.get(code, (form.stand_in, _("Dit kan niet.")))
    _add_error(target, message)


@bp.post("/afwezigheid/nieuw")
@roles_required(*WORKER_ROLES)
def absence_record():  # type: ignore[no-untyped-def]
    form = AbsenceForm()
    for_others = absences.may_record_for_others(current_user)
    if not form.validate_on_submit():
        return _render(form, 422)
    user_id = parse_id(form.user.data) if for_others else current_user.id
    starts_on = _parse_date(form.starts_on.data or "")
    ends_on = _parse_date(form.ends_on.data or "")
    assert starts_on is not None and ends_on is not None  # validated above
    try:
        absence = absences.record_absence(
            db.session,
            user_id=user_id,
            stand_in_id=parse_id(form.stand_in.data),
            starts_on=starts_on,
            ends_on=ends_on,
            actor_id=current_user.id,
            today=_today(),
        )
        names = {"name": absence.user.name, "stand_in": absence.stand_in.name}
        db.session.commit()
    except AbsenceError as error:
        db.session.rollback()
        _explain(form, error.code)
        return _render(form, 422)
    flash(
        _(
            "Vastgelegd: %(stand_in)s neemt waar voor %(name)s van %(start)s tot en met %(end)s.",
            start=_day(starts_on),
            end=_day(ends_on),
            **names,
        ),
        "ok",
    )
    return redirect(url_for("backoffice.absences"), code=303)


def _absence_or_404(absence_id: int) -> Absence:
    absence = db.session.get(Absence, absence_id)
    if absence is None:
        abort(404)
    return absence


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.post("/afwezigheid/<int:absence_id>/beeindigen")
@roles_required(*WORKER_ROLES)
def absence_end(absence_id: int):  # type: ignore[no-untyped-def]
    absence = _absence_or_404(absence_id)
    if not absences.may_end(current_user, absence):
        abort(403)
    _confirmed()
    name = absence.user.name
    try:
        ended = absences.end_absence(db.session, absence, actor_id=current_user.id, today=_today())
        db.session.commit()
    except AbsenceError:
        db.session.rollback()
        flash(_("Deze afwezigheid was al voorbij."), "info")
        return redirect(url_for("backoffice.absences"), code=303)
    if ended:
        message = _(
            "De afwezigheid van %(name)s is beëindigd. Nieuwe signalen en e-mail gaan weer "
            "naar %(name)s.",
            name=name,
        )
    else:
        message = _("De afwezigheid van %(name)s is geschrapt.", name=name)
    flash(message, "ok")
    return redirect(url_for("backoffice.absences"), code=303)


def hand_back_reason(absence: Absence) -> str:
    return _(
        "Teruggegeven na de waarneming van %(start)s tot en met %(end)s.",
        start=_day(absence.starts_on),
        end=_day(absence.ends_on),
    )


@bp.post("/afwezigheid/<int:absence_id>/teruggeven")
@roles_required(*WORKER_ROLES)
def absence_hand_back(absence_id: int):  # type: ignore[no-untyped-def]
    absence = _absence_or_404(absence_id)
    if not absences.may_hand_back(current_user, absence):
        abort(403)
    _confirmed()
    back_to = safe_next(request.form.get("next") or url_for("backoffice.absences"))
    name = absence.user.name
    try:
        result = absences.hand_back(
            db.session,
            absence,
            reason=hand_back_reason(absence),
            actor_id=current_user.id,
            now=datetime.now(UTC),
            mail=mail_context(),
        )
        db.session.commit()
    except (StaleDataError, CaseworkError):
        # A colleague changed one of the signals at this very moment: nothing was moved.
        db.session.rollback()
        flash(_("Een van de signalen is net gewijzigd. Probeer het opnieuw."), "error")
        return redirect(back_to, code=303)
    except AbsenceError as error:
        db.session.rollback()
        flash(_hand_back_refusal(error.code, name), "error")
        return redirect(back_to, code=303)
    flash(
        ngettext(
            "%(num)d signaal is teruggegeven aan %(name)s. %(name)s krijgt er een e-mail over.",
            "%(num)d signalen zijn teruggegeven aan %(name)s. %(name)s krijgt een e-mail per "
            "signaal.",
            len(result.references),
            name=name,
        ),
        "ok",
    )
    return redirect(back_to, code=303)


def _hand_back_refusal(code: str, name: str) -> str:
    if code == "not_over":
        return _(
            "%(name)s is nog afwezig. Geef de signalen terug als de afwezigheid voorbij is.",
            name=name,
        )
    if code == "owner_gone":
        return _("%(name)s kan geen signalen meer krijgen (account niet actief).", name=name)
    return _("Er zijn geen open signalen meer om aan %(name)s terug te geven.", name=name)


# --- the note at the top of the inbox -------------------------------------------------------


@dataclass(frozen=True)
class CoverNote:
    """One line of "waarneming": whom this user covers, or hands back to, or is away for."""

    kind: str  # "covering" | "hand_back" | "away"
    absence: Absence
    text: str
    links: list[tuple[str, str]] = field(default_factory=list)  # (url, label)
    waiting: int = 0


def cover_notes() -> list[CoverNote]:
    user = current_user
    if not getattr(user, "is_authenticated", False) or not permissions.can_work(user):
        return []
    today = _today()
    notes: list[CoverNote] = []
    for absence in absences.involving(db.session, user.id, today, HAND_BACK_NOTE_DAYS):
        if absence.user_id == user.id:
            text = _(
                "U bent afwezig tot en met %(date)s. %(name)s neemt voor u waar.",
                date=_day(absence.ends_on),
                name=absence.stand_in.name,
            )
            notes.append(CoverNote("away", absence, text))
        elif absence.ends_on >= today:
            notes.append(_covering(absence))
        elif waiting := len(absences.to_hand_back(db.session, absence)):
            text = ngettext(
                "Uw waarneming voor %(name)s is voorbij. Er staat nog %(num)d signaal uit die "
                "tijd op uw naam.",
                "Uw waarneming voor %(name)s is voorbij. Er staan nog %(num)d signalen uit die "
                "tijd op uw naam.",
                waiting,
                name=absence.user.name,
            )
            notes.append(CoverNote("hand_back", absence, text, waiting=waiting))
    # Your own absence first, then whom you cover, then what is left to hand back.
    order = {"away": 0, "covering": 1, "hand_back": 2}
    return sorted(notes, key=lambda note: order[note.kind])


def _covering(absence: Absence) -> CoverNote:
    person = absence.user
    text = _(
        "U neemt waar voor %(name)s tot en met %(date)s.",
        name=person.name,
        date=_day(absence.ends_on),
    )
    links = [
        (
            url_for("backoffice.inbox", scope="all", owner=person.id, status="open"),
            _("Open signalen van %(name)s", name=person.name),
        )
    ]
    links += [
        (
            url_for("backoffice.inbox", scope="all", wijk=wijk.code, status="open"),
            _("Open signalen in wijk %(wijk)s", wijk=wijk.name),
        )
        for wijk in person.wijken
    ]
    return CoverNote("covering", absence, text, links)


@bp.context_processor
def _cover_context() -> dict[str, Callable[[], Any]]:
    # A function, not the notes: only the inbox partial asks, so other pages run no query.
    return {"cover_notes": cover_notes}
