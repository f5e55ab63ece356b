"""Who gets into the back office: login and logout, session expiry, safe 'next' redirects,
production cookie flags, and THE MATRIX - every back-office route × every role × every method,
derived from the URL map (routes added later are covered without touching this file).
Every test runs on SQLite and on PostgreSQL (the ``app`` fixture)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from werkzeug.routing import IntegerConverter, Rule

from portal import create_app
from portal.backoffice.access import LAST_SEEN, PUBLIC, allowed_roles
from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.photos import PhotoStore
from portal.domain.routing import LocationInput
from portal.domain.standard_texts import save_text
from portal.domain.users import create_user, update_user, verify_password
from portal.models import Attachment, Role, Signal, User
from portal.seeding import DEMO_PASSWORD
from portal.vocabulary import Kind, Theme
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    KERKELANDEN,
    MANAGEMENT,
    SANNE,
    db_session,
    intake_settings,
    login,
    make_signal,
    user_id,
)
from tests.test_config import STRONG_KEY

LOGIN = "/backoffice/login"
INBOX = "/backoffice/"
HOME = {"/backoffice/", "/backoffice/signalen"}  # where a login without a (safe) 'next' lands
GENERIC_ERROR = "Het e-mailadres of het wachtwoord klopt niet."
ROLE_USERS = {Role.ADMIN: ADMIN, Role.ACCOUNTMANAGER: ANNA, Role.MANAGEMENT: MANAGEMENT}
SAFE_METHODS = {"GET", "POST"}  # HEAD and OPTIONS follow GET / are answered by Flask itself


# --- helpers --------------------------------------------------------------------------------


def is_login_redirect(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code in (301, 302, 303, 307) and (
        urlsplit(response.headers.get("Location", "")).path == LOGIN
    )


def logged_in(client: FlaskClient) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def post_login(client: FlaskClient, email: str, password: str, query: str = ""):  # type: ignore[no-untyped-def]
    token = csrf_token(client, LOGIN)
    return client.post(
        LOGIN + query, data={"csrf_token": token, "email": email, "password": password}
    )


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 50, 50)).save(buffer, "PNG")
    return buffer.getvalue()


def signal_with_photo(app: Flask) -> tuple[str, int]:
    """A signal with one photo, through the intake operation; returns (reference, photo id)."""
    from portal.extensions import db

    with app.app_context():
        store = PhotoStore(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"])
        photo = store.accept(io.BytesIO(png_bytes()))
        result = submit_signal(
            db.session,
            Submission(
                kind=Kind.KNELPUNT,
                themes=[Theme.HEEL],
                title="Stoeptegel los",
                description="Een losse stoeptegel voor nummer 12; er is al iemand over gevallen.",
                location=LocationInput(buurt_code=KERKELANDEN),
                photos=[photo],
                reporter=ReporterInput(name="Jan", email="jan@example.nl", may_contact=True),
            ),
            intake_settings(app),
        )
        db.session.commit()
        attachment = db.session.scalars(
            select(Attachment).where(Attachment.signal_id == result.signal.id)
        ).one()
        return result.signal.reference, attachment.id


def standard_text_id(app: Flask) -> int:
    with db_session(app) as session:
        admin = session.scalars(select(User).where(User.email == ADMIN)).one()
        text = save_text(
            session,
            None,
            title="Bedankt",
            body="Bedankt voor uw melding.",
            status=None,
            kind=None,
            active=True,
            actor_id=admin.id,
        )
        session.commit()
        return text.id


# --- login and logout -----------------------------------------------------------------------


def test_login_succeeds_and_lands_in_the_inbox(client):
    response = post_login(client, ANNA, DEMO_PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] in HOME
    page = client.get(INBOX)
    assert page.status_code == 200
    assert "Anna de Vries" in page.get_data(as_text=True)


def test_login_is_case_insensitive_on_the_email_address(client):
    assert post_login(client, ANNA.upper(), DEMO_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("email", "password"),
    [(ANNA, "niet-het-wachtwoord"), ("niemand@hilversum.example", DEMO_PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_a_failed_login_says_the_same_whatever_was_wrong(client, email, password):
    response = post_login(client, email, password)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert GENERIC_ERROR in page
    assert "onbekend" not in page.lower()  # does not reveal which accounts exist
    assert not logged_in(client)
    assert is_login_redirect(client.get(INBOX))


def test_an_empty_login_form_shows_errors_next_to_the_fields(client):
    response = post_login(client, "", "")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Vul uw e-mailadres in." in page and "Vul uw wachtwoord in." in page


def test_an_inactive_user_cannot_log_in(app, client):
    with db_session(app) as session:
        admin_id = session.scalar(select(User.id).where(User.email == ADMIN))
        user = create_user(
            session,
            email="vertrokken@hilversum.example",
            name="Vertrokken Collega",
            role=Role.ACCOUNTMANAGER,
            password="een-goed-wachtwoord",
        )
        assert admin_id is not None
        update_user(
            session,
            user,
            name=user.name,
            email=user.email,
            role=user.role,
            wijk_codes=[],
            active=False,
            actor_id=admin_id,
        )
        session.commit()
    response = post_login(client, "vertrokken@hilversum.example", "een-goed-wachtwoord")
    assert response.status_code == 422
    assert GENERIC_ERROR in response.get_data(as_text=True)
    assert not logged_in(client)


def test_an_account_made_inactive_is_logged_out_on_its_next_request(app, client):
    login(client, SANNE)
    assert client.get(INBOX).status_code == 200
    with db_session(app) as session:
        sanne = session.scalars(select(User).where(User.email == SANNE)).one()
        sanne.active = False  # as an admin's deactivation would leave it
        session.commit()
    assert is_login_redirect(client.get(INBOX))


def test_passwords_are_stored_hashed(app):
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        assert anna.password_hash != DEMO_PASSWORD
        assert DEMO_PASSWORD not in anna.password_hash
        assert anna.password_hash.split(":")[0] in {"scrypt", "pbkdf2"}
        assert verify_password(anna, DEMO_PASSWORD)
        assert not verify_password(anna, DEMO_PASSWORD + "x")
        # A salt per user: the same password never gives the same hash.
        sanne = session.scalars(select(User).where(User.email == SANNE)).one()
        assert sanne.password_hash != anna.password_hash


def test_logout_needs_a_post_with_a_csrf_token_and_ends_the_session(client):
    login(client, ANNA)
    assert client.get("/backoffice/logout").status_code == 405
    refused = client.post("/backoffice/logout", data={})
    assert refused.status_code == 400  # no CSRF token: a link elsewhere cannot log you out
    assert logged_in(client)

    token = csrf_token(client, INBOX)
    response = client.post("/backoffice/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == LOGIN
    assert "U bent uitgelogd." in client.get(LOGIN).get_data(as_text=True)
    assert not logged_in(client)
    assert is_login_redirect(client.get(INBOX))


def test_login_starts_a_fresh_session(client):
    client.get(LOGIN)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, ANNA)
    with client.session_transaction() as session:
        assert "planted" not in session


# --- session expiry after inactivity --------------------------------------------------------


def set_last_seen(client: FlaskClient, minutes_ago: float) -> None:
    with client.session_transaction() as session:
        session[LAST_SEEN] = datetime.now(UTC).timestamp() - minutes_ago * 60


def test_a_session_idle_too_long_is_logged_out(app, client):
    assert app.config["BACKOFFICE_IDLE_MINUTES"] == 30
    login(client, ANNA)
    set_last_seen(client, 31)

    response = client.get("/backoffice/signalen?scope=all")
    assert is_login_redirect(response)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["expired"] == ["1"]
    assert query["next"] == ["/backoffice/signalen?scope=all"]
    assert not logged_in(client)
    notice = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "U was een tijd niet actief en bent uitgelogd." in notice

    # Logging in again brings the user back where they were.
    again = post_login(client, ANNA, DEMO_PASSWORD, "?next=/backoffice/signalen%3Fscope%3Dall")
    assert again.headers["Location"] == "/backoffice/signalen?scope=all"


def test_activity_keeps_the_session_alive(client):
    login(client, ANNA)
    set_last_seen(client, 29)
    assert client.get(INBOX).status_code == 200
    with client.session_transaction() as session:
        assert datetime.now(UTC).timestamp() - session[LAST_SEEN] < 60  # refreshed
    assert client.get(INBOX).status_code == 200


# --- where 'next' may lead ------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/backoffice",
        "https://evil.example",
        "https://evil.example/backoffice/",
        "/\\evil.example",
        "/backoffice\\@evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/status/abc",
        "/backoffice/\r\nSet-Cookie: x=y",
        "",
    ],
)
def test_next_only_leads_to_our_own_back_office(client, target):
    response = client.post(
        LOGIN,
        query_string={"next": target},
        data={"csrf_token": csrf_token(client, LOGIN), "email": ANNA, "password": DEMO_PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] in HOME
    # Already logged in: the login page redirects, just as carefully.
    again = client.get(LOGIN, query_string={"next": target})
    assert again.headers["Location"] in HOME


def test_next_to_an_own_back_office_page_is_followed(client):
    target = "/backoffice/signalen?scope=all&status=open"
    anonymous = client.get(target)
    assert is_login_redirect(anonymous)
    assert parse_qs(urlsplit(anonymous.headers["Location"]).query)["next"] == [target]
    response = post_login(
        client, ANNA, DEMO_PASSWORD, "?" + urlsplit(anonymous.headers["Location"]).query
    )
    assert response.headers["Location"] == target


# --- production cookies ---------------------------------------------------------------------


def test_production_session_cookie_is_secure_httponly_and_samesite(app_config):
    config = {k: v for k, v in app_config.items() if k != "TESTING"}
    config |= {
        "PORTAL_ENV": "production",
        "SECRET_KEY": STRONG_KEY,
        "OUTBOX_DELIVERY": "off",
        "PUBLIC_BASE_URL": "https://portal.test",
    }
    production = create_app(config)
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["SESSION_COOKIE_HTTPONLY"] is True
    assert production.config["SESSION_COOKIE_SAMESITE"] == "Lax"

    client = production.test_client()
    base = "https://portal.test"
    token = csrf_token(client, base + LOGIN)
    response = client.post(
        base + LOGIN,
        data={"csrf_token": token, "email": ANNA, "password": DEMO_PASSWORD},
        headers={"Referer": "https://portal.test/backoffice/login"},  # CSRF checks it on https
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite"} <= flags
    assert "SameSite=Lax" in cookie
    assert client.get(base + INBOX).status_code == 200


# --- the matrix -----------------------------------------------------------------------------


def backoffice_rules(app: Flask) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint.startswith("backoffice.")),
        key=lambda r: (r.rule, r.endpoint),
    )


def methods_of(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) & SAFE_METHODS)


class UrlValues:
    """Real values for URL variables (a real signal, photo, user, text, wijk and buurt).
    A variable nobody knows yet gets a placeholder, and a 404 is then accepted for it."""

    def __init__(self, app: Flask) -> None:
        reference, photo_id = signal_with_photo(app)
        self.known = {
            "reference": reference,
            "attachment_id": photo_id,
            "user_id": user_id(app, SANNE),
            "text_id": standard_text_id(app),
        }

    def path(self, rule: Rule) -> tuple[str, bool]:
        """The rule's URL and whether every value in it is real."""
        values: dict[str, object] = {}
        real = True
        for name in rule.arguments:
            if name == "code":
                values[name] = KERKELANDEN if "buurt" in rule.rule else "WK040203"
            elif name in self.known:
                values[name] = self.known[name]
            else:
                converter = rule._converters.get(name)
                values[name] = 1 if isinstance(converter, IntegerConverter) else "onbekend"
                real = False
        built = rule.build(values)
        assert built is not None, rule
        return built[1], real


