"""Two-step login for staff (TOTP + recovery codes): enrolment with a QR code, the code step
after the password, replay and lockout, required for everyone, and resets by admin and CLI."""

from __future__ import annotations

import hashlib
import re
import time

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.domain import two_factor
from portal.domain.login import MAX_FAILURES
from portal.models import RecoveryCode, User
from portal.seeding import DEMO_PASSWORD
from tests.conftest import csrf_token
from tests.factories import ADMIN, ANNA, db_session, login

PAGE = "/backoffice/account/tweestapsverificatie"
LOGIN = "/backoffice/login"
CODE = "/backoffice/login/code"
RECOVERY = re.compile(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>")


def anna(app: Flask) -> User:
    with db_session(app) as session:
        user = session.scalars(select(User).where(User.email == ANNA)).one()
        session.expunge(user)
        return user


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def enrol(app: Flask, client: FlaskClient) -> tuple[str, list[str]]:
    """Anna sets it up through the pages; returns (secret, recovery codes)."""
    page = client.get(PAGE).get_data(as_text=True)
    assert re.search(r'<svg role="img"[^>]* class="portal-qr"', page)
    secret = anna(app).totp_pending_secret
    assert secret is not None
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page
    token = csrf_token(client, PAGE)
    wrong = client.post(f"{PAGE}/aanzetten", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 422
    assert "Deze code klopt niet" in wrong.get_data(as_text=True)
    done = client.post(f"{PAGE}/aanzetten", data={"csrf_token": token, "code": code_at(secret)})
    assert done.status_code == 200
    codes = RECOVERY.findall(done.get_data(as_text=True))
    assert len(codes) == two_factor.RECOVERY_CODE_COUNT
    return secret, codes


def password_step(client: FlaskClient, password: str = DEMO_PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_token(client, LOGIN)
    return client.post(LOGIN, data={"csrf_token": token, "email": ANNA, "password": password})


def code_step(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, CODE)
    return client.post(CODE, data={"csrf_token": token, "code": code})


def is_logged_in(client: FlaskClient) -> bool:
    return client.get("/backoffice/").status_code == 200


def test_enrolment_stores_the_secret_and_only_hashes_of_the_recovery_codes(app, client):
    login(client, ANNA)
    other_browser = login(app.test_client(), ANNA)
    secret, codes = enrol(app, client)
    user = anna(app)
    assert user.totp_secret == secret and user.totp_pending_secret is None
    with db_session(app) as session:
        stored = session.scalars(select(RecoveryCode.code_hash)).all()
    assert sorted(stored) == sorted(
        hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes
    )
    assert is_logged_in(client)  # this session goes on ...
    assert not is_logged_in(other_browser)  # ... a change of 2FA ends the others


def test_login_needs_the_code_after_the_password(app, client):
    login(client, ANNA)
    secret, _codes = enrol(app, client)
    browser = app.test_client()
    response = password_step(browser)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(CODE)
    assert not is_logged_in(browser)  # a right password alone opens nothing
    assert code_step(browser, "123456").status_code == 422
    code = code_at(secret, 1)
    assert code_step(browser, code).status_code == 303
    assert is_logged_in(browser)

    # The same code cannot be used twice (someone who saw it over a shoulder). The very
    # string: worked out again, it is the next step's code once a 30-second step has passed.
    thief = app.test_client()
    password_step(thief)
    assert code_step(thief, code).status_code == 422
    assert not is_logged_in(thief)


def test_a_recovery_code_works_once(app, client):
    login(client, ANNA)
    _secret, codes = enrol(app, client)
    first = app.test_client()
    password_step(first)
    assert code_step(first, codes[0].upper().replace("-", " ")).status_code == 303
    second = app.test_client()
    password_step(second)
    assert code_step(second, codes[0]).status_code == 422


def test_wrong_codes_lock_the_account(app, client, smtp):
    login(client, ANNA)
    enrol(app, client)
    browser = app.test_client()
    password_step(browser)
    for _attempt in range(MAX_FAILURES):
        code_step(browser, "000000")
    assert anna(app).locked_until is not None
    assert any("geblokkeerd" in str(m["Subject"]) for m in smtp.wait_for(1))


def test_required_for_everyone_sends_staff_to_enrolment_first(app, client):
    admin = login(app.test_client(), ADMIN)
    token = csrf_token(admin, "/backoffice/beheer")
    response = admin.post(
        "/backoffice/beheer/tweestapsverificatie",
        data={"csrf_token": token, "required_for_all": "y"},
    )
    assert response.status_code == 303
    login(client, ANNA)
    inbox = client.get("/backoffice/")
    assert inbox.status_code == 302
    assert inbox.headers["Location"].endswith(PAGE)
    assert client.get("/backoffice/signalen/HLV-2026-000001").status_code == 302
    enrol(app, client)
    assert is_logged_in(client)


def test_admins_must_use_it_in_production() -> None:
    admin, manager = User(role="admin"), User(role="accountmanager")

    class NoSettings:
        def get(self, *_args):  # type: ignore[no-untyped-def]
            return None

    session = NoSettings()
    assert two_factor.is_required(session, admin, production=True)  # type: ignore[arg-type]
    assert not two_factor.is_required(session, admin, production=False)  # type: ignore[arg-type]
    assert not two_factor.is_required(session, manager, production=True)  # type: ignore[arg-type]


def test_an_admin_switches_it_off_for_a_lost_phone(app, client):
    login(client, ANNA)
    enrol(app, client)
    admin = login(app.test_client(), ADMIN)
    url = f"/backoffice/beheer/gebruikers/{anna(app).id}"
    assert "Tweestapsverificatie uitzetten" in admin.get(url).get_data(as_text=True)
    response = admin.post(
        f"{url}/tweestapsverificatie", data={"csrf_token": csrf_token(admin, url)}
    )
    assert response.status_code == 303
    assert anna(app).totp_secret is None
    assert not is_logged_in(client)
    browser = app.test_client()
    assert password_step(browser).headers["Location"].endswith("/backoffice/signalen")


def test_the_cli_resets_it(app, client, runner):
    login(client, ANNA)
    enrol(app, client)
    result = runner.invoke(args=["users", "reset-2fa", "--email", ANNA.upper()])
    assert result.exit_code == 0, result.output
    assert anna(app).totp_secret is None
    unknown = runner.invoke(args=["users", "reset-2fa", "--email", "niemand@hilversum.example"])
    assert unknown.exit_code != 0
