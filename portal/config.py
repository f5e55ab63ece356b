"""Configuration defaults and the loading order from DESIGN.md.

Later wins: built-in defaults -> ``instance/config.py`` -> ``PORTAL_*`` environment variables
-> the mapping given to ``create_app``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

# Only ever fine for development and tests; production refuses to start with it.
DEFAULT_SECRET_KEY = "dev-only-change-me"


class ConfigurationError(RuntimeError):
    """The portal cannot start safely with this configuration."""


def defaults(instance_path: str) -> dict[str, object]:
    instance = Path(instance_path)
    return {
        "SECRET_KEY": DEFAULT_SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{instance / 'portal.sqlite3'}",
        "DATABASE_ECHO": False,
        "UPLOAD_FOLDER": str(instance / "uploads"),
        # Room for a few photos over the limit, so the form can say which one is too large
        # instead of failing the whole request.
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        "MAX_PHOTOS": 3,
        "MAX_PHOTO_BYTES": 10 * 1024 * 1024,
        "REFERENCE_PREFIX": "HLV",
        "RESPONSE_WORKING_DAYS": 3,
        "ORGANISATION_NAME": "Gemeente Hilversum",
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
        "BABEL_DEFAULT_LOCALE": "nl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
        "LANGUAGES": ["nl", "en"],
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "SUBMIT_RATE_LIMIT": "20 per hour",
        "STATUS_LOOKUP_RATE_LIMIT": "10 per hour",
        "LOGIN_RATE_LIMIT": "10 per minute",
        "WTF_CSRF_TIME_LIMIT": None,
        "BACKOFFICE_IDLE_MINUTES": 30,
        "BACKOFFICE_PAGE_SIZE": 50,
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
    if is_production(app):
        app.config["SESSION_COOKIE_SECURE"] = True
        check_production(app)


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


def check_production(app: Flask) -> None:
    key = app.config.get("SECRET_KEY")
    if not key or key == DEFAULT_SECRET_KEY or len(str(key)) < 24:
        raise ConfigurationError(
            "Refusing to start in production without a strong SECRET_KEY: "
            "set PORTAL_SECRET_KEY to a random value of at least 24 characters "
            '(python -c "import secrets; print(secrets.token_urlsafe(48))").'
        )
