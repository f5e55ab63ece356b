"""Back office: dossiers (list, page, timeline, public update, bulk status change)."""

from __future__ import annotations

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, roles_required


@bp.get("/dossiers")
@roles_required(*STAFF_ROLES)
def dossiers():  # type: ignore[no-untyped-def]
    return "", 204  # seam: replaced by the real page
