"""What every page shares: template globals, error pages and security headers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from flask import (
    Flask,
    Request,
    Response,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException, SecurityError, ServiceUnavailable
from werkzeug.routing import IntegerConverter, Map
from werkzeug.utils import cached_property

from portal import outbox, vocabulary
from portal.domain import alerts, tokens, upload_sweep
from portal.domain.geography import ATTRIBUTION
from portal.domain.ids import MAX_ID

log = logging.getLogger(__name__)
# What a 503 asks a client to wait: a database restart takes seconds to a minute.
RETRY_AFTER_SECONDS = 60


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a number past the id columns' range is simply not
    found (404) instead of an overflow in the database (500)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    # Before any blueprint adds its routes: a rule binds its converter when it is added.
    app.url_map.converters["int"] = IdConverter
    app.context_processor(_template_globals)
    app.add_template_filter(as_date)
    app.add_template_filter(translated)
    app.request_class = PortalRequest
    app.before_request(_refuse_nul_in_path)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(429, _rate_limited)
    # The database went away (stopped, restarting, its volume gone) or stayed busy: a page
    # that says so and when to try again, never a traceback.
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(PoolTimeout, _database_unavailable)


def _template_globals() -> dict[str, object]:
    return {
        "cbs_attribution": ATTRIBUTION,
        "current_locale": str(get_locale() or "nl"),
        "language_switch_url": language_switch_url,
        "kind_names": vocabulary.KIND_NAMES,
        "kind_labels": vocabulary.KIND_LABELS,
        "kind_hints": vocabulary.KIND_HINTS,
        "theme_labels": vocabulary.THEME_LABELS,
        "theme_hints": vocabulary.THEME_HINTS,
        "status_labels": vocabulary.STATUS_LABELS,
        "staff_status_labels": vocabulary.STAFF_STATUS_LABELS,
        "resident_kind_names": vocabulary.RESIDENT_KIND_NAMES,
        "rung_labels": vocabulary.RUNG_LABELS,
        "rung_meanings": vocabulary.RUNG_MEANINGS,
        # What the privacy statement promises, read from the code that keeps the promise.
        "link_days_after_closing": tokens.LINK_DAYS_AFTER_CLOSING,
        "max_links_per_signal": tokens.MAX_LINKS_PER_SIGNAL,
        "loose_upload_hours": int(upload_sweep.LOOSE_UPLOAD_AGE.total_seconds() // 3600),
        "alert_confirm_days": alerts.CONFIRM_DAYS,
        "alert_unsubscribed_keep_days": alerts.UNSUBSCRIBED_KEEP_DAYS,
        "failed_mail_retention_days": outbox.FAILED_MAIL_RETENTION.days,
    }


def language_switch_url(language: str) -> str:
    """The same page in another language, asked for with GET. A page that answered a POST
    (a preview, a refused form) may live at a POST-only URL: then back to the page the form
    was on (the referrer, only if it is ours), else to the start page of this part."""
    if request.method in ("GET", "HEAD") or (
        request.url_rule is not None and "GET" in (request.url_rule.methods or ())
    ):
        path = request.path
    else:
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc == request.host and referrer.path.startswith("/"):
            path = referrer.path
        elif request.path.startswith("/backoffice"):
            path = url_for("backoffice.inbox")
        else:
            path = url_for("public.home")
    return f"{path}?lang={language}"


def translated(text: object) -> str:
    """A label translated at render time, for text that is not a literal in the template (a
    choice's label, a configured name). The template's own ``_()`` marks what it returns as
    safe HTML, right for a msgid written in a template but wrong for a wijk name an admin
    typed: this returns plain text, which Jinja escapes."""
    return str(gettext(str(text)))


def as_date(value: object) -> object:
    """A configured date may be a date or ISO text ("2026-12-01", from PORTAL_* variables);
    anything else is shown as written."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


# Only our own files may run, style or load; nothing may frame us. No 'unsafe-inline':
# pages have no inline script or style (a browser test fails on any CSP violation). Map
# tiles are the one outside source: their origin joins img-src (content_security_policy).
CSP_DIRECTIVES = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data: blob:"),
    ("font-src", "'self'"),
    ("connect-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)
CONTENT_SECURITY_POLICY = "; ".join(f"{name} {value}" for name, value in CSP_DIRECTIVES)


def content_security_policy(tile_url: str) -> str:
    """The policy with the map tiles' origin allowed as images (none when no tiles)."""
    parts = urlsplit(tile_url) if tile_url else None
    tile_origin = f"{parts.scheme}://{parts.netloc}" if parts and parts.netloc else ""
    return "; ".join(
        f"{name} {value} {tile_origin}" if name == "img-src" and tile_origin else f"{name} {value}"
        for name, value in CSP_DIRECTIVES
    )


# Features the portal never uses are switched off; geolocation stays ours for the map pin.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(self), payment=(), usb=(), serial=(), "
    "bluetooth=(), magnetometer=(), gyroscope=(), accelerometer=(), interest-cohort=()"
)
HSTS = "max-age=63072000; includeSubDomains"
# Pages with a secret token in the URL, personal data or staff work: never in any cache.
PRIVATE_PREFIXES = (
    "/status/",
    "/melden",
    "/backoffice",
    "/antwoord/",
    "/attendering/",
    "/volgen/",
    "/privacy/",
)


@lru_cache(maxsize=4)
def _fixed_headers(tile_url: str, production: bool) -> tuple[tuple[str, str], ...]:
    fixed = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Content-Security-Policy", content_security_policy(tile_url)),
        ("Permissions-Policy", PERMISSIONS_POLICY),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if production:
        fixed.append(("Strict-Transport-Security", HSTS))
    return tuple(fixed)


def _refuse_nul_in_path() -> None:
    """No link holds a NUL (%00), and PostgreSQL refuses one in a query: such a path is a
    page that does not exist, refused once here for every view that looks a segment up."""
    if "\x00" in request.path:
        abort(404)


class PortalRequest(Request):
    @cached_property
    def args(self) -> ImmutableMultiDict[str, str]:  # type: ignore[override]
        """The query arguments without NUL characters: a view reading one (a wijk code, a
        search) never hands PostgreSQL a NUL, and the page shows as if it were not typed.
        (Form fields lose theirs in the form base.)"""
        # As werkzeug reads them: invalid bytes stay percent-encoded.
        pairs = parse_qsl(
            self.query_string.decode(), keep_blank_values=True, errors="werkzeug.url_quote"
        )
        return ImmutableMultiDict(
            (name.replace("\x00", ""), value.replace("\x00", "")) for name, value in pairs
        )


def _security_headers(response: Response) -> Response:
    headers = response.headers
    config = current_app.config
    fixed = _fixed_headers(config["MAP_TILE_URL"], bool(config.get("PORTAL_ENV_IS_PRODUCTION")))
    # Only where the view did not set one itself (a download's own CSP, say).
    present = {name.lower() for name in headers.keys()}  # noqa: SIM118 (Headers: names)
    headers.extend([(name, value) for name, value in fixed if name.lower() not in present])
    # Overrides what a view set, unless that says the same ("private, no-store" on photos).
    private = request.path.startswith(PRIVATE_PREFIXES)
    if private and "no-store" not in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = "no-store"
    return response


ERROR_TEXTS = {
    400: (
        _l("Dit verzoek klopt niet"),
        _l("Er ging iets mis met wat uw browser stuurde. Probeer het opnieuw."),
    ),
    403: (_l("Geen toegang"), _l("U heeft geen toegang tot deze pagina.")),
    404: (
        _l("Pagina niet gevonden"),
        _l("Deze pagina bestaat niet (meer). Controleer het adres of ga naar de startpagina."),
    ),
    405: (_l("Dit kan niet"), _l("Deze pagina werkt niet op deze manier.")),
    413: (
        _l("Te groot"),
        _l("Wat u stuurde is te groot. Kies minder of kleinere foto's en probeer het opnieuw."),
    ),
    429: (
        _l("Even geduld"),
        _l("U heeft in korte tijd veel verzoeken gedaan. Probeer het over een tijdje opnieuw."),
    ),
    500: (_l("Er ging iets mis"), _l("Er ging bij ons iets mis. Probeer het later opnieuw.")),
    503: (
        _l("Even niet beschikbaar"),
        _l(
            "Door een storing bij ons werkt dit nu even niet. Probeer het over een paar "
            "minuten opnieuw."
        ),
    ),
}


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    title, text = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    # Staff who may not see one back-office page keep their menu and logout. Not on a 500:
    # loading the user needs the database, which may be what failed.
    staff_layout = (
        code < 500 and request.path.startswith("/backoffice") and current_user.is_authenticated
    )
    page = render_template(
        "errors/error.html", title=title, text=text, code=code, staff_layout=staff_layout
    )
    return page, code


def _untrusted_host(_error: SecurityError) -> tuple[str, int, dict[str, str]]:
    # A Host header we do not serve: no URL can be built for it, so no page either.
    return "400 Bad Request: unknown host\n", 400, {"Content-Type": "text/plain; charset=utf-8"}


# A resident whose form was refused must not lose what they typed: the form view re-renders.


def _csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
    handlers = _refused_form_handlers().get(request.endpoint or "")
    if handlers is not None:
        return handlers.after_csrf_failure()
    return _http_error(error)


def _rate_limited(error: HTTPException):  # type: ignore[no-untyped-def]
    handlers = _refused_form_handlers().get(request.endpoint or "")
    if handlers is not None:
        response, _code = handlers.after_rate_limit()
        return response, 429
    return _http_error(error)


def _database_unavailable(error: SQLAlchemyError):  # type: ignore[no-untyped-def]
    log.warning("Database unavailable for %s %s: %s", request.method, request.path, error)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    _forget_failed_transaction()
    handlers = _refused_form_handlers().get(request.endpoint or "")
    if request.method == "POST" and handlers is not None and handlers.after_outage is not None:
        try:
            # Everything the resident typed and chose, photos included, shown again.
            response, _code = handlers.after_outage()
            return response, 503, headers
        except SQLAlchemyError:  # the form needs the places, which the database holds
            _forget_failed_transaction()
    page, _code = _http_error(ServiceUnavailable())
    return page, 503, headers


def _forget_failed_transaction() -> None:
    from portal.extensions import db

    with suppress(SQLAlchemyError):  # nothing to undo on a connection that is gone
        db.session.rollback()


class RefusedForm(NamedTuple):
    """How a public form shows itself again, filled in, when it was refused before it was
    read, or could not be stored; None: it cannot (the status page's forms need their signal,
    which the database holds)."""

    after_csrf_failure: Callable[[], Any]
    after_rate_limit: Callable[[], Any]
    after_outage: Callable[[], Any] | None = None


def _refused_form_handlers() -> dict[str, RefusedForm]:
    from portal.public import privacy_views, status_views, views

    status_page = RefusedForm(
        status_views.status_after_csrf_failure, status_views.status_after_rate_limit
    )
    return {
        "public.report": RefusedForm(
            views.report_after_csrf_failure,
            views.report_after_rate_limit,
            views.report_after_outage,
        ),
        "public.status_message": status_page,
        "public.status_satisfaction": status_page,
        "public.privacy_overview": RefusedForm(
            privacy_views.overview_after_csrf_failure, privacy_views.overview_after_rate_limit
        ),
    }
