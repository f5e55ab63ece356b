"""Staff put a signal in the right place, and say what neighbours see of it.

``correct_location``: a resident's pin can be off, a buurt chosen from the list can be the
wrong one. A point decides the buurt and the wijk (point-in-polygon on the CBS outlines); a
buurt alone keeps the point only when it lies in that buurt. It never re-routes: the owner
stays, and the page tells the user that the signal now lies in another wijk, so they can hand
it over themselves (``casework.reassign``). A person placed it, so it is no longer flagged.

``set_public_title``: the title neighbours see in "Is dit al gemeld?" and on follow pages,
instead of the neutral "<theme> in <buurt>". Empty clears it.

Both are casework steps: checked against the version the user saw, on the staff timeline
only (never the resident's) and in the audit log; the caller commits."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.domain import audit, permissions
from portal.domain.casework import Actor, CaseworkError, add_event, check_version
from portal.domain.geography import Geography
from portal.models import Buurt, Signal, SignalEvent, User, Wijk

# location_source after a correction by staff (the resident's were pin, buurt, wijk, ...).
STAFF_PIN = "staff_pin"
STAFF_BUURT = "staff_buurt"
STAFF_SOURCES = (STAFF_PIN, STAFF_BUURT)
LOCATION_CORRECTED = "location_corrected"
PUBLIC_TITLE_SET = "public_title_set"
PUBLIC_TITLE_MAX = 120
# About 10 cm: more digits only pretend a precision no click on a map has.
COORDINATE_DIGITS = 6
NOTHING = "—"  # one side of "from → to" that had no place (or no title of its own)


@dataclass(frozen=True)
class Relocation:
    event: SignalEvent
    wijk_changed: bool
    wijk: Wijk | None  # where it lies now
    buurt: Buurt | None


def _check_worker(session: Session, actor: Actor) -> None:
    user = session.get(User, actor.user_id)
    if user is None or not permissions.can_work(user):
        raise CaseworkError("not_allowed")


def _point(lon: float | None, lat: float | None) -> tuple[float, float] | None:
    if lon is None and lat is None:
        return None
    if lon is None or lat is None:
        raise CaseworkError("point_incomplete")
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 90 or abs(lon) > 180:
        raise CaseworkError("point_invalid")
    return round(lon, COORDINATE_DIGITS), round(lat, COORDINATE_DIGITS)


def _describe(buurt: Buurt | None, wijk: Wijk | None, lon: float | None, lat: float | None) -> str:
    """One side of the timeline's "from → to": names and coordinates, no words to translate."""
    place = buurt.name if buurt is not None else NOTHING
    if wijk is not None:
        place += f" ({wijk.name})"
    if lon is not None and lat is not None:
        place += f", {lat:.{COORDINATE_DIGITS}f}, {lon:.{COORDINATE_DIGITS}f}"
    return place


def correct_location(
    session: Session,
    signal: Signal,
    *,
    actor: Actor,
    lon: float | None,
    lat: float | None,
    buurt_code: str | None,
    geography: Geography,
    seen_version: int,
) -> Relocation:
    """Puts the signal at the point (the buurt and wijk follow from it) or in the buurt.

    Refused (``CaseworkError.code``): ``location_required`` (neither), ``point_incomplete``
    or ``point_invalid``, ``outside_hilversum`` (the point is in no buurt), ``unknown_buurt``,
    ``point_not_in_buurt`` (a point and a buurt that disagree: which one is meant?),
    ``nothing_changed``, ``not_allowed`` (management), ``stale``."""
    check_version(signal, seen_version)
    _check_worker(session, actor)
    point = _point(lon, lat)
    code = (buurt_code or "").strip().upper() or None
    if point is None and code is None:
        raise CaseworkError("location_required")
    chosen = session.get(Buurt, code) if code else None
    if code and chosen is None:
        raise CaseworkError("unknown_buurt")
    if point is not None:
        found = geography.locate(*point)
        if found is None:
            raise CaseworkError("outside_hilversum")
        if chosen is not None and chosen.code != found.code:
            raise CaseworkError("point_not_in_buurt")
        buurt = chosen or session.get(Buurt, found.code)
        if buurt is None:  # the shipped outlines and the seeded buurten disagree
            raise CaseworkError("unknown_buurt")
        new_lon, new_lat = point
        source = STAFF_PIN
    else:
        assert chosen is not None
        buurt = chosen
        # The point stays only where it still fits the buurt.
        kept = None
        if signal.lon is not None and signal.lat is not None:
            kept = geography.locate(signal.lon, signal.lat)
        if kept is not None and kept.code == buurt.code:
            new_lon, new_lat, source = signal.lon, signal.lat, STAFF_PIN
        else:
            new_lon, new_lat, source = None, None, STAFF_BUURT
    wijk = session.get(Wijk, buurt.wijk_code)

    before = {
        "lon": signal.lon,
        "lat": signal.lat,
        "buurt": signal.buurt_code,
        "wijk": signal.wijk_code,
        "source": signal.location_source,
        "flagged": signal.location_flagged,
    }
    after = {
        "lon": new_lon,
        "lat": new_lat,
        "buurt": buurt.code,
        "wijk": buurt.wijk_code,
        "source": source,
        "flagged": False,
    }
    same_place = all(before[key] == after[key] for key in ("lon", "lat", "buurt", "wijk"))
    if same_place and not signal.location_flagged:
        # A no-op would still bump the version and make a colleague's save stale for nothing.
        raise CaseworkError("nothing_changed")

    with session.no_autoflush:
        text = (
            _describe(signal.buurt, signal.wijk, signal.lon, signal.lat)
            + " → "
            + _describe(buurt, wijk, new_lon, new_lat)
        )
    wijk_changed = signal.wijk_code != buurt.wijk_code
    signal.lon, signal.lat = new_lon, new_lat
    # Relationships and codes both: the relationship sets its key only at flush.
    signal.buurt, signal.buurt_code = buurt, buurt.code
    signal.wijk, signal.wijk_code = wijk, buurt.wijk_code
    signal.location_source = source
    signal.location_flagged = False
    event = add_event(session, signal, actor, LOCATION_CORRECTED, public=False, message=text)
    audit.record(
        session,
        "signal.location_corrected",
        actor_id=actor.user_id,
        signal_id=signal.id,
        before=before,
        after=after,
    )
    return Relocation(event=event, wijk_changed=wijk_changed, wijk=wijk, buurt=buurt)


def clean_public_title(title: str | None) -> str | None:
    """One line of text, or None (then the neutral title is shown)."""
    text = " ".join((title or "").split())
    if len(text) > PUBLIC_TITLE_MAX:
        raise CaseworkError("title_too_long")
    return text or None


def set_public_title(
    session: Session, signal: Signal, *, title: str | None, seen_version: int, actor: Actor
) -> SignalEvent:
    """Sets (or, with an empty title, clears) what neighbours see as the signal's title.

    Refused: ``title_too_long``, ``nothing_changed``, ``not_allowed``, ``stale``."""
    check_version(signal, seen_version)
    _check_worker(session, actor)
    text = clean_public_title(title)
    if text == signal.public_title:
        raise CaseworkError("nothing_changed")
    previous, signal.public_title = signal.public_title, text
    event = add_event(
        session,
        signal,
        actor,
        PUBLIC_TITLE_SET,
        public=False,
        message=f"{previous or NOTHING} → {text or NOTHING}",
    )
    audit.record(
        session,
        "signal.public_title_set",
        actor_id=actor.user_id,
        signal_id=signal.id,
        before=previous,
        after=text,
    )
    return event
