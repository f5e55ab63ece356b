"""The inbox on a map: the same URL filters as the list, markers clustered, each linking to its
signal, and a table with the same signals for who cannot use the map (or has no script).

The filters and who may see what are the inbox's own (``portal.domain.inbox``: the query
string parsing, and the WHERE conditions with the visibility rules for sensitive signals),
so the map can never show a signal the list would not, nor miss one it would show with a
point. Markers are capped (newest first); the page says how many are left off and how many
of the filtered signals have no point at all.

Statements: the user and session, the targets for "ver over tijd", the filter names (wijken
and buurten, owners), one count, one page of points ('mine' first reads the user's wijken)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, roles_required
from portal.backoffice.inbox import current_deadlines
from portal.domain.inbox import DEADLINE_FILTERS, NONE, InboxFilter, default_scope, filter_options
from portal.domain.inbox.points import MapRow, map_signals
from portal.extensions import db
from portal.vocabulary import STAFF_STATUS_LABELS, Status


def _status_label(code: str) -> str:
    try:
        return _(STAFF_STATUS_LABELS[Status(code)])
    except ValueError:
        return code


def _markers(rows: Sequence[MapRow]) -> list[dict[str, object]]:
    """What the map script needs per marker (JSON in the page: no inline script)."""
    return [
        {
            "reference": row.reference,
            "title": row.title,
            "status": _status_label(row.status),
            "lat": row.lat,
            "lon": row.lon,
            "url": url_for("backoffice.signal_detail", reference=row.reference),
        }
        for row in rows
    ]


@bp.get("/kaart")
@roles_required(*STAFF_ROLES)
def inbox_map():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    flt = InboxFilter.from_args(request.args, default_scope=default_scope(user))
    limit = int(current_app.config["BACKOFFICE_MAP_MAX_MARKERS"])
    result = map_signals(db.session, user, flt, deadlines=current_deadlines(), limit=limit)
    options = filter_options(db.session)
    return render_template(
        "backoffice/map.html",
        flt=flt,
        result=result,
        markers=_markers(result.rows),
        limit=limit,
        options=options,
        none_value=NONE,
        deadline_filters=DEADLINE_FILTERS,
        owner_names={uid: name for uid, name, _active in options.owners},
        buurt_names={code: name for _w, group in options.buurten for code, name in group},
        list_url=url_for("backoffice.inbox", **flt.to_args(page=1)),
    )
