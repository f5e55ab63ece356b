"""The session cookie's signer is made once per set of keys (portal/extensions.py,
SessionCookies): a new secret key, or one moved to SECRET_KEY_FALLBACKS, must take effect at
once, as with Flask's own signer, and not be hidden by the one kept."""

from __future__ import annotations

import pytest
from flask import Flask, session

from portal import create_app

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _probe(app: Flask) -> Flask:
    @app.get("/_probe/set")
    def probe_set():  # type: ignore[no-untyped-def]
        session["probe"] = "bewaard"
        return "ok"

    @app.get("/_probe/get")
    def probe_get():  # type: ignore[no-untyped-def]
        return session.get("probe", "leeg")

    return app


def test_a_new_key_takes_effect_and_fallbacks_still_read_old_cookies(app_config) -> None:
    app = _probe(create_app({**app_config, "SECRET_KEY": "eerste-sleutel"}))
    client = app.test_client()
    client.get("/_probe/set")
    assert client.get("/_probe/get").get_data(as_text=True) == "bewaard"

    app.secret_key = "tweede-sleutel"  # rotated, the old one kept as a fallback
    app.config["SECRET_KEY_FALLBACKS"] = ["eerste-sleutel"]
    assert client.get("/_probe/get").get_data(as_text=True) == "bewaard"

    app.config["SECRET_KEY_FALLBACKS"] = []  # the old one dropped: its cookie says nothing
    assert client.get("/_probe/get").get_data(as_text=True) == "leeg"
