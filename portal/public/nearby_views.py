"""'Is dit al gemeld?' on the form: the open signals near the place the resident gave. One
partial (templates/public/report/_nearby.html) shows them in the form as it is rendered,
and as a fragment for static/js/nearby.js, which asks for it whenever the map or the buurt
list changes the place. Without JavaScript the form's "Bekijk meldingen in de buurt" button
asks the form view to render the same list (``NEARBY_STEP``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, render_template, request

from portal.domain import nearby
from portal.domain.geography import default_geography
from portal.extensions import db, limiter
from portal.public import bp

# The form's secondary button: name and value (views.report re-renders instead of storing).
NEARBY_STEP_FIELD = "stap"
NEARBY_STEP = "in-de-buurt"
# The fragment is asked for at every pin move (debounced): generous, but not a scraper's.
DEFAULT_RATE_LIMIT = "120 per minute"


@dataclass(frozen=True)
class NearbyList:
    """What the partial shows: the signals found (maybe none) and the moment it was asked,
    for their age ("3 dagen geleden")."""

    signals: list[nearby.PublicSignal]
    now: datetime
    by_point: bool


def nearby_list(lon: float | None, lat: float | None, buurt_code: str | None) -> NearbyList | None:
    """The open signals near this place; None when the place is not precise enough (no
    point and no buurt, or a pin outside Hilversum)."""
    area = nearby.area_of(default_geography(), lon=lon, lat=lat, buurt_code=buurt_code)
    if area is None:
        return None
    config = current_app.config
    now = datetime.now(UTC)
    signals = nearby.open_signals_near(
        db.session,
        lon=area.lon,
        lat=area.lat,
        buurt_code=area.buurt_code,
        radius_m=float(config["NEARBY_RADIUS_METRES"]),
        limit=int(config["NEARBY_LIMIT"]),
        max_age=timedelta(days=int(config["NEARBY_MAX_AGE_DAYS"])),
        now=now,
    )
    return NearbyList(signals, now, area.has_point)


def _number(raw: str | None) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _rate_limit() -> str:
    return str(current_app.config.get("NEARBY_RATE_LIMIT", DEFAULT_RATE_LIMIT))


@bp.get("/melden/in-de-buurt")
@limiter.limit(_rate_limit)
def nearby_fragment():  # type: ignore[no-untyped-def]
    """The list as an HTML fragment for the form's script (empty when the place is vague)."""
    lon, lat = _number(request.args.get("lon")), _number(request.args.get("lat"))
    if lon is None or lat is None:
        lon = lat = None
    buurt_code = (request.args.get("buurt") or "").strip()[:20] or None
    found = nearby_list(lon, lat, buurt_code)
    return render_template(
        "public/report/_nearby.html",
        fragment=True,
        nearby=found,
        others_status_labels=nearby.PUBLIC_STATUS_LABELS,
    )