def request(client: FlaskClient, method: str, path: str, token: str):  # type: ignore[no-untyped-def]
    if method == "POST":
        return client.post(path, data={"csrf_token": token})
    return client.get(path)


def test_every_back_office_route_states_its_roles(app):
    with app.app_context():
        missing = [r.endpoint for r in backoffice_rules(app) if allowed_roles(r.endpoint) is None]
    assert not missing, f"back-office views without a role list (refused for all): {missing}"


def test_a_view_without_a_role_list_is_refused_for_everyone(app, client):
    def forgotten():  # type: ignore[no-untyped-def]
        return "should never be shown"

    app.add_url_rule("/backoffice/vergeten", "backoffice.forgotten", forgotten)
    assert client.get("/backoffice/vergeten").status_code == 403
    login(client, ADMIN)
    assert client.get("/backoffice/vergeten").status_code == 403


@pytest.mark.parametrize("role", [*ROLE_USERS, None], ids=[*map(str, ROLE_USERS), "anonymous"])
def test_the_role_matrix(app, role):
    """Each role × each back-office rule × each method: allowed roles get in (not 401/403,
    not sent to the login page), other roles get 403, anonymous visitors go to the login page.
    POSTs carry a valid CSRF token, so a 403 is the role check and not the CSRF check."""
    values = UrlValues(app)
    client = app.test_client()

    def start() -> str:
        if role is not None:
            login(client, ROLE_USERS[role])
            return csrf_token(client, INBOX)
        return csrf_token(client, LOGIN)

    token = start()
    problems: list[str] = []
    checked = 0
    with app.app_context():
        expectations = {r.endpoint: allowed_roles(r.endpoint) for r in backoffice_rules(app)}
    for rule in backoffice_rules(app):
        allowed = expectations[rule.endpoint]
        path, real = values.path(rule)
        for method in methods_of(rule):
            response = request(client, method, path, token)
            checked += 1
            status = response.status_code
            where = f"{method} {path} ({rule.endpoint}) as {role or 'anonymous'}: {status}"
            if allowed == PUBLIC:
                if status in (401, 403) or status >= 500:
                    problems.append(f"{where}, public page refused")
            elif role is None:
                if not is_login_redirect(response):
                    problems.append(f"{where}, expected a redirect to the login page")
            elif allowed is not None and role in allowed:
                logged_out = rule.endpoint == "backoffice.logout" and is_login_redirect(response)
                if (status in (401, 403) or status >= 500 or is_login_redirect(response)) and (
                    not logged_out
                ):
                    problems.append(f"{where}, expected to be let in")
                if real and status == 404:
                    problems.append(f"{where}, not found with real URL values")
            elif status != 403:
                problems.append(f"{where}, expected 403")
            if role is not None and not logged_in(client):
                token = start()  # logging out is one of the routes
    assert checked >= len(expectations)
    assert not problems, "\n".join(problems)


