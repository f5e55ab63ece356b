"""Place on the map: the wijk and buurt outlines for every map (and, from the form's map, the
buurt of a pin and the point of an address)."""

from __future__ import annotations

import json
from functools import cache

from flask import Response

from portal.domain.geography import DATA_DIR
from portal.public import bp


@cache
def _outlines() -> bytes:
    """The shipped CBS wijk and buurt outlines as one GeoJSON collection, read once."""
    features = []
    for layer, name in (("wijk", "wijken_2023.geojson"), ("buurt", "buurten_2023.geojson")):
        with (DATA_DIR / name).open(encoding="utf-8") as f:
            for feature in json.load(f)["features"]:
                feature["properties"] = {
                    "layer": layer,
                    "code": feature["properties"]["statcode"],
                    "name": feature["properties"]["statnaam"],
                }
                features.append(feature)
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, separators=(",", ":")).encode()


@bp.get("/kaart/wijken.geojson")
def outlines():  # type: ignore[no-untyped-def]
    response = Response(_outlines(), mimetype="application/geo+json")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
