"""Part of the signal page (templates/backoffice/signal/_dossier.html): the dossier the
signal belongs to, or the forms to put it in an open dossier or to start a new dossier with
it. Who may: whoever may work signals, on a signal they may open."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.backoffice import bp
from portal.backoffice import dossier_forms as forms
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.domain import permissions
from portal.domain.casework import Actor, CaseworkError
from portal.domain.dossiers import dossiers
from portal.extensions import db
from portal.models import Dossier, Signal
from portal.vocabulary import DOSSIER_STATE_LABELS


@dataclass(frozen=True)
class DossierPart:
    dossier: Dossier | None
    options: list[tuple[str, str]]  # open dossiers to add the signal to
    add_form: forms.SignalDossierForm
    new_form: forms.SignalNewDossierForm


def dossier_part(signal: Signal) -> DossierPart:
    version = str(signal.version)
    options = []
    if signal.dossier is None and permissions.can_work(current_user):
        options = [
            (d.reference, f"{d.reference} – {d.title}") for d in dossiers.open_dossiers(db.session)
        ]
    return DossierPart(
        dossier=signal.dossier,
        options=options,
        add_form=forms.SignalDossierForm(formdata=None, version=version),
        new_form=forms.SignalNewDossierForm(formdata=None, version=version),
    )


@bp.context_processor
def _dossier_globals() -> dict[str, object]:
    # A function, not its result: nothing is queried on pages that do not use it.
    return {"dossier_part": dossier_part, "dossier_state_labels": DOSSIER_STATE_LABELS}


# The signal page's flow is imported in the views: this module is loaded (by ``dossiers``)
# before ``signal_access``, and importing ``signal_flow`` first would run into its import
# cycle with ``signal_page`` and ``signal_access`` halfway.


@bp.post("/signalen/<reference>/dossier")
@roles_required(*WORKER_ROLES)
def signal_dossier_add(reference: str):  # type: ignore[no-untyped-def]
    from portal.backoffice.signal_flow import act_explained, signal_or_404  # see above

    signal = signal_or_404(reference)
    form = forms.SignalDossierForm()
    chosen = db.session.scalars(
        select(Dossier).where(Dossier.reference == (form.dossier.data or ""))
    ).first()

    def explain(code: str):  # type: ignore[no-untyped-def]
        if code == "in_other_dossier" and signal.dossier is not None:
            return form.dossier, forms.in_other_dossier(
                signal.dossier.reference, signal.dossier.title
            )
        if code == "dossier_closed":
            return form.dossier, _("Dit dossier is gesloten. Kies een open dossier.")
        if code == "already_in_dossier":
            return form.dossier, _("Deze melding zit al in dit dossier.")
        return form.dossier, _("Kies een dossier uit de lijst.")

    def operation(actor: Actor, _seen: int) -> Dossier:
        if chosen is None:
            raise CaseworkError("unknown_dossier")
        dossiers.add_signal(db.session, chosen, signal, actor=actor)
        return chosen

    response, dossier = act_explained(signal, "dossier_add", form, operation, explain)
    if response is not None:
        return response
    assert isinstance(dossier, Dossier)
    flash(_("De melding zit nu in dossier %(reference)s.", reference=dossier.reference), "ok")
    return redirect(url_for(".signal_detail", reference=signal.reference), code=303)


@bp.post("/signalen/<reference>/dossier/nieuw")
@roles_required(*WORKER_ROLES)
def signal_dossier_new(reference: str):  # type: ignore[no-untyped-def]
    from portal.backoffice.signal_flow import act_explained, signal_or_404  # see above

    signal = signal_or_404(reference)
    form = forms.SignalNewDossierForm()

    def explain(code: str):  # type: ignore[no-untyped-def]
        if code == "in_other_dossier" and signal.dossier is not None:
            return form.title, forms.in_other_dossier(
                signal.dossier.reference, signal.dossier.title
            )
        return forms.explain(form, CaseworkError(code))

    def operation(actor: Actor, _seen: int) -> Dossier:
        if signal.dossier is not None:
            raise CaseworkError("in_other_dossier")
        dossier = dossiers.create_dossier(
            db.session,
            title=form.title.data or "",
            description="",
            owner_id=actor.user_id,
            wijk_code=signal.wijk_code,
            actor=actor,
            reference_prefix=current_app.config["DOSSIER_REFERENCE_PREFIX"],
        )
        dossiers.add_signal(db.session, dossier, signal, actor=actor)
        return dossier

    response, dossier = act_explained(signal, "dossier_new", form, operation, explain)
    if response is not None:
        return response
    assert isinstance(dossier, Dossier)
    flash(
        _(
            "Dossier %(reference)s is gemaakt, met deze melding erin. Voeg hier de andere "
            "meldingen toe.",
            reference=dossier.reference,
        ),
        "ok",
    )
    return redirect(url_for(".dossier_detail", dossier_reference=dossier.reference), code=303)
