"""The pages behind the one-time links of a functionary (an escalation) and a wijkteam
partner (a share): the data-minimised summary of the signal and a form to answer, without an
account. An answer lands on the signal's timeline; the link then answers no more.

A token that is unknown, used, expired, revoked or whose escalation was closed opens a
friendly "not found" page (404), the same for each except that a used link says it was used:
whoever holds it learns nothing else. The pages are rate limited, never cached and never
indexed; the form has a CSRF token and works without JavaScript."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, current_app, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from portal.domain import escalations, partners
from portal.domain.reply_links import (
    ANSWER_MAX,
    ANSWERED,
    ESCALATION_FIELDS,
    OPEN,
    PHOTOS,
    AnswerError,
    Summary,
    build_summary,
)
from portal.extensions import db, limiter
from portal.models import Escalation, PartnerShare, Signal, User
from portal.public import bp
from portal.public.form_base import PortalForm, strip_text
from portal.public.photo_uploads import send_signal_photo
from portal.public.services import mail_context

# A secret link in the address bar: nothing of these pages may stay in any cache.
NO_STORE = {"Cache-Control": "private, no-store"}


class AnswerForm(PortalForm):
    answer = TextAreaField(
        _l("Uw antwoord"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Schrijf uw antwoord.")),
            Length(max=ANSWER_MAX, message=_l("Uw antwoord mag hoogstens 5000 tekens hebben.")),
        ],
    )


def _rate_limit() -> str:
    return current_app.config["ANSWER_RATE_LIMIT"]


def _now() -> datetime:
    return datetime.now(UTC)


def _not_open(state: str | None):  # type: ignore[no-untyped-def]
    return (
        render_template("public/answer_unknown.html", answered=state == ANSWERED),
        404,
        NO_STORE,
    )


def _signal(item: Escalation | PartnerShare) -> Signal:
    signal = db.session.get(Signal, item.signal_id)
    assert signal is not None  # the foreign key cascades
    return signal


def _user_name(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.name if user else None


def _render(template_context: dict[str, Any], summary: Summary, form: AnswerForm, code: int = 200):  # type: ignore[no-untyped-def]
    return (
        render_template(
            "public/answer.html",
            summary=summary,
            form=form,
            errors=form.error_summary(),
            **template_context,
        ),
        code,
        NO_STORE,
    )


# --- the functionary -----------------------------------------------------------------------


def _escalation_page(token: str, escalation: Escalation, form: AnswerForm, code: int = 200):  # type: ignore[no-untyped-def]
    signal = _signal(escalation)
    context = {
        "kind": "escalation",
        "token": token,
        "action": url_for(".escalation_answer", token=token),
        "recipient": escalation.functionary.name,
        "asker": _user_name(escalation.created_by_id),
        "request_text": escalation.question,
        "urgent": escalation.urgency == escalations.HIGH,
        "reply_by": escalation.reply_by,
        "link_until": escalations.last_link_day(escalation),
        "photos": [],
    }
    summary = build_summary(signal, ESCALATION_FIELDS, until=escalation.created_at)
    return _render(context, summary, form, code)


@bp.get("/antwoord/escalatie/<token>")
@limiter.limit(_rate_limit)
def escalation_answer_page(token: str):  # type: ignore[no-untyped-def]
    state, escalation = escalations.lookup(db.session, token, _now())
    if state != OPEN or escalation is None:
        return _not_open(state)
    return _escalation_page(token, escalation, AnswerForm(formdata=None))


@bp.post("/antwoord/escalatie/<token>")
@limiter.limit(_rate_limit)
def escalation_answer(token: str):  # type: ignore[no-untyped-def]
    now = _now()
    state, escalation = escalations.lookup(db.session, token, now)
    if state != OPEN or escalation is None:
        return _not_open(state)
    form = AnswerForm()
    if not form.validate():
        return _escalation_page(token, escalation, form, 422)
    try:
        escalations.answer(db.session, escalation, form.answer.data, now=now, mail=mail_context())
    except AnswerError:
        # Answered in another tab a moment ago, or closed meanwhile.
        db.session.rollback()
        return _not_open(ANSWERED if escalation.answered_at else None)
    db.session.commit()
    return redirect(url_for(".answer_thanks"), code=303)


# --- the partner ---------------------------------------------------------------------------


def _share_page(token: str, item: PartnerShare, form: AnswerForm, code: int = 200):  # type: ignore[no-untyped-def]
    signal = _signal(item)
    summary = build_summary(signal, item.fields, until=item.created_at)
    context = {
        "kind": "partner",
        "token": token,
        "action": url_for(".partner_answer", token=token),
        "recipient": item.partner.organisation,
        "asker": _user_name(item.created_by_id),
        "request_text": item.purpose,
        "urgent": False,
        "reply_by": None,
        "link_until": partners.last_link_day(item),
        "photos": [
            (url_for(".partner_answer_photo", token=token, attachment_id=photo.id), photo)
            for photo in summary.photos
        ],
    }
    return _render(context, summary, form, code)


@bp.get("/antwoord/partner/<token>")
@limiter.limit(_rate_limit)
def partner_answer_page(token: str):  # type: ignore[no-untyped-def]
    state, item = partners.lookup(db.session, token, _now())
    if state != OPEN or item is None:
        return _not_open(state)
    return _share_page(token, item, AnswerForm(formdata=None))


@bp.post("/antwoord/partner/<token>")
@limiter.limit(_rate_limit)
def partner_answer(token: str):  # type: ignore[no-untyped-def]
    now = _now()
    state, item = partners.lookup(db.session, token, now)
    if state != OPEN or item is None:
        return _not_open(state)
    form = AnswerForm()
    if not form.validate():
        return _share_page(token, item, form, 422)
    try:
        partners.answer(db.session, item, form.answer.data, now=now, mail=mail_context())
    except AnswerError:
        db.session.rollback()
        return _not_open(ANSWERED if item.answered_at else None)
    db.session.commit()
    return redirect(url_for(".answer_thanks"), code=303)


@bp.get("/antwoord/partner/<token>/foto/<int:attachment_id>")
@limiter.limit(_rate_limit)
def partner_answer_photo(token: str, attachment_id: int):  # type: ignore[no-untyped-def]
    # The token first: nothing about photos is looked up for someone without a working link.
    state, item = partners.lookup(db.session, token, _now())
    if state != OPEN or item is None or PHOTOS not in item.fields:
        abort(404)
    signal = _signal(item)
    if attachment_id not in {a.id for a in signal.attachments if a.event_id is None}:
        abort(404)  # only the photos sent with the form were shared
    return send_signal_photo(signal, attachment_id)


@bp.get("/antwoord/bedankt")
def answer_thanks():  # type: ignore[no-untyped-def]
    return render_template("public/answer_thanks.html"), 200, NO_STORE
