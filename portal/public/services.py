"""Builds the domain's collaborators from the app's configuration (kept out of the views)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, has_request_context, request
from sqlalchemy import select

from portal.domain.geocoding import LocatieserverLocator
from portal.domain.geography import AddressLocator, OfflineAddressLocator, default_geography
from portal.domain.intake import IntakeSettings
from portal.domain.mail import Links
from portal.domain.notifications import MailContext
from portal.domain.photos import PhotoStore
from portal.extensions import db
from portal.models import Buurt, Wijk

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


def wijken_with_buurten() -> list[tuple[Wijk, list[Buurt]]]:
    wijken = db.session.scalars(select(Wijk).order_by(Wijk.name)).all()
    buurten = db.session.scalars(select(Buurt).order_by(Buurt.name)).all()
    by_wijk: dict[str, list[Buurt]] = {w.code: [] for w in wijken}
    for buurt in buurten:
        by_wijk.setdefault(buurt.wijk_code, []).append(buurt)
    return [(w, by_wijk[w.code]) for w in wijken]
