"""One stored mail's full original, for admins and for who may see the resident's contact
details on its signal (the mail shows the sender's address and signature).

The original is shown as text only: headers From/Date/Subject and the whole body, escaped;
HTML mail is turned into text first, never rendered."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, render_template
from flask_login import current_user

from portal.backoffice import bp
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.backoffice.admin.inbound import REASON_LABELS, REMARK_LABELS, mail_or_404
from portal.domain import casework, permissions, visibility
from portal.domain.casework import Actor
from portal.domain.inbound import receive
from portal.domain.inbound.parse import parse_message
from portal.extensions import db
from portal.models import Role, Signal, User


@bp.get("/post/<int:mail_id>")
@roles_required(*WORKER_ROLES)
def inbound_mail(mail_id: int):  # type: ignore[no-untyped-def]
    mail = mail_or_404(mail_id)
    signal = db.session.get(Signal, mail.signal_id) if mail.signal_id is not None else None
    if signal is not None and not visibility.can_open(db.session, current_user, signal):
        abort(404)  # a sensitive signal's mail, as its page: as if it did not exist
    is_admin = current_user.role == Role.ADMIN
    if not is_admin and (signal is None or not permissions.can_see_contact(current_user, signal)):
        abort(403)
    if signal is not None:
        # The original shows the sender's address: the same accountability as the signal page.
        casework.record_contact_view(
            db.session, signal, Actor(user_id=current_user.id, now=datetime.now(UTC))
        )
        db.session.commit()
    parsed = parse_message(mail.raw)
    handled_by = db.session.get(User, mail.handled_by_id) if mail.handled_by_id else None
    sender_matches = (
        receive.sender_matches(signal, parsed.from_address, mail.envelope_from)
        if signal is not None
        else None
    )
    response = render_template(
        "backoffice/admin/inbound_mail.html",
        mail=mail,
        parsed=parsed,
        signal=signal,
        handled_by=handled_by,
        sender_matches=sender_matches,
        reason_label=REASON_LABELS.get(mail.reason or "", mail.reason),
        remarks=[REMARK_LABELS.get(r, r) for r in receive.remarks(mail)],
        can_handle=is_admin and mail.status == receive.SET_ASIDE,
        nav="admin" if is_admin else None,
    )
    return response, 200, {"Cache-Control": "private, no-store"}
