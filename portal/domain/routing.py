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


class PlacementSource(StrEnum):
    PIN = "pin"
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
    """Precedence: pin > chosen buurt > chosen wijk > postcode hint > unknown."""
    if loc.lon is not None and loc.lat is not None:
        buurt = geo.locate(loc.lon, loc.lat)
        if buurt is None:
            # A pin is deliberate; one outside Hilversum outranks a dropdown choice and
            # needs a human to decide, not a silent fallback.
            return Placement(None, None, PlacementSource.UNKNOWN, outside_hilversum=True)
        return Placement(buurt.wijk_code, buurt.code, PlacementSource.PIN)
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
class RoutingRules:
    by_wijk: Mapping[str, int]  # wijk code -> owner user id (the admin's routing rule)
    general_owner_id: int | None
    # wijk code -> the active accountmanagers who have that wijk, in a stable order
    managers_by_wijk: Mapping[str, Sequence[int]] = field(default_factory=dict)


def choose_owner(rules: RoutingRules, wijk_code: str | None) -> tuple[int | None, bool]:
    """(owner user id or None, routed to the general inbox). The wijk's routing rule first;
    a wijk without one goes to its accountmanager (the first, when it has several), so that
    person is mailed too; only then the general inbox, so no signal ever lands nowhere."""
    if wijk_code is not None:
        if wijk_code in rules.by_wijk:
            return rules.by_wijk[wijk_code], False
        managers = rules.managers_by_wijk.get(wijk_code)
        if managers:
            return managers[0], False
    return rules.general_owner_id, True
