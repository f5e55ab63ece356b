"""Logging in (password, then the two-step code where the account has it) and out, and the
staff member's own account page (password, sessions, the daily digest)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from wtforms import BooleanField

from portal.backoffice import bp
from portal.backoffice.access import (
    LAST_SEEN,
    SESSION_EPOCH,
    STAFF_ROLES,
    WORKER_ROLES,
    public,
    roles_required,
    safe_next,
)
from portal.backoffice.forms import (
    ChangePasswordForm,
    CodeForm,
    ConfirmForm,
    LoginForm,
    password_hint,
    password_rule_text,
)
from portal.domain import digest as digest_ops
from portal.domain import login as login_ops
from portal.domain import two_factor
from portal.domain.users import UserError, set_password, verify_password
from portal.extensions import db, limiter
from portal.models import User
from portal.public.form_base import PortalForm
from portal.public.services import mail_context


def start_session(user: User) -> None:
    """A fresh session (no fixation) bound to the account's current epoch."""
    session.clear()
    login_user(user)
    session[SESSION_EPOCH] = user.session_epoch
    session[LAST_SEEN] = datetime.now(UTC).timestamp()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@public
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = login_ops.check_login(
            db.session,
            form.email.data or "",
            form.password.data or "",
            now=datetime.now(UTC),
            mail=mail_context(),
        )
        if result.user is not None and result.user.has_2fa:
            db.session.commit()
            return begin_second_step(result.user, request.args.get("next"))
        if result.user is not None:
            login_ops.logged_in(db.session, result.user)
            db.session.commit()
            start_session(result.user)
            return redirect(safe_next(request.args.get("next")), code=303)
        db.session.commit()  # the failure count (and a lock with its mail)
        # One answer for every refusal: unknown, wrong, inactive or locked look the same;
        # a locked account's holder learns it from the mail.
        error = _(
            "Het e-mailadres of het wachtwoord klopt niet. Na een paar mislukte pogingen "
            "wordt het account een kwartier geblokkeerd."
        )
    elif request.args.get("expired"):
        flash(_("U was een tijd niet actief en bent uitgelogd. Log opnieuw in."), "info")
    errors = form.error_summary()
    if error:
        errors.append(("email", error))
    code = 422 if request.method == "POST" else 200
    return render_template("backoffice/login.html", form=form, errors=errors), code


# Between a right password and a right code: who, in which epoch, since when, going where.
PENDING = "backoffice_pending_2fa"
PENDING_SECONDS = 300


def begin_second_step(user: User, next_target: str | None) -> Any:
    """The password was right; the code comes next. Nobody is logged in until then."""
    session.clear()
    session[PENDING] = {
        "user_id": user.id,
        "epoch": user.session_epoch,
        "since": datetime.now(UTC).timestamp(),
        "next": safe_next(next_target),
    }
    return redirect(url_for("backoffice.login_code"), code=303)


def _pending_user() -> User | None:
    pending = session.get(PENDING) or {}
    since = pending.get("since", 0)
    if datetime.now(UTC).timestamp() - since > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("user_id") or 0)
    if user is None or not user.active or user.session_epoch != pending.get("epoch"):
        return None
    return user


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@public
def login_code():  # type: ignore[no-untyped-def]
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Log opnieuw in: de tijd om de code in te vullen is voorbij."), "info")
        return redirect(url_for("backoffice.login"), code=303)
    form = CodeForm()
    if form.validate_on_submit():
        now = datetime.now(UTC)
        right = login_ops.check_code(
            db.session, user, form.code.data or "", now=now, mail=mail_context()
        )
        db.session.commit()  # the used time step or recovery code, or the failure count
        if right:
            target = session[PENDING]["next"]
            start_session(user)
            left = two_factor.unused_recovery_codes(user)
            if left <= 2:
                flash(
                    _(
                        "U heeft nog %(count)d herstelcodes. Maak nieuwe aan bij Mijn account.",
                        count=left,
                    ),
                    "info",
                )
            return redirect(target, code=303)
        if login_ops.is_locked(user, now):
            session.pop(PENDING, None)
        form.code.errors = [
            _("Deze code klopt niet. Gebruik de nieuwste code uit uw app, of een herstelcode.")
        ]
    code = 422 if request.method == "POST" else 200
    return render_template(
        "backoffice/login_code.html", form=form, errors=form.error_summary()
    ), code


