"""Open signals near a place: "Is dit al gemeld?" on the form. A resident who sees their
problem listed can follow that signal instead of reporting it again (``following``).

What is listed is public (``visibility.public_conditions``): never a sensitive signal, never
a closed one, nothing older than the configured age, and of each only what other residents
may see - the public title the reporter typed under a notice that neighbours see it (or
none: the page then says "<theme> in <buurt>"), theme, kind, buurt, status and age. The
records are built from those columns alone, so a template cannot show more than that.

Where: with a point (a map pin, or an address the geocoder placed), the open signals within
a radius; without one, those in the chosen buurt. A wijk alone is too broad to say "this may
be yours", and a postcode alone has no point (a PC4 area spans several buurten), so both
list nothing. The radius search narrows on the indexed (lat, lon) columns to a bounding box
first and measures the exact distance only for what is in it (bench/nearby.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from portal.domain.geography import Geography
from portal.domain.visibility import public_conditions
from portal.models import Buurt, Signal, SignalTheme, Wijk
from portal.models.signal import ordered_themes
from portal.vocabulary import N_, STATUS_LABELS, Status

# The mean Earth radius (IUGG): at 250 m an equirectangular distance is off by millimetres.
EARTH_RADIUS_M = 6_371_008.8
OPEN_STATUSES = tuple(s.value for s in Status if s.is_open)
# What other residents read as a signal's status: "Wacht op uw reactie" is the reporter's.
PUBLIC_STATUS_LABELS = {
    **STATUS_LABELS,
    Status.AWAITING_RESIDENT: N_("Wacht op reactie van de melder"),
}


@dataclass(frozen=True)
class PlaceName:
    code: str
    name: str


@dataclass(frozen=True)
class PublicSignal:
    """What anyone may see of a signal (templates/macros/public.html ``public_title`` reads
    ``public_title``, ``theme_codes``, ``kind`` and ``buurt.name``)."""

    reference: str
    public_title: str | None
    kind: str
    theme_codes: tuple[str, ...]
    buurt: PlaceName | None
    wijk: PlaceName | None
    status: str
    created_at: datetime
    # Metres from the point searched around; None when searched by buurt.
    distance_m: float | None = None


@dataclass(frozen=True)
class Area:
    """Where to look: around a point, or (without one) in a buurt."""

    lon: float | None = None
    lat: float | None = None
    buurt_code: str | None = None

    @property
    def has_point(self) -> bool:
        return self.lon is not None and self.lat is not None


def area_of(
    geography: Geography, *, lon: float | None, lat: float | None, buurt_code: str | None
) -> Area | None:
    """The area the form's location describes, as intake will place it: a pin in Hilversum
    wins over the lists (intake routes by the pin too); a pin outside Hilversum is nothing
    to compare with (the form refuses it). Without a pin, a known buurt; else None."""
    if lon is not None and lat is not None:
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return None
        return Area(lon=lon, lat=lat) if geography.locate(lon, lat) is not None else None
    if buurt_code and geography.buurt(buurt_code) is not None:
        return Area(buurt_code=buurt_code)
    return None


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance in metres: exact enough within a town, and cheap."""
    mean_lat = math.radians((lat1 + lat2) / 2)
    dx = math.radians(lon2 - lon1) * math.cos(mean_lat)
    dy = math.radians(lat2 - lat1)
    return EARTH_RADIUS_M * math.hypot(dx, dy)


def bounding_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of the square around the circle."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def open_signals_near(
    session: Session,
    *,
    lon: float | None,
    lat: float | None,
    buurt_code: str | None,
    radius_m: float,
    limit: int,
    max_age: timedelta,
    now: datetime,
) -> list[PublicSignal]:
    """At most ``limit`` open, public signals, newest first: within ``radius_m`` of the
    point when there is one, else in ``buurt_code``; none when neither is given."""
    if limit <= 0:
        return []
    conditions = [
        Signal.status.in_(OPEN_STATUSES),
        Signal.created_at >= now - max_age,
        *public_conditions(),
    ]
    if lon is not None and lat is not None:
        if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 85:
            return []
        hits = _within(session, lon, lat, radius_m, limit, conditions)
    elif buurt_code:
        hits = _in_buurt(session, buurt_code, limit, conditions)
    else:
        return []
    return _public_records(session, hits)


