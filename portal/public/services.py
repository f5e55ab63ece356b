"""Builds the domain's collaborators from the app's configuration (kept out of the views)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, has_request_context, request
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from portal.domain.geocoding import LocatieserverLocator
from portal.domain.geography import AddressLocator, OfflineAddressLocator, default_geography
from portal.domain.intake import IntakeSettings
from portal.domain.mail import Links
from portal.domain.notifications import MailContext
from portal.domain.photos import PhotoStore
from portal.extensions import db
from portal.models import Buurt, Wijk
from portal.models.page_versions import local_places_changes, places_revision
from portal.page_cache import PageCache

# Links made outside a request (CLI, jobs, the inbound mail endpoint) without a configured
# PUBLIC_BASE_URL: only ever in development (production refuses to start without one).
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"


def links() -> Links:
    base_url = current_app.config["PUBLIC_BASE_URL"]
    if not base_url:
        base_url = request.url_root if has_request_context() else DEVELOPMENT_BASE_URL
    return Links(base_url)


def mail_context() -> MailContext:
    """Works in a request and in an app context alone (commands, jobs, `mail receive`)."""
    config = current_app.config
    return MailContext(
        renderer=current_app.extensions["portal.mail_renderer"],
        links=links(),
        response_working_days=config["RESPONSE_WORKING_DAYS"],
        reply_to=config["REPLY_TO_ADDRESS"],
        satisfaction_days=config["SATISFACTION_DAYS"],
        handle_working_days=config["HANDLE_WORKING_DAYS"],
        pause_while_awaiting_resident=config["PAUSE_WHILE_AWAITING_RESIDENT"],
        digest_hour=config["DIGEST_HOUR"],
    )


def address_locator() -> AddressLocator:
    """The PDOK Locatieserver when GEOCODER_URL is set; otherwise one that never finds an
    address (the resident places a pin or picks the buurt)."""
    config = current_app.config
    if not config["GEOCODER_URL"]:
        return OfflineAddressLocator()
    return LocatieserverLocator(config["GEOCODER_URL"], float(config["GEOCODER_TIMEOUT_SECONDS"]))


def intake_settings() -> IntakeSettings:
    return IntakeSettings(
        geography=default_geography(),
        mail=mail_context(),
        reference_prefix=current_app.config["REFERENCE_PREFIX"],
        now=datetime.now(UTC),
        address_locator=address_locator(),
    )


def photo_store() -> PhotoStore:
    return PhotoStore(current_app.config["UPLOAD_FOLDER"], current_app.config["MAX_PHOTO_BYTES"])


def page_cache() -> PageCache:
    return current_app.extensions.setdefault("portal.page_cache", PageCache())


# How long a process trusts the places revision it read: an admin's new wijk name reaches the
# other processes within this time (their own process at once: local_places_changes).
PLACES_CHECK_SECONDS = 5.0


def places_key() -> str:
    """Part of every cached page's key that lists or names wijken and buurten: the places
    revision, read from the database at most every PLACES_CHECK_SECONDS (a query per page
    would cost as much as the rest of a cached page)."""
    now = time.monotonic()
    kept = current_app.extensions.get("portal.places_key")
    changes = local_places_changes()
    if kept is None or now - kept[1] > PLACES_CHECK_SECONDS or kept[2] != changes:
        try:
            kept = (places_revision(db.session), now, changes)
        except OperationalError:
            if kept is None:
                raise
            # The database is away: the places as last read (they change a few times a
            # year), so the report form can still be shown and given back filled in.
            db.session.rollback()
            return kept[0]
        current_app.extensions["portal.places_key"] = kept
    return kept[0]


def wijk_codes() -> frozenset[str]:
    """The wijken's codes, read again only when the places changed (page_versions.py)."""
    revision = places_key()
    kept = current_app.extensions.get("portal.wijk_codes")
    if kept is None or kept[0] != revision:
        kept = (revision, frozenset(db.session.scalars(select(Wijk.code))))
        current_app.extensions["portal.wijk_codes"] = kept
    return kept[1]


@dataclass(frozen=True)
class Place:
    code: str
    name: str


def wijken_with_buurten() -> list[tuple[Place, list[Place]]]:
    """The wijken by name, each with its buurten: read again only when the places changed."""
    revision = places_key()
    kept = current_app.extensions.get("portal.wijken_with_buurten")
    if kept is None or kept[0] != revision:
        wijken = db.session.execute(select(Wijk.code, Wijk.name).order_by(Wijk.name)).all()
        buurten = db.session.execute(
            select(Buurt.code, Buurt.name, Buurt.wijk_code).order_by(Buurt.name)
        ).all()
        by_wijk: dict[str, list[Place]] = {code: [] for code, _name in wijken}
        for code, name, wijk_code in buurten:
            by_wijk.setdefault(wijk_code, []).append(Place(code, name))
        kept = (revision, [(Place(code, name), by_wijk[code]) for code, name in wijken])
        current_app.extensions["portal.wijken_with_buurten"] = kept
    return kept[1]
