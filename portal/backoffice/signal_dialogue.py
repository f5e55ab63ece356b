"""The signal page's actions about the conversation with the resident: deciding on a reopen
request ("not satisfied"), and revoking the reply address when replies must stop landing on
the signal (a leaked address, a mail loop)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.backoffice import bp
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.backoffice.signal_flow import check_form, run_action, signal_or_404
from portal.backoffice.signal_forms import ReopenDecisionForm, ReplyAddressForm
from portal.backoffice.signal_page import resident_mailed
from portal.domain import audit, casework, permissions
from portal.domain.dialogue import reply_addresses
from portal.extensions import db
from portal.public.services import mail_context


@bp.post("/signalen/<reference>/heropenverzoek")
@roles_required(*WORKER_ROLES)
def signal_reopen_decision(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_or_404(reference)
    form = ReopenDecisionForm()
    if (early := check_form(signal, "reopen", form)) is not None:
        return early
    reopen = form.decision.data == "reopen"
    done = _("De melding is heropend.") if reopen else _("De melding blijft gesloten.")
    if resident_mailed(signal):
        done += " " + _("De melder krijgt uw uitleg per e-mail.")
    return run_action(
        signal,
        "reopen",
        form,
        lambda actor, seen: casework.decide_reopen_request(
            db.session,
            signal,
            reopen=reopen,
            explanation=form.explanation.data,
            seen_version=seen,
            actor=actor,
            mail=mail_context(),
        ),
        done,
    )


@bp.post("/signalen/<reference>/antwoordadres-intrekken")
@roles_required(*WORKER_ROLES)
def signal_revoke_reply_address(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_or_404(reference)
    # The address leads to the resident's mailbox conversation: the same people as the
    # contact details decide about it.
    if not permissions.can_see_contact(current_user, signal):
        abort(403)
    form = ReplyAddressForm()
    if not form.validate_on_submit():
        abort(400)
    now = datetime.now(UTC)
    if reply_addresses.revoke(db.session, signal, now):
        audit.record(
            db.session,
            "signal.reply_address_revoked",
            actor_id=current_user.id,
            signal_id=signal.id,
        )
        db.session.commit()
        flash(
            _(
                "Het antwoordadres is ingetrokken. Antwoorden op eerdere e-mails komen nu bij "
                "een beheerder terecht; de volgende e-mail aan de melder krijgt een nieuw adres."
            ),
            "ok",
        )
    else:
        flash(_("Deze melding had geen antwoordadres dat nog werkte."), "ok")
    return redirect(
        url_for(".signal_detail", reference=signal.reference, _anchor="contact-titel"), code=303
    )
