"""What every page shares: template globals, error pages and security headers."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.domain import vocabulary
from portal.domain.geography import ATTRIBUTION


def init_app(app: Flask) -> None:
    app.context_processor(_template_globals)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(429, _rate_limited)


def _template_globals() -> dict[str, object]:
    return {
        "cbs_attribution": ATTRIBUTION,
        "current_locale": str(get_locale() or "nl"),
        "kind_names": vocabulary.KIND_NAMES,
        "kind_labels": vocabulary.KIND_LABELS,
        "kind_hints": vocabulary.KIND_HINTS,
        "theme_labels": vocabulary.THEME_LABELS,
        "theme_hints": vocabulary.THEME_HINTS,
        "status_labels": vocabulary.STATUS_LABELS,
    }


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # Status links carry a secret token: keep such pages out of shared caches.
    if request.path.startswith("/status/") or request.path.startswith("/melden"):
        response.headers.setdefault("Cache-Control", "no-store")
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
}


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    title, text = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    return render_template("errors/error.html", title=title, text=text, code=code), code


# A resident whose form was refused must not lose what they typed: the form view re-renders.


def _csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
    from portal.public.views import report_after_csrf_failure

    if request.endpoint == "public.report":
        return report_after_csrf_failure()
    return _http_error(error)


def _rate_limited(error: HTTPException):  # type: ignore[no-untyped-def]
    from portal.public.views import report_after_rate_limit

    if request.endpoint == "public.report":
        response, _code = report_after_rate_limit()
        return response, 429
    return _http_error(error)
