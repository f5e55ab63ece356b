"""The inbox: 'Mijn signalen' and 'Alle signalen', with filters that live in the URL."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request, url_for
from flask_login import current_user

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, roles_required
from portal.backoffice.signal_deadlines import deadline_rules
from portal.domain.deadlines import load_targets
from portal.domain.inbox import (
    DEADLINE_FILTERS,
    NONE,
    SORTS,
    Deadlines,
    InboxFilter,
    default_scope,
    filter_options,
    search_signals,
)
from portal.extensions import db
from portal.vocabulary import Kind, Status, Theme

DETAIL_ENDPOINT = "backoffice.signal_detail"


@bp.get("/")
@bp.get("/signalen")
@roles_required(*STAFF_ROLES)
def inbox():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    flt = InboxFilter.from_args(request.args, default_scope=default_scope(user))
    config = current_app.config
    deadlines = current_deadlines()
    options = filter_options(db.session)
    result = search_signals(
        db.session,
        user,
        flt,
        config["BACKOFFICE_PAGE_SIZE"],
        deadlines=deadlines,
        # The form's wijken are in name order already: no second query to sort by wijk.
        wijk_order=[code for code, _name in options.wijken],
    )
    return render_template(
        "backoffice/inbox.html",
        nav=flt.scope,
        flt=flt,
        result=result,
        options=options,
        statuses=list(Status),
        kinds=list(Kind),
        themes=list(Theme),
        sorts=SORTS,
        none_value=NONE,
        deadline_filters=DEADLINE_FILTERS,
        inbox_url=lambda **changes: url_for("backoffice.inbox", **flt.to_args(**changes)),
        only_deadline=_only_deadline,
        signal_url=_signal_url,
    )


def _only_deadline(name: str) -> dict[str, bool]:
    """Changes to the filter that leave this one deadline filter ticked, and no other."""
    return {"overdue": False, **{other: other == name for other in DEADLINE_FILTERS}}


def _signal_url(reference: str) -> str:
    """The signal page; a plain path while its view is not registered yet."""
    if DETAIL_ENDPOINT in current_app.view_functions:
        return url_for(DETAIL_ENDPOINT, reference=reference)
    return f"/backoffice/signalen/{quote(reference)}"


def current_deadlines() -> Deadlines:
    """'Now' for the deadline filters and marks (the inbox, its map)."""
    rules = deadline_rules()
    return Deadlines.at(
        datetime.now(UTC),
        rules.respond_working_days,
        ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]),
        targets=load_targets(db.session, rules),
    )
