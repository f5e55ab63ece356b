"""Configuration: the loading order from DESIGN.md, the production safety check, security
headers, and the SQLite connection settings."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, request
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal import create_app, migrate
from portal.config import DEFAULT_SECRET_KEY, ConfigurationError
from portal.extensions import db
from portal.models import Buurt

# As `secrets.token_urlsafe(48)` makes them (a fixed one, so failures are reproducible).
STRONG_KEY = "q7Vb2_LmXz9RkT4wYpN8sJd3HfGc6Ae1Uo5Ki0Zr-WtBnMvQx"
BASE_URL = "https://wijkzaken.hilversum.example"


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary instance folder (Flask would use the project's ``instance/``) and an
    environment without PORTAL_* or FLASK_DEBUG variables."""
    for name in list(os.environ):
        if name.startswith("PORTAL_") or name == "FLASK_DEBUG":
            monkeypatch.delenv(name)
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(folder))
    return folder


@pytest.fixture
def make_app(instance: Path) -> Iterator[Callable[..., Flask]]:
    """create_app with a database in the temporary instance folder; engines are disposed."""
    apps: list[Flask] = []

    def make(config: dict[str, object] | None = None) -> Flask:
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine().dispose()


def write_instance_config(instance: Path, **values: object) -> None:
    lines = [f"{key} = {value!r}" for key, value in values.items()]
    (instance / "config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- loading order --------------------------------------------------------------------------


def test_defaults(make_app, instance):
    app = make_app({"TESTING": True})
    assert Path(app.instance_path) == instance
    assert app.config["REFERENCE_PREFIX"] == "HLV"
    assert app.config["MAX_PHOTOS"] == 3
    assert app.config["MAX_PHOTO_BYTES"] == 10 * 1024 * 1024
    assert app.config["RESPONSE_WORKING_DAYS"] == 3
    assert app.config["UPLOAD_FOLDER"] == str(instance / "uploads")
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'portal.sqlite3'}"
    assert app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY
    # flask-mail would drop every message when TESTING; the portal's tests need real mail.
    assert app.extensions["mail"].suppress is False


def test_instance_config_beats_the_defaults(make_app, instance):
    write_instance_config(instance, REFERENCE_PREFIX="INS", MAX_PHOTOS=5, MAIL_PORT=2500)
    app = make_app({"TESTING": True})
    assert app.config["REFERENCE_PREFIX"] == "INS"
    assert app.config["MAX_PHOTOS"] == 5
    assert app.config["MAIL_PORT"] == 2500
    assert app.config["RESPONSE_WORKING_DAYS"] == 3  # untouched default


def test_environment_beats_instance_config_and_is_parsed_as_json(make_app, instance, monkeypatch):
    write_instance_config(instance, REFERENCE_PREFIX="INS", MAX_PHOTOS=5, MAIL_USE_TLS=True)
    monkeypatch.setenv("PORTAL_REFERENCE_PREFIX", '"ENV"')
    monkeypatch.setenv("PORTAL_MAX_PHOTOS", "7")
    monkeypatch.setenv("PORTAL_MAIL_PORT", "2525")
    monkeypatch.setenv("PORTAL_MAIL_USE_TLS", "false")
    monkeypatch.setenv("PORTAL_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("PORTAL_LANGUAGES", '["nl"]')
    monkeypatch.setenv("PORTAL_MAIL_SERVER", "smtp.hilversum.example")  # not JSON: a string

    app = make_app({"TESTING": True})

    assert app.config["REFERENCE_PREFIX"] == "ENV"
    assert app.config["MAX_PHOTOS"] == 7
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["MAIL_USE_TLS"] is False
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["LANGUAGES"] == ["nl"]
    assert app.config["MAIL_SERVER"] == "smtp.hilversum.example"
    # The extensions read their own keys from the same config.
    assert app.extensions["mail"].port == 2525
    assert app.extensions["mail"].use_tls is False


def test_mapping_beats_everything(make_app, instance, monkeypatch):
    write_instance_config(instance, REFERENCE_PREFIX="INS", MAX_PHOTOS=5)
    monkeypatch.setenv("PORTAL_REFERENCE_PREFIX", '"ENV"')
    monkeypatch.setenv("PORTAL_MAX_PHOTOS", "7")
    app = make_app({"TESTING": True, "REFERENCE_PREFIX": "MAP"})
    assert app.config["REFERENCE_PREFIX"] == "MAP"
    assert app.config["MAX_PHOTOS"] == 7


def test_environment_sets_the_database_and_upload_folder(make_app, instance, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'elders.sqlite3'}"
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    monkeypatch.setenv("PORTAL_UPLOAD_FOLDER", str(tmp_path / "fotos"))
    app = make_app({"TESTING": True})
    assert app.config["DATABASE_URL"] == url
    assert app.config["UPLOAD_FOLDER"] == str(tmp_path / "fotos")
    with app.app_context():
        assert str(db.engine().url) == url


def test_unknown_outbox_delivery_mode_is_refused(make_app):
    with pytest.raises(ValueError, match="OUTBOX_DELIVERY"):
        make_app({"TESTING": True, "OUTBOX_DELIVERY": "smoke-signals"})


# --- production refuses a weak SECRET_KEY ---------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(None, id="default"),
        pytest.param("", id="empty"),
        pytest.param("x" * 23, id="short"),
        pytest.param(DEFAULT_SECRET_KEY, id="explicit-default"),
    ],
)
@pytest.mark.parametrize(
    "production",
    [
        pytest.param({"env": "production"}, id="PORTAL_ENV=production"),
        pytest.param({"env": "production", "TESTING": True}, id="PORTAL_ENV-beats-TESTING"),
        pytest.param({}, id="not-debug-not-testing"),
    ],
)
def test_production_refuses_a_weak_secret_key(make_app, monkeypatch, key, production):
    if production.get("env"):
        monkeypatch.setenv("PORTAL_ENV", production["env"])
    config: dict[str, object] = {k: v for k, v in production.items() if k != "env"}
    if key is not None:
        config["SECRET_KEY"] = key
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        make_app(config)


