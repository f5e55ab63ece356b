"""The page behind a set-password link (new account, or reset by an admin): no login."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.backoffice import bp
from portal.backoffice.access import public
from portal.backoffice.forms import NewPasswordForm, password_hint, password_rule_text
from portal.domain.password_links import use_link, valid_link
from portal.domain.users import UserError
from portal.extensions import db, limiter
from portal.models import User


@bp.route("/wachtwoord/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@public
def set_password_page(token: str):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    link = valid_link(db.session, token, now)
    if link is None:
        return render_template("backoffice/password_link_invalid.html"), 404
    user = db.session.get(User, link.user_id)
    form = NewPasswordForm()
    if form.validate_on_submit() and user is not None:
        try:
            use_link(db.session, link, form.new_password.data or "", now)
        except UserError as error:
            db.session.rollback()
            form.new_password.errors = [password_rule_text(error.code)]
        else:
            db.session.commit()
            flash(_("Uw wachtwoord is ingesteld. U kunt nu inloggen."), "ok")
            return redirect(url_for("backoffice.login"), code=303)
    code = 422 if request.method == "POST" else 200
    return render_template(
        "backoffice/set_password.html",
        form=form,
        user=user,
        errors=form.error_summary(),
        password_hint=password_hint(),
    ), code
