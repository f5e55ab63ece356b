"""The staff side: login, inbox, signal detail and actions, admin screens."""

from flask import Blueprint

from portal.backoffice.access import guard
from portal.vocabulary import STAFF_STATUS_LABELS

bp = Blueprint("backoffice", __name__, url_prefix="/backoffice")
bp.before_request(guard)


@bp.context_processor
def _staff_words() -> dict[str, object]:
    # Staff screens name the statuses from their side ("Wacht op reactie bewoner").
    return {"status_labels": STAFF_STATUS_LABELS}


from portal.backoffice import (  # noqa: E402, F401 - registers routes
    absences,
    admin,
    auth,
    budget,
    budget_grants,
    dossiers,
    export,
    inbound_mail,
    inbox,
    intake,
    map_view,
    news,
    password_page,
    profile,
    report,
    schouw,
    signal_access,
    signal_deadlines,
    signal_dialogue,
    signal_grants,
    signal_highlight,
    signal_ladder,
    signal_links,
    signal_location,
    signal_outreach,
    signals,
    steering,
    two_factor,
)
