"""Address to point with the national PDOK Locatieserver (v3_1, the "free" endpoint), behind the
``AddressLocator`` interface of portal/domain/geography.py.

Geocoding is a convenience, never a condition: an address that cannot be found, a server that is
down, slow or answers nonsense all read as "not found" (with a warning in the log), and the
resident's form goes on as without a geocoder (a pin, the lists, or the postcode hint)."""

from __future__ import annotations

import http.client
import json
import logging
import math
import re
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from portal.domain.geography import normalise_postcode

log = logging.getLogger(__name__)

# An answer for one postcode and house number is a few kilobytes; more is not a Locatieserver.
MAX_RESPONSE_BYTES = 1_000_000
# The numbers at one postcode and house number (12, 12a, 12-2, ...): enough to pick the right one.
MAX_ROWS = 20
USER_AGENT = "wijkzaken-portal (PDOK Locatieserver adapter)"

_HOUSE_NUMBER = re.compile(r"\s*(\d{1,5})\s*[-\s]?\s*([0-9A-Za-z\s-]{0,12})\s*", re.ASCII)
_POINT = re.compile(
    r"\s*POINT\s*\(\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*\)\s*", re.ASCII | re.IGNORECASE
)


def split_house_number(raw: str) -> tuple[int, str] | None:
    """``"12"`` -> (12, ""), ``"12 a"`` -> (12, "A"), ``"12-2"`` -> (12, "2"); the addition
    is the BAG's huisletter and huisnummertoevoeging run together, without separators."""
    match = _HOUSE_NUMBER.fullmatch(raw or "")
    if match is None:
        return None
    addition = re.sub(r"[\s-]", "", match.group(2)).upper()
    return int(match.group(1)), addition


def parse_point(wkt: object) -> tuple[float, float] | None:
    """``"POINT(5.14 52.21)"`` (WGS84, lon lat) -> (5.14, 52.21); None for anything else."""
    if not isinstance(wkt, str):
        return None
    match = _POINT.fullmatch(wkt)
    if match is None:
        return None
    lon, lat = float(match.group(1)), float(match.group(2))
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


class LocatieserverLocator:
    """``base_url`` as configured in GEOCODER_URL, e.g.
    ``https://api.pdok.nl/bzk/locatieserver/search/v3_1``; ``timeout`` in seconds, for the
    connection and for each read (a resident waits for it while sending the form)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.endpoint = base_url.rstrip("/") + "/free"
        self.timeout = timeout

    def locate_address(
        self, street: str, house_number: str, postcode: str
    ) -> tuple[float, float] | None:
        # Postcode and house number name one address in the BAG; the street adds nothing.
        normalised = normalise_postcode(postcode or "")
        number = split_house_number(house_number)
        if normalised is None or number is None:
            return None
        compact = normalised.replace(" ", "")
        answer = self._ask(self._query(compact, number[0]))
        if answer is None:
            return None
        docs = _docs(answer)
        if docs is None:
            log.warning("Locatieserver: an answer without response.docs; address not placed")
            return None
        return _best_point(docs, compact, number)

    def _query(self, postcode: str, number: int) -> str:
        params = {
            "q": f"{postcode} {number}",
            # Solr filters: only addresses, only this postcode and number (fq may repeat).
            "fq": ["type:adres", f"postcode:{postcode}", f"huisnummer:{number}"],
            "fl": "id type weergavenaam centroide_ll postcode huisnummer huisletter "
            "huisnummertoevoeging buurtcode wijkcode",
            "rows": str(MAX_ROWS),
        }
        return f"{self.endpoint}?{urlencode(params, doseq=True)}"

    def _ask(self, url: str) -> object | None:
        if not url.startswith(("https://", "http://")):
            # urllib would also open file: and ftp: URLs; GEOCODER_URL is for a web service.
            log.warning("GEOCODER_URL is not an http(s) URL; address not placed")
            return None
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as error:
            log.warning("Locatieserver answered HTTP %s; address not placed", error.code)
            return None
        except (OSError, ValueError, http.client.HTTPException) as error:
            # URLError (refused, no route, DNS), TimeoutError, a broken connection, a bad URL.
            log.warning("Locatieserver not reachable (%s); address not placed", error)
            return None
        if len(body) > MAX_RESPONSE_BYTES:
            log.warning("Locatieserver answer too long; address not placed")
            return None
        try:
            return json.loads(body)
        except ValueError:  # also invalid UTF-8
            log.warning("Locatieserver answer is not JSON; address not placed")
            return None


def _docs(answer: object) -> Sequence[Mapping[str, object]] | None:
    response = answer.get("response") if isinstance(answer, dict) else None
    docs = response.get("docs") if isinstance(response, dict) else None
    if not isinstance(docs, list):
        return None
    return [doc for doc in docs if isinstance(doc, dict)]


def _best_point(
    docs: Sequence[Mapping[str, object]], postcode: str, number: tuple[int, str]
) -> tuple[float, float] | None:
    """The point of the document for exactly this address (12 without an addition typed, not
    12a), else of the first with that number: for placing a signal, the house next door is
    as good. Documents for another postcode or number (a server that ignored the filters)
    never count."""
    matching = [doc for doc in docs if _same_address(doc, postcode, number[0])]
    exact = [doc for doc in matching if _addition(doc) == number[1]]
    for doc in exact + [doc for doc in matching if doc not in exact]:
        point = parse_point(doc.get("centroide_ll"))
        if point is not None:
            return point
    if docs and not matching:
        log.warning("Locatieserver answered with other addresses than asked; address not placed")
    return None


def _same_address(doc: Mapping[str, object], postcode: str, number: int) -> bool:
    doc_postcode = str(doc.get("postcode") or "").replace(" ", "").upper()
    try:
        doc_number = int(str(doc.get("huisnummer")))
    except ValueError:
        return False
    return doc.get("type", "adres") == "adres" and doc_postcode == postcode and doc_number == number


def _addition(doc: Mapping[str, object]) -> str:
    letter = str(doc.get("huisletter") or "")
    addition = str(doc.get("huisnummertoevoeging") or "")
    return re.sub(r"[\s-]", "", letter + addition).upper()
