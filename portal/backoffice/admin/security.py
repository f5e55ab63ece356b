"""Admin screens for account security: a set-password link instead of a password chosen by
the admin, switching off someone's two-step login (lost phone), and requiring it for all."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.backoffice.admin.common import user_or_404
from portal.backoffice.forms import ConfirmForm
from portal.domain import two_factor
from portal.domain.password_links import send_password_link
from portal.extensions import db
from portal.models import Role, User
from portal.public.services import mail_context


class TwoFactorSettingForm(FlaskForm):
    required_for_all = BooleanField()


def _back_to(user: User):  # type: ignore[no-untyped-def]
    return redirect(url_for("backoffice.admin_user_edit", user_id=user.id), code=303)


@bp.post("/beheer/gebruikers/<int:user_id>/wachtwoord")
@roles_required(Role.ADMIN)
def admin_user_password(user_id: int):  # type: ignore[no-untyped-def]
    user = user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    send_password_link(
        db.session,
        user,
        purpose="reset",
        actor_id=current_user.id,
        now=datetime.now(UTC),
        mail=mail_context(),
    )
    db.session.commit()
    flash(
        _(
            "%(name)s krijgt een e-mail met een link om een nieuw wachtwoord te kiezen. Het oude "
            "wachtwoord werkt niet meer en %(name)s is overal uitgelogd.",
            name=user.name,
        ),
        "ok",
    )
    return _back_to(user)


@bp.post("/beheer/gebruikers/<int:user_id>/tweestapsverificatie")
@roles_required(Role.ADMIN)
def admin_user_two_factor(user_id: int):  # type: ignore[no-untyped-def]
    user = user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if user.has_2fa or user.totp_pending_secret:
        two_factor.reset(db.session, user, actor_id=current_user.id)
        db.session.commit()
    flash(
        _(
            "De tweestapsverificatie van %(name)s staat uit. Bij de volgende keer inloggen kan "
            "%(name)s haar opnieuw instellen.",
            name=user.name,
        ),
        "ok",
    )
    return _back_to(user)


@bp.post("/beheer/tweestapsverificatie")
@roles_required(Role.ADMIN)
def admin_two_factor_setting():  # type: ignore[no-untyped-def]
    form = TwoFactorSettingForm()
    if not form.validate_on_submit():
        abort(400)
    required = bool(form.required_for_all.data)
    two_factor.set_required_for_all(db.session, required, actor_id=current_user.id)
    db.session.commit()
    if required:
        message = _(
            "Tweestapsverificatie is nu verplicht voor alle medewerkers. Wie het nog niet "
            "heeft, stelt het in bij de volgende klik."
        )
    else:
        message = _("Tweestapsverificatie is niet meer verplicht voor iedereen.")
    flash(message, "ok")
    return redirect(url_for("backoffice.admin_home"), code=303)
