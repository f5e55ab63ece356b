"""Logging in and out."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from portal.backoffice import bp
from portal.backoffice.access import LAST_SEEN, STAFF_ROLES, public, roles_required, safe_next
from portal.backoffice.forms import LoginForm
from portal.domain import audit
from portal.domain.users import verify_password
from portal.extensions import db, limiter
from portal.models import User


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@public
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = db.session.scalars(select(User).where(func.lower(User.email) == email)).first()
        if user is not None and user.active and verify_password(user, form.password.data or ""):
            session.clear()  # a fresh session on login: no fixation
            login_user(user)
            session[LAST_SEEN] = datetime.now(UTC).timestamp()
            audit.record(db.session, "user.logged_in", actor_id=user.id)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")), code=303)
        error = _("Het e-mailadres of het wachtwoord klopt niet.")
    elif request.args.get("expired"):
        flash(_("U was een tijd niet actief en bent uitgelogd. Log opnieuw in."), "info")
    errors = form.error_summary()
    if error:
        errors.append(("email", error))
    code = 422 if request.method == "POST" else 200
    return render_template("backoffice/login.html", form=form, errors=errors), code


@bp.post("/logout")
@roles_required(*STAFF_ROLES)
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    session.clear()
    flash(_("U bent uitgelogd."), "ok")
    return redirect(url_for("backoffice.login"), code=303)
