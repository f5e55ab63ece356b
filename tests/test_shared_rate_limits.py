"""Finding 9 of the security review: with 4 gunicorn workers and ``memory://`` storage, 35 of
40 bad logins in a minute got through a limit of 10, because every worker counted on its own.
With Redis storage the workers share one count. Real gunicorn, real redis-server."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fixtures.servers import GUNICORN, gunicorn, portal_env, wait_until_up

LIMIT = 10
ATTEMPTS = 24
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@contextmanager
def portal_server(database_url: str, storage_uri: str, tmp_path: Path) -> Iterator[str]:
    env = portal_env(
        {
            "PORTAL_ENV": "development",
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_RATELIMIT_STORAGE_URI": storage_uri,
            "PORTAL_LOGIN_RATE_LIMIT": f"{LIMIT} per minute",
            "PORTAL_OUTBOX_DELIVERY": "off",
            "PORTAL_UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )
    with gunicorn(env, tmp_path / "gunicorn.log", workers=2) as server:
        wait_until_up(server)
        yield server.base


def bad_login(base: str, n: int) -> int:
    """One browser: load the login form, send a wrong password; returns the status."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/backoffice/login", timeout=30).read().decode()
    match = CSRF.search(page)
    assert match, page[:300]
    body = urllib.parse.urlencode(
        {
            "csrf_token": match.group(1),
            "email": f"niemand{n}@hilversum.example",
            "password": "verkeerd-wachtwoord",
        }
    ).encode()
    try:
        return opener.open(base + "/backoffice/login", data=body, timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code


def statuses(base: str) -> list[int]:
    # Several at once, so both workers are busy hashing and both take requests.
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda n: bad_login(base, n), range(ATTEMPTS)))


def test_two_workers_share_one_login_limit_in_redis(database_url, redis_url, tmp_path):
    assert GUNICORN.exists(), "gunicorn is not installed in the virtualenv"
    with portal_server(database_url, redis_url, tmp_path) as base:
        shared = statuses(base)
    assert sorted(set(shared)) == [422, 429]
    assert shared.count(422) == LIMIT


def test_memory_storage_counts_per_worker(database_url, tmp_path):
    """The control: the same run with ``memory://`` lets more than the limit through, which
    shows the requests really were spread over both workers."""
    with portal_server(database_url, "memory://", tmp_path) as base:
        separate = statuses(base)
    assert separate.count(422) > LIMIT
