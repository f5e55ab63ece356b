"""Back office: the wijk budgets for initiatives (overview, budget page per wijk and year,
grants on the signal page)."""

from __future__ import annotations

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, roles_required


@bp.get("/budget")
@roles_required(*STAFF_ROLES)
def budgets():  # type: ignore[no-untyped-def]
    return "", 204  # seam: replaced by the real page
