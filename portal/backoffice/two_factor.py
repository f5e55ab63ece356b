"""Two-step login on the staff member's own account: enrolment with a QR code, recovery codes,
switching it off. (The code step of the login itself is in ``auth``.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import segno
from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from portal.backoffice import bp
from portal.backoffice.access import (
    SESSION_EPOCH,
    STAFF_ROLES,
    roles_required,
)
from portal.backoffice.forms import CodeForm, NewRecoveryCodesForm, TwoFactorOffForm
from portal.domain import two_factor
from portal.domain.users import verify_password
from portal.extensions import db
from portal.models import User


def _qr_svg(uri: str) -> Markup:
    svg = segno.make(uri, error="m").svg_inline(
        scale=5,
        dark="#000",
        light="#fff",
        svgclass="portal-qr",
        title=_("QR-code voor uw authenticator-app"),
    )
    # segno's own markup (no user input in it); role=img so its <title> names it.
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


def _enrol_page(
    form: CodeForm | None = None,
    code: int = 200,
    bound: NewRecoveryCodesForm | TwoFactorOffForm | None = None,
):  # type: ignore[no-untyped-def]
    user = db.session.get(User, current_user.id)
    assert user is not None
    forms: dict[str, Any] = {
        "codes": NewRecoveryCodesForm(formdata=None),
        "off": TwoFactorOffForm(formdata=None),
    }
    if bound is not None:
        forms["codes" if isinstance(bound, NewRecoveryCodesForm) else "off"] = bound
    context: dict[str, Any] = {"user": user, "forms": forms, "nav": "account"}
    if not user.has_2fa:
        secret = two_factor.pending_secret(db.session, user)
        db.session.commit()
        form = form or CodeForm(formdata=None)
        context |= {
            "form": form,
            "errors": form.error_summary(),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr": _qr_svg(two_factor.provisioning_uri(secret, user.email)),
        }
    else:
        errors = [e for f in forms.values() for e in f.error_summary()]
        context |= {"unused": two_factor.unused_recovery_codes(user), "errors": errors}
    context["required"] = two_factor.is_required(db.session, user, production=_production())
    return render_template("backoffice/two_factor.html", **context), code


def _production() -> bool:
    return bool(current_app.config.get("PORTAL_ENV_IS_PRODUCTION"))


@bp.get("/account/tweestapsverificatie")
@roles_required(*STAFF_ROLES)
def two_factor_page():  # type: ignore[no-untyped-def]
    return _enrol_page()


@bp.post("/account/tweestapsverificatie/aanzetten")
@roles_required(*STAFF_ROLES)
def two_factor_enable():  # type: ignore[no-untyped-def]
    form = CodeForm()
    user = db.session.get(User, current_user.id)
    if not form.validate_on_submit() or user is None:
        return _enrol_page(form, 422)
    try:
        codes = two_factor.enable(db.session, user, form.code.data or "", datetime.now(UTC))
    except two_factor.TwoFactorError:
        db.session.rollback()
        form.code.errors = [_("Deze code klopt niet. Vul de code in die uw app nu laat zien.")]
        return _enrol_page(form, 422)
    db.session.commit()
    session[SESSION_EPOCH] = user.session_epoch  # the other sessions ended; not this one
    # Shown once, in this answer only: not in a redirect's session, not in the database.
    return render_template("backoffice/recovery_codes.html", codes=codes, nav="account", new=True)


def _password_confirmed(form: NewRecoveryCodesForm | TwoFactorOffForm) -> User | None:
    """The user, when 2FA is on and the form carries their password; otherwise the form's
    field says what is wrong."""
    user = db.session.get(User, current_user.id)
    if user is None or not form.validate_on_submit():
        return None
    if not verify_password(user, form.password.data or ""):
        form.password.errors = [_("Uw wachtwoord klopt niet.")]
        return None
    return user


@bp.post("/account/tweestapsverificatie/herstelcodes")
@roles_required(*STAFF_ROLES)
def two_factor_new_codes():  # type: ignore[no-untyped-def]
    form = NewRecoveryCodesForm()
    user = _password_confirmed(form)
    if user is None or not user.has_2fa:
        return _enrol_page(code=422, bound=form)
    codes = two_factor.new_recovery_codes(db.session, user)
    db.session.commit()
    return render_template("backoffice/recovery_codes.html", codes=codes, nav="account", new=False)


@bp.post("/account/tweestapsverificatie/uitzetten")
@roles_required(*STAFF_ROLES)
def two_factor_disable():  # type: ignore[no-untyped-def]
    form = TwoFactorOffForm()
    user = _password_confirmed(form)
    if user is None or not user.has_2fa:
        return _enrol_page(code=422, bound=form)
    two_factor.reset(db.session, user, actor_id=user.id)
    db.session.commit()
    session[SESSION_EPOCH] = user.session_epoch  # the other sessions ended; not this one
    flash(_("De tweestapsverificatie staat uit. Op andere apparaten bent u uitgelogd."), "ok")
    return redirect(url_for(".two_factor_page"), code=303)
