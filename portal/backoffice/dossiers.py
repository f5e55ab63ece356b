"""Back office: dossiers - the list, a new dossier, the dossier page and its actions (add and
remove signals, a public update to every resident, one status for all its signals, edit,
close and reopen, notes). The page itself and the flow its actions share are in
``dossier_flow``; the signal page's dossier part in ``signal_dossier``.

All staff read; admins and accountmanagers act (any dossier, as any signal); management
reads only. Signals a user may not open are left out of everything they see, and the page
says how many it leaves out."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal.backoffice import bp
from portal.backoffice import dossier_forms as forms
from portal.backoffice.access import STAFF_ROLES, WORKER_ROLES, roles_required
from portal.backoffice.dossier_flow import (
    act,
    actor,
    dossier_or_404,
    owner_options,
    render_dossier,
    to_dossier,
    user,
    wijk_options,
)
from portal.domain import permissions, visibility
from portal.domain.casework import CaseworkError
from portal.domain.dossiers import bulk
from portal.domain.dossiers import dossiers as operations
from portal.domain.ids import parse_id
from portal.extensions import db
from portal.models import Dossier, Signal, Wijk
from portal.public.services import mail_context
from portal.vocabulary import STAFF_STATUS_LABELS, Status

PER_PAGE = 50
STATES = ("open", "closed", "all")

# --- the list -------------------------------------------------------------------------------


@bp.get("/dossiers", endpoint="dossiers")
@roles_required(*STAFF_ROLES)
def dossier_list():  # type: ignore[no-untyped-def]
    state = request.args.get("state", "open")
    state = state if state in STATES else "open"
    mine = request.args.get("mine") == "1"
    wijk = request.args.get("wijk", "")
    if wijk and db.session.get(Wijk, wijk) is None:
        wijk = ""  # an unknown code filters nothing (as the inbox does)
    page = parse_id(request.args.get("page")) or 1
    # Counted as everything else: only the signals this user may see (visibility).
    count = (
        select(func.count(Signal.id))
        .where(Signal.dossier_id == Dossier.id, *visibility.inbox_conditions(user()))
        .correlate(Dossier)
        .scalar_subquery()
    )
    query = select(Dossier, count.label("signal_count"))
    if state != "all":
        query = query.where(Dossier.state == state)
    if mine:
        query = query.where(Dossier.owner_id == current_user.id)
    if wijk:
        query = query.where(Dossier.wijk_code == wijk)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    rows = db.session.execute(
        query.options(selectinload(Dossier.owner), selectinload(Dossier.wijk))
        .order_by(Dossier.updated_at.desc(), Dossier.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    filters = {"state": state, "mine": "1" if mine else None, "wijk": wijk or None}
    return render_template(
        "backoffice/dossiers/list.html",
        rows=rows,
        filters=filters,
        total=total,
        page=page,
        pages=pages,
        wijk_options=wijk_options(),
        can_work=permissions.can_work(current_user),
        nav="dossiers",
    )


# --- a new dossier --------------------------------------------------------------------------


def _new_page(form: forms.NewDossierForm, errors: list[tuple[str, str]], code: int = 200):  # type: ignore[no-untyped-def]
    return (
        render_template(
            "backoffice/dossiers/new.html",
            form=form,
            errors=errors,
            owner_options=owner_options(),
            wijk_options=wijk_options(),
            nav="dossiers",
        ),
        code,
    )


@bp.route("/dossiers/nieuw", methods=["GET", "POST"])
@roles_required(*WORKER_ROLES)
def dossier_new():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        # Owner: me; wijk: mine, when I have exactly one.
        wijken = user().wijken
        data = {"owner": str(current_user.id), "wijk": wijken[0].code if len(wijken) == 1 else ""}
        return _new_page(forms.NewDossierForm(formdata=None, data=data), [])
    form = forms.NewDossierForm()
    if not form.validate_on_submit():
        return _new_page(form, form.error_summary(), 422)
    try:
        dossier = operations.create_dossier(
            db.session,
            title=form.title.data or "",
            description=form.description.data or "",
            owner_id=form.owner_id(),
            wijk_code=form.wijk.data or None,
            actor=actor(),
            reference_prefix=current_app.config["DOSSIER_REFERENCE_PREFIX"],
        )
        db.session.commit()
    except CaseworkError as error:
        db.session.rollback()
        field, message = forms.explain(form, error)
        field.errors = [*field.errors, message]
        return _new_page(form, form.error_summary(), 422)
    flash(
        _(
            "Dossier %(reference)s is gemaakt. Voeg nu de meldingen toe.",
            reference=dossier.reference,
        ),
        "ok",
    )
    return redirect(url_for(".dossier_detail", dossier_reference=dossier.reference), code=303)


# --- the dossier page -----------------------------------------------------------------------


@bp.get("/dossiers/<dossier_reference>")
@roles_required(*STAFF_ROLES)
def dossier_detail(dossier_reference: str):  # type: ignore[no-untyped-def]
    return render_dossier(dossier_or_404(dossier_reference))


@bp.post("/dossiers/<dossier_reference>/meldingen")
@roles_required(*WORKER_ROLES)
def dossier_add_signal(dossier_reference: str):  # type: ignore[no-untyped-def]
    dossier = dossier_or_404(dossier_reference)
    form = forms.AddSignalForm()
    typed = form.reference.data or ""
    other = operations.find_signal(db.session, typed)
    if (
        other is not None
        and other.dossier is not None
        and other.dossier_id != dossier.id
        and visibility.can_open(db.session, user(), other)
    ):
        form.reference.errors = [
            forms.in_other_dossier(other.dossier.reference, other.dossier.title)
        ]
        return render_dossier(dossier, bound=("add", form), errors=form.error_summary(), code=422)
    response, signal = act(
        dossier,
        "add",
        form,
        lambda actor: operations.add_signal_by_reference(db.session, dossier, typed, actor=actor),
        versioned=False,
    )
    if response is not None:
        return response
    assert isinstance(signal, Signal)
    return to_dossier(
        dossier, _("Melding %(reference)s zit nu in dit dossier.", reference=signal.reference)
    )


@bp.post("/dossiers/<dossier_reference>/weghalen")
@roles_required(*WORKER_ROLES)
def dossier_remove_signal(dossier_reference: str):  # type: ignore[no-untyped-def]
    dossier = dossier_or_404(dossier_reference)
    form = forms.RemoveSignalForm()
    form.validate_on_submit()
    signal = operations.find_signal(db.session, form.signal.data or "")
    try:
        if signal is None:
            raise CaseworkError("not_in_dossier")
        operations.remove_signal(db.session, dossier, signal, actor=actor())
        db.session.commit()
    except (StaleDataError, CaseworkError) as error:
        db.session.rollback()
        db.session.expire_all()
        code = getattr(error, "code", "stale")
        message = {
            "dossier_closed": _(
                "Dit dossier is gesloten en kan niet worden gewijzigd. Heropen het eerst."
            ),
            "stale": forms.stale_message(),
        }.get(code, _("Deze melding zit niet (meer) in dit dossier."))
        return render_dossier(dossier, errors=[("meldingen-titel", message)], code=422)
    return to_dossier(
        dossier, _("Melding %(reference)s is uit het dossier gehaald.", reference=signal.reference)
    )


@bp.post("/dossiers/<dossier_reference>/bericht")
@roles_required(*WORKER_ROLES)
def dossier_update(dossier_reference: str):  # type: ignore[no-untyped-def]
    dossier = dossier_or_404(dossier_reference)
    form = forms.UpdateForm()
    response, reached = act(
        dossier,
        "update",
        form,
        lambda actor: bulk.public_update(
            db.session,
            dossier,
            message=form.message.data or "",
            seen_version=form.seen_version() or 0,
            actor=actor,
            mail=mail_context(),
        ),
        versioned=True,
    )
    if response is not None:
        return response
    assert isinstance(reached, bulk.Reach)
    shown = reached.mailed_signals + len(reached.page_only) + len(reached.unreachable)
    done = ngettext(
        "Uw bericht staat op de statuspagina van %(num)d melding.",
        "Uw bericht staat op de statuspagina van %(num)d meldingen.",
        shown,
    )
    done += " " + ngettext(
        "%(num)d melder krijgt een e-mail.",
        "%(num)d melders krijgen een e-mail.",
        len(reached.recipients),
    )
    return to_dossier(dossier, done)


@bp.post("/dossiers/<dossier_reference>/status")
@roles_required(*WORKER_ROLES)
def dossier_status(dossier_reference: str):  # type: ignore[no-untyped-def]
    dossier = dossier_or_404(dossier_reference)
    form = forms.BulkStatusForm()
    target = form.status.data or ""
    response, plan = act(
        dossier,
        "status",
        form,
        lambda actor: bulk.apply_status(
            db.session,
            dossier,
            target,
            message=form.message.data,
            seen_version=form.seen_version() or 0,
            seen_signal_versions=form.seen_signal_versions(),
            actor=actor,
            mail=mail_context(),
        ),
        versioned=True,
    )
    if response is not None:
        return response
    assert isinstance(plan, bulk.StatusPlan)
    label = _(STAFF_STATUS_LABELS[Status(target)])
    done = ngettext(
        "%(num)d melding heeft nu de status ‘%(status)s’.",
        "%(num)d meldingen hebben nu de status ‘%(status)s’.",
        len(plan.changing),
        status=label,
    )
    if plan.already:
        done += " " + ngettext(
            "%(num)d had die status al.", "%(num)d hadden die status al.", len(plan.already)
        )
    return to_dossier(dossier, done)


@bp.post("/dossiers/<dossier_reference>/wijzigen")
@roles_required(*WORKER_ROLES)
def dossier_edit(dossier_reference: str):  # type: ignore[no-untyped-def]
    dossier = dossier_or_404(dossier_reference)
    form = forms.EditDossierForm()
    response, _event = act(
        dossier,
        "edit",
        form,
        lambda actor: operations.edit_dossier(
            db.session,
            dossier,
            title=form.title.data or "",
            description=form.description.data or "",
            owner_id=form.owner_id(),
            wijk_code=form.wijk.data or None,
            seen_version=form.seen_version() or 0,
            actor=actor,
        ),
        versioned=True,
    )
    return response if response is not None else to_dossier(dossier, _("Het dossier is gewijzigd."))


@bp.post("/dossiers/<dossier_reference>/sluiten")
@roles_required(*WORKER_ROLES)
def dossier_close(dossier_reference: str):  # type: ignore[no-untyped-def]
    return _change_state(dossier_reference, close=True)


@bp.post("/dossiers/<dossier_reference>/heropenen")
@roles_required(*WORKER_ROLES)
def dossier_reopen(dossier_reference: str):  # type: ignore[no-untyped-def]
    return _change_state(dossier_reference, close=False)


def _change_state(dossier_reference: str, *, close: bool):  # type: ignore[no-untyped-def]
    dossier = dossier_or_404(dossier_reference)
    form = forms.StateForm()
    operation = operations.close_dossier if close else operations.reopen_dossier
    response, _event = act(
        dossier,
        "state",
        form,
        lambda actor: operation(
            db.session,
            dossier,
            reason=form.reason.data,
            seen_version=form.seen_version() or 0,
            actor=actor,
        ),
        versioned=True,
    )
    if response is not None:
        return response
    if close:
        return to_dossier(
            dossier, _("Het dossier is gesloten. De meldingen erin houden hun eigen status.")
        )
    return to_dossier(dossier, _("Het dossier is weer open."))


@bp.post("/dossiers/<dossier_reference>/notitie")
@roles_required(*WORKER_ROLES)
def dossier_note(dossier_reference: str):  # type: ignore[no-untyped-def]
    dossier = dossier_or_404(dossier_reference)
    form = forms.DossierNoteForm()
    response, _event = act(
        dossier,
        "note",
        form,
        lambda actor: operations.add_note(
            db.session, dossier, message=form.message.data or "", actor=actor
        ),
        versioned=False,
    )
    return response if response is not None else to_dossier(dossier, _("Uw notitie is opgeslagen."))


from portal.backoffice import signal_dossier  # noqa: E402, F401 - registers its routes