def _within(
    session: Session,
    lon: float,
    lat: float,
    radius_m: float,
    limit: int,
    conditions: Sequence[ColumnElement[bool]],
) -> list[tuple[int, float | None]]:
    min_lon, min_lat, max_lon, max_lat = bounding_box(lon, lat, radius_m)
    # Only the few columns needed to choose: the box's corners lie outside the circle, so
    # its candidates are measured here, and only the chosen few are read in full.
    rows = session.execute(
        select(Signal.id, Signal.lon, Signal.lat, Signal.created_at).where(
            Signal.lat.between(min_lat, max_lat),
            Signal.lon.between(min_lon, max_lon),
            *conditions,
        )
    ).all()
    measured = [
        (row.created_at, row.id, distance_m(lon, lat, row.lon, row.lat))
        for row in rows
        if row.lon is not None and row.lat is not None
    ]
    inside = sorted((m for m in measured if m[2] <= radius_m), reverse=True)[:limit]
    return [(signal_id, metres) for _created, signal_id, metres in inside]


def _in_buurt(
    session: Session, buurt_code: str, limit: int, conditions: Sequence[ColumnElement[bool]]
) -> list[tuple[int, float | None]]:
    ids = session.scalars(
        select(Signal.id)
        .where(Signal.buurt_code == buurt_code, *conditions)
        .order_by(Signal.created_at.desc(), Signal.id.desc())
        .limit(limit)
    )
    return [(signal_id, None) for signal_id in ids]


def _public_records(session: Session, hits: list[tuple[int, float | None]]) -> list[PublicSignal]:
    if not hits:
        return []
    ids = [signal_id for signal_id, _metres in hits]
    rows = {
        row.id: row
        for row in session.execute(
            select(
                Signal.id,
                Signal.reference,
                Signal.public_title,
                Signal.kind,
                Signal.status,
                Signal.created_at,
                Buurt.code.label("buurt_code"),
                Buurt.name.label("buurt_name"),
                Wijk.code.label("wijk_code"),
                Wijk.name.label("wijk_name"),
            )
            .outerjoin(Buurt, Buurt.code == Signal.buurt_code)
            .outerjoin(Wijk, Wijk.code == Signal.wijk_code)
            .where(Signal.id.in_(ids))
        )
    }
    themes: dict[int, list[str]] = {}
    for signal_id, theme in session.execute(
        select(SignalTheme.signal_id, SignalTheme.theme).where(SignalTheme.signal_id.in_(ids))
    ):
        themes.setdefault(signal_id, []).append(theme)
    return [
        PublicSignal(
            reference=row.reference,
            public_title=row.public_title,
            kind=row.kind,
            theme_codes=ordered_themes(themes.get(signal_id, [])),
            buurt=PlaceName(row.buurt_code, row.buurt_name) if row.buurt_code else None,
            wijk=PlaceName(row.wijk_code, row.wijk_name) if row.wijk_code else None,
            status=row.status,
            created_at=row.created_at,
            distance_m=metres,
        )
        for signal_id, metres in hits
        if (row := rows.get(signal_id)) is not None
    ]


def public_view(signal: Signal) -> PublicSignal:
    """The same public record for one signal already loaded (the follow pages and mail)."""
    return PublicSignal(
        reference=signal.reference,
        public_title=signal.public_title,
        kind=signal.kind,
        theme_codes=tuple(signal.theme_codes),
        buurt=PlaceName(signal.buurt.code, signal.buurt.name) if signal.buurt else None,
        wijk=PlaceName(signal.wijk.code, signal.wijk.name) if signal.wijk else None,
        status=signal.status,
        created_at=signal.created_at,
    )
