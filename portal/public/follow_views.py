"""'Dit is mijn melding ook': following a signal someone else reported (portal/domain/following.py).

From the form's list of nearby signals a resident comes to "Deze melding volgen" with the
whole form posted along: the email they typed is filled in, and "Terug naar het formulier"
posts everything back (photos kept), so changing their mind costs nothing. Following shows
the follow link once, like the confirmation page shows the status link, and mails it when an
address was given. The follow link opens a page with the public facts and the status steps;
"Stop met volgen" there (with CSRF) and the one-click unsubscribe of the mails (RFC 8058: a
mail program POSTs without any CSRF token, so only that endpoint is exempt - the token in the
URL is what authorises it) stop the mail."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from sqlalchemy import select

from portal.domain import following
from portal.domain.nearby import PUBLIC_STATUS_LABELS, public_view
from portal.domain.tokens import LINK_DAYS_AFTER_CLOSING, links_expire_at
from portal.extensions import csrf, db, limiter
from portal.models import Signal
from portal.public import bp
from portal.public.follow_forms import FollowForm
from portal.public.forms import ReportForm
from portal.public.photo_uploads import collect_photos
from portal.public.services import links, mail_context

FOLLOWED = "followed"
FOLLOW_BUTTON = "volg"
# Fields of the report form that "Deze melding volgen" carries back to it unchanged (the
# email is the page's own field; photos come back as kept photos; CSRF is the page's own).
NOT_CARRIED = {"csrf_token", "email", "photos"}
REPORT_PHOTOS = "photos"  # the report form's file field


def _rate_limit() -> str:
    config = current_app.config
    return str(config.get("FOLLOW_RATE_LIMIT", config["SUBMIT_RATE_LIMIT"]))


def _private(page: str, code: int = 200):  # type: ignore[no-untyped-def]
    """A page behind a secret link: never kept in any cache, never indexed."""
    return page, code, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _carried(*, with_email: bool = False) -> list[tuple[str, str]]:
    skipped = NOT_CARRIED - ({"email"} if with_email else set())
    names = [f.name for f in ReportForm(formdata=None, meta={"csrf": False})]
    return [
        (name, value)
        for name in names
        if name not in skipped
        for value in request.form.getlist(name)
    ]


def _unknown(*, from_form: bool, code: int = 404):  # type: ignore[no-untyped-def]
    """Unknown, closed or sensitive: one answer for all, so nothing is told about which."""
    kept = collect_photos(REPORT_PHOTOS)[0] if from_form else []
    page = render_template(
        "public/follow_unknown.html",
        from_form=from_form,
        carried=_carried(with_email=True) if from_form else [],
        kept_photos=kept,
        link_days=LINK_DAYS_AFTER_CLOSING,
    )
    return _private(page, code)


@bp.post("/melden/volgen/<reference>")
# Every POST counts, also the step that only shows the page: it receives the form's photos
# and shows any open signal by its reference.
@limiter.limit(_rate_limit)
def follow(reference: str):  # type: ignore[no-untyped-def]
    signal = following.followable_signal(db.session, reference)
    if signal is None:
        return _unknown(from_form=True)
    form = FollowForm()
    # The report form's photos, kept (like a refused form keeps them) for the way back.
    kept, _photo_errors = collect_photos(REPORT_PHOTOS)
    code = 200
    if FOLLOW_BUTTON in request.form:
        if form.validate():
            email = (form.email.data or "").lower() or None
            token = following.start_following(
                db.session,
                signal,
                email=email,
                locale=str(get_locale() or "nl"),
                mail=mail_context(),
            )
            db.session.commit()
            session[FOLLOWED] = {
                "reference": signal.reference,
                "token": token,
                "mailed": bool(email),
            }
            return redirect(url_for(".follow_started"), code=303)
        code = 422
    page = render_template(
        "public/follow.html",
        signal=public_view(signal),
        form=form,
        errors=form.error_summary() if code == 422 else [],
        carried=_carried(),
        kept_photos=kept,
        others_status_labels=PUBLIC_STATUS_LABELS,
    )
    return page, code


@bp.get("/melden/volgen/bedankt")
def follow_started():  # type: ignore[no-untyped-def]
    followed = session.get(FOLLOWED) or {}
    signal = None
    if followed.get("reference"):
        signal = db.session.scalars(
            select(Signal).where(Signal.reference == followed["reference"])
        ).first()
    if signal is None or signal.sensitive:
        return _unknown(from_form=False)
    # Shown once, as the status link on the confirmation page: the cookie must not keep it.
    token = followed.get("token")
    session[FOLLOWED] = {"reference": signal.reference, "mailed": followed.get("mailed", False)}
    return render_template(
        "public/follow_started.html",
        signal=public_view(signal),
        follow_url=following.FollowLinks(links()).page(token) if token else None,
        mailed=followed.get("mailed", False),
        others_status_labels=PUBLIC_STATUS_LABELS,
    )


@bp.get("/volgen/<token>")
def follow_page(token: str):  # type: ignore[no-untyped-def]
    follower = following.find_follower(db.session, token)
    if follower is None:
        return _unknown(from_form=False)
    if follower.unsubscribed_at is not None:
        return _private(render_template("public/follow_stopped.html"))
    if following.follower_for_page(db.session, token, datetime.now(UTC)) is None:
        return _unknown(from_form=False)
    signal = db.session.get(Signal, follower.signal_id)
    assert signal is not None  # a follower goes with its signal (ON DELETE CASCADE)
    page = render_template(
        "public/follow_page.html",
        signal=public_view(signal),
        history=following.status_history(signal),
        token=token,
        mailed=follower.email is not None,
        expires_at=links_expire_at(signal),
        link_days=LINK_DAYS_AFTER_CLOSING,
        others_status_labels=PUBLIC_STATUS_LABELS,
    )
    return _private(page)


@bp.post("/volgen/<token>/stoppen")
def follow_stop(token: str):  # type: ignore[no-untyped-def]
    """'Stop met volgen' on the follow page and on the page a mail's link opens (CSRF)."""
    follower = following.find_follower(db.session, token)
    if follower is None:
        return _unknown(from_form=False)
    following.stop_following(db.session, follower, datetime.now(UTC))
    db.session.commit()
    return redirect(url_for(".follow_page", token=token), code=303)


@bp.get("/volgen/<token>/afmelden")
def follow_unsubscribe_page(token: str):  # type: ignore[no-untyped-def]
    """The mail's "Stop met volgen" link: a page with a button, never stopping on a GET (mail
    scanners open every link)."""
    follower = following.find_follower(db.session, token)
    if follower is None:
        return _unknown(from_form=False)
    if follower.unsubscribed_at is not None:
        return _private(render_template("public/follow_stopped.html"))
    signal = db.session.get(Signal, follower.signal_id)
    return _private(
        render_template(
            "public/follow_stop.html", token=token, reference=signal.reference if signal else ""
        )
    )


@bp.post("/volgen/<token>/afmelden")
@csrf.exempt
def follow_unsubscribe(token: str):  # type: ignore[no-untyped-def]
    """One-click unsubscribe (RFC 8058), the List-Unsubscribe URL of every follow mail: a
    mail program POSTs "List-Unsubscribe=One-Click" here without a CSRF token. The secret
    token in the URL is the authorisation; stopping is all it can do, and doing it twice
    is the same as once."""
    follower = following.find_follower(db.session, token)
    if follower is None:
        return _unknown(from_form=False)
    following.stop_following(db.session, follower, datetime.now(UTC))
    db.session.commit()
    return _private(render_template("public/follow_stopped.html"))