def test_known_expectations_of_the_matrix(app):
    """A few rules spelled out, so that a mistake in the generic matrix cannot hide them."""
    with app.app_context():
        rules = backoffice_rules(app)
        roles = {r.endpoint: allowed_roles(r.endpoint) for r in rules}
    # Management reads everything and changes nothing: no POST but logging in and out and
    # looking after their own account.
    posts = {r.endpoint for r in rules if "POST" in (r.methods or set())}
    own = {"backoffice.login", "backoffice.logout"} | {
        r.endpoint for r in rules if r.rule.startswith("/backoffice/account")
    }
    assert posts - own, "no back-office actions found"
    for endpoint in posts - own:
        assert Role.MANAGEMENT not in (roles[endpoint] or ()), endpoint
    # Only admins reach the admin screens.
    admin_endpoints = {r.endpoint for r in rules if r.rule.startswith("/backoffice/beheer")}
    assert "backoffice.admin_home" in admin_endpoints
    for endpoint in admin_endpoints:
        assert roles[endpoint] == frozenset({Role.ADMIN}), endpoint
    # Every staff role reads the inbox; only the login page is public.
    assert roles["backoffice.inbox"] == frozenset(Role)
    # Public: the login steps and the page behind a set-password link (its token is the key).
    assert sorted(e for e, r in roles.items() if r == PUBLIC) == [
        "backoffice.login",
        "backoffice.login_code",
        "backoffice.set_password_page",
    ]


@pytest.mark.parametrize(
    ("email", "status"), [(ADMIN, 200), (ANNA, 403), (MANAGEMENT, 403)], ids=["admin", "am", "mgt"]
)
def test_only_admins_reach_beheer(client, email, status):
    login(client, email)
    assert client.get("/backoffice/beheer").status_code == status


def test_management_cannot_post_a_status_change(app, client):
    # A missing (renamed, removed) status action must fail here, never skip unseen.
    assert "backoffice.signal_status" in app.view_functions, "the status action is gone"
    reference, _token = make_signal(app)
    login(client, MANAGEMENT)
    token = csrf_token(client, INBOX)
    with app.test_request_context():
        path = url_for("backoffice.signal_status", reference=reference)
    response = client.post(
        path,
        data={"csrf_token": token, "status": "in_progress", "message": "Ik pak het op."},
    )
    assert response.status_code == 403
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        assert signal.status == "received"


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for path in (INBOX, "/backoffice/signalen", "/backoffice/beheer"):
        response = client.get(path)
        assert is_login_redirect(response), path
        assert parse_qs(urlsplit(response.headers["Location"]).query)["next"][0].startswith(path)
