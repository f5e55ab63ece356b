"""Place on the map: the wijk and buurt outlines for every map (and, from the form's map, the
buurt of a pin and the point of an address)."""

from __future__ import annotations

import json
import math
from functools import cache

from flask import Response, jsonify, request
from flask_babel import gettext as _

from portal.domain.geocoding import split_house_number
from portal.domain.geography import DATA_DIR, default_geography, normalise_postcode
from portal.extensions import db, limiter
from portal.models import Buurt, Wijk
from portal.public import bp
from portal.public.services import address_locator

# Each address look-up asks the PDOK Locatieserver: a resident types one or two addresses,
# a script that walks all of Hilversum's must not do it through us.
ADDRESS_RATE_LIMIT = "30 per minute"


def outside_hilversum_message() -> str:
    """The same words as the form's answer to a place outside Hilversum (views.report)."""
    return _(
        "Deze plek ligt niet in de gemeente Hilversum. Wijkzaken Hilversum kan alleen "
        "meldingen over Hilversum behandelen. Gaat het om een plek in een andere gemeente? "
        "Neem dan contact op met die gemeente."
    )


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


def _coordinate(name: str) -> float | None:
    try:
        value = float(request.args.get(name, ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@bp.get("/melden/plek")
def place_of_point():  # type: ignore[no-untyped-def]
    """The buurt and wijk of a pin, for the form's map to show and to fill the lists with. The
    names as the database has them (an admin may have renamed one), the codes as routing
    will use them when the form is sent."""
    lon, lat = _coordinate("lon"), _coordinate("lat")
    if lon is None or lat is None:
        return jsonify(error="lon and lat must be numbers"), 400
    found = default_geography().locate(lon, lat)
    if found is None:
        return jsonify(inside=False, buurt=None, wijk=None, text=outside_hilversum_message())
    buurt = db.session.get(Buurt, found.code)
    wijk = db.session.get(Wijk, found.wijk_code)
    buurt_name = buurt.name if buurt else found.name
    wijk_name = wijk.name if wijk else default_geography().wijken[found.wijk_code].name
    return jsonify(
        inside=True,
        buurt={"code": found.code, "name": buurt_name},
        wijk={"code": found.wijk_code, "name": wijk_name},
        text=_("Buurt %(buurt)s, wijk %(wijk)s", buurt=buurt_name, wijk=wijk_name),
    )


@bp.get("/melden/adres")
@limiter.limit(ADDRESS_RATE_LIMIT)
def address_point():  # type: ignore[no-untyped-def]
    """The point of a postcode and house number (the geocoder, when one is configured), for
    the form's map to put its pin there. Not found is an ordinary answer, not an error: the
    resident goes on with the lists or the map."""
    postcode = normalise_postcode(request.args.get("postcode", ""))
    number = request.args.get("huisnummer", "").strip()
    if postcode is None or split_house_number(number) is None:
        return jsonify(found=False)
    point = address_locator().locate_address("", number, postcode)
    if point is None:
        return jsonify(found=False)
    return jsonify(found=True, lon=point[0], lat=point[1])
