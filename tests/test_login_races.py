"""Two login requests for one account at the same moment, on SQLite and PostgreSQL: request A
runs up to (not including) its commit, then B runs in another thread and A commits while B
waits for A's write. A code from the app, or a recovery code, then lets in one of them only
(B must not replay what A used), and two wrong passwords both count towards the lock (B must
not overwrite A's count with one it read before A committed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp
from flask import Flask
from sqlalchemy import select

from portal.domain import login, two_factor
from portal.models import User
from portal.public.services import mail_context
from tests.factories import ANNA, db_session

WAIT = 30  # seconds; only reached when something is broken
HOLD = 0.3  # A holds its write this long before committing: B is waiting by then


def anna_in(session) -> User:  # type: ignore[no-untyped-def]
    return session.scalars(select(User).where(User.email == ANNA)).one()


def enrolled(app: Flask) -> tuple[str, list[str]]:
    """Anna with two-step login: her secret and recovery codes."""
    secret = pyotp.random_base32()
    now = datetime.now(UTC)
    with db_session(app) as session:
        user = anna_in(session)
        user.totp_pending_secret = secret
        earlier = pyotp.TOTP(secret).at(now - timedelta(seconds=30))
        codes = two_factor.enable(session, user, earlier, now)
        session.commit()
    return secret, codes


def at_once(app: Flask, operation: Callable[..., object]) -> tuple[object, object]:
    """A runs ``operation`` and holds it uncommitted while B runs it; A then commits."""
    with app.test_request_context(), db_session(app) as first:
        a = operation(first, anna_in(first))
        results: list[object] = []

        def second() -> None:
            with app.test_request_context(), db_session(app) as session:
                results.append(operation(session, anna_in(session)))
                session.commit()

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(HOLD)
        first.commit()
        thread.join(WAIT)
        assert not thread.is_alive(), "B never finished"
    return a, results[0]


def test_one_code_lets_in_one_request(app: Flask) -> None:
    secret, _codes = enrolled(app)
    code = pyotp.TOTP(secret).now()
    now = datetime.now(UTC)
    a, b = at_once(app, lambda session, user: two_factor.verify(session, user, code, now))
    assert (a, b) == (True, False)


def test_one_recovery_code_lets_in_one_request(app: Flask) -> None:
    _secret, codes = enrolled(app)
    now = datetime.now(UTC)
    a, b = at_once(app, lambda session, user: two_factor.verify(session, user, codes[0], now))
    assert (a, b) == (True, False)


def test_two_wrong_passwords_at_once_both_count(app: Flask) -> None:
    now = datetime.now(UTC)

    def wrong(session, user):  # type: ignore[no-untyped-def]
        return login.record_failure(session, user, now=now, mail=mail_context())

    at_once(app, wrong)
    with db_session(app) as session:
        assert anna_in(session).failed_logins == 2
