"""The dossier page as the back office shows it (its signals, what a public update would
reach, its timeline, the budget grants of its signals, the action forms) and the flow every
action on it shares: check the form and the version the user saw, run one domain operation,
commit once; or the page again with what was typed (422 refused, 409 a colleague's change
came first). ``render_dossier`` serves the page and every action that comes back to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_currency
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from portal.backoffice import dossier_forms as forms
from portal.domain import permissions, visibility, workflow
from portal.domain.casework import Actor, CaseworkError
from portal.domain.dossiers import bulk, dossiers
from portal.domain.dossiers.dossiers import StaleDossier
from portal.extensions import db
from portal.models import Dossier, Grant, Signal, User, Wijk
from portal.public.form_base import PortalForm
from portal.vocabulary import (
    GRANT_STATE_LABELS,
    STAFF_STATUS_LABELS,
    DossierState,
    GrantState,
)


def actor() -> Actor:
    return Actor(user_id=current_user.id, now=datetime.now(UTC))


def user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def owner_options() -> list[tuple[str, str]]:
    owners = db.session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_(dossiers.OWNER_ROLES))
        .order_by(User.name)
    )
    return [(str(u.id), u.name) for u in owners]


def wijk_options() -> list[tuple[str, str]]:
    return [(w.code, w.name) for w in db.session.scalars(select(Wijk).order_by(Wijk.name))]


def dossier_or_404(dossier_reference: str) -> Dossier:
    dossier = db.session.scalars(
        select(Dossier).where(Dossier.reference == dossier_reference.strip().upper())
    ).first()
    if dossier is None:
        abort(404)
    return dossier


@dataclass(frozen=True)
class GrantRow:
    grant: Grant
    signal: Signal
    state: str
    amount: str


@dataclass(frozen=True)
class TimelineRow:
    event: Any
    signal: Signal | None  # the signal added or removed, if this user may open it
    hidden_signal: bool


def _grants(signals: list[Signal]) -> tuple[list[GrantRow], str]:
    """The budget grants of its signals (the ledger's rows as they are) and what counts as
    granted (granted entries, reversals included)."""
    by_id = {s.id: s for s in signals}
    if not by_id:
        return [], format_currency(0, "EUR")
    grants = db.session.scalars(
        select(Grant).where(Grant.signal_id.in_(list(by_id))).order_by(Grant.decided_on, Grant.id)
    ).all()
    rows = [
        GrantRow(
            grant=g,
            signal=by_id[g.signal_id],  # type: ignore[index]
            state=_(GRANT_STATE_LABELS[GrantState(g.state)])
            if g.state in set(GrantState)
            else g.state,
            amount=format_currency(g.amount_cents / 100, "EUR"),
        )
        for g in grants
    ]
    granted = sum(g.amount_cents for g in grants if g.state == GrantState.GRANTED.value)
    return rows, format_currency(granted / 100, "EUR")


def _timeline(dossier: Dossier) -> list[TimelineRow]:
    ids = {e.signal_id for e in dossier.events if e.signal_id is not None}
    found = (
        {s.id: s for s in db.session.scalars(select(Signal).where(Signal.id.in_(ids)))}
        if ids
        else {}
    )
    rows = []
    for event in reversed(dossier.events):  # newest first
        signal = found.get(event.signal_id) if event.signal_id is not None else None
        openable = signal is not None and visibility.can_open(db.session, user(), signal)
        rows.append(
            TimelineRow(event, signal if openable else None, signal is not None and not openable)
        )
    return rows


FORM_TYPES: dict[str, Callable[..., PortalForm]] = {
    "add": forms.AddSignalForm,
    "update": forms.UpdateForm,
    "status": forms.BulkStatusForm,
    "edit": forms.EditDossierForm,
    "state": forms.StateForm,
    "note": forms.DossierNoteForm,
}


def _blank_forms(dossier: Dossier, signals: list[Signal]) -> dict[str, PortalForm]:
    version = str(dossier.version)
    made: dict[str, PortalForm] = {
        "add": forms.AddSignalForm(formdata=None),
        "update": forms.UpdateForm(formdata=None, version=version),
        "status": forms.BulkStatusForm(
            formdata=None, version=version, signal_versions=forms.signal_versions(signals)
        ),
        "edit": forms.EditDossierForm(
            formdata=None,
            version=version,
            title=dossier.title,
            description=dossier.description,
            owner=str(dossier.owner_id) if dossier.owner_id else "",
            wijk=dossier.wijk_code or "",
        ),
        "state": forms.StateForm(formdata=None, version=version),
        "note": forms.DossierNoteForm(formdata=None),
    }
    return made


def render_dossier(
    dossier: Dossier,
    *,
    bound: tuple[str, PortalForm] | None = None,
    errors: list[tuple[str, str]] | None = None,
    code: int = 200,
):  # type: ignore[no-untyped-def]
    members = dossiers.membership(db.session, dossier, user())
    signals = members.visible
    reach = bulk.reach(signals, datetime.now(UTC))
    grant_rows, granted = _grants(signals)
    can_work = permissions.can_work(current_user)
    page_forms = _blank_forms(dossier, signals) if can_work else {}
    if bound is not None:
        page_forms[bound[0]] = bound[1]
    open_count = sum(1 for s in signals if s.status not in ("resolved", "declined"))
    context = {
        "dossier": dossier,
        "signals": signals,
        "hidden_count": members.hidden_count,
        "reach": reach,
        "open_count": open_count,
        "closed_count": len(signals) - open_count,
        "grant_rows": grant_rows,
        "granted": granted,
        "timeline": _timeline(dossier),
        "forms": page_forms,
        "remove_form": forms.RemoveSignalForm(formdata=None),
        "active_action": bound[0] if bound is not None else None,
        "errors": errors or [],
        "can_work": can_work,
        "is_open": dossier.state == DossierState.OPEN.value,
        "owner_options": owner_options(),
        "wijk_options": wijk_options(),
        "status_options": [
            (
                s.value,
                _(STAFF_STATUS_LABELS[s])
                + (" – " + _("bericht verplicht") if workflow.needs_message(s) else ""),
            )
            for s in bulk.bulk_targets()
        ],
        "message_statuses": [
            _(STAFF_STATUS_LABELS[s]) for s in bulk.bulk_targets() if workflow.needs_message(s)
        ],
        "nav": "dossiers",
    }
    page = render_template("backoffice/dossiers/page.html", **context)
    return page, code, {"Cache-Control": "private, no-store"}


def act(
    dossier: Dossier,
    name: str,
    form: PortalForm,
    operation: Callable[[Actor], object],
    *,
    versioned: bool,
):  # type: ignore[no-untyped-def]
    """(response, None) when the page comes back; (None, the result) when it went through."""
    if not form.validate_on_submit():  # only the CSRF token: the domain checks the rest
        return render_dossier(
            dossier, bound=(name, form), errors=form.error_summary(), code=422
        ), None
    if versioned:
        seen = form.seen_version() if isinstance(form, forms.VersionedForm) else None
        if seen is None or seen != dossier.version:
            return _stale(dossier, name, form), None
    try:
        result = operation(actor())
        db.session.commit()
    except (StaleDossier, StaleDataError):
        return _stale(dossier, name, form), None
    except CaseworkError as error:
        db.session.rollback()
        hidden = dossiers.membership(db.session, dossier, user()).hidden_count
        stale_signal = isinstance(error, bulk.SignalRefused) and error.reason == "stale"
        if stale_signal:
            _refresh(dossier, form)
        field, message = forms.explain(form, error, hidden_count=hidden)
        field.errors = [*field.errors, message]
        errors = form.error_summary()
        return render_dossier(
            dossier, bound=(name, form), errors=errors, code=409 if stale_signal else 422
        ), None
    return None, result


def _refresh(dossier: Dossier, form: PortalForm) -> None:
    """The form now carries what is on screen, so a second try (after looking) goes through."""
    db.session.expire_all()
    if isinstance(form, forms.VersionedForm):
        form.version.data = str(dossier.version)
    if isinstance(form, forms.BulkStatusForm):
        signals = dossiers.membership(db.session, dossier, user()).visible
        form.signal_versions.data = forms.signal_versions(signals)


def _stale(dossier: Dossier, name: str, form: PortalForm):  # type: ignore[no-untyped-def]
    db.session.rollback()
    _refresh(dossier, form)
    errors = [(f"actie-{name}", forms.stale_message())]
    return render_dossier(dossier, bound=(name, form), errors=errors, code=409)


def to_dossier(dossier: Dossier, message: str):  # type: ignore[no-untyped-def]
    flash(message, "ok")
    return redirect(url_for(".dossier_detail", dossier_reference=dossier.reference), code=303)
