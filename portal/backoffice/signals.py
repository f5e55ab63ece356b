"""The signal page: everything the resident sent, the full timeline with the mail about it,
and the actions (status, public reply, internal note, reassignment, follow-up date).

Views are thin: parse the form, run one operation from ``portal.domain.casework``, commit once,
redirect. A refused action comes back on the same page with what the user typed (422); a save
on top of a colleague's change comes back with the fresh state and the user's text (409).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from flask import current_app, request
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, WORKER_ROLES, roles_required
from portal.backoffice.signal_flow import (
    FormProblem,
    check_form,
    field_problem,
    refused,
    run_action,
    signal_or_404,
)
from portal.backoffice.signal_forms import (
    FollowUpForm,
    NoteForm,
    ReassignForm,
    ReplyForm,
    StatusForm,
)
from portal.backoffice.signal_page import (
    Preview,
    render,
    reply_texts,
    resident_mailed,
    status_texts,
)
from portal.domain import casework, standard_texts
from portal.domain.casework import CaseworkError
from portal.extensions import db
from portal.models import (
    Signal,
    StandardText,
    User,
)
from portal.public.photo_uploads import send_signal_photo
from portal.public.services import links, mail_context
from portal.vocabulary import STATUS_LABELS, Status

# --- pages ----------------------------------------------------------------------------------


@bp.get("/signalen/<reference>")
@roles_required(*STAFF_ROLES)
def signal_detail(reference: str):  # type: ignore[no-untyped-def]
    return render(signal_or_404(reference))


@bp.get("/signalen/<reference>/foto/<int:attachment_id>")
@roles_required(*STAFF_ROLES)
def signal_photo(reference: str, attachment_id: int):  # type: ignore[no-untyped-def]
    signal = signal_or_404(reference)
    return send_signal_photo(signal, attachment_id)


# --- actions --------------------------------------------------------------------------------


@bp.post("/signalen/<reference>/status")
@roles_required(*WORKER_ROLES)
def signal_status(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_or_404(reference)
    form = StatusForm()
    if (early := check_form(signal, "status", form)) is not None:
        return early
    target = form.status.data or ""
    try:
        review, notice = _compose(signal, form, status_texts(signal))
        casework.check_status_change(signal, target, form.message.data)
    except FormProblem as problem:
        return field_problem(signal, "status", form, problem)
    except CaseworkError as error:
        return refused(signal, "status", form, error)
    label = _(STATUS_LABELS[Status(target)])
    mailed = resident_mailed(signal)
    if request.form.get("action") == "preview" or review:
        event = SimpleNamespace(kind="status_changed", to_status=target, message=None)
        preview = mail_preview(signal, "status", event, form.message.data, label)
        return render(signal, bound=("status", form), preview=preview, notice=notice)
    done = _("De status is nu ‘%(status)s’.", status=label)
    if mailed:
        done += " " + _("De melder krijgt een e-mail.")
    return run_action(
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
    signal = signal_or_404(reference)
    form = ReplyForm()
    if (early := check_form(signal, "reply", form)) is not None:
        return early
    try:
        review, notice = _compose(signal, form, reply_texts(signal))
        casework.check_reply(form.message.data)
    except FormProblem as problem:
        return field_problem(signal, "reply", form, problem)
    except CaseworkError as error:
        return refused(signal, "reply", form, error)
    mailed = resident_mailed(signal)
    if request.form.get("action") == "preview" or review:
        event = SimpleNamespace(kind="public_message", to_status=None, message=None)
        preview = mail_preview(signal, "reply", event, form.message.data)
        return render(signal, bound=("reply", form), preview=preview, notice=notice)
    if mailed:
        done = _("Uw bericht is verstuurd. De melder krijgt een e-mail.")
    else:
        done = _("Uw bericht staat op de statuspagina van de melder.")
    return run_action(
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
    signal = signal_or_404(reference)
    form = NoteForm()
    if (early := check_form(signal, "note", form)) is not None:
        return early
    return run_action(
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
    signal = signal_or_404(reference)
    form = ReassignForm()
    if (early := check_form(signal, "reassign", form)) is not None:
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
    return run_action(
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
    signal = signal_or_404(reference)
    form = FollowUpForm()
    if request.form.get("action") == "clear":
        form.follow_up_on.data = ""
    if (early := check_form(signal, "follow_up", form)) is not None:
        return early
    day = form.follow_up_date()
    if day is not None and not Status(signal.status).is_open:
        problem = FormProblem(
            form.follow_up_on,
            _("Deze melding is gesloten. Alleen een open melding krijgt een opvolgdatum."),
        )
        return field_problem(signal, "follow_up", form, problem)
    if day is None:
        done = _("De opvolgdatum is gewist.")
    else:
        done = _("De opvolgdatum is nu %(date)s.", date=format_date(day, "d MMMM y"))
    return run_action(
        signal,
        "follow_up",
        form,
        lambda actor, seen: casework.set_follow_up(
            db.session,
            signal,
            on=day,
            reason=form.follow_up_reason.data,
            seen_version=seen,
            actor=actor,
        ),
        done,
    )


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


def mail_preview(
    signal: Signal,
    action: str,
    event: SimpleNamespace,
    message: str | None,
    status_label: str | None = None,
) -> Preview:
    """The mail the resident would get for ``event`` (the real template, in their language),
    for the preview on the signal page; nothing is written."""
    text = (message or "").strip() or None
    event.message = text
    event.author = current_user
    # Resolving asks "are you satisfied?": the preview shows that part of the mail too.
    survey = None
    if getattr(event, "to_status", None) == Status.RESOLVED:
        days = current_app.config["SATISFACTION_DAYS"]
        survey = SimpleNamespace(open_until=datetime.now(UTC) + timedelta(days=days))
    # The real mail template in the resident's language, for the real subject. No status token
    # is issued for a preview (that would write); the body is not shown, so the link is moot.
    mail = mail_context().renderer.render(
        "public_update",
        signal.locale,
        signal=signal,
        event=event,
        status_url=links().status("voorbeeld"),
        survey=survey,
    )
    return Preview(
        action=action,
        subject=mail.subject,
        message=text,
        mailed=resident_mailed(signal),
        status_label=status_label,
        body=mail.text,
    )
