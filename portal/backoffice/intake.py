"""Back office: staff register a signal received by phone, email, at the counter, social
media or seen on a schouw; schouw mode."""

from __future__ import annotations

from portal.backoffice import bp
from portal.backoffice.access import WORKER_ROLES, roles_required


@bp.get("/registreren")
@roles_required(*WORKER_ROLES)
def intake():  # type: ignore[no-untyped-def]
    return "", 204  # seam: replaced by the real page
