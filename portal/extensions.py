"""The Flask extensions, created once and bound to an app in ``create_app``."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale
from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel, get_translations
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_wtf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from portal.database import make_engine
from portal.domain.ids import parse_id
from portal.mail_templates import JinjaMailRenderer

csrf = CSRFProtect()
mail = Mail()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()


class Database:
    """One engine per app; one session per app context, closed when the context ends."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], echo=app.config["DATABASE_ECHO"])
        app.extensions["portal.db"] = sessionmaker(engine, expire_on_commit=False)
        app.teardown_appcontext(self._close)

    @staticmethod
    def _factory(app: Flask | None = None) -> sessionmaker[Session]:
        from flask import current_app

        return (app or current_app).extensions["portal.db"]

    def engine(self, app: Flask | None = None) -> Engine:
        return self._factory(app).kw["bind"]

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self._factory()()
        return g.db_session

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        db_session = g.pop("db_session", None)
        if db_session is not None:
            db_session.close()


db = Database()


def select_locale() -> Locale:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang") if request else None
    if wanted in languages:
        session["lang"] = wanted
        return _locale(wanted)
    if session.get("lang") in languages:
        return _locale(session["lang"])
    return _locale(current_app.config["BABEL_DEFAULT_LOCALE"])


@lru_cache(maxsize=8)
def _locale(code: str) -> Locale:
    # flask-babel parses what the selector returns on every request; a Locale it takes as is.
    return Locale.parse(code)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signer made once per set of keys: Flask makes
    it anew twice a request (reading the cookie, writing it), 35 µs of a cached page."""

    def get_signing_serializer(self, app: Flask):  # type: ignore[no-untyped-def]
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        kept = getattr(self, "_kept", None)
        if kept is None or kept[0] != keys:
            kept = self._kept = (keys, super().get_signing_serializer(app))
        return kept[1]


def init_app(app: Flask) -> None:
    from portal.paths import resource_dir

    app.session_interface = SessionCookies()
    db.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    _limit_only_where_decorated(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(resource_dir("translations")),
    )
    _install_fast_template_gettext(app)
    login_manager.init_app(app)
    login_manager.login_view = "backoffice.login"
    login_manager.login_message = None  # the login page says it itself
    login_manager.user_loader(_load_user)
    app.extensions["portal.mail_renderer"] = JinjaMailRenderer(app.config["ORGANISATION_NAME"])
    from portal import outbox

    outbox.init_app(app)  # after db: it listens on the session factory


# Limits flask-limiter applies to routes without a decorator of their own; the portal sets none.
_LIMITS_FOR_EVERY_ROUTE = (
    "RATELIMIT_DEFAULT",
    "RATELIMIT_APPLICATION",
    "RATELIMIT_META",
    "RATELIMIT_IN_MEMORY_FALLBACK",
)


def _limit_only_where_decorated(app: Flask) -> None:
    """Every limit here is a route's own ``@limiter.limit``, which checks itself when the view
    is called. flask-limiter also checks every request before it reaches its view, for default
    and application-wide limits: with none set, that finds nothing, at 0.1 ms a page (a tenth
    of a cached status page, bench/README.md). So that hook goes, unless such limits are set."""
    if any(app.config.get(name) for name in _LIMITS_FOR_EVERY_ROUTE):
        return
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks if getattr(hook, "__self__", None) is not limiter]


def _request_translations():  # type: ignore[no-untyped-def]
    """The request's translations, looked up once: flask-babel's own lookup walks the app
    context, the domain and the locale on every string (about 10 µs each, a hundred strings a
    page). The locale is fixed for a request once chosen (select_locale), so is this."""
    try:
        return g._portal_translations
    except AttributeError:
        g._portal_translations = translations = get_translations()
        return translations


def _install_fast_template_gettext(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        newstyle=True,
    )


def _load_user(user_id: str):  # type: ignore[no-untyped-def]
    """The logged-in user, checked on every request: an account that was deactivated, or
    whose sessions were ended (logout, new password, ...) since this one began, is nobody."""
    from portal.backoffice.access import SESSION_EPOCH
    from portal.models import User

    number = parse_id(user_id)
    user = db.session.get(User, number) if number is not None else None
    if user is None or not user.active or session.get(SESSION_EPOCH) != user.session_epoch:
        return None
    return user
