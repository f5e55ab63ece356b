"""Placeholder until the admin screens land."""

from __future__ import annotations

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.models import Role


@bp.get("/beheer")
@roles_required(Role.ADMIN)
def admin_home():  # type: ignore[no-untyped-def]
    return "beheer"
