"""Placeholder until the inbox lands: the endpoints other pages link to."""

from __future__ import annotations

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, roles_required


@bp.get("/")
@bp.get("/signalen")
@roles_required(*STAFF_ROLES)
def inbox():  # type: ignore[no-untyped-def]
    return "inbox"
