"""Part of the status page (templates/public/status/_duplicate.html): a signal declined as a
duplicate points to the other signal's public page - its public title, theme, status and
buurt (``nearby.public_view``), never its description, reporter or photos - and lets the
resident follow it (``domain.following``, the flow of "Dit is mijn melding ook").

Following from here is one button: the status link is the resident's own, so the follow
mail goes to the address they gave with their signal, without that address ever being
written into the page (anyone the link is forwarded to would read it there). The follow
confirmation is the usual page (follow_views.follow_started), shown once."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.domain import following
from portal.domain.dossiers import link_views
from portal.domain.nearby import PUBLIC_STATUS_LABELS
from portal.domain.tokens import LINK_DAYS_AFTER_CLOSING, signal_for_token
from portal.extensions import db, limiter
from portal.models import Signal
from portal.public import bp
from portal.public.follow_views import FOLLOWED
from portal.public.services import mail_context


def duplicate_part(signal: Signal) -> link_views.DuplicatePointer | None:
    return link_views.pointer_for(db.session, signal)


@bp.context_processor
def _duplicate_globals() -> dict[str, object]:
    # A function, not its result: nothing is queried on pages that do not use it.
    # Another resident's signal: "Wacht op uw reactie" is not theirs to read about it.
    return {"duplicate_part": duplicate_part, "others_status_labels": PUBLIC_STATUS_LABELS}


def _rate_limit() -> str:
    config = current_app.config
    return str(config.get("FOLLOW_RATE_LIMIT", config["SUBMIT_RATE_LIMIT"]))


@bp.post("/status/<token>/andere-melding-volgen")
@limiter.limit(_rate_limit)
def status_follow_original(token: str):  # type: ignore[no-untyped-def]
    """'Volg die melding': the resident of a duplicate follows the signal it repeats."""
    signal = signal_for_token(db.session, token, datetime.now(UTC))
    if signal is None:
        return render_template("public/status_unknown.html", link_days=LINK_DAYS_AFTER_CLOSING), 404
    pointer = link_views.pointer_for(db.session, signal)
    original = link_views.original_of(db.session, signal)
    if pointer is None or original is None or not pointer.followable:
        # Closed, turned sensitive or unlinked since the page was loaded: the page says what
        # there is to say now.
        flash(
            _("Die melding kunt u niet (meer) volgen. Hieronder ziet u hoe het ervoor staat."),
            "ok",
        )
        return redirect(url_for(".status", token=token, _anchor="dubbel"), code=303)
    email = signal.reporter.email if signal.reporter else None
    follow_token = following.start_following(
        db.session,
        original,
        email=email,
        locale=str(get_locale() or signal.locale),
        mail=mail_context(),
    )
    db.session.commit()
    session[FOLLOWED] = {
        "reference": original.reference,
        "token": follow_token,
        "mailed": bool(email),
    }
    return redirect(url_for(".follow_started"), code=303)