def test_production_refuses_a_weak_key_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("PORTAL_SECRET_KEY", "geheim")
    with pytest.raises(ConfigurationError):
        make_app()


def test_production_starts_with_a_strong_key(make_app, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("PORTAL_PUBLIC_BASE_URL", BASE_URL)
    app = make_app()
    assert app.config["SECRET_KEY"] == STRONG_KEY
    assert app.config["PORTAL_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True

    app_from_mapping = make_app({"SECRET_KEY": STRONG_KEY})  # production by default
    assert app_from_mapping.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("setup", "config"),
    [
        pytest.param({"PORTAL_ENV": "development"}, {}, id="PORTAL_ENV=development"),
        pytest.param({"FLASK_DEBUG": "1"}, {}, id="FLASK_DEBUG"),
        pytest.param({}, {"TESTING": True}, id="TESTING"),
    ],
)
def test_development_and_tests_start_with_the_default_key(make_app, monkeypatch, setup, config):
    for name, value in setup.items():
        monkeypatch.setenv(name, value)
    app = make_app(config)
    assert app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY
    assert not app.config.get("SESSION_COOKIE_SECURE")


@pytest.mark.parametrize("value", ["0", "false", "False", "no"])
def test_flask_debug_switched_off_keeps_the_production_gate(make_app, monkeypatch, value):
    """Mutant: any non-empty FLASK_DEBUG counted as debug. FLASK_DEBUG=0 says "no debug", so
    with PORTAL_ENV unset this is production: the development key is refused."""
    from portal.config import is_production

    monkeypatch.setenv("FLASK_DEBUG", value)
    with pytest.raises(ConfigurationError):
        make_app()
    with pytest.raises(ConfigurationError):
        make_app({"SECRET_KEY": DEFAULT_SECRET_KEY})
    assert is_production(Flask(__name__)) is True


@pytest.mark.parametrize("env", ["prod", "Production", "staging"])
def test_an_unknown_environment_name_is_refused(make_app, monkeypatch, env):
    monkeypatch.setenv("PORTAL_ENV", env)
    monkeypatch.setenv("PORTAL_SECRET_KEY", STRONG_KEY)
    with pytest.raises(ConfigurationError, match="PORTAL_ENV"):
        make_app()


def test_forwarded_headers_count_only_behind_a_trusted_proxy(make_app):
    seen: list[str | None] = []

    def remember(app: Flask) -> None:
        app.add_url_rule("/_addr", "addr", lambda: seen.append(request.remote_addr) or "ok")

    headers = {"X-Forwarded-For": "203.0.113.9"}
    for proxies in (0, 1):
        app = make_app({"TESTING": True, "TRUSTED_PROXIES": proxies})
        remember(app)
        app.test_client().get("/_addr", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert seen == ["10.0.0.2", "203.0.113.9"]


# --- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/melden", "/status/opvragen", "/privacy", "/bestaat-niet", "/status/onbekend"]
)
def test_security_headers(client, path):
    response = client.get(path)
    assert response.status_code in {200, 404}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer", "strict-origin"}
    if path.startswith(("/melden", "/status")):
        assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_lax(client):
    client.get("/melden")  # the CSRF token lives in the session
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"


# --- SQLite ---------------------------------------------------------------------------------


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(make_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'pragmas.sqlite3'}"
    migrate.upgrade(url)
    app = make_app({"TESTING": True, "DATABASE_URL": url})
    with app.app_context():
        session = db.session
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        # ... and the foreign keys are really enforced.
        session.add(Buurt(code="BU99999999", name="Nergens", wijk_code="WK999999"))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
        # Every new connection gets the same settings, not just the first.
        with db.engine().connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
