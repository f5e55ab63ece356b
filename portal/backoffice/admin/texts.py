"""Admin screens for standard texts (answers accountmanagers start from), with a preview of
the whole mail a resident gets: the mail adds greeting, sign-off and the signal itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.backoffice.admin.common import add_error, done
from portal.backoffice.admin.forms import (
    StandardTextForm,
)
from portal.domain.standard_texts import (
    PLACEHOLDERS,
    TextError,
    check_placeholders,
    fill,
    save_text,
)
from portal.extensions import db
from portal.models import (
    GENERAL_INBOX,
    Buurt,
    Reporter,
    Role,
    RoutingRule,
    SatisfactionSurvey,
    Signal,
    SignalEvent,
    StandardText,
    User,
    Wijk,
    utcnow,
)
from portal.public.services import mail_context
from portal.vocabulary import KIND_NAMES, STATUS_LABELS, Kind, Status

# The made-up resident of the preview: never a real resident's data on an admin screen.
SAMPLE_RESIDENT = "Jan Jansen"


@dataclass(frozen=True)
class MailPreview:
    subject: str
    text: str
    wijk: str | None


def _placeholder_list() -> str:
    return ", ".join("{" + p + "}" for p in PLACEHOLDERS)


def _text_error(form: StandardTextForm, error: TextError) -> None:
    code = error.code
    if code == "unknown_placeholder":
        add_error(
            form.body,
            _(
                "Deze plaatshouder kennen we niet: %(unknown)s. U kunt gebruiken: %(known)s.",
                unknown=", ".join(error.unknown),
                known=_placeholder_list(),
            ),
        )
    elif code == "unpaired_brace":
        add_error(
            form.body,
            _(
                "Er staat een losse { of } in de tekst. Gebruik accolades alleen rond een "
                "plaatshouder, zoals {meldnummer}."
            ),
        )
    elif code == "unknown_status":
        add_error(form.status, _("Kies een status uit de lijst."))
    elif code == "unknown_kind":
        add_error(form.kind, _("Kies een soort uit de lijst."))
    elif code == "title_too_long":
        add_error(form.title, _("De titel is te lang."))
    elif code == "body_too_long":
        add_error(form.body, _("De tekst is te lang."))
    else:
        add_error(form.title, _("Vul een titel en een tekst in."))


def _text_form_page(
    form: StandardTextForm,
    text: StandardText | None,
    status: int,
    preview: MailPreview | None = None,
) -> Any:
    return (
        render_template(
            "backoffice/admin/text_form.html",
            form=form,
            text=text,
            placeholders=_placeholder_list(),
            errors=form.error_summary(),
            preview=preview,
            nav="admin",
        ),
        status,
    )


def _sample_signal(kind: str) -> Signal:
    """A made-up signal (never stored) in the first wijk that has an accountmanager, so the
    preview shows real wijk and accountmanager names but no resident's data."""
    rule = db.session.scalars(
        select(RoutingRule).where(RoutingRule.scope != GENERAL_INBOX).order_by(RoutingRule.scope)
    ).first()
    wijk = db.session.get(Wijk, rule.scope) if rule else None
    buurt = wijk.buurten[0] if wijk and wijk.buurten else None
    initiative = kind == Kind.INITIATIEF
    sample = Signal(
        reference=f"{current_app.config['REFERENCE_PREFIX']}-{utcnow().year}-000123",
        kind=kind,
        title=_("Moestuin voor de buurt") if initiative else _("Losse stoeptegel"),
        description=(
            _("Wij willen met de buurt een moestuin beginnen op het grasveld achter de school.")
            if initiative
            else _("Voor huisnummer 12 ligt een stoeptegel los. Ik ben er bijna over gestruikeld.")
        ),
        status=Status.RECEIVED.value,
        locale="nl",
    )
    # Copies, not the stored rows: nothing of the sample can end up in the session.
    sample.wijk = Wijk(code=wijk.code, name=wijk.name) if wijk else None
    sample.buurt = Buurt(code=buurt.code, name=buurt.name) if buurt else None
    sample.owner = User(name=rule.owner.name) if rule else None
    sample.reporter = Reporter(name=SAMPLE_RESIDENT, email="", may_contact=True)
    return sample


