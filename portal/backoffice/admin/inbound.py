"""Mail that came in on reply addresses: the admin list of mail that was set aside, and
marking it handled. One mail's full original is ``portal.backoffice.inbound_mail`` (not for
admins only)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.domain.inbound import receive
from portal.extensions import db
from portal.models import InboundMail, Role, Signal

REASON_LABELS = {
    receive.NOT_OUR_ADDRESS: _l("Geen antwoordadres van het portaal"),
    receive.UNKNOWN_REPLY_ID: _l("Onbekend antwoordadres"),
    receive.REVOKED: _l("Antwoordadres ingetrokken"),
    receive.BOUNCE: _l("Onbestelbaar-melding van een mailserver"),
    receive.AUTO_REPLY: _l("Automatisch antwoord, zoals een afwezigheidsbericht"),
    receive.UNREADABLE: _l("De e-mail kon niet gelezen worden"),
    receive.NO_TEXT: _l("Geen tekst (na het weglaten van de geciteerde e-mail)"),
    receive.PROCESSING_FAILED: _l("Verwerken is mislukt"),
}
REMARK_LABELS = {
    receive.OTHER_SENDER: _l(
        "Verstuurd vanaf een ander e-mailadres dan de melder opgaf. Het bericht staat wel op "
        "de tijdlijn."
    ),
    receive.PHOTOS_REFUSED: _l(
        "Niet alle afbeeldingen zijn overgenomen (geen JPG, PNG of WebP, te groot, of meer dan 3)."
    ),
    receive.TEXT_CUT: _l(
        "De tekst was langer dan 5000 tekens. Op de tijdlijn staat het begin; hieronder staat "
        "alles."
    ),
}


@bp.get("/beheer/post")
@roles_required(Role.ADMIN)
def admin_inbound():  # type: ignore[no-untyped-def]
    handled = request.args.get("toon") == "afgehandeld"
    mails = receive.set_aside_mail(db.session, handled=handled)
    return render_template(
        "backoffice/admin/inbound.html",
        mails=mails,
        handled=handled,
        signals=_signals(mails),
        reason_labels=REASON_LABELS,
        nav="admin",
    )


@bp.post("/beheer/post/<int:mail_id>/afgehandeld")
@roles_required(Role.ADMIN)
def admin_inbound_handled(mail_id: int):  # type: ignore[no-untyped-def]
    mail = mail_or_404(mail_id)
    if receive.mark_handled(db.session, mail, actor_id=current_user.id, now=datetime.now(UTC)):
        db.session.commit()
        flash(_("De e-mail is afgehandeld."), "ok")
    else:
        flash(_("Deze e-mail wachtte niet (meer) op een beheerder."), "info")
    return redirect(url_for("backoffice.admin_inbound"), code=303)


def mail_or_404(mail_id: int) -> InboundMail:
    mail = db.session.get(InboundMail, mail_id)  # the route's converter keeps the id in range
    if mail is None:
        abort(404)
    return mail


def _signals(mails: list[InboundMail]) -> dict[int, Signal]:
    ids = {m.signal_id for m in mails if m.signal_id is not None}
    if not ids:
        return {}
    return {s.id: s for s in db.session.scalars(select(Signal).where(Signal.id.in_(ids)))}
