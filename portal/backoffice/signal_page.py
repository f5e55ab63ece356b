"""The signal page as the back office shows it: the resident's content, the timeline with
what moved and who saw the contact details, the mail about it, and the action forms.

``render`` is shared by the page itself and by every action that comes back to it (with
errors, a preview or the fresh state after a colleague's change)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.backoffice.signal_forms import (
    FollowUpForm,
    NoteForm,
    ReassignForm,
    ReopenDecisionForm,
    ReplyAddressForm,
    ReplyForm,
    StatusForm,
    VersionedForm,
)
from portal.domain import casework, permissions, relocation, standard_texts, workflow
from portal.domain.casework import Actor
from portal.domain.dialogue import reply_addresses, satisfaction
from portal.domain.privacy.erasure import CONTACT_DATA_ERASED
from portal.domain.privacy.retention import CONTACT_DATA_REMOVED
from portal.extensions import db
from portal.models import (
    AuditRecord,
    Buurt,
    InboundMail,
    OutboxMessage,
    Role,
    Signal,
    SignalEvent,
    StandardText,
    User,
    Wijk,
)
from portal.vocabulary import STAFF_STATUS_LABELS, Status

# The actions on the page, in the order they appear; each has a section with this anchor.
ACTIONS = ("reopen", "status", "reply", "note", "reassign", "follow_up")
FORMS: dict[str, type[VersionedForm]] = {
    "reopen": ReopenDecisionForm,
    "status": StatusForm,
    "reply": ReplyForm,
    "note": NoteForm,
    "reassign": ReassignForm,
    "follow_up": FollowUpForm,
}
# Mail that goes to the resident (the rest goes to staff): its address is contact data.
RESIDENT_PURPOSES = ("confirmation", "status_link", "public_", "question_reminder")
FOLLOWER_PURPOSES = ("follow_",)
OWNER_ROLES = (Role.ACCOUNTMANAGER, Role.ADMIN)
# Timeline steps that moved the signal (their before/after is in the audit record).
MOVES = ("reassigned", "taken_over")
_CONTACT_REMOVALS = (CONTACT_DATA_REMOVED, CONTACT_DATA_ERASED)

# The parts of the page that bring their own context register here when their module loads
# (page_part); this module never imports them, so any of them may import it (or signal_flow)
# first without an import cycle.
PAGE_PARTS: list[Callable[[Signal], dict[str, Any]]] = []


def page_part(
    function: Callable[[Signal], dict[str, Any]],
) -> Callable[[Signal], dict[str, Any]]:
    PAGE_PARTS.append(function)
    return function


def actor() -> Actor:
    return Actor(user_id=current_user.id, now=datetime.now(UTC))


@dataclass(frozen=True)
class Preview:
    """Exactly what the resident will receive, shown before it is sent."""

    action: str
    subject: str
    message: str | None
    mailed: bool
    status_label: str | None = None
    # The whole text part of the mail, greeting and sign-off included.
    body: str = ""


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def reply_texts(signal: Signal) -> list[StandardText]:
    """Texts for a reply while the signal is in its current status."""
    return standard_texts.texts_for(db.session, signal, signal.status)


def status_texts(signal: Signal) -> list[StandardText]:
    """Texts meant for one of the statuses the signal can move to, or for any status."""
    targets = set(workflow.allowed_targets(signal.status))
    return [t for t in standard_texts.texts_for(db.session, signal) if t.status in targets | {None}]


def resident_mailed(signal: Signal) -> bool:
    return bool(signal.reporter is not None and signal.reporter.email)


# --- the page -------------------------------------------------------------------------------


def _blank_forms(signal: Signal) -> dict[str, VersionedForm]:
    # formdata=None: on a re-rendered POST, the other forms must not pick up the posted fields.
    forms = {name: FORMS[name](formdata=None, version=str(signal.version)) for name in ACTIONS}
    forms["follow_up"].follow_up_on.data = (  # type: ignore[attr-defined]
        signal.follow_up_on.isoformat() if signal.follow_up_on else ""
    )
    return forms


def _location_sources() -> dict[str, str]:
    return {
        "pin": _("punt op de kaart"),
        "address": _("gevonden via het adres (PDOK Locatieserver)"),
        relocation.STAFF_PIN: _("punt gezet door een medewerker"),
        relocation.STAFF_BUURT: _("buurt gekozen door een medewerker"),
        "buurt": _("buurt gekozen door de melder"),
        "wijk": _("wijk gekozen door de melder"),
        "postcode": _("afgeleid uit de postcode"),
        "unknown": _("onbekend"),
    }


def render(
    signal: Signal,
    *,
    bound: tuple[str, VersionedForm] | None = None,
    errors: list[tuple[str, str]] | None = None,
    preview: Preview | None = None,
    notice: str | None = None,
    code: int = 200,
):  # type: ignore[no-untyped-def]
    reporter = signal.reporter
    show_contact = permissions.can_see_contact(current_user, signal)
    has_contact = reporter is not None and bool(reporter.name or reporter.email or reporter.phone)
    if show_contact and has_contact:
        # Every time the details are shown, in its own small commit (AVG accountability).
        casework.record_contact_view(db.session, signal, actor())
        db.session.commit()

    can_work = permissions.can_work(current_user)
    forms: dict[str, VersionedForm] = {}
    if can_work:
        forms = _blank_forms(signal)
        if bound is not None:
            forms[bound[0]] = bound[1]

    context: dict[str, Any] = {
        "signal": signal,
        "forms": forms,
        "can_work": can_work,
        "show_contact": show_contact,
        "has_contact": has_contact,
        # Removed after the retention period or erased on request (domain/privacy/), not
        # never given: the kind of the last such step, or None.
        "contact_removed": next(
            (e.kind for e in reversed(signal.events) if e.kind in _CONTACT_REMOVALS), None
        ),
        "timeline": _timeline(signal),
        "mails": _mails(signal, show_contact),
        "contact_views": _contact_views(signal) if show_contact else [],
        "errors": errors or [],
        "preview": preview,
        "notice": notice,
        "active_action": bound[0] if bound is not None else None,
        "resident_mailed": resident_mailed(signal),
        "location_sources": _location_sources(),
        **_dialogue(signal, show_contact),
    }
    # The page's parts, each with its own module (templates/backoffice/signal/).
    for part in PAGE_PARTS:
        context.update(part(signal))
    if can_work:
        context.update(_action_choices(signal))
    response = render_template("backoffice/signal.html", **context)
    return response, code, {"Cache-Control": "private, no-store"}


def _dialogue(signal: Signal, show_contact: bool) -> dict[str, Any]:
    """The conversation with the resident: a reopen request waiting for a decision, the
    satisfaction answer, the reply address, and which timeline steps came in by mail."""
    address = reply_addresses.active_reply_address(db.session, signal)
    template = current_app.config["REPLY_TO_ADDRESS"]
    mail_ids = dict(
        db.session.execute(
            select(InboundMail.event_id, InboundMail.id).where(
                InboundMail.signal_id == signal.id, InboundMail.event_id.is_not(None)
            )
        ).all()
    )
    return {
        "reopen_request": satisfaction.pending_request(db.session, signal),
        "survey": satisfaction.latest_survey(db.session, signal),
        "reply_address": (
            reply_addresses.format_address(template, address.reply_id)
            if address is not None and template and show_contact
            else None
        ),
        "reply_address_form": ReplyAddressForm(formdata=None),
        "inbound_mail_ids": mail_ids,
    }


def _action_choices(signal: Signal) -> dict[str, Any]:
    targets = workflow.allowed_targets(signal.status)
    wijken = db.session.scalars(select(Wijk).order_by(Wijk.name)).all()
    buurten = db.session.scalars(select(Buurt).order_by(Buurt.name)).all()
    by_wijk: dict[str, list[Buurt]] = {w.code: [] for w in wijken}
    for buurt in buurten:
        by_wijk.setdefault(buurt.wijk_code, []).append(buurt)
    owners = db.session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_([r.value for r in OWNER_ROLES]))
        .options(selectinload(User.wijken))
        .order_by(User.name)
    ).all()

    def owner_label(user: User) -> str:
        places = ", ".join(w.name for w in user.wijken)
        return f"{user.name} ({places})" if places else user.name

    def text_label(text: StandardText) -> str:
        if text.status is None:
            return text.title
        return f"{text.title} ({_(STAFF_STATUS_LABELS[Status(text.status)])})"

    return {
        "status_options": [
            (
                s.value,
                _(STAFF_STATUS_LABELS[s])
                + (" – " + _("bericht verplicht") if workflow.needs_message(s) else ""),
            )
            for s in targets
        ],
        "message_statuses": [
            _(STAFF_STATUS_LABELS[s]) for s in targets if workflow.needs_message(s)
        ],
        "status_text_options": [(str(t.id), text_label(t)) for t in status_texts(signal)],
        "reply_text_options": [(str(t.id), t.title) for t in reply_texts(signal)],
        "wijk_options": [(w.code, w.name) for w in wijken],
        "buurt_groups": [(w.name, [(b.code, b.name) for b in by_wijk[w.code]]) for w in wijken],
        "owner_options": [(str(u.id), owner_label(u)) for u in owners],
    }


@dataclass(frozen=True)
class TimelineItem:
    event: SignalEvent
    changes: list[Change]


def _timeline(signal: Signal) -> list[TimelineItem]:
    """Every event, oldest first; a reassignment shows what moved (from its audit record,
    written in the same operation, so the n-th of each belong together)."""
    audits = list(
        db.session.scalars(
            select(AuditRecord)
            .where(AuditRecord.signal_id == signal.id, AuditRecord.action == "signal.reassigned")
            .order_by(AuditRecord.id)
        )
    )
    details = iter(a.details for a in audits)
    moves: dict[int, dict[str, Any]] = {}
    for event in signal.events:
        if event.kind in MOVES:
            moves[event.id] = next(details, None) or {}
    names = _names(moves.values())
    items = []
    for event in signal.events:
        changes: list[Change] = []
        move = moves.get(event.id)
        if move:
            before, after = move.get("before") or {}, move.get("after") or {}
            for key, label, kind in (
                ("wijk", _("Wijk"), "wijk"),
                ("buurt", _("Buurt"), "buurt"),
                ("owner_id", _("Eigenaar"), "user"),
            ):
                if before.get(key) != after.get(key):
                    changes.append(
                        Change(
                            label,
                            names[kind].get(before.get(key), _("geen")),
                            names[kind].get(after.get(key), _("geen")),
                        )
                    )
        items.append(TimelineItem(event, changes))
    return items


def _names(moves: Any) -> dict[str, dict[Any, str]]:
    wanted: dict[str, set[Any]] = {"wijk": set(), "buurt": set(), "user": set()}
    for move in moves:
        for side in (move.get("before") or {}, move.get("after") or {}):
            wanted["wijk"].add(side.get("wijk"))
            wanted["buurt"].add(side.get("buurt"))
            wanted["user"].add(side.get("owner_id"))
    result: dict[str, dict[Any, str]] = {"wijk": {}, "buurt": {}, "user": {}}
    for kind, model, key in (("wijk", Wijk, Wijk.code), ("buurt", Buurt, Buurt.code)):
        codes = [c for c in wanted[kind] if c]
        if codes:
            for row in db.session.scalars(select(model).where(key.in_(codes))):
                result[kind][row.code] = row.name
    ids = [i for i in wanted["user"] if isinstance(i, int)]
    if ids:
        for user in db.session.scalars(select(User).where(User.id.in_(ids))):
            result["user"][user.id] = user.name
    return result


@dataclass(frozen=True)
class MailRow:
    message: OutboxMessage
    to_resident: bool
    recipient: str


def _mails(signal: Signal, show_contact: bool) -> list[MailRow]:
    """The mail about this signal; a resident's address only for who may see contact data."""
    rows = []
    for message in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.signal_id == signal.id).order_by(OutboxMessage.id)
    ):
        to_resident = message.purpose.startswith(RESIDENT_PURPOSES)
        if message.purpose.startswith(FOLLOWER_PURPOSES):
            # Staff never need a follower's address; the follower may have stopped since.
            recipient = _("Een volger")
        elif to_resident:
            recipient = _("De melder")
            if show_contact and message.recipient:
                recipient += f" ({message.recipient})"
        else:
            # Blanked with the contact data (domain/privacy/): after the retention period, or
            # erased at the resident's request.
            recipient = message.recipient or _("adres verwijderd")
        rows.append(MailRow(message, to_resident, recipient))
    return rows


@dataclass(frozen=True)
class ContactViewRow:
    at: datetime
    viewer: str
    owner: str


def _contact_views(signal: Signal) -> list[ContactViewRow]:
    """Looks at the contact details by someone who was not the owner at the time."""
    views = casework.contact_views_by_others(db.session, signal)
    ids = {i for v in views for i in (v.viewer_id, v.owner_id) if i is not None}
    names = {}
    if ids:
        names = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    nobody = _("niemand")
    return [
        ContactViewRow(v.at, names.get(v.viewer_id, nobody), names.get(v.owner_id, nobody))
        for v in views
    ]
