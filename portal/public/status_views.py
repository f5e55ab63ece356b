"""The resident's private status page and what they can do on it: answer a question, add
information while the signal is open, and say whether they are satisfied once it is resolved.
Every form works without JavaScript, keeps what was typed when refused, and is rate-limited."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from portal.domain.dialogue import resident, satisfaction
from portal.domain.tokens import LINK_DAYS_AFTER_CLOSING as LINK_DAYS
from portal.domain.tokens import (
    MAX_LINKS_PER_SIGNAL,
    links_expire_at,
    page_state_for_token,
    signal_for_token,
)
from portal.extensions import db, limiter
from portal.models import Signal
from portal.public import bp
from portal.public.photo_uploads import KeptPhoto, collect_photos, max_mb, send_signal_photo
from portal.public.services import mail_context, page_cache, places_key
from portal.public.status_forms import ResidentMessageForm, SatisfactionForm
from portal.vocabulary import Status


def _rate_limit() -> str:
    return current_app.config["RESIDENT_MESSAGE_RATE_LIMIT"]


def _signal_or_404(token: str) -> Signal | None:
    return signal_for_token(db.session, token, datetime.now(UTC))


@bp.get("/status/<token>")
def status(token: str):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    state = page_state_for_token(db.engine(), token, now)
    if state is None:
        return render_template("public/status_unknown.html", link_days=LINK_DAYS), 404
    if session.get("_flashes") or state.status == Status.DECLINED:
        # A notice is for this visit only; a declined duplicate shows another signal's
        # followers, which change without this one's page_version.
        return _render_status(db.session.get(Signal, state.signal_id), token)
    signal = None
    survey_id = None
    if state.status == Status.RESOLVED:
        signal = db.session.get(Signal, state.signal_id)
        survey = satisfaction.answerable_survey(db.session, signal, now)
        survey_id = survey.id if survey else None
    # Everything else the page shows raises version or page_version (models/page_versions.py);
    # the survey's window closes with time, so whether it is open is part of the key.
    key = (
        "status",
        state.signal_id,
        state.version,
        state.page_version,
        survey_id,
        places_key(),
        str(get_locale()),
    )
    values = {"csrf_token": generate_csrf(), "token": token}

    def render() -> str:
        shown = signal or db.session.get(Signal, state.signal_id)
        return _render_status(shown, token)[0]

    return page_cache().page(key, values, render)


def _render_status(
    signal: Signal,
    token: str,
    *,
    message_form: ResidentMessageForm | None = None,
    satisfaction_form: SatisfactionForm | None = None,
    kept: list[KeptPhoto] | None = None,
    photo_errors: list[str] | None = None,
    general_errors: list[str] | None = None,
    unsent: str | None = None,
    code: int = 200,
):  # type: ignore[no-untyped-def]
    """``unsent``: text the resident typed for a form the page no longer offers (the signal
    closed meanwhile), shown so they can copy it."""
    now = datetime.now(UTC)
    message_form = message_form or ResidentMessageForm(formdata=None)
    satisfaction_form = satisfaction_form or SatisfactionForm(formdata=None)
    errors = message_form.error_summary({"photos": photo_errors or []})
    errors += satisfaction_form.error_summary()
    # The summary links to the form's button, or to the unsent text when there is no form.
    if unsent:
        anchor = "niet-verstuurd"
    elif satisfaction_form.is_submitted():
        anchor = "verstuur-tevreden"
    else:
        anchor = "uw-bericht"
    errors += [(anchor, message) for message in general_errors or []]
    survey = satisfaction.answerable_survey(db.session, signal, now)
    return render_template(
        "public/status.html",
        signal=signal,
        timeline=[event for event in signal.events if event.is_public],
        form_photos=[a for a in signal.attachments if a.event_id is None],
        token=token,
        question=resident.open_question(signal),
        may_add=Status(signal.status).is_open,
        survey=survey,
        reopen_requested=satisfaction.pending_request(db.session, signal) is not None,
        message_form=message_form,
        satisfaction_form=satisfaction_form,
        kept_photos=kept or [],
        photo_errors=photo_errors or [],
        errors=errors,
        notices=get_flashed_messages(category_filter=["ok"]),
        unsent=unsent,
        max_photos=resident.MAX_PHOTOS_PER_MESSAGE,
        max_mb=max_mb(),
        expires_at=links_expire_at(signal),
        max_links=MAX_LINKS_PER_SIGNAL,
        link_days=LINK_DAYS,
    ), code


@bp.post("/status/<token>/bericht")
@limiter.limit(_rate_limit)
def status_message(token: str):  # type: ignore[no-untyped-def]
    signal = _signal_or_404(token)
    if signal is None:
        abort(404)
    form = ResidentMessageForm()
    limit = resident.MAX_PHOTOS_PER_MESSAGE
    kept, photo_errors = collect_photos(form.photos.name, limit=limit)
    valid = form.validate()
    if not Status(signal.status).is_open:
        # The page no longer offers this form (closed since it was loaded): say so, keep text.
        return _render_status(
            signal,
            token,
            general_errors=[_("Uw melding is afgehandeld. U kunt hier geen bericht meer sturen.")],
            unsent=form.message.data,
            code=409,
        )
    if not valid or photo_errors:
        return _render_status(
            signal, token, message_form=form, kept=kept, photo_errors=photo_errors, code=422
        )
    answering = resident.open_question(signal) is not None
    resident.add_resident_message(
        db.session,
        signal,
        resident.ResidentMessage(
            text=form.message.data, photos=[k.stored for k in kept], origin=resident.STATUS_PAGE
        ),
        now=datetime.now(UTC),
        mail=mail_context(),
    )
    db.session.commit()
    owner = signal.owner.name if signal.owner else _("Bureau Wijkzaken")
    if answering:
        flash(
            _("Bedankt voor uw antwoord. %(owner)s gaat verder met uw melding.", owner=owner), "ok"
        )
    else:
        flash(
            _(
                "Bedankt. Uw bericht is toegevoegd aan uw melding. %(owner)s leest het.",
                owner=owner,
            ),
            "ok",
        )
    return redirect(url_for(".status", token=token, _anchor="bericht-ontvangen"), code=303)


@bp.post("/status/<token>/tevreden")
@limiter.limit(_rate_limit)
def status_satisfaction(token: str):  # type: ignore[no-untyped-def]
    signal = _signal_or_404(token)
    if signal is None:
        abort(404)
    form = SatisfactionForm()
    if not form.validate():
        return _render_status(signal, token, satisfaction_form=form, code=422)
    try:
        request_made = satisfaction.answer(
            db.session,
            signal,
            satisfied=form.satisfied.data == "ja",
            comment=form.comment.data,
            now=datetime.now(UTC),
            mail=mail_context(),
        )
    except satisfaction.SatisfactionError:
        db.session.rollback()
        # Answered already (another tab) or the question closed: nothing to store twice.
        flash(_("U heeft deze vraag al beantwoord, of de vraag is verlopen."), "ok")
        return redirect(url_for(".status", token=token, _anchor="bericht-ontvangen"), code=303)
    db.session.commit()
    if request_made is not None:
        owner = signal.owner.name if signal.owner else _("Bureau Wijkzaken")
        flash(
            _(
                "Bedankt voor uw antwoord. %(owner)s bekijkt of uw melding opnieuw wordt "
                "opgepakt, en laat u weten wat er gebeurt.",
                owner=owner,
            ),
            "ok",
        )
    else:
        flash(_("Bedankt voor uw antwoord. Fijn dat u tevreden bent."), "ok")
    return redirect(url_for(".status", token=token, _anchor="bericht-ontvangen"), code=303)


def _refused(message: str):  # type: ignore[no-untyped-def]
    """A status page form refused before it was read: the page again, with what was typed."""
    token = (request.view_args or {}).get("token", "")
    signal = _signal_or_404(token)
    if signal is None:
        return render_template("public/status_unknown.html", link_days=LINK_DAYS), 404
    if request.endpoint == "public.status_satisfaction":
        form = SatisfactionForm(meta={"csrf": True})
        return _render_status(signal, token, satisfaction_form=form, general_errors=[message])
    form = ResidentMessageForm(meta={"csrf": True})
    kept, _errors = collect_photos(form.photos.name, accept_new=False)
    return _render_status(signal, token, message_form=form, kept=kept, general_errors=[message])


def status_after_csrf_failure():  # type: ignore[no-untyped-def]
    response, code = _refused(
        _(
            "Uw formulier is verlopen. Controleer wat u heeft ingevuld en verstuur het nog "
            "een keer. Foto's die u had gekozen moet u opnieuw kiezen."
        )
    )
    return response, 404 if code == 404 else 400


def status_after_rate_limit():  # type: ignore[no-untyped-def]
    return _refused(
        _(
            "U heeft in korte tijd veel berichten verstuurd. Wacht even en probeer het dan "
            "opnieuw. Wat u heeft ingevuld staat nog klaar."
        )
    )


@bp.get("/status/<token>/foto/<int:attachment_id>")
def status_photo(token: str, attachment_id: int):  # type: ignore[no-untyped-def]
    # The token first: nothing about photos is looked up for someone without a valid link.
    signal = _signal_or_404(token)
    if signal is None:
        abort(404)
    return send_signal_photo(signal, attachment_id)
