"""Part of the signal page (templates/backoffice/signal/_links.html): related signals and
duplicates (``domain.dossiers.links``; the list from ``link_views``), with the forms to
relate, to mark as duplicate (with a preview of the resident's mail) and to remove a link.

Who may act: whoever may work signals (management reads), on a signal they may open. A link
to a signal the viewer may not open is listed as "een melding die u niet mag inzien" (no
reference, title or status): leaving it out would tell colleagues there is nothing, while it
is there. A typed reference of such a signal gets the answer of one that does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import Field

from portal.backoffice import bp
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.backoffice.signal_flow import (
    FormProblem,
    act_explained,
    check_form,
    field_problem,
    signal_or_404,
)
from portal.backoffice.signal_links_forms import DuplicateForm, LinkForm, UnlinkForm
from portal.backoffice.signal_page import Preview, actor, render, resident_mailed
from portal.backoffice.signals import mail_preview
from portal.domain import visibility
from portal.domain.casework import MESSAGE_MAX, CaseworkError
from portal.domain.dossiers import link_views, links
from portal.domain.references import normalise_reference
from portal.extensions import db
from portal.models import Signal
from portal.public.services import mail_context
from portal.vocabulary import STATUS_LABELS, Status

LINK, DUPLICATE, UNLINK = "link", "duplicate", "unlink"


@dataclass(frozen=True)
class LinkEntry:
    row: link_views.LinkRow
    may_open: bool  # False: shown as "een melding die u niet mag inzien", no remove button


@dataclass(frozen=True)
class LinksPart:
    entries: list[LinkEntry]
    link_form: LinkForm
    duplicate_form: DuplicateForm
    # Why this signal cannot be marked as a duplicate now (None: it can).
    no_duplicate_reason: str | None
    # Our sentence to the resident, in their language, when the original is public and open.
    notice: str


def links_part(signal: Signal) -> LinksPart:
    rows = link_views.links_of(db.session, signal)
    entries = [
        LinkEntry(row, visibility.can_open(db.session, current_user, row.other)) for row in rows
    ]
    reason = None
    if any(row.role == "duplicate_of" for row in rows):
        reason = _(
            "Deze melding is al als dubbel gemarkeerd. Wilt u haar aan een andere melding "
            "koppelen als dubbel? Verwijder dan eerst die koppeling."
        )
    elif any(row.role == "repeated_by" for row in rows):
        reason = _(
            "Andere meldingen zijn als dubbel van deze melding gemarkeerd. Daarom kan deze "
            "melding zelf geen dubbel zijn. Koppel haar wel als verwante melding."
        )
    elif not Status(signal.status).is_open:
        reason = _(
            "Alleen een open melding kan als dubbel worden gemarkeerd. Deze melding is al "
            "gesloten. Koppel haar wel als verwante melding."
        )
    return LinksPart(
        entries=entries,
        link_form=LinkForm(formdata=None, version=str(signal.version)),
        duplicate_form=DuplicateForm(formdata=None, version=str(signal.version)),
        no_duplicate_reason=reason,
        # For an open public original, the usual case (the preview shows the exact text).
        notice=links.in_language(signal.locale, links.NOTICE_FOLLOW),
    )


@bp.context_processor
def _links_globals() -> dict[str, object]:
    # A function, not its result: nothing is queried on pages that do not use it.
    return {"links_part": links_part}


# --- explaining a refusal -------------------------------------------------------------------


def _typed(form: LinkForm | DuplicateForm) -> str:
    return normalise_reference(form.reference.data or "")


def _explain(form: LinkForm | DuplicateForm, error: CaseworkError) -> tuple[Field, str]:
    code = error.code
    if code == "same_signal":
        return form.reference, _(
            "Dit is het meldnummer van deze melding zelf. Vul het meldnummer van de andere "
            "melding in."
        )
    if code in ("unknown_reference", "reference_required"):
        # The same words for a signal that does not exist and one the user may not open.
        return form.reference, _(
            "Wij vinden geen melding met meldnummer %(reference)s. Controleer het nummer.",
            reference=_typed(form),
        )
    if code == "already_linked":
        return form.reference, _(
            "Deze melding en %(reference)s zijn al aan elkaar gekoppeld.", reference=_typed(form)
        )
    if code == "reason_too_long" and isinstance(form, LinkForm):
        return form.reason, _("Gebruik hoogstens %(max)d tekens.", max=links.REASON_MAX)
    if code == "message_too_long" and isinstance(form, DuplicateForm):
        return form.message, _(
            "Uw bericht is te lang: met onze zin erbij mag het hoogstens %(max)d tekens hebben.",
            max=MESSAGE_MAX,
        )
    if isinstance(error, links.OtherIsDuplicate):
        if error.original_reference:
            return form.reference, _(
                "Melding %(reference)s is zelf een dubbele melding van %(original)s. Markeer "
                "deze melding als dubbel van %(original)s.",
                reference=_typed(form),
                original=error.original_reference,
            )
        return form.reference, _(
            "Melding %(reference)s is zelf een dubbele melding van een andere melding. Kies "
            "de eerdere melding.",
            reference=_typed(form),
        )
    if code == "already_duplicate":
        return form.reference, _(
            "Deze melding is al als dubbel gemarkeerd. Verwijder eerst die koppeling."
        )
    if code == "has_duplicates":
        return form.reference, _(
            "Andere meldingen zijn als dubbel van deze melding gemarkeerd. Daarom kan deze "
            "melding zelf geen dubbel zijn. Koppel haar wel als verwante melding."
        )
    if code == "duplicate_closed":
        return form.reference, _(
            "Deze melding is al gesloten. Heropen haar eerst, of koppel haar als verwante melding."
        )
    return form.reference, _("Dit kan niet. Controleer wat u heeft ingevuld.")


def _done(signal: Signal):  # type: ignore[no-untyped-def]
    return redirect(url_for(".signal_detail", reference=signal.reference), code=303)


# --- the actions ----------------------------------------------------------------------------


@bp.post("/signalen/<reference>/koppelen")
@roles_required(*WORKER_ROLES)
def signal_link(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_or_404(reference)
    form = LinkForm()

    def operation(who, seen):  # type: ignore[no-untyped-def]
        other = links.find_other(db.session, signal, form.reference.data or "", who)
        links.relate(
            db.session, signal, other, reason=form.reason.data, seen_version=seen, actor=who
        )
        return other

    response, other = act_explained(
        signal, LINK, form, operation, lambda code: _explain(form, CaseworkError(code))
    )
    if response is not None:
        return response
    assert isinstance(other, Signal)
    flash(_("De melding is gekoppeld aan %(reference)s.", reference=other.reference), "ok")
    return _done(signal)


def _preview(signal: Signal, message: str) -> Preview:
    """Exactly the mail the resident gets: the real template, in their language."""
    declined = SimpleNamespace(kind="status_changed", to_status=Status.DECLINED.value)
    return mail_preview(
        signal, DUPLICATE, declined, message, status_label=_(STATUS_LABELS[Status.DECLINED])
    )


@bp.post("/signalen/<reference>/dubbel")
@roles_required(*WORKER_ROLES)
def signal_duplicate(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_or_404(reference)
    form = DuplicateForm()
    if request.form.get("action") == "preview":
        if (early := check_form(signal, DUPLICATE, form)) is not None:
            return early
        try:
            original = links.find_other(db.session, signal, form.reference.data or "", actor())
            text = links.check_duplicate(db.session, signal, original, form.message.data, actor())
        except CaseworkError as error:
            field, message = _explain(form, error)
            return field_problem(signal, DUPLICATE, form, FormProblem(field, message))
        return render(signal, bound=(DUPLICATE, form), preview=_preview(signal, text))

    refusal: list[CaseworkError] = []  # the error itself: OtherIsDuplicate names a signal

    def operation(who, seen):  # type: ignore[no-untyped-def]
        try:
            original = links.find_other(db.session, signal, form.reference.data or "", who)
            links.mark_duplicate(
                db.session,
                signal,
                original,
                message=form.message.data,
                seen_version=seen,
                actor=who,
                mail=mail_context(),
            )
        except CaseworkError as error:
            refusal.append(error)
            raise
        return original

    response, original = act_explained(
        signal,
        DUPLICATE,
        form,
        operation,
        lambda code: _explain(form, refusal[-1] if refusal else CaseworkError(code)),
    )
    if response is not None:
        return response
    assert isinstance(original, Signal)
    done = _(
        "De melding is gemarkeerd als dubbel van %(reference)s en heeft nu de status ‘%(status)s’.",
        reference=original.reference,
        status=_(STATUS_LABELS[Status.DECLINED]),
    )
    if resident_mailed(signal):
        done += " " + _("De melder krijgt een e-mail.")
    flash(done, "ok")
    return _done(signal)


@bp.post("/signalen/<reference>/ontkoppelen")
@roles_required(*WORKER_ROLES)
def signal_unlink(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_or_404(reference)
    form = UnlinkForm()
    response, other = act_explained(
        signal,
        UNLINK,
        form,
        lambda who, seen: links.unrelate(
            db.session, signal, form.link_id(), seen_version=seen, actor=who
        ),
        lambda code: (
            form.link,
            _("Deze koppeling bestaat niet (meer). Bekijk hieronder welke koppelingen er zijn."),
        ),
    )
    if response is not None:
        return response
    assert isinstance(other, Signal)
    flash(_("De koppeling met %(reference)s is verwijderd.", reference=other.reference), "ok")
    return _done(signal)
