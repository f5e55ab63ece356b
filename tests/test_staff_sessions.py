"""Staff sessions end when they should (logout, new password, deactivation, "log out
everywhere"), logins give nothing away, and an account is locked after a run of failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.domain import passwords
from portal.domain.login import MAX_FAILURES
from portal.models import AuditRecord, User
from portal.seeding import DEMO_PASSWORD
from tests.conftest import csrf_token
from tests.factories import ADMIN, ANNA, SANNE, db_session, login, user_id

INBOX = "/backoffice/"
LOGIN = "/backoffice/login"
NEW_PASSWORD = "Zonnige-fiets-38-Kerkelanden"


def copy_of(app, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of this one's session cookie."""
    other = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    other.set_cookie("session", cookie.value)
    return other


def is_logged_in(client: FlaskClient) -> bool:
    return client.get(INBOX).status_code == 200


def post(client: FlaskClient, path: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, INBOX), **data})


def try_login(client: FlaskClient, email: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, LOGIN)
    return client.post(LOGIN, data={"csrf_token": token, "email": email, "password": password})


def test_a_copied_cookie_dies_with_logout(app, client):
    login(client, ANNA)
    stolen = copy_of(app, client)
    assert is_logged_in(stolen)
    assert post(client, "/backoffice/logout").status_code == 303
    assert not is_logged_in(stolen)
    assert not is_logged_in(client)


def test_a_new_password_set_by_an_admin_ends_the_old_sessions(app, client):
    login(client, SANNE)
    admin = login(app.test_client(), ADMIN)
    response = post(
        admin,
        f"/backoffice/beheer/gebruikers/{user_id(app, SANNE)}/wachtwoord",
        password=NEW_PASSWORD,
    )
    assert response.status_code == 303
    assert not is_logged_in(client)
    assert is_logged_in(admin)


def test_deactivation_ends_the_sessions_at_the_next_click(app, client):
    login(client, SANNE)
    with db_session(app) as session:
        sanne = session.scalars(select(User).where(User.email == SANNE)).one()
        sanne.active = False
        session.commit()
    assert not is_logged_in(client)


def test_log_out_everywhere_keeps_only_this_session(app, client):
    login(client, ANNA)
    laptop = login(app.test_client(), ANNA)
    response = post(client, "/backoffice/account/overal-uitloggen")
    assert response.status_code == 303
    assert "alle andere apparaten" in client.get("/backoffice/account").get_data(as_text=True)
    assert is_logged_in(client)
    assert not is_logged_in(laptop)


def test_changing_my_password(app, client):
    login(client, ANNA)
    phone = login(app.test_client(), ANNA)
    wrong = post(
        client,
        "/backoffice/account/wachtwoord",
        current_password="niet-mijn-wachtwoord",
        new_password=NEW_PASSWORD,
        repeat_password=NEW_PASSWORD,
    )
    assert wrong.status_code == 422
    assert "Uw huidige wachtwoord klopt niet" in wrong.get_data(as_text=True)
    for weak, words in (
        ("kort", "minstens 12 tekens"),
        ("annadevries2026", "niet uw naam of uw e-mailadres"),
        ("Wachtwoord2026!", "veel gebruikt"),
    ):
        response = post(
            client,
            "/backoffice/account/wachtwoord",
            current_password=DEMO_PASSWORD,
            new_password=weak,
            repeat_password=weak,
        )
        assert response.status_code == 422, weak
        assert words in response.get_data(as_text=True), weak
    assert is_logged_in(phone)

    done = post(
        client,
        "/backoffice/account/wachtwoord",
        current_password=DEMO_PASSWORD,
        new_password=NEW_PASSWORD,
        repeat_password=NEW_PASSWORD,
    )
    assert done.status_code == 303
    assert is_logged_in(client)
    assert not is_logged_in(phone)
    assert try_login(app.test_client(), ANNA, NEW_PASSWORD).status_code == 303


def test_repeated_failures_lock_the_account_and_mail_its_holder(app, client, smtp):
    for _attempt in range(MAX_FAILURES):
        assert try_login(client, ANNA, "verkeerd-wachtwoord").status_code == 422
    [mail] = smtp.wait_for(1)
    assert ANNA in str(mail["To"])
    assert "geblokkeerd" in str(mail["Subject"])
    # Locked: even the right password is refused, with the same answer as a wrong one.
    refused = try_login(client, ANNA, DEMO_PASSWORD)
    assert refused.status_code == 422
    assert "klopt niet" in refused.get_data(as_text=True)
    # Once the lock has run out the right password works again, and the count starts over.
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        assert anna.locked_until is not None
        anna.locked_until = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()
    assert try_login(client, ANNA, DEMO_PASSWORD).status_code == 303
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        assert anna.failed_logins == 0
        actions = session.scalars(select(AuditRecord.action)).all()
        assert "user.locked" in actions


def test_fewer_failures_than_the_limit_do_not_lock(client, smtp):
    for _attempt in range(MAX_FAILURES - 1):
        try_login(client, ANNA, "verkeerd-wachtwoord")
    assert try_login(client, ANNA, DEMO_PASSWORD).status_code == 303
    assert smtp.messages == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_login_checks_one_password_hash(app, client, monkeypatch):
    """Unknown, inactive, locked and real accounts cost the same work: one hash check each
    (an unknown address used to skip it and answer ~15× faster)."""
    checked: list[str] = []
    real_check = passwords.check_password_hash

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real_check(password_hash, password)

    monkeypatch.setattr(passwords, "check_password_hash", counting)
    with db_session(app) as session:
        sanne = session.scalars(select(User).where(User.email == SANNE)).one()
        sanne.active = False
        session.commit()
    for email in ("niemand@hilversum.example", SANNE, ANNA):
        checked.clear()
        try_login(client, email, "verkeerd-wachtwoord")
        assert len(checked) == 1, email
        assert checked[0].startswith("scrypt:"), email
