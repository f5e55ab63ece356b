"""Part of the signal page (templates/backoffice/signal/_outreach*.html): escalating to a
functionary with authority (horzelfunctie) and sharing with wijkteam partners, and the
lists of both.

``page_context`` is merged into the page's context for every staff member: the lists (with
their marks) are for management to read too, the forms only for who may work. The actions
follow the page's flow (``signal_flow``): check the form and the version, let the domain
check the request (a refusal comes back next to its field), run one operation, commit once,
redirect."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import abort, current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

# Modules, not names: signal_page imports this module while signal_flow is still loading.
from portal.backoffice import bp, signal_flow, signal_page
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.backoffice.outreach_forms import (
    EscalateForm,
    RevokeShareForm,
    ShareForm,
    close_form,
    explain,
    set_share_choices,
)
from portal.backoffice.signal_forms import VersionedForm
from portal.backoffice.signal_page import page_part
from portal.domain import escalations, functionaries, partners
from portal.domain.casework import CaseworkError
from portal.domain.reply_links import has_contact, may_share_contact
from portal.domain.working_days import add_working_days, local_date
from portal.extensions import db
from portal.models import AuditRecord, Escalation, PartnerShare, Signal, User
from portal.public.services import mail_context

MARKS = {
    escalations.OVERDUE: "danger",
    escalations.WAITING: "warning",
    partners.OPEN: "warning",
}
# The audit records that tie a timeline step to its escalation or share (``event_id``).
STEP_ACTIONS = (
    "signal.escalated",
    "signal.escalation_answered",
    "signal.escalation_reminded",
    "signal.escalation_closed",
    "signal.shared_with_partner",
    "signal.partner_answered",
    "signal.partner_share_revoked",
)


# --- the page's part -----------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationRow:
    escalation: Escalation
    state: str
    asked_by: str
    closed_by: str | None

    @property
    def state_label(self) -> str:
        return escalations.STATE_LABELS[self.state]

    @property
    def mark(self) -> str:
        return MARKS.get(self.state, "neutral")


@dataclass(frozen=True)
class ShareRow:
    share: PartnerShare
    state: str
    shared_by: str
    field_labels: list[str]
    link_until: date

    @property
    def state_label(self) -> str:
        return partners.STATE_LABELS[self.state]

    @property
    def mark(self) -> str:
        return MARKS.get(self.state, "neutral")


@dataclass
class Outreach:
    escalations: list[EscalationRow]
    shares: list[ShareRow]
    functionary_options: list[tuple[str, str]]
    partner_hints: dict[str, str]
    may_share_contact: bool
    has_contact: bool
    blank: dict[str, VersionedForm] = field(default_factory=dict)

    @property
    def overdue(self) -> int:
        return sum(1 for row in self.escalations if row.state == escalations.OVERDUE)

    @property
    def waiting(self) -> int:
        return sum(1 for row in self.escalations if row.state in MARKS)

    def form(self, bound: dict[str, VersionedForm], name: str) -> VersionedForm:
        """The form the user sent (when the page came back with it), else a blank one."""
        return bound.get(name) or self.blank[name]


def _now() -> datetime:
    return datetime.now(UTC)


@page_part
def page_context(signal: Signal) -> dict[str, Any]:
    now = _now()
    today = local_date(now)
    rows = escalations.escalations_of(db.session, signal)
    shares = partners.shares_of(db.session, signal)
    names = _user_names(
        {r.created_by_id for r in rows}
        | {r.closed_by_id for r in rows}
        | {s.created_by_id for s in shares}
    )
    nobody = _("iemand")
    outreach = Outreach(
        escalations=[
            EscalationRow(
                escalation=row,
                state=escalations.state_of(row, today),
                asked_by=names.get(row.created_by_id, nobody),
                closed_by=names.get(row.closed_by_id) if row.closed_at else None,
            )
            for row in rows
        ],
        shares=[
            ShareRow(
                share=item,
                state=partners.state_of(item, now),
                shared_by=names.get(item.created_by_id, nobody),
                field_labels=[
                    _(partners.FIELD_LABELS[f]) for f in item.fields if f in partners.FIELD_LABELS
                ],
                link_until=partners.last_link_day(item),
            )
            for item in shares
        ],
        functionary_options=[
            (str(f.id), f"{f.name}, {f.role_title} ({f.department})")
            for f in functionaries.active_functionaries(db.session)
        ],
        partner_hints={},
        may_share_contact=may_share_contact(signal),
        has_contact=has_contact(signal.reporter),
    )
    outreach.blank = _blank_forms(signal, rows, shares, outreach)
    return {
        "outreach": outreach,
        "outreach_events": _step_headings(signal, rows, shares),
    }


def _user_names(ids: set[int | None]) -> dict[int | None, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(wanted)))}


def _blank_forms(
    signal: Signal, rows: list[Escalation], shares: list[PartnerShare], outreach: Outreach
) -> dict[str, VersionedForm]:
    version = str(signal.version)
    default_day = add_working_days(
        local_date(_now()), current_app.config["ESCALATION_REPLY_WORKING_DAYS"]
    )
    forms: dict[str, VersionedForm] = {
        "escalate": EscalateForm(formdata=None, version=version, reply_by=default_day.isoformat()),
    }
    share = ShareForm(formdata=None, version=version, shared=["description"])
    outreach.partner_hints = set_share_choices(share, signal)
    forms["share"] = share
    for row in rows:
        if row.closed_at is None:
            forms[f"close_{row.id}"] = close_form(row.id, formdata=None, version=version)
    for item in shares:
        forms[f"revoke_{item.id}"] = RevokeShareForm(formdata=None, version=version)
    return forms


def _step_headings(
    signal: Signal, rows: list[Escalation], shares: list[PartnerShare]
) -> dict[int, str]:
    """What each of this part's timeline steps was, by event id (the step's audit record
    names its escalation or share): "Antwoord van …", "Gedeeld met …"."""
    by_escalation = {e.id: e for e in rows}
    by_share = {s.id: s for s in shares}
    records = db.session.scalars(
        select(AuditRecord)
        .where(AuditRecord.signal_id == signal.id, AuditRecord.action.in_(STEP_ACTIONS))
        .order_by(AuditRecord.id)
    )
    headings: dict[int, str] = {}
    for record in records:
        details = record.details or {}
        event_id = details.get("event_id")
        escalation = by_escalation.get(details.get("escalation_id"))  # type: ignore[arg-type]
        item = by_share.get(details.get("share_id"))  # type: ignore[arg-type]
        if not isinstance(event_id, int):
            continue
        if escalation is not None:
            headings[event_id] = _escalation_heading(record.action, escalation)
        elif item is not None:
            headings[event_id] = _share_heading(record.action, item)
    return headings


def _escalation_heading(action: str, escalation: Escalation) -> str:
    name = escalation.functionary.name
    if action == "signal.escalated":
        return _(
            "Geëscaleerd naar %(name)s, %(role)s (antwoord uiterlijk %(date)s)",
            name=name,
            role=escalation.functionary.role_title,
            date=format_date(escalation.reply_by, "d MMMM y"),
        )
    if action == "signal.escalation_answered":
        return _("Antwoord van %(name)s", name=name)
    if action == "signal.escalation_reminded":
        return _("Herinnering gestuurd aan %(name)s", name=name)
    return _("Escalatie aan %(name)s afgesloten met deze uitkomst", name=name)


def _share_heading(action: str, item: PartnerShare) -> str:
    organisation = item.partner.organisation
    if action == "signal.shared_with_partner":
        parts = ", ".join(_(partners.FIELD_LABELS[f]).lower() for f in item.fields)
        return _("Gedeeld met %(organisation)s: %(parts)s", organisation=organisation, parts=parts)
    if action == "signal.partner_answered":
        return _("Reactie van %(organisation)s", organisation=organisation)
    return _("Delen met %(organisation)s ingetrokken", organisation=organisation)


# --- actions -------------------------------------------------------------------------------


def _problem(signal: Signal, name: str, form: VersionedForm, error: CaseworkError):  # type: ignore[no-untyped-def]
    field_, message = explain(form, error.code)
    return signal_flow.field_problem(signal, name, form, signal_flow.FormProblem(field_, message))


@bp.post("/signalen/<reference>/escaleren")
@roles_required(*WORKER_ROLES)
def signal_escalate(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_flow.signal_or_404(reference)
    form = EscalateForm()
    if (early := signal_flow.check_form(signal, "escalate", form)) is not None:
        return early
    request = escalations.EscalationRequest(
        functionary_id=form.functionary_id(),
        question=form.question.data,
        urgency=form.urgency.data,
        reply_by=form.reply_by_date(),
    )
    try:
        functionary = escalations.check_escalation(db.session, request, local_date(_now()))
    except CaseworkError as error:
        return _problem(signal, "escalate", form, error)
    done = _(
        "Uw vraag is naar %(name)s gestuurd. %(name)s krijgt een e-mail met een link om te "
        "antwoorden; het antwoord komt op de tijdlijn.",
        name=functionary.name,
    )
    return signal_flow.run_action(
        signal,
        "escalate",
        form,
        lambda actor, seen: escalations.escalate(
            db.session,
            signal,
            request,
            seen_version=seen,
            actor=actor,
            mail=mail_context(),
            link_days=current_app.config["ESCALATION_LINK_DAYS"],
        ),
        done,
    )


@bp.post("/signalen/<reference>/escalaties/<int:escalation_id>/afsluiten")
@roles_required(*WORKER_ROLES)
def signal_escalation_close(reference: str, escalation_id: int):  # type: ignore[no-untyped-def]
    signal = signal_flow.signal_or_404(reference)
    escalation = db.session.get(Escalation, escalation_id)
    if escalation is None or escalation.signal_id != signal.id:
        abort(404)
    name = f"close_{escalation_id}"
    form = close_form(escalation_id)
    if (early := signal_flow.check_form(signal, name, form)) is not None:
        return early
    try:
        escalations.check_close(db.session, signal, escalation_id, form.outcome.data)
    except CaseworkError as error:
        return _problem(signal, name, form, error)
    return signal_flow.run_action(
        signal,
        name,
        form,
        lambda actor, seen: escalations.close_escalation(
            db.session,
            signal,
            escalation_id,
            outcome=form.outcome.data,
            seen_version=seen,
            actor=actor,
        ),
        _("De escalatie aan %(name)s is afgesloten.", name=escalation.functionary.name),
    )


@bp.post("/signalen/<reference>/delen")
@roles_required(*WORKER_ROLES)
def signal_share(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_flow.signal_or_404(reference)
    form = ShareForm()
    set_share_choices(form, signal)
    if (early := signal_flow.check_form(signal, "share", form)) is not None:
        return early
    request = partners.ShareRequest(
        partner_ids=form.partner_ids(),
        purpose=form.purpose.data,
        fields=list(form.shared.data or []),
    )
    try:
        chosen = partners.check_share(db.session, signal, request)
    except CaseworkError as error:
        return _problem(signal, "share", form, error)
    names = [p.organisation for p in chosen]
    if len(names) == 1:
        done = _(
            "De melding is gedeeld met %(partner)s. %(partner)s krijgt een e-mail met een "
            "link om te reageren.",
            partner=names[0],
        )
    else:
        done = _(
            "De melding is gedeeld met %(partners)s. Elke partner krijgt een e-mail met een "
            "eigen link om te reageren.",
            partners=", ".join(names),
        )
    return signal_flow.run_action(
        signal,
        "share",
        form,
        lambda actor, seen: partners.share(
            db.session,
            signal,
            request,
            seen_version=seen,
            actor=actor,
            mail=mail_context(),
            link_days=current_app.config["PARTNER_LINK_DAYS"],
        ),
        done,
    )


@bp.post("/signalen/<reference>/delen/<int:share_id>/intrekken")
@roles_required(*WORKER_ROLES)
def signal_share_revoke(reference: str, share_id: int):  # type: ignore[no-untyped-def]
    signal = signal_flow.signal_or_404(reference)
    item = db.session.get(PartnerShare, share_id)
    if item is None or item.signal_id != signal.id:
        abort(404)
    name = f"revoke_{share_id}"
    form = RevokeShareForm()
    if (early := signal_flow.check_form(signal, name, form)) is not None:
        return early
    try:
        partners.check_revoke(db.session, signal, share_id, _now())
    except CaseworkError:
        message = _(
            "Dit delen is al beëindigd: de partner heeft gereageerd, of de link werkte al "
            "niet meer."
        )
        return signal_page.render(
            signal, bound=(name, form), errors=[(f"actie-{name}", message)], code=422
        )
    return signal_flow.run_action(
        signal,
        name,
        form,
        lambda actor, seen: partners.revoke(
            db.session, signal, share_id, seen_version=seen, actor=actor
        ),
        _(
            "Het delen met %(organisation)s is ingetrokken: de link werkt niet meer.",
            organisation=item.partner.organisation,
        ),
    )
