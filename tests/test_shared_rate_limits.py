"""Finding 9 of the security review: with 4 gunicorn workers and ``memory://`` storage, 35 of
40 bad logins in a minute got through a limit of 10, because every worker counted on its own.
With Redis storage the workers share one count. Real gunicorn, real redis-server."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

LIMIT = 10
ATTEMPTS = 24
GUNICORN = Path(sys.executable).with_name("gunicorn")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@contextmanager
def gunicorn(database_url: str, storage_uri: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))},
        "PORTAL_ENV": "development",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_RATELIMIT_STORAGE_URI": storage_uri,
        "PORTAL_LOGIN_RATE_LIMIT": f"{LIMIT} per minute",
        "PORTAL_OUTBOX_DELIVERY": "off",
        "PORTAL_UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }
    process = subprocess.Popen(
        [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", "portal:create_app()"],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "exited")
        try:
            urllib.request.urlopen(base + "/privacy", timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


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
    with gunicorn(database_url, redis_url, tmp_path) as base:
        shared = statuses(base)
    assert sorted(set(shared)) == [422, 429]
    assert shared.count(422) == LIMIT


def test_memory_storage_counts_per_worker(database_url, tmp_path):
    """The control: the same run with ``memory://`` lets more than the limit through, which
    shows the requests really were spread over both workers."""
    with gunicorn(database_url, "memory://", tmp_path) as base:
        separate = statuses(base)
    assert separate.count(422) > LIMIT
