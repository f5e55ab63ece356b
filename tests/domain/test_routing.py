import pytest

from portal.domain.geography import Geography, default_geography
from portal.domain.routing import (
    LocationInput,
    Placement,
    PlacementSource,
    RoutingRules,
    choose_owner,
    place,
)

ZUIDWEST = "WK040203"
CENTRUM = "WK040201"
OOST = "WK040206"
MEENT = "WK040208"
KERKELANDEN = "BU04020304"
SINT_VITUS = "BU04020103"

GROEST = (5.1760, 52.2237)  # Centrum buurt, wijk Centrum
MEENT_PIN = (5.1370, 52.2680)  # Hilversumse Meent
UTRECHT_DOM = (5.1214, 52.0908)


@pytest.fixture(scope="module")
def geo() -> Geography:
    return default_geography()


def test_pin_places_by_polygon(geo):
    lon, lat = GROEST
    assert place(geo, LocationInput(lon=lon, lat=lat)) == Placement(
        CENTRUM, "BU04020101", PlacementSource.PIN
    )


def test_pin_beats_buurt_wijk_and_postcode(geo):
    lon, lat = MEENT_PIN
    loc = LocationInput(
        lon=lon, lat=lat, buurt_code=KERKELANDEN, wijk_code=OOST, postcode="1216 AB"
    )
    assert place(geo, loc) == Placement(MEENT, "BU04020801", PlacementSource.PIN)


def test_pin_outside_hilversum_is_unknown_even_with_a_buurt(geo):
    lon, lat = UTRECHT_DOM
    placement = place(geo, LocationInput(lon=lon, lat=lat, buurt_code=KERKELANDEN))
    assert placement == Placement(None, None, PlacementSource.UNKNOWN, outside_hilversum=True)
    assert placement.flagged


@pytest.mark.parametrize(("lon", "lat"), [(5.1760, None), (None, 52.2237)])
def test_half_a_pin_is_not_a_pin(geo, lon, lat):
    placement = place(geo, LocationInput(lon=lon, lat=lat, buurt_code=SINT_VITUS))
    assert placement == Placement(CENTRUM, SINT_VITUS, PlacementSource.BUURT)


def test_buurt_gives_its_wijk(geo):
    assert place(geo, LocationInput(buurt_code=KERKELANDEN)) == Placement(
        ZUIDWEST, KERKELANDEN, PlacementSource.BUURT
    )


def test_buurt_wins_over_disagreeing_wijk(geo):
    placement = place(geo, LocationInput(buurt_code=SINT_VITUS, wijk_code=ZUIDWEST))
    assert placement == Placement(CENTRUM, SINT_VITUS, PlacementSource.BUURT)


def test_buurt_beats_postcode(geo):
    placement = place(geo, LocationInput(buurt_code=SINT_VITUS, postcode="1216 AB"))
    assert placement.source is PlacementSource.BUURT
    assert placement.wijk_code == CENTRUM


def test_unknown_buurt_falls_back_to_wijk(geo):
    placement = place(geo, LocationInput(buurt_code="BU99999999", wijk_code=OOST))
    assert placement == Placement(OOST, None, PlacementSource.WIJK)


def test_wijk_beats_postcode(geo):
    placement = place(geo, LocationInput(wijk_code=OOST, postcode="1216 AB"))
    assert placement == Placement(OOST, None, PlacementSource.WIJK)


def test_unknown_wijk_falls_back_to_postcode(geo):
    placement = place(geo, LocationInput(wijk_code="WK999999", postcode="1216 AB"))
    assert placement == Placement(ZUIDWEST, None, PlacementSource.POSTCODE)


def test_postcode_hint_needs_confirmation(geo):
    placement = place(geo, LocationInput(postcode="1216 AB"))
    assert placement == Placement(ZUIDWEST, None, PlacementSource.POSTCODE)
    assert placement.needs_confirmation
    assert not placement.flagged


def test_postcode_outside_hilversum(geo):
    placement = place(geo, LocationInput(postcode="3511 AB"))
    assert placement == Placement(None, None, PlacementSource.UNKNOWN, outside_hilversum=True)
    assert placement.flagged


def test_unknown_codes_and_outside_postcode_still_outside(geo):
    loc = LocationInput(buurt_code="BU00000000", wijk_code="WK000000", postcode="3511 AB")
    assert place(geo, loc).outside_hilversum


@pytest.mark.parametrize(
    "loc",
    [
        LocationInput(),
        LocationInput(buurt_code="", wijk_code="", postcode=""),
        LocationInput(buurt_code="BU99999999", wijk_code="WK999999"),
    ],
)
def test_nothing_usable_is_unknown_but_not_outside(geo, loc):
    placement = place(geo, loc)
    assert placement == Placement(None, None, PlacementSource.UNKNOWN, outside_hilversum=False)
    assert placement.flagged
    assert not placement.needs_confirmation


@pytest.mark.parametrize(
    ("source", "flagged", "needs_confirmation"),
    [
        (PlacementSource.PIN, False, False),
        (PlacementSource.BUURT, False, False),
        (PlacementSource.WIJK, False, False),
        (PlacementSource.POSTCODE, False, True),
        (PlacementSource.UNKNOWN, True, False),
    ],
)
def test_placement_flags(source, flagged, needs_confirmation):
    placement = Placement(None, None, source)
    assert placement.flagged is flagged
    assert placement.needs_confirmation is needs_confirmation


def test_placement_source_values():
    assert [s.value for s in PlacementSource] == [
        "pin",
        "address",
        "buurt",
        "wijk",
        "postcode",
        "unknown",
    ]
    assert PlacementSource("postcode") is PlacementSource.POSTCODE


RULES = RoutingRules(by_wijk={ZUIDWEST: 11, CENTRUM: 12, OOST: 0}, general_owner_id=99)


@pytest.mark.parametrize(
    ("rules", "wijk_code", "expected"),
    [
        (RULES, ZUIDWEST, (11, False)),
        (RULES, CENTRUM, (12, False)),
        (RULES, OOST, (0, False)),  # user id 0 is still a rule, not "missing"
        (RULES, MEENT, (99, True)),
        (RULES, None, (99, True)),
        (RULES, "", (99, True)),
        (RoutingRules(by_wijk={}, general_owner_id=None), ZUIDWEST, (None, True)),
        (RoutingRules(by_wijk={ZUIDWEST: 11}, general_owner_id=None), None, (None, True)),
    ],
)
def test_choose_owner(rules, wijk_code, expected):
    assert choose_owner(rules, wijk_code) == expected


def test_place_then_route(geo):
    lon, lat = GROEST
    placement = place(geo, LocationInput(lon=lon, lat=lat))
    assert choose_owner(RULES, placement.wijk_code) == (12, False)
    outside = place(geo, LocationInput(postcode="3511 AB"))
    assert choose_owner(RULES, outside.wijk_code) == (99, True)
