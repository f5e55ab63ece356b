"""Production refuses what the security review could exploit: a guessable SECRET_KEY, mail
links made from the Host header, rate limits counted per worker; and every response carries
strict headers (CSP, HSTS in production, Permissions-Policy, no caching of private pages)."""

from __future__ import annotations

import logging

import pytest

from portal.config import ConfigurationError
from tests.conftest import CSRF_INPUT
from tests.factories import ANNA, login, make_signal
from tests.test_config import BASE_URL, STRONG_KEY, instance, make_app  # noqa: F401 - fixtures

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def production(make_app, **config: object):  # noqa: F811 - the fixture, passed in
    values = {"PORTAL_ENV": "production", "SECRET_KEY": STRONG_KEY, "PUBLIC_BASE_URL": BASE_URL}
    return make_app({**values, **config})


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("changemechangemechangemechangeme", id="review-example"),
        pytest.param("a" * 64, id="one-character"),
        pytest.param("abcdefghabcdefghabcdefghabcdefgh", id="eight-characters-repeated"),
        pytest.param("Xq7-secret-Lm2_Rz9-Tk4wYpN8sJd3HfGc6", id="known-word"),
        pytest.param("q7Vb2_LmXz9RkT4wYpN8sJd3HfG", id="27-characters"),
    ],
)
def test_production_refuses_a_guessable_secret_key(make_app, key):  # noqa: F811
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        production(make_app, SECRET_KEY=key)


@pytest.mark.parametrize(
    "base_url",
    ["", "wijkzaken.hilversum.example", "http://wijkzaken.hilversum.example", "ftp://x.example"],
)
def test_production_refuses_to_start_without_an_https_public_base_url(make_app, base_url):  # noqa: F811
    with pytest.raises(ConfigurationError, match="PUBLIC_BASE_URL"):
        production(make_app, PUBLIC_BASE_URL=base_url)


def test_an_explicit_trusted_hosts_list_is_kept(make_app):  # noqa: F811
    app = production(make_app, TRUSTED_HOSTS=["wijkzaken.hilversum.example", "intern.example"])
    client = app.test_client()
    assert client.get("/privacy", base_url="https://intern.example").status_code == 200
    assert client.get("/privacy", base_url="https://evil.example").status_code == 400


@pytest.mark.parametrize(
    ("key", "accepted"),
    [
        pytest.param("q7Vb2_LmXz9RkT4wYpN8sJd3HfGc6Ae1", True, id="32-characters"),
        pytest.param("q7Vb2_LmXz9RkT4wYpN8sJd3HfGc6Ae", False, id="31-characters"),
        pytest.param("abcdefghijklmnopabcdefghijklmnop", True, id="16-different"),
        pytest.param("abcdefghijklmnoaabcdefghijklmnoa", False, id="15-different"),
    ],
)
def test_the_secret_key_limits_are_exact(make_app, key, accepted):  # noqa: F811
    if accepted:
        assert production(make_app, SECRET_KEY=key).config["SECRET_KEY"] == key
    else:
        with pytest.raises(ConfigurationError, match="SECRET_KEY"):
            production(make_app, SECRET_KEY=key)


def test_production_answers_only_its_own_host(make_app):  # noqa: F811
    app = production(make_app)
    client = app.test_client()
    assert client.get("/privacy", base_url=BASE_URL).status_code == 200
    forged = client.get("/status/opvragen", base_url="http://evil.example")
    assert forged.status_code == 400


@SQLITE_ONLY
def test_a_forged_host_never_reaches_a_mail_link(app, client, smtp):
    """Even in development (no TRUSTED_HOSTS) links come from PUBLIC_BASE_URL when it is set."""
    reference, _token = make_signal(app)
    before = len(smtp.wait_for(2))  # the confirmation and the owner's mail

    forged = {"Host": "evil.example"}
    html = client.get("/status/opvragen", headers=forged).get_data(as_text=True)
    token = CSRF_INPUT.search(html).group(1)
    response = client.post(
        "/status/opvragen",
        data={"csrf_token": token, "reference": reference, "email": "bewoner@example.nl"},
        headers=forged,
    )
    assert response.status_code == 303
    body = smtp.wait_for(before + 1)[before].get_body(("plain",)).get_content()
    assert "evil.example" not in body
    assert "http://portal.test/status/" in body


def test_memory_rate_limits_in_production_are_warned_about(make_app, caplog):  # noqa: F811
    with caplog.at_level(logging.WARNING, logger="portal.config"):
        production(make_app)
    assert any("redis://" in record.getMessage() for record in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="portal.config"):
        production(make_app, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1")
    assert not any("redis://" in record.getMessage() for record in caplog.records)


# --- headers ---------------------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize("path", ["/", "/melden", "/status/opvragen", "/backoffice/login"])
def test_strict_content_security_policy(client, path):
    policy = client.get(path).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@SQLITE_ONLY
def test_map_tiles_are_the_only_outside_images(client, make_app):  # noqa: F811
    # Tests run without tiles: images from our own origin only.
    offline = dict(
        part.strip().split(" ", 1)
        for part in client.get("/melden").headers["Content-Security-Policy"].split(";")
    )
    assert offline["img-src"] == "'self' data: blob:"
    tiles = (
        "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png"
    )
    with_tiles = make_app({"TESTING": True, "MAP_TILE_URL": tiles}).test_client()
    policy = with_tiles.get("/privacy").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["img-src"] == "'self' data: blob: https://service.pdok.nl"
    # Scripts, styles and connections stay our own.
    assert directives["script-src"] == directives["connect-src"] == "'self'"


@SQLITE_ONLY
def test_permissions_policy_switches_off_what_the_portal_never_uses(client):
    policy = client.get("/").headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "payment=()"):
        assert feature in policy


@SQLITE_ONLY
def test_hsts_only_in_production(client, make_app):  # noqa: F811
    assert "Strict-Transport-Security" not in client.get("/").headers
    app = production(make_app)
    response = app.test_client().get("/", base_url=BASE_URL)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(response.headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= (
        365 * 24 * 3600
    )


@SQLITE_ONLY
def test_every_backoffice_and_status_response_is_not_stored(app, client):
    reference, token = make_signal(app)
    login(client, ANNA)
    for path in (
        "/backoffice/",
        f"/backoffice/signalen/{reference}",
        "/backoffice/beheer",  # 403 for an accountmanager: still never cached
        "/backoffice/login",
        f"/status/{token}",
        "/status/opvragen",
        "/status/bestaat-niet",
    ):
        response = client.get(path)
        assert "no-store" in response.headers["Cache-Control"], path
    assert "no-store" not in client.get("/privacy").headers.get("Cache-Control", "")
