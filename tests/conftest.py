"""Fixtures in the style of the Flask tutorial: ``app``, ``client``, ``runner``, plus real
databases (SQLite and PostgreSQL) and a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from portal import create_app
from portal.extensions import db

pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.mailserver",
    "tests.fixtures.browser",
    "tests.fixtures.redis",
]


def app_settings(database_url: str, mail_port: int, tmp_path: Path) -> dict[str, object]:
    """The tests' settings for an app on ``database_url`` and a mail server on ``mail_port``."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": mail_port,
        "OUTBOX_DELIVERY": "sync",
        "RATELIMIT_ENABLED": False,
        "PUBLIC_BASE_URL": "http://portal.test",
        # Offline, as CI is: no map tiles (a test that wants them serves its own).
        "MAP_TILE_URL": "",
    }


@pytest.fixture
def app_config(database_url: str, smtp, tmp_path: Path) -> dict[str, object]:
    return app_settings(database_url, smtp.port, tmp_path)


@pytest.fixture
def app(app_config: dict[str, object]) -> Iterator[Flask]:
    app = create_app(app_config)
    yield app
    with app.app_context():
        db.engine().dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask):
    """A database session inside an app context, for arranging and checking state."""
    with app.app_context():
        yield db.session


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form on ``url``, as a browser would find it."""
    html = client.get(url).get_data(as_text=True)
    match = CSRF_INPUT.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)
