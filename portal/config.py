"""Configuration defaults and the loading order from DESIGN.md.

Later wins: built-in defaults -> ``instance/config.py`` -> ``PORTAL_*`` environment variables
-> the mapping given to ``create_app``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

from portal.vocabulary import N_

# Only ever fine for development and tests; production refuses to start with it.
DEFAULT_SECRET_KEY = "dev-only-change-me"

log = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    """The portal cannot start safely with this configuration."""


def defaults(instance_path: str) -> dict[str, object]:
    instance = Path(instance_path)
    return {
        "SECRET_KEY": DEFAULT_SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{instance / 'portal.sqlite3'}",
        "DATABASE_ECHO": False,
        "UPLOAD_FOLDER": str(instance / "uploads"),
        # None: MAX_PHOTOS full-size photos plus REQUEST_TEXT_MARGIN for the other fields
        # (see request_size_limit). Set a number to choose it yourself.
        "MAX_CONTENT_LENGTH": None,
        "MAX_PHOTOS": 3,
        "MAX_PHOTO_BYTES": 10 * 1024 * 1024,
        "REFERENCE_PREFIX": "HLV",
        "RESPONSE_WORKING_DAYS": 3,
        "ORGANISATION_NAME": N_("Gemeente Hilversum"),
        # Privacy and accessibility statements (/privacy, /toegankelijkheid) show these values.
        # The retention periods count from closing; the retention job (`jobs run`) reads the
        # same settings, so the page cannot promise other periods than it keeps.
        # The default controller is translated on the English page; a value set here is shown
        # as written.
        "PRIVACY_CONTROLLER": N_(
            "het college van burgemeester en wethouders van de gemeente Hilversum"
        ),
        "PRIVACY_OFFICER_EMAIL": "fg@hilversum.example",
        "PRIVACY_CONTACT_PHONE": "14 035",
        "RETENTION_REPORTER_DAYS": 365,  # name, email, phone (also in copies of mail)
        "RETENTION_PHOTO_DAYS": 365,
        # Contact data and photos of a sensitive signal (when shorter than the above).
        "RETENTION_SENSITIVE_DAYS": 180,
        # No period may be shorter (the job refuses and removes nothing): an objection or a
        # reopen request still needs the resident's details.
        "RETENTION_MINIMUM_DAYS": 90,
        # The signal itself after closing (Archiefwet, the selection list's periods): `jobs
        # run` destroys it then; anonymous counts stay. A declined one sooner.
        "RETENTION_SIGNAL_YEARS": 5,
        "RETENTION_DECLINED_SIGNAL_YEARS": 1,
        # A date or an ISO date ("2026-12-01"): when the statement was written and last tested.
        "ACCESSIBILITY_STATEMENT_DATE": "2026-12-01",
        "ACCESSIBILITY_TESTED_DATE": "2026-12-01",
        "ACCESSIBILITY_CONTACT_EMAIL": "wijkzaken@hilversum.example",
        # Where links in mail point; empty means "the host the request came in on".
        "PUBLIC_BASE_URL": "",
        "MAIL_SERVER": "localhost",
        "MAIL_PORT": 8025,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_DEFAULT_SENDER": "Wijkzaken Hilversum <wijkzaken@hilversum.example>",
        "MAIL_TIMEOUT": 10,
        # flask-mail would silently drop all mail when TESTING; tests use a real SMTP server.
        "MAIL_SUPPRESS_SEND": False,
        # "thread": deliver queued mail right after the commit in a background thread;
        # "sync": deliver it in the request after the commit; "off": leave it to `outbox send`.
        "OUTBOX_DELIVERY": "thread",
        "OUTBOX_MAX_ATTEMPTS": 12,
        # Replies to a resident's mail: "{reply_id}" becomes the signal's revocable reply id.
        # The mail server forwards this address to `flask --app portal mail receive`. Empty:
        # mail goes out without a Reply-To (replies then reach MAIL_DEFAULT_SENDER).
        "REPLY_TO_ADDRESS": "wijkzaken+{reply_id}@hilversum.example",
        "INBOUND_MAIL_HOST": "127.0.0.1",
        "INBOUND_MAIL_PORT": 8026,
        # "smtp", or "lmtp" when the mail server delivers over LMTP (Postfix lmtp: transport).
        "INBOUND_MAIL_PROTOCOL": "smtp",
        # Larger mail is refused during the SMTP transaction: the sender's server bounces it.
        "INBOUND_MAIL_MAX_BYTES": 40 * 1024 * 1024,
        # A question to the resident unanswered this many working days: one reminder; as many
        # again: a note for the owner, who decides.
        "QUESTION_REMINDER_WORKING_DAYS": 5,
        # Escalation to a functionary and sharing with a wijkteam partner: their one-time answer
        # links. An escalation's link works until this many days after its reply-by date; a
        # partner's link this many days after sharing (unless revoked or used).
        "ESCALATION_LINK_DAYS": 30,
        "PARTNER_LINK_DAYS": 14,
        # The reply-by date an escalation form suggests, in working days from today.
        "ESCALATION_REPLY_WORKING_DAYS": 5,
        # Opening and answering the answer pages (/antwoord/...), per address and page.
        "ANSWER_RATE_LIMIT": "30 per hour",
        # "Bent u tevreden?" can be answered this many days after resolving.
        "SATISFACTION_DAYS": 14,
        # Casework deadlines (portal/domain/deadlines.py), in working days. RESPONSE_WORKING_DAYS
        # above is the response target and HANDLE_WORKING_DAYS the handling target for kinds
        # without a target of their own (Beheer > Termijnen). While a signal waits for the
        # resident its handling clock can stand still. The daily digest goes out from this
        # local hour on (on working days, with `jobs run` from cron).
        "HANDLE_WORKING_DAYS": 20,
        "PAUSE_WHILE_AWAITING_RESIDENT": True,
        "DIGEST_HOUR": 7,
        # The map (Leaflet): background tiles from PDOK's BRT achtergrondkaart, or none ("").
        # Without tiles the wijk and buurt outlines still show; their origin is let into the
        # Content-Security-Policy.
        "MAP_TILE_URL": (
            "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/"
            "{z}/{x}/{y}.png"
        ),
        "MAP_TILE_ATTRIBUTION": "Kaartgegevens &copy; Kadaster",
        # Where the map opens: Hilversum's centre (lat, lon) and zoom.
        "MAP_CENTER": (52.2292, 5.1669),
        "MAP_ZOOM": 13,
        # Address to point: the PDOK Locatieserver's base URL, e.g.
        # "https://api.pdok.nl/bzk/locatieserver/search/v3_1". Empty: no geocoder (the resident
        # places a pin or picks the buurt; routing works from the postcode).
        "GEOCODER_URL": "",
        "GEOCODER_TIMEOUT_SECONDS": 3.0,
        # "Is dit al gemeld?": open signals this close (by buurt without a point), at most this
        # many, no older than this.
        "NEARBY_RADIUS_METRES": 250,
        "NEARBY_LIMIT": 5,
        "NEARBY_MAX_AGE_DAYS": 183,
        # Wijk alerts: the weekly mail goes out to a subscriber at most once per this many days
        # (with `jobs run` from cron), and only when there is something new.
        "ALERT_INTERVAL_DAYS": 7,
        # The municipality's look: a stylesheet of design tokens (colours, fonts) loaded after
        # the NL Design System's; another municipality points this at its own.
        "THEME_STYLESHEET": "css/theme-hilversum.css",
        "BABEL_DEFAULT_LOCALE": "nl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
        "LANGUAGES": ["nl", "en"],
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "SUBMIT_RATE_LIMIT": "20 per hour",
        "STATUS_LOOKUP_RATE_LIMIT": "10 per hour",
        # "Welke gegevens bewaart u over mij?" (/privacy/mijn-gegevens): requests per IP
        # address, and at most one overview mail per address in this many minutes.
        "PRIVACY_OVERVIEW_RATE_LIMIT": "10 per hour",
        "PRIVACY_OVERVIEW_REPEAT_MINUTES": 60,
        # Answers, added information and satisfaction answers on the status page.
        "RESIDENT_MESSAGE_RATE_LIMIT": "20 per hour",
        "LOGIN_RATE_LIMIT": "10 per minute",
        "WTF_CSRF_TIME_LIMIT": None,
        "BACKOFFICE_IDLE_MINUTES": 30,
        "BACKOFFICE_PAGE_SIZE": 50,
        # The back-office map shows at most this many of the filtered signals (newest first).
        "BACKOFFICE_MAP_MAX_MARKERS": 2000,
        # A grant to an initiative above this amount (in cents) counts only after a second
        # person (another accountmanager or an admin) approved it; until then "aangevraagd".
        "BUDGET_APPROVAL_THRESHOLD_CENTS": 100_000,
        # Dossier references (DOS-2026-000001), numbered like signals.
        "DOSSIER_REFERENCE_PREFIX": "DOS",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # "production", "development" or unset (then: production unless Flask debug is on).
        "PORTAL_ENV": None,
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers to trust
        # (client address for rate limits, https scheme and host for links).
        "TRUSTED_PROXIES": 0,
    }


def load(app: Flask, overrides: Mapping[str, object] | None) -> None:
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAL")
    # PORTAL_ENV itself arrives through the prefix as "ENV"; keep one name for it.
    if "ENV" in app.config:
        app.config["PORTAL_ENV"] = app.config.pop("ENV")
    if overrides:
        app.config.from_mapping(overrides)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = request_size_limit(app)
    production = is_production(app)
    app.config["PORTAL_ENV_IS_PRODUCTION"] = production
    if production:
        app.config["SESSION_COOKIE_SECURE"] = True
        check_production(app)


REQUEST_TEXT_MARGIN = 1024 * 1024  # the form's text fields and the multipart overhead


def request_size_limit(app: Flask) -> int:
    """Bytes a request may have: the allowed photos at full size and the form around them.
    Anything larger is refused (413) before a byte of it is parsed."""
    photos = int(app.config["MAX_PHOTOS"]) * int(app.config["MAX_PHOTO_BYTES"])
    return photos + REQUEST_TEXT_MARGIN


ENVIRONMENTS = ("production", "development")


def is_production(app: Flask) -> bool:
    env = app.config.get("PORTAL_ENV")
    if env:
        # A typo ("prod", "Production") must not quietly run with development settings.
        if env not in ENVIRONMENTS:
            raise ConfigurationError(
                f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}."
            )
        return env == "production"
    # Unset: safe by default, so only an explicit debug run or a test run is development.
    debug = app.debug or os.environ.get("FLASK_DEBUG", "").lower() in {"1", "true"}
    return not (debug or app.config.get("TESTING"))


MIN_SECRET_KEY_LENGTH = 32
# A key typed by a person rather than generated: too few different characters, or words from
# examples and tutorials. Generated keys (secrets.token_urlsafe(48)) have dozens of both.
MIN_SECRET_KEY_DISTINCT = 16
KNOWN_EXAMPLE_WORDS = ("changeme", "secret", "geheim", "example", "password", "wachtwoord")


def secret_key_problem(key: object) -> str | None:
    """Why this SECRET_KEY is unfit for production, or None when it will do."""
    text = str(key or "")
    if not text or text == DEFAULT_SECRET_KEY:
        return "it is not set"
    if len(text) < MIN_SECRET_KEY_LENGTH:
        return f"it is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    if len(set(text)) < MIN_SECRET_KEY_DISTINCT:
        return "it has too few different characters to be random"
    lowered = text.lower()
    if any(word in lowered for word in KNOWN_EXAMPLE_WORDS):
        return "it contains a word from example configurations"
    return None


def check_production(app: Flask) -> None:
    if problem := secret_key_problem(app.config.get("SECRET_KEY")):
        raise ConfigurationError(
            f"Refusing to start in production with this SECRET_KEY: {problem}. Set "
            f"PORTAL_SECRET_KEY to a random value of at least {MIN_SECRET_KEY_LENGTH} "
            'characters (python -c "import secrets; print(secrets.token_urlsafe(48))").'
        )
    base_url = urlsplit(str(app.config.get("PUBLIC_BASE_URL") or ""))
    host = base_url.hostname
    # https only: production cookies are Secure and HSTS is sent, so http links would break.
    if not host or base_url.scheme != "https":
        raise ConfigurationError(
            "Refusing to start in production without an https PUBLIC_BASE_URL: set "
            "PORTAL_PUBLIC_BASE_URL to the address residents use, e.g. "
            "https://wijkzaken.hilversum.nl. Links in mail are made from it, never from the "
            "Host header of a request."
        )
    # Requests for any other host are refused (400), so a forged Host header reaches nothing.
    if not app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = [host]
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        log.warning(
            "Rate limits are kept in memory: every worker process counts on its own, so with "
            "several gunicorn workers each limit is multiplied by their number. Set "
            "PORTAL_RATELIMIT_STORAGE_URI=redis://HOST:6379 when more than one process serves."
        )