def _mail_preview(form: StandardTextForm) -> MailPreview | None:
    """The whole mail (its text part) a resident gets when this text is sent, filled in for
    a made-up signal; None when the text has an error (then it is on the form)."""
    body = form.body.data or ""
    unknown = check_placeholders(body)
    status = form.status.data or None
    kind = form.kind.data or Kind.KNELPUNT.value
    if unknown:
        code = "unpaired_brace" if unknown == ["{"] else "unknown_placeholder"
        _text_error(form, TextError(code, unknown))
    elif status and status not in set(Status):
        _text_error(form, TextError("unknown_status"))
    elif kind not in set(Kind):
        _text_error(form, TextError("unknown_kind"))
    else:
        signal = _sample_signal(kind)
        event = SignalEvent(
            kind="status_changed" if status else "public_message",
            is_public=True,
            to_status=status,
            message=fill(body, signal),
            author=signal.owner,
        )
        context = mail_context()
        survey = None
        if status == Status.RESOLVED:  # the mail then asks "Bent u tevreden?"
            survey = SatisfactionSurvey(
                open_until=utcnow() + timedelta(days=context.satisfaction_days)
            )
        mail = context.renderer.render(
            "public_update",
            signal.locale,
            signal=signal,
            event=event,
            # No status token for a preview: that would write, and the link is a sample.
            status_url=context.links.status("voorbeeld"),
            survey=survey,
        )
        return MailPreview(mail.subject, mail.text, signal.wijk.name if signal.wijk else None)
    return None


@bp.get("/beheer/standaardteksten")
@roles_required(Role.ADMIN)
def admin_texts():  # type: ignore[no-untyped-def]
    texts = db.session.scalars(
        select(StandardText).order_by(StandardText.active.desc(), StandardText.title)
    ).all()
    return render_template(
        "backoffice/admin/texts.html",
        texts=texts,
        status_labels=STATUS_LABELS,
        kind_names=KIND_NAMES,
        nav="admin",
    )


def _save_text_view(text: StandardText | None) -> Any:
    if request.method == "POST":
        form = StandardTextForm()
    elif text is None:
        form = StandardTextForm(formdata=None, data={"active": True})
    else:
        form = StandardTextForm(
            formdata=None,
            data={
                "title": text.title,
                "body": text.body,
                "status": text.status or "",
                "kind": text.kind or "",
                "active": text.active,
            },
        )
    if not form.validate_on_submit():
        return _text_form_page(form, text, 422 if request.method == "POST" else 200)
    if request.form.get("action") == "preview":  # shown, not saved
        preview = _mail_preview(form)
        return _text_form_page(form, text, 200 if preview else 422, preview)
    try:
        saved = save_text(
            db.session,
            text,
            title=form.title.data or "",
            body=form.body.data or "",
            status=form.status.data or None,
            kind=form.kind.data or None,
            active=bool(form.active.data),
            actor_id=current_user.id,
        )
    except TextError as error:
        db.session.rollback()
        _text_error(form, error)
        return _text_form_page(form, text, 422)
    return done(
        _("De standaardtekst ‘%(title)s’ is opgeslagen.", title=saved.title),
        "backoffice.admin_texts",
    )


@bp.route("/beheer/standaardteksten/nieuw", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_text_new():  # type: ignore[no-untyped-def]
    return _save_text_view(None)


@bp.route("/beheer/standaardteksten/<int:text_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_text_edit(text_id: int):  # type: ignore[no-untyped-def]
    text = db.session.get(StandardText, text_id)
    if text is None:
        abort(404)
    return _save_text_view(text)
