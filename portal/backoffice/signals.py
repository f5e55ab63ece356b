"""The signal page: everything the resident sent, the full timeline with the mail about it,
and the actions (status, public reply, internal note, reassignment, follow-up date).

Views are thin: parse the form, run one operation from ``portal.domain.casework``, commit once,
redirect. A refused action comes back on the same page with what the user typed (422); a save
on top of a colleague's change comes back with the fresh state and the user's text (409).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from flask import abort, flash, redirect, request, send_file, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import Field

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, WORKER_ROLES, roles_required
from portal.backoffice.signal_forms import (
    FollowUpForm,
    NoteForm,
    ReassignForm,
    ReplyForm,
    StatusForm,
    VersionedForm,
)
from portal.backoffice.signal_page import (
    Preview,
    actor,
    render,
    reply_texts,
    resident_mailed,
    status_texts,
)
from portal.domain import casework, standard_texts
from portal.domain.casework import Actor, CaseworkError, StaleSignal
from portal.extensions import db
from portal.models import (
    Attachment,
    Signal,
    StandardText,
    User,
)
from portal.public.services import links, mail_context, photo_store
from portal.vocabulary import STATUS_LABELS, Status


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


# --- pages ----------------------------------------------------------------------------------


@bp.get("/signalen/<reference>")
@roles_required(*STAFF_ROLES)
def signal_detail(reference: str):  # type: ignore[no-untyped-def]
    return render(_signal_or_404(reference))


@bp.get("/signalen/<reference>/foto/<int:attachment_id>")
@roles_required(*STAFF_ROLES)
def signal_photo(reference: str, attachment_id: int):  # type: ignore[no-untyped-def]
    signal = _signal_or_404(reference)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.signal_id != signal.id:
        abort(404)
    path = photo_store().path(attachment.stored_name)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- actions --------------------------------------------------------------------------------


@bp.post("/signalen/<reference>/status")
@roles_required(*WORKER_ROLES)
def signal_status(reference: str):  # type: ignore[no-untyped-def]
    signal = _signal_or_404(reference)
    form = StatusForm()
    if (early := _check_form(signal, "status", form)) is not None:
        return early
    target = form.status.data or ""
    try:
        review, notice = _compose(signal, form, status_texts(signal))
        casework.check_status_change(signal, target, form.message.data)
    except FormProblem as problem:
        return _field_problem(signal, "status", form, problem)
    except CaseworkError as error:
        return _refused(signal, "status", form, error)
    label = _(STATUS_LABELS[Status(target)])
    mailed = resident_mailed(signal)
    if request.form.get("action") == "preview" or review:
        event = SimpleNamespace(kind="status_changed", to_status=target, message=None)
        preview = _preview(signal, "status", event, form.message.data, label)
        return render(signal, bound=("status", form), preview=preview, notice=notice)
    done = _("De status is nu ‘%(status)s’.", status=label)
    if mailed:
        done += " " + _("De melder krijgt een e-mail.")
    return _run(
        signal,
        "status",
        form,
        lambda actor, seen: casework.change_status(
            db.session,
            signal,
            target,
            message=form.message.data,
            seen_version=seen,
            actor=actor,
            mail=mail_context(),
        ),
        done,
    )


@bp.post("/signalen/<reference>/antwoord")
@roles_required(*WORKER_ROLES)
def signal_reply(reference: str):  # type: ignore[no-untyped-def]
    signal = _signal_or_404(reference)
    form = ReplyForm()
    if (early := _check_form(signal, "reply", form)) is not None:
        return early
    try:
        review, notice = _compose(signal, form, reply_texts(signal))
        casework.check_reply(form.message.data)
    except FormProblem as problem:
        return _field_problem(signal, "reply", form, problem)
    except CaseworkError as error:
        return _refused(signal, "reply", form, error)
    mailed = resident_mailed(signal)
    if request.form.get("action") == "preview" or review:
        event = SimpleNamespace(kind="public_message", to_status=None, message=None)
        preview = _preview(signal, "reply", event, form.message.data)
        return render(signal, bound=("reply", form), preview=preview, notice=notice)
    if mailed:
        done = _("Uw bericht is verstuurd. De melder krijgt een e-mail.")
    else:
        done = _("Uw bericht staat op de statuspagina van de melder.")
    return _run(
        signal,
        "reply",
        form,
        lambda actor, seen: casework.public_reply(
            db.session,
            signal,
            message=form.message.data or "",
            seen_version=seen,
            actor=actor,
            mail=mail_context(),
        ),
        done,
    )


@bp.post("/signalen/<reference>/notitie")
@roles_required(*WORKER_ROLES)
def signal_note(reference: str):  # type: ignore[no-untyped-def]
    signal = _signal_or_404(reference)
    form = NoteForm()
    if (early := _check_form(signal, "note", form)) is not None:
        return early
    return _run(
        signal,
        "note",
        form,
        lambda actor, seen: casework.internal_note(
            db.session, signal, message=form.message.data or "", seen_version=seen, actor=actor
        ),
        _("Uw interne notitie is opgeslagen. De melder ziet haar niet."),
    )


@bp.post("/signalen/<reference>/toewijzen")
@roles_required(*WORKER_ROLES)
def signal_reassign(reference: str):  # type: ignore[no-untyped-def]
    signal = _signal_or_404(reference)
    form = ReassignForm()
    if (early := _check_form(signal, "reassign", form)) is not None:
        return early
    owner_id = form.owner_id()
    new_owner = db.session.get(User, owner_id) if owner_id is not None else None
    done = _("De melding is verplaatst of toegewezen.")
    previous = signal.owner
    if new_owner is not None and new_owner.id != signal.owner_id:
        # Who is mailed, as casework.reassign decides: never the one who did it.
        told = [u.name for u in (new_owner, previous) if u is not None and u.id != current_user.id]
        if len(told) == 2:
            done += " " + _(
                "%(first)s en %(second)s krijgen een e-mail.", first=told[0], second=told[1]
            )
        elif told:
            done += " " + _("%(name)s krijgt een e-mail.", name=told[0])
    return _run(
        signal,
        "reassign",
        form,
        lambda actor, seen: casework.reassign(
            db.session,
            signal,
            wijk_code=form.wijk.data or None,
            buurt_code=form.buurt.data or None,
            owner_id=owner_id,
            reason=form.reason.data or "",
            seen_version=seen,
            actor=actor,
            mail=mail_context(),
        ),
        done,
    )


@bp.post("/signalen/<reference>/opvolgen")
@roles_required(*WORKER_ROLES)
def signal_follow_up(reference: str):  # type: ignore[no-untyped-def]
    signal = _signal_or_404(reference)
    form = FollowUpForm()
    if request.form.get("action") == "clear":
        form.follow_up_on.data = ""
    if (early := _check_form(signal, "follow_up", form)) is not None:
        return early
    day = form.follow_up_date()
    if day is None:
        done = _("De opvolgdatum is gewist.")
    else:
        done = _("De opvolgdatum is nu %(date)s.", date=format_date(day, "d MMMM y"))
    return _run(
        signal,
        "follow_up",
        form,
        lambda actor, seen: casework.set_follow_up(
            db.session, signal, on=day, seen_version=seen, actor=actor
        ),
        done,
    )


# --- the flow every action shares -----------------------------------------------------------


def _signal_or_404(reference: str) -> Signal:
    signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).first()
    if signal is None:
        abort(404)
    return signal


def _check_form(signal: Signal, name: str, form: VersionedForm):  # type: ignore[no-untyped-def]
    """None when the form may go on; otherwise the response (field errors, or stale)."""
    valid = form.validate_on_submit()
    seen = form.seen_version()
    if seen is None or seen != signal.version:
        return _stale(signal, name, form)
    if not valid:
        return render(signal, bound=(name, form), errors=form.error_summary(), code=422)
    return None


def _run(
    signal: Signal,
    name: str,
    form: VersionedForm,
    operation: Callable[[Actor, int], object],
    done: str,
):  # type: ignore[no-untyped-def]
    seen = form.seen_version()
    if seen is None:  # _check_form saw to that; kept for safety
        return _stale(signal, name, form)
    try:
        operation(actor(), seen)
        db.session.commit()
    except (StaleSignal, StaleDataError):
        # StaleDataError: a colleague's save landed between our check and our write; the
        # version column caught it at flush or commit.
        db.session.rollback()
        return _stale(signal, name, form)
    except CaseworkError as error:
        db.session.rollback()
        return _refused(signal, name, form, error)
    flash(done, "ok")
    return redirect(url_for(".signal_detail", reference=signal.reference), code=303)


def _stale(signal: Signal, name: str, form: VersionedForm):  # type: ignore[no-untyped-def]
    """The fresh state with the user's typed text still in the form; the form now carries the
    version on screen, so a second try (after looking) goes through."""
    db.session.rollback()
    db.session.expire_all()
    form.version.data = str(signal.version)
    errors = [(f"actie-{name}", stale_message())]
    return render(signal, bound=(name, form), errors=errors, code=409)


def _refused(signal: Signal, name: str, form: VersionedForm, error: CaseworkError):  # type: ignore[no-untyped-def]
    db.session.rollback()
    field, message = _explain(signal, name, form, error.code)
    return _field_problem(signal, name, form, FormProblem(field, message))


def _field_problem(signal: Signal, name: str, form: VersionedForm, problem: FormProblem):  # type: ignore[no-untyped-def]
    problem.field.errors = [*problem.field.errors, problem.message]
    return render(signal, bound=(name, form), errors=form.error_summary(), code=422)


def _explain(signal: Signal, name: str, form: Any, code: str) -> tuple[Field, str]:
    """The Dutch sentence for a refused action, and the field it belongs to."""
    if code == "transition_not_allowed":
        target = form.status.data or ""
        if target not in set(Status):
            return form.status, _("Kies een nieuwe status uit de lijst.")
        return form.status, _(
            "Van ‘%(current)s’ naar ‘%(target)s’ kan niet. Kies een status uit de lijst.",
            current=_(STATUS_LABELS[Status(signal.status)]),
            target=_(STATUS_LABELS[Status(target)]),
        )
    text_field = form.reason if isinstance(form, ReassignForm) else getattr(form, "message", None)
    if code == "message_required":
        if name == "status":
            return text_field, _(
                "Schrijf een bericht aan de melder: bij de status ‘%(status)s’ is dat verplicht.",
                status=_(STATUS_LABELS[Status(form.status.data)]),
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


# --- standard texts and the preview ---------------------------------------------------------


def _compose(signal: Signal, form: StatusForm | ReplyForm, texts: list[StandardText]):  # type: ignore[no-untyped-def]
    """Starts the message from the chosen standard text, filled in for this signal.

    Returns (review, notice): ``review`` is True when the message box now holds words the user
    has not seen yet (a freshly filled text, or a text chosen on top of typed words): such a
    message is shown as a preview, never sent unseen. Typed words are never replaced.
    """
    chosen = (form.standard_text.data or "").strip()
    if not chosen:
        return False, None
    text = next((t for t in texts if str(t.id) == chosen), None)
    if text is None:
        raise FormProblem(
            form.standard_text,
            _("Deze standaardtekst past niet (meer) bij deze melding. Kies een andere."),
        )
    filled = standard_texts.fill(text.body, signal)
    typed = (form.message.data or "").strip()
    form.standard_text.data = ""  # used up: the next preview works on the message box
    if not typed:
        form.message.data = filled
        return True, _(
            "De standaardtekst staat nu in het berichtveld. Pas hem aan als dat nodig is en "
            "verstuur hem daarna."
        )
    if typed == filled.strip():
        return False, None
    return True, _(
        "Er stond al tekst in het berichtveld, daarom is de standaardtekst niet overgenomen. "
        "Maak het veld leeg als u met de standaardtekst wilt beginnen."
    )


def _preview(
    signal: Signal,
    action: str,
    event: SimpleNamespace,
    message: str | None,
    status_label: str | None = None,
) -> Preview:
    text = (message or "").strip() or None
    event.message = text
    # The real mail template in the resident's language, for the real subject. No status token
    # is issued for a preview (that would write); the body is not shown, so the link is moot.
    mail = mail_context().renderer.render(
        "public_update",
        signal.locale,
        signal=signal,
        event=event,
        status_url=links().status("voorbeeld"),
    )
    return Preview(
        action=action,
        subject=mail.subject,
        message=text,
        mailed=resident_mailed(signal),
        status_label=status_label,
    )
