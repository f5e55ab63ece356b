"""The admin overview: the screens, warnings, the two-step setting."""

from __future__ import annotations

from flask import render_template

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.domain import two_factor
from portal.domain.routing_admin import (
    wijken_without_owner,
)
from portal.extensions import db
from portal.models import Role


@bp.get("/beheer")
@roles_required(Role.ADMIN)
def admin_home():  # type: ignore[no-untyped-def]
    from portal.backoffice.admin.security import TwoFactorSettingForm

    return render_template(
        "backoffice/admin/home.html",
        nav="admin",
        unowned=wijken_without_owner(db.session),
        two_factor_form=TwoFactorSettingForm(formdata=None),
        two_factor_required=two_factor.required_for_all(db.session),
    )
