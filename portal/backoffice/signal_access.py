"""Part of the signal page (templates/backoffice/signal/_access.html and _sensitive.html):
marking a signal sensitive, letting colleagues in, and unmarking it. Only the owner and
admins see these forms and may post them (``sensitive.may_manage``); anyone else who may
open the signal sees who else can."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms import Field, StringField, TextAreaField

from portal.backoffice import bp
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.backoffice.signal_flow import (
    FormProblem,
    check_form,
    field_problem,
    signal_or_404,
    stale,
)
from portal.backoffice.signal_forms import VersionedForm
from portal.backoffice.signal_page import actor, page_part
from portal.domain import permissions, sensitive, visibility
from portal.domain.casework import Actor, CaseworkError, StaleSignal
from portal.domain.ids import parse_id
from portal.extensions import db
from portal.models import Signal, User


class MarkSensitiveForm(VersionedForm):
    reason = TextAreaField(_l("Waarom is deze melding gevoelig?"), id="sensitive-reason")


class UnmarkSensitiveForm(VersionedForm):
    reason = TextAreaField(
        _l("Waarom is deze melding niet meer gevoelig?"), id="unsensitive-reason"
    )


class ColleagueForm(VersionedForm):
    colleague = StringField(_l("Collega"), id="let_in-colleague")

    def colleague_id(self) -> int | None:
        return parse_id((self.colleague.data or "").strip())


@dataclass(frozen=True)
class AccessPart:
    may_manage: bool
    let_in: list[User]
    choices: list[tuple[str, str]]
    mark_form: MarkSensitiveForm
    unmark_form: UnmarkSensitiveForm
    let_in_form: ColleagueForm


@page_part
def page_context(signal: Signal) -> dict[str, Any]:
    user = current_user
    manage = permissions.can_work(user) and sensitive.may_manage(user, signal)
    version = str(signal.version)
    choices: list[tuple[str, str]] = []
    if manage and signal.sensitive:
        choices = [(str(u.id), u.name) for u in sensitive.colleague_choices(db.session, signal)]
    return {
        "access": AccessPart(
            may_manage=manage,
            let_in=visibility.let_in(db.session, signal) if signal.sensitive else [],
            choices=choices,
            mark_form=MarkSensitiveForm(formdata=None, version=version),
            unmark_form=UnmarkSensitiveForm(formdata=None, version=version),
            let_in_form=ColleagueForm(formdata=None, version=version),
        )
    }


# --- actions --------------------------------------------------------------------------------


def _managed_signal(reference: str) -> Signal:
    signal = signal_or_404(reference)  # 404 first: who may not see it learns nothing more
    if not sensitive.may_manage(current_user, signal):
        abort(403)
    return signal


def _explain(form: VersionedForm, code: str) -> tuple[Field, str]:
    field: Field = getattr(form, "reason", None) or form.colleague  # type: ignore[attr-defined]
    if code == "reason_required":
        if isinstance(form, UnmarkSensitiveForm):
            return field, _("Schrijf waarom deze melding niet meer gevoelig is.")
        return field, _("Schrijf waarom deze melding gevoelig is.")
    if code == "reason_too_long":
        return field, _(
            "Deze reden is te lang: hij mag hoogstens %(max)d tekens hebben.",
            max=sensitive.REASON_MAX,
        )
    if code == "already_sensitive":
        return field, _("Deze melding is al gemarkeerd als gevoelig.")
    if code == "not_sensitive":
        return field, _("Deze melding is niet (meer) gemarkeerd als gevoelig.")
    if code == "not_let_in":
        return field, _("Deze collega had al geen toegang meer.")
    return field, _("Kies een collega uit de lijst.")  # unknown_colleague


def _act(
    signal: Signal,
    name: str,
    form: VersionedForm,
    operation: Callable[[Actor, int], object],
    done: str,
):  # type: ignore[no-untyped-def]
    if (early := check_form(signal, name, form)) is not None:
        return early
    seen = form.seen_version()
    try:
        operation(actor(), seen or 0)
        db.session.commit()
    except (StaleSignal, StaleDataError):
        return stale(signal, name, form)
    except CaseworkError as error:
        db.session.rollback()
        if error.code == "not_allowed":
            abort(403)
        field, message = _explain(form, error.code)
        return field_problem(signal, name, form, FormProblem(field, message))
    flash(done, "ok")
    return redirect(url_for(".signal_detail", reference=signal.reference), code=303)


@bp.post("/signalen/<reference>/gevoelig")
@roles_required(*WORKER_ROLES)
def signal_mark_sensitive(reference: str):  # type: ignore[no-untyped-def]
    signal = _managed_signal(reference)
    form = MarkSensitiveForm()
    return _act(
        signal,
        "sensitive",
        form,
        lambda actor, seen: sensitive.mark(
            db.session, signal, reason=form.reason.data or "", seen_version=seen, actor=actor
        ),
        _(
            "De melding is nu gevoelig. Alleen de eigenaar, beheerders en collega's die u "
            "toelaat zien haar."
        ),
    )


@bp.post("/signalen/<reference>/niet-meer-gevoelig")
@roles_required(*WORKER_ROLES)
def signal_unmark_sensitive(reference: str):  # type: ignore[no-untyped-def]
    signal = _managed_signal(reference)
    form = UnmarkSensitiveForm()
    return _act(
        signal,
        "unsensitive",
        form,
        lambda actor, seen: sensitive.unmark(
            db.session, signal, reason=form.reason.data or "", seen_version=seen, actor=actor
        ),
        _("De melding is niet meer gevoelig. Alle collega's zien haar weer."),
    )


@bp.post("/signalen/<reference>/toegang")
@roles_required(*WORKER_ROLES)
def signal_let_in(reference: str):  # type: ignore[no-untyped-def]
    signal = _managed_signal(reference)
    form = ColleagueForm()
    colleague = db.session.get(User, form.colleague_id() or 0)
    return _act(
        signal,
        "let_in",
        form,
        lambda actor, seen: sensitive.let_in(
            db.session, signal, user_id=form.colleague_id(), seen_version=seen, actor=actor
        ),
        _("%(name)s kan deze melding nu zien.", name=colleague.name if colleague else ""),
    )


@bp.post("/signalen/<reference>/toegang-intrekken")
@roles_required(*WORKER_ROLES)
def signal_shut_out(reference: str):  # type: ignore[no-untyped-def]
    signal = _managed_signal(reference)
    form = ColleagueForm()
    colleague = db.session.get(User, form.colleague_id() or 0)
    return _act(
        signal,
        "shut_out",
        form,
        lambda actor, seen: sensitive.shut_out(
            db.session, signal, user_id=form.colleague_id(), seen_version=seen, actor=actor
        ),
        _("%(name)s kan deze melding niet meer zien.", name=colleague.name if colleague else ""),
    )