@bp.post("/logout")
@roles_required(*STAFF_ROLES)
def logout():  # type: ignore[no-untyped-def]
    # Ends this session for good: a copy of the cookie no longer opens anything (and the
    # account's other sessions end with it, which on a shared computer is what you want).
    user = db.session.get(User, current_user.id)
    if user is not None:
        login_ops.end_sessions(db.session, user, actor_id=user.id, reason="logout")
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("U bent uitgelogd."), "ok")
    return redirect(url_for("backoffice.login"), code=303)


# --- my account -----------------------------------------------------------------------------


class DigestForm(PortalForm):
    digest_enabled = BooleanField(_l("Stuur mij elke werkdag een dagoverzicht"))


def _digest_form() -> DigestForm | None:
    """Only for who owns signals (management has none to report on)."""
    if current_user.role not in WORKER_ROLES:
        return None
    return DigestForm(formdata=None, digest_enabled=current_user.digest_enabled)


def _render_account(password_form: ChangePasswordForm | None = None, code: int = 200):  # type: ignore[no-untyped-def]
    password_form = password_form or ChangePasswordForm(formdata=None)
    return (
        render_template(
            "backoffice/account.html",
            password_form=password_form,
            sessions_form=ConfirmForm(formdata=None),
            digest_form=_digest_form(),
            digest_hour=current_app.config["DIGEST_HOUR"],
            errors=password_form.error_summary(),
            password_hint=password_hint(),
            nav="account",
        ),
        code,
    )


@bp.get("/account")
@roles_required(*STAFF_ROLES)
def account():  # type: ignore[no-untyped-def]
    return _render_account()


@bp.post("/account/wachtwoord")
@roles_required(*STAFF_ROLES)
def account_password():  # type: ignore[no-untyped-def]
    form = ChangePasswordForm()
    user = db.session.get(User, current_user.id)
    if form.validate_on_submit() and user is not None:
        if not verify_password(user, form.current_password.data or ""):
            form.current_password.errors = [_("Uw huidige wachtwoord klopt niet.")]
            return _render_account(form, 422)
        try:
            set_password(db.session, user, form.new_password.data or "", actor_id=user.id)
        except UserError as error:
            db.session.rollback()
            form.new_password.errors = [password_rule_text(error.code)]
            return _render_account(form, 422)
        db.session.commit()
        session[SESSION_EPOCH] = user.session_epoch  # the others ended; this one goes on
        flash(_("Uw wachtwoord is gewijzigd. Op andere apparaten bent u nu uitgelogd."), "ok")
        return redirect(url_for(".account"), code=303)
    return _render_account(form, 422)


@bp.post("/account/overal-uitloggen")
@roles_required(*STAFF_ROLES)
def account_end_sessions():  # type: ignore[no-untyped-def]
    form = ConfirmForm()
    user = db.session.get(User, current_user.id)
    if not form.validate_on_submit() or user is None:
        return _render_account(code=400)
    login_ops.end_sessions(db.session, user, actor_id=user.id, reason="everywhere")
    db.session.commit()
    session[SESSION_EPOCH] = user.session_epoch
    flash(_("U bent uitgelogd op alle andere apparaten en browsers."), "ok")
    return redirect(url_for(".account"), code=303)


@bp.post("/account/dagoverzicht")
@roles_required(*WORKER_ROLES)
def account_digest():  # type: ignore[no-untyped-def]
    form = DigestForm()
    user = db.session.get(User, current_user.id)
    if not form.validate_on_submit() or user is None:
        return _render_account(code=400)
    enabled = bool(form.digest_enabled.data)
    digest_ops.set_digest_enabled(db.session, user, enabled, actor_id=user.id)
    db.session.commit()
    if enabled:
        flash(_("U krijgt het dagoverzicht elke werkdag per e-mail."), "ok")
    else:
        flash(_("U krijgt geen dagoverzicht meer. U kunt het hier weer aanzetten."), "ok")
    return redirect(url_for(".account") + "#dagoverzicht-kop", code=303)
