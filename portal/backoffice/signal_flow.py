"""The flow every action on the signal page shares: find the signal, check the form and the
version the user saw, run one casework operation, commit once and redirect; or come back to
the page with what the user typed (422 refused, 409 stale).

Each action's explanation of a refused operation (``explain``) is here too: the domain says
why in a code, this turns it into the Dutch sentence next to the right field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import Field

from portal.backoffice.signal_forms import ReassignForm, ReopenDecisionForm, VersionedForm
from portal.backoffice.signal_page import actor, render
from portal.domain import casework, visibility
from portal.domain.casework import Actor, CaseworkError, StaleSignal
from portal.extensions import db
from portal.models import Signal
from portal.vocabulary import STAFF_STATUS_LABELS, Status


def stale_message() -> str:
    return _(
        "Iemand anders heeft deze melding net gewijzigd. Bekijk de nieuwe situatie en "
        "probeer het opnieuw."
    )


class FormProblem(Exception):
    """A field the view itself finds wrong (before the domain is asked)."""

    def __init__(self, field: Field, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def signal_or_404(reference: str) -> Signal:
    """The signal, if this user may open it: a sensitive signal is 404 for everyone else,
    exactly as one that does not exist."""
    signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).first()
    if signal is None or not visibility.can_open(db.session, current_user, signal):
        abort(404)
    return signal


def check_form(signal: Signal, name: str, form: VersionedForm):  # type: ignore[no-untyped-def]
    """None when the form may go on; otherwise the response (field errors, or stale)."""
    valid = form.validate_on_submit()
    seen = form.seen_version()
    if seen is None or seen != signal.version:
        return stale(signal, name, form)
    if not valid:
        return render(signal, bound=(name, form), errors=form.error_summary(), code=422)
    return None


def run_action(
    signal: Signal,
    name: str,
    form: VersionedForm,
    operation: Callable[[Actor, int], object],
    done: str,
):  # type: ignore[no-untyped-def]
    seen = form.seen_version()
    if seen is None:  # check_form saw to that; kept for safety
        return stale(signal, name, form)
    try:
        operation(actor(), seen)
        db.session.commit()
    except (StaleSignal, StaleDataError):
        # StaleDataError: a colleague's save landed between our check and our write; the
        # version column caught it at flush or commit.
        db.session.rollback()
        return stale(signal, name, form)
    except CaseworkError as error:
        db.session.rollback()
        return refused(signal, name, form, error)
    flash(done, "ok")
    return redirect(url_for(".signal_detail", reference=signal.reference), code=303)


def act_explained(
    signal: Signal,
    name: str,
    form: VersionedForm,
    operation: Callable[[Actor, int], object],
    explain: Callable[[str], tuple[Field, str]],
):  # type: ignore[no-untyped-def]
    """check_form and run_action for a page part with explanations of its own; returns
    (response, None) when the form goes back, else (None, the operation's result) for the
    caller to flash about and redirect."""
    if (early := check_form(signal, name, form)) is not None:
        return early, None
    seen = form.seen_version()
    try:
        result = operation(actor(), seen or 0)
        db.session.commit()
    except (StaleSignal, StaleDataError):
        return stale(signal, name, form), None
    except CaseworkError as error:
        db.session.rollback()
        if error.code == "not_allowed":
            abort(403)
        field, message = explain(error.code)
        return field_problem(signal, name, form, FormProblem(field, message)), None
    return None, result


def stale(signal: Signal, name: str, form: VersionedForm):  # type: ignore[no-untyped-def]
    """The fresh state with the user's typed text still in the form; the form now carries the
    version on screen, so a second try (after looking) goes through."""
    db.session.rollback()
    db.session.expire_all()
    form.version.data = str(signal.version)
    errors = [(f"actie-{name}", stale_message())]
    return render(signal, bound=(name, form), errors=errors, code=409)


def refused(signal: Signal, name: str, form: VersionedForm, error: CaseworkError):  # type: ignore[no-untyped-def]
    db.session.rollback()
    field, message = explain(signal, name, form, error.code)
    return field_problem(signal, name, form, FormProblem(field, message))


def field_problem(signal: Signal, name: str, form: VersionedForm, problem: FormProblem):  # type: ignore[no-untyped-def]
    problem.field.errors = [*problem.field.errors, problem.message]
    return render(signal, bound=(name, form), errors=form.error_summary(), code=422)


def explain(signal: Signal, name: str, form: Any, code: str) -> tuple[Field, str]:
    """The Dutch sentence for a refused action, and the field it belongs to."""
    if code == "transition_not_allowed":
        target = form.status.data or ""
        if target not in set(Status):
            return form.status, _("Kies een nieuwe status uit de lijst.")
        return form.status, _(
            "Van ‘%(current)s’ naar ‘%(target)s’ kan niet. Kies een status uit de lijst.",
            current=_(STAFF_STATUS_LABELS[Status(signal.status)]),
            target=_(STAFF_STATUS_LABELS[Status(target)]),
        )
    text_field = form.reason if isinstance(form, ReassignForm) else getattr(form, "message", None)
    if isinstance(form, ReopenDecisionForm):
        text_field = form.explanation
        if code == "no_reopen_request":
            return form.decision, _(
                "Over dit verzoek is al besloten. Bekijk de tijdlijn voor wat er is gebeurd."
            )
        if code == "message_required":
            return text_field, _(
                "Schrijf de melder waarom u de melding heropent of gesloten laat: zij krijgt "
                "deze uitleg."
            )
    if code == "message_required":
        if name == "status":
            return text_field, _(
                "Schrijf een bericht aan de melder: bij de status ‘%(status)s’ is dat verplicht.",
                status=_(STAFF_STATUS_LABELS[Status(form.status.data)]),
            )
        if name == "reply":
            return text_field, _("Schrijf een bericht aan de melder, of kies een standaardtekst.")
        if name == "note":
            return text_field, _("Schrijf een notitie.")
        return text_field, _("Schrijf waarom u de melding verplaatst of aan iemand anders geeft.")
    if code == "message_too_long":
        return text_field, _(
            "Dit bericht is te lang: het mag hoogstens %(max)d tekens hebben.",
            max=casework.MESSAGE_MAX,
        )
    if code == "not_allowed" and isinstance(form, ReassignForm):
        return form.owner, _(
            "Dit is een gevoelige melding: alleen de eigenaar of een beheerder kan haar "
            "verplaatsen of aan iemand anders geven."
        )
    if code == "unknown_wijk":
        return form.wijk, _("Kies een wijk uit de lijst.")
    if code == "unknown_buurt":
        return form.buurt, _("Kies een buurt die in de gekozen wijk ligt.")
    if code == "unknown_owner":
        return form.owner, _("Kies een eigenaar uit de lijst.")
    if code == "nothing_changed" and name == "reassign":
        return form.wijk, _("Kies een andere wijk, buurt of eigenaar: nu verandert er niets.")
    if code == "nothing_changed" and name == "follow_up":
        return form.follow_up_on, _("Deze opvolgdatum staat al zo ingesteld.")
    if code == "date_in_past":
        return form.follow_up_on, _("Kies vandaag of een dag in de toekomst.")
    first = next(f for f in form if f.name not in ("csrf_token", "version"))
    return first, _("Dit kan niet. Controleer wat u heeft ingevuld.")
