"""Hilversum's wijken and buurten (CBS 2023): which buurt a point lies in, which wijk a postcode
probably belongs to. Offline reference data, so routing works without any external service."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

ATTRIBUTION = "Kadaster / Centraal Bureau voor de Statistiek, 2023"

DATA_DIR = Path(__file__).parents[1] / "data" / "hilversum"

# re.ASCII: \s and the classes must not accept other scripts' digits or letters.
_POSTCODE = re.compile(r"\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*", re.ASCII)
_PC4 = re.compile(r"\s*([1-9][0-9]{3})\s*", re.ASCII)
# PostNL never issues these letter pairs (wartime connotations).
_FORBIDDEN_LETTERS = frozenset({"SA", "SD", "SS"})


@dataclass(frozen=True)
class Wijk:
    code: str
    name: str


@dataclass(frozen=True)
class Buurt:
    code: str
    name: str
    wijk_code: str


def normalise_postcode(raw: str) -> str | None:
    """``" 1216  ab "`` -> ``"1216 AB"``; None when it is not a valid Dutch postcode."""
    match = _POSTCODE.fullmatch(raw)
    if match is None:
        return None
    digits, letters = match.group(1), match.group(2).upper()
    if letters in _FORBIDDEN_LETTERS:
        return None
    return f"{digits} {letters}"


def _pc4(postcode: str) -> str | None:
    # Callers have either a full postcode or just the four digits (e.g. a PDOK answer).
    match = _PC4.fullmatch(postcode)
    if match is not None:
        return match.group(1)
    normalised = normalise_postcode(postcode)
    return normalised[:4] if normalised else None


class Geography:
    """Immutable after construction: one instance is shared by every request."""

    def __init__(
        self,
        wijken: Iterable[Wijk],
        buurten: Iterable[Buurt],
        buurt_shapes: Mapping[str, BaseGeometry],
        pc4_wijk: Mapping[str, str],
    ) -> None:
        self._wijken = {w.code: w for w in wijken}
        self._buurten = {b.code: b for b in buurten}
        for buurt in self._buurten.values():
            if buurt.wijk_code not in self._wijken:
                raise ValueError(f"buurt {buurt.code} refers to unknown wijk {buurt.wijk_code}")
        unknown = (set(buurt_shapes) - set(self._buurten)) | (
            set(pc4_wijk.values()) - set(self._wijken)
        )
        if unknown:
            raise ValueError(f"shapes or postcodes refer to unknown codes: {sorted(unknown)}")
        # Tree order follows buurt order, so the lowest hit index is a stable tie-break for
        # a point on a shared border.
        self._shape_codes = [code for code in self._buurten if code in buurt_shapes]
        self._tree = STRtree([buurt_shapes[code] for code in self._shape_codes])
        self._pc4_wijk = dict(pc4_wijk)
        self._by_wijk: dict[str, list[Buurt]] = {code: [] for code in self._wijken}
        for buurt in self._buurten.values():
            self._by_wijk[buurt.wijk_code].append(buurt)

    @classmethod
    def from_directory(cls, path: Path) -> Geography:
        """Reads the CBS files as laid out in ``portal/data/hilversum`` (see its README)."""
        wijken: dict[str, Wijk] = {}
        buurten: list[Buurt] = []
        with (path / "wijken_buurten_2023.csv").open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                wijken.setdefault(row["wijkcode"], Wijk(row["wijkcode"], row["wijknaam"]))
                buurten.append(Buurt(row["buurtcode"], row["buurtnaam"], row["wijkcode"]))
        with (path / "buurten_2023.geojson").open(encoding="utf-8") as f:
            features = json.load(f)["features"]
        shapes = {ft["properties"]["statcode"]: shape(ft["geometry"]) for ft in features}
        with (path / "pc4_centroids_indicative.csv").open(encoding="utf-8-sig", newline="") as f:
            pc4_wijk = {row["pc4"]: row["centroid_in_wijkcode"] for row in csv.DictReader(f)}
        return cls(wijken.values(), buurten, shapes, pc4_wijk)

    @property
    def wijken(self) -> Mapping[str, Wijk]:
        return MappingProxyType(self._wijken)

    @property
    def buurten(self) -> Mapping[str, Buurt]:
        return MappingProxyType(self._buurten)

    def wijk(self, code: str) -> Wijk | None:
        return self._wijken.get(code)

    def buurt(self, code: str) -> Buurt | None:
        return self._buurten.get(code)

    def buurten_in(self, wijk_code: str) -> list[Buurt]:
        return list(self._by_wijk.get(wijk_code, ()))

    def locate(self, lon: float, lat: float) -> Buurt | None:
        """The buurt containing the point (border included); None outside Hilversum."""
        # A NaN from a broken map widget must read as "no place", not as a shapely error.
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return None
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return self._buurten[self._shape_codes[int(min(hits))]]

    def wijk_for_postcode(self, postcode: str) -> str | None:
        """Takes a full postcode or just its four digits. Only a hint: a PC4 area spans several
        buurten and sometimes several wijken."""
        pc4 = _pc4(postcode)
        return self._pc4_wijk.get(pc4) if pc4 else None

    def is_hilversum_postcode(self, postcode: str) -> bool:
        return self.wijk_for_postcode(postcode) is not None


@cache
def default_geography() -> Geography:
    return Geography.from_directory(DATA_DIR)


class AddressLocator(Protocol):
    def locate_address(
        self, street: str, house_number: str, postcode: str
    ) -> tuple[float, float] | None:
        """(lon, lat) of the address, or None when it cannot be found."""
        ...


class OfflineAddressLocator:
    """Never finds an address. In production a PDOK Locatieserver adapter can implement
    ``AddressLocator``; tests and offline use this, and the resident places a pin instead."""

    def locate_address(
        self, street: str, house_number: str, postcode: str
    ) -> tuple[float, float] | None:
        return None
