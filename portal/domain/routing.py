"""Where a signal belongs (wijk/buurt) and who receives it. The most precise thing the resident
gave wins; when nothing usable is given the signal still arrives, flagged for a human."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from portal.domain.geography import Geography


@dataclass(frozen=True)
class LocationInput:
    lon: float | None = None
    lat: float | None = None
    buurt_code: str | None = None
    wijk_code: str | None = None
    postcode: str | None = None  # already normalised, or None
    # The point was found from the address (a geocoder), not set by the resident on a map.
    point_from_address: bool = False


class PlacementSource(StrEnum):
    PIN = "pin"
    ADDRESS = "address"  # the point of the address the resident typed (a geocoder)
    BUURT = "buurt"
    WIJK = "wijk"
    POSTCODE = "postcode"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Placement:
    wijk_code: str | None
    buurt_code: str | None
    source: PlacementSource
    outside_hilversum: bool = False

    @property
    def flagged(self) -> bool:
        """Goes to the general inbox for a human to place it."""
        return self.source is PlacementSource.UNKNOWN

    @property
    def needs_confirmation(self) -> bool:
        # A PC4 area spans several buurten, so its wijk is a guess someone should confirm.
        return self.source is PlacementSource.POSTCODE


def place(geo: Geography, loc: LocationInput) -> Placement:
    """Precedence: pin (or the address's point) > chosen buurt > chosen wijk > postcode hint >
    unknown."""
    if loc.lon is not None and loc.lat is not None:
        buurt = geo.locate(loc.lon, loc.lat)
        if buurt is None:
            # A pin is deliberate; one outside Hilversum outranks a dropdown choice and
            # needs a human to decide, not a silent fallback.
            return Placement(None, None, PlacementSource.UNKNOWN, outside_hilversum=True)
        source = PlacementSource.ADDRESS if loc.point_from_address else PlacementSource.PIN
        return Placement(buurt.wijk_code, buurt.code, source)
    # Stale or tampered form values are treated as not given.
    buurt = geo.buurt(loc.buurt_code) if loc.buurt_code else None
    if buurt is not None:
        return Placement(buurt.wijk_code, buurt.code, PlacementSource.BUURT)
    wijk = geo.wijk(loc.wijk_code) if loc.wijk_code else None
    if wijk is not None:
        return Placement(wijk.code, None, PlacementSource.WIJK)
    if loc.postcode:
        wijk_code = geo.wijk_for_postcode(loc.postcode)
        if wijk_code is None:
            return Placement(None, None, PlacementSource.UNKNOWN, outside_hilversum=True)
        return Placement(wijk_code, None, PlacementSource.POSTCODE)
    return Placement(None, None, PlacementSource.UNKNOWN)


@dataclass(frozen=True)
class Cover:
    """Someone stands in for an absent owner (portal/domain/absences.py)."""

    stand_in_id: int
    absence_id: int


@dataclass(frozen=True)
class RoutingRules:
    by_wijk: Mapping[str, int]  # wijk code -> owner user id (the admin's routing rule)
    general_owner_id: int | None
    # wijk code -> the active accountmanagers who have that wijk, in a stable order
    managers_by_wijk: Mapping[str, Sequence[int]] = field(default_factory=dict)
    # absent user id -> who stands in on the day the rules were loaded for (none: no day)
    stand_ins: Mapping[int, Cover] = field(default_factory=dict)


@dataclass(frozen=True)
class Routed:
    owner_id: int | None
    general: bool  # routed to the general inbox
    # The absent owner the signal would have gone to, and that absence (None: nobody away).
    covering_for: int | None = None
    absence_id: int | None = None


def route(rules: RoutingRules, wijk_code: str | None) -> Routed:
    """Who receives a new signal: the wijk's owner (``choose_owner``), or whoever stands in
    for them while they are away. A stand-in who is away too passes it on to their own
    stand-in; two people standing in for each other stop the chain at the second."""
    owner_id, general = _rule_owner(rules, wijk_code)
    if owner_id is None or owner_id not in rules.stand_ins:
        return Routed(owner_id, general)
    first = rules.stand_ins[owner_id]
    covering_for, seen = owner_id, {owner_id}
    while owner_id in rules.stand_ins and rules.stand_ins[owner_id].stand_in_id not in seen:
        owner_id = rules.stand_ins[owner_id].stand_in_id
        seen.add(owner_id)
    return Routed(owner_id, general, covering_for=covering_for, absence_id=first.absence_id)


def choose_owner(rules: RoutingRules, wijk_code: str | None) -> tuple[int | None, bool]:
    """(owner user id or None, routed to the general inbox). The wijk's routing rule first;
    a wijk without one goes to its accountmanager (the first, when it has several), so that
    person is mailed too; only then the general inbox, so no signal ever lands nowhere.
    Rules loaded for a day (``load_routing_rules(session, on=day)``) send an absent owner's
    signals to their stand-in."""
    routed = route(rules, wijk_code)
    return routed.owner_id, routed.general


def _rule_owner(rules: RoutingRules, wijk_code: str | None) -> tuple[int | None, bool]:
    if wijk_code is not None:
        if wijk_code in rules.by_wijk:
            return rules.by_wijk[wijk_code], False
        managers = rules.managers_by_wijk.get(wijk_code)
        if managers:
            return managers[0], False
    return rules.general_owner_id, True
