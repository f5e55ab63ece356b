import json
import math
from pathlib import Path

import pytest
from shapely.geometry import Point, box, shape

from portal.domain.geography import (
    ATTRIBUTION,
    DATA_DIR,
    AddressLocator,
    Buurt,
    Geography,
    OfflineAddressLocator,
    Wijk,
    default_geography,
    normalise_postcode,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def geo() -> Geography:
    return default_geography()


@pytest.fixture(scope="module")
def raw_shapes() -> dict:
    # Read the GeoJSON independently of Geography, so the tests do not trust its parsing.
    features = json.loads((DATA_DIR / "buurten_2023.geojson").read_text("utf-8"))["features"]
    return {f["properties"]["statcode"]: shape(f["geometry"]) for f in features}


def test_data_dir_is_the_projects_hilversum_folder():
    assert DATA_DIR.resolve() == ROOT / "portal" / "data" / "hilversum"


def test_counts(geo):
    assert len(geo.wijken) == 9
    assert len(geo.buurten) == 43


def test_wijken_in_csv_order(geo):
    assert [w.name for w in geo.wijken.values()] == [
        "Centrum",
        "Noordwest",
        "Zuidwest",
        "Zuid",
        "Zuidoost",
        "Oost",
        "Noordoost",
        "Hilversumse Meent",
        "Landelijk Gebied",
    ]
    assert list(geo.buurten)[:3] == ["BU04020101", "BU04020102", "BU04020103"]


def test_landelijk_gebied_has_seven_buurten(geo):
    buurten = geo.buurten_in("WK040209")
    assert [b.name for b in buurten] == [f"Landelijk Gebied {n}" for n in range(91, 98)]
    assert all(b.wijk_code == "WK040209" for b in buurten)


def test_buurten_in_zuidwest(geo):
    assert [b.name for b in geo.buurten_in("WK040203")] == [
        "Havenkwartier",
        "Het Rode Dorp",
        "Zeverijn",
        "Kerkelanden",
    ]


def test_buurten_in_unknown_wijk_is_empty(geo):
    assert geo.buurten_in("WK999999") == []


def test_buurten_in_returns_a_copy(geo):
    geo.buurten_in("WK040201").clear()
    assert len(geo.buurten_in("WK040201")) == 4


def test_mappings_are_read_only(geo):
    with pytest.raises(TypeError):
        geo.wijken["WK000000"] = Wijk("WK000000", "Nergens")  # type: ignore[index]


def test_lookup_by_code(geo):
    assert geo.wijk("WK040208") == Wijk("WK040208", "Hilversumse Meent")
    assert geo.buurt("BU04020303") == Buurt("BU04020303", "Zeverijn", "WK040203")
    assert geo.buurt("BU04020504") == Buurt("BU04020504", "West-Indiëkwartier", "WK040205")
    assert geo.wijk("WK040210") is None
    assert geo.buurt("BU04020305") is None
    assert geo.buurt("WK040201") is None


@pytest.mark.parametrize(
    ("code", "name", "wijk_code"),
    [
        ("BU04020304", "Kerkelanden", "WK040203"),
        ("BU04020303", "Zeverijn", "WK040203"),
        ("BU04020103", "Sint Vitusbuurt", "WK040201"),
        ("BU04020801", "Hilversumse Meent", "WK040208"),
    ],
)
def test_locate_representative_point_of_named_buurt(geo, raw_shapes, code, name, wijk_code):
    point = raw_shapes[code].representative_point()
    assert geo.locate(point.x, point.y) == Buurt(code, name, wijk_code)


def test_every_buurt_locates_its_own_representative_point(geo, raw_shapes):
    assert set(raw_shapes) == set(geo.buurten)
    for code, polygon in raw_shapes.items():
        point = polygon.representative_point()
        located = geo.locate(point.x, point.y)
        assert located is not None and located.code == code


# Real-world places, each checked to lie 150 m or more inside its (generalised) polygon.
@pytest.mark.parametrize(
    ("lon", "lat", "buurt_code", "wijk_code"),
    [
        (5.1760, 52.2237, "BU04020101", "WK040201"),  # de Groest, Centrum
        (5.1817, 52.2226, "BU04020103", "WK040201"),  # Sint-Vituskerk
        (5.1700, 52.2400, "BU04020206", "WK040202"),  # Media Park
        (5.1400, 52.2150, "BU04020304", "WK040203"),  # Kerkelanden
        (5.1370, 52.2680, "BU04020801", "WK040208"),  # Hilversumse Meent
        (5.1900, 52.1950, "BU04020903", "WK040209"),  # south-east heath, Landelijk Gebied 93
    ],
)
def test_locate_real_places(geo, lon, lat, buurt_code, wijk_code):
    buurt = geo.locate(lon, lat)
    assert buurt is not None
    assert (buurt.code, buurt.wijk_code) == (buurt_code, wijk_code)


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (5.1214, 52.0908),  # Dom, Utrecht
        (4.8926, 52.3731),  # Dam, Amsterdam
        (0.0, 0.0),
        (52.2237, 5.1760),  # the Groest with lat/lon swapped
        (math.nan, 52.2237),
        (5.1760, math.inf),
    ],
)
def test_locate_outside_hilversum(geo, lon, lat):
    assert geo.locate(lon, lat) is None


def test_point_on_shared_border_picks_first_buurt_in_csv_order(geo, raw_shapes):
    centrum = set(raw_shapes["BU04020101"].exterior.coords)
    vitus = set(raw_shapes["BU04020103"].exterior.coords)
    shared = sorted(centrum & vitus)
    assert shared, "test data should have vertices shared by Centrum and Sint Vitusbuurt"
    for lon, lat in shared:
        touching = [c for c in geo.buurten if raw_shapes[c].intersects(Point(lon, lat))]
        assert len(touching) >= 2
        assert geo.locate(lon, lat) == geo.buurt(touching[0])
        assert geo.locate(lon, lat) == geo.buurt("BU04020101")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1216 AB", "1216 AB"),
        ("1216ab", "1216 AB"),
        ("1216AB", "1216 AB"),
        (" 1216  ab ", "1216 AB"),
        ("1216 aB", "1216 AB"),
        ("9999ZZ", "9999 ZZ"),
        ("1000 AA", "1000 AA"),
        ("1216 SA", None),
        ("1216sd", None),
        ("1216 ss", None),
        ("1216 SB", "1216 SB"),
        ("0216 AB", None),
        ("121 AB", None),
        ("1216 A", None),
        ("12166 AB", None),
        ("1216 ABC", None),
        ("1216", None),
        ("AB 1216", None),
        ("1216-AB", None),
        ("12 16 AB", None),
        ("١٢١٦ AB", None),  # Arabic-Indic digits
        ("1216 ÄB", None),
        ("", None),
        ("   ", None),
    ],
)
def test_normalise_postcode(raw, expected):
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize(
    ("postcode", "wijk_code"),
    [
        ("1216 AB", "WK040203"),
        ("1216ab", "WK040203"),
        ("1216", "WK040203"),
        ("1211 AA", "WK040201"),
        ("1218 CD", "WK040208"),
        ("1403 AB", "WK040207"),
        ("3511 AB", None),  # Utrecht
        ("1219 AB", None),
        ("1216 SS", None),
        ("not a postcode", None),
        ("", None),
    ],
)
def test_wijk_for_postcode(geo, postcode, wijk_code):
    assert geo.wijk_for_postcode(postcode) == wijk_code
    assert geo.is_hilversum_postcode(postcode) is (wijk_code is not None)


def test_default_geography_is_cached():
    assert default_geography() is default_geography()


def test_constructed_from_plain_data():
    geo = Geography(
        wijken=[Wijk("W1", "West"), Wijk("W2", "Oost")],
        buurten=[Buurt("B1", "Links", "W1"), Buurt("B2", "Rechts", "W2")],
        buurt_shapes={"B1": box(0, 0, 1, 1), "B2": box(1, 0, 2, 1)},
        pc4_wijk={"1234": "W2"},
    )
    assert geo.locate(0.5, 0.5) == Buurt("B1", "Links", "W1")
    assert geo.locate(1.5, 0.5) == Buurt("B2", "Rechts", "W2")
    assert geo.locate(1.0, 0.5) == Buurt("B1", "Links", "W1")  # shared edge: first buurt
    assert geo.locate(3.0, 0.5) is None
    assert geo.wijk_for_postcode("1234 XY") == "W2"
    assert geo.buurten_in("W2") == [Buurt("B2", "Rechts", "W2")]


def test_buurt_without_shape_is_known_but_never_located():
    geo = Geography([Wijk("W1", "West")], [Buurt("B1", "Links", "W1")], {}, {})
    assert geo.buurt("B1") is not None
    assert geo.locate(0.5, 0.5) is None


@pytest.mark.parametrize(
    ("buurten", "shapes", "pc4"),
    [
        ([Buurt("B1", "Links", "W9")], {}, {}),
        ([Buurt("B1", "Links", "W1")], {"B9": box(0, 0, 1, 1)}, {}),
        ([Buurt("B1", "Links", "W1")], {}, {"1234": "W9"}),
    ],
)
def test_inconsistent_plain_data_is_rejected(buurten, shapes, pc4):
    with pytest.raises(ValueError):
        Geography([Wijk("W1", "West")], buurten, shapes, pc4)


def test_attribution():
    assert ATTRIBUTION == "Kadaster / Centraal Bureau voor de Statistiek, 2023"


def test_offline_address_locator_finds_nothing():
    locator: AddressLocator = OfflineAddressLocator()
    assert locator.locate_address("Kerkbrink", "6", "1211 BX") is None
