"""Worker memory under gunicorn: each worker's resident set after 100 and after 10,000 requests.

The portal runs as ``bench pages`` starts it (production configuration, 2 sync workers, a
migrated and seeded SQLite database, mail left to the outbox worker). Four clients send a mix
of what residents and staff ask for, over and over: the report form, a status page, the
resident flow (form, sending it, the confirmation), the privacy page, and, logged in as an
accountmanager, the inbox and a signal's page. Between the phases the clients stop and every
worker's VmRSS is read from /proc/<pid>/status. Requests are counted over the whole mix (the
flow is three).

    .venv/bin/python -m bench memory                     # 100 and 10,000 requests
    .venv/bin/python -m bench memory --requests 3000     # quicker
"""

from __future__ import annotations

import argparse
import itertools
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench import machine
from bench.pages import (
    CSRF,
    HOST,
    Server,
    _children,
    _request,
    get_page,
    gunicorn,
    portal_environment,
    portal_flow,
    prepare_portal,
    status_paths,
)

TARGET = 1.2
CLIENTS = 4
STAFF_EMAIL = "anna.de.vries@hilversum.example"
STAFF_PASSWORD = "gooi-en-vecht-demo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warm", type=int, default=100, help="requests before the first reading")
    parser.add_argument("--requests", type=int, default=10_000, help="requests in all")


# --- the clients ------------------------------------------------------------------------------


def log_in(server: Server) -> str:
    """The session cookie of a logged-in accountmanager (sent by the raw client even though
    it is Secure: the benchmark talks plain HTTP to gunicorn, as a proxy would)."""
    status, headers, page = _request(server, "GET", "/backoffice/login")
    token = CSRF.search(page)
    if status != 200 or token is None:
        raise RuntimeError(f"login page: {status}")
    form = {"csrf_token": token.group(1), "email": STAFF_EMAIL, "password": STAFF_PASSWORD}
    status, headers, _page = _request(
        server,
        "POST",
        "/backoffice/login",
        urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": headers["cookie"]},
    )
    if status != 303 or "cookie" not in headers:
        raise RuntimeError(f"login refused: {status}")
    return headers["cookie"]


def staff_page(server: Server, path: str, cookie: str) -> bool:
    status, _headers, page = _request(server, "GET", path, headers={"Cookie": cookie})
    return status == 200 and "Uitloggen" in page


@dataclass
class Step:
    name: str
    requests: int
    run: Callable[[], bool]


def the_mix(server: Server, status: list[str], reference: str, cookie: str) -> list[Step]:
    statuses = itertools.cycle(status)
    lock = threading.Lock()

    def next_status() -> str:
        with lock:
            return next(statuses)

    return [
        Step("GET /melden", 1, lambda: get_page(server, "/melden")),
        Step("GET /status/<token>", 1, lambda: get_page(server, next_status())),
        Step("resident flow", 3, lambda: portal_flow(server)),
        Step("GET /privacy", 1, lambda: get_page(server, "/privacy")),
        Step("inbox", 1, lambda: staff_page(server, "/backoffice/signalen", cookie)),
        Step(
            "signal page",
            1,
            lambda: staff_page(server, f"/backoffice/signalen/{reference}", cookie),
        ),
    ]


class Load:
    """Clients taking the mix's steps in turn until a number of requests has been sent."""

    def __init__(self, steps: list[Step]) -> None:
        self._steps = itertools.cycle(steps)
        self._lock = threading.Lock()
        self.sent = 0
        self.failed: list[str] = []

    def _take(self, until: int) -> Step | None:
        with self._lock:
            if self.sent >= until:
                return None
            step = next(self._steps)
            self.sent += step.requests
            return step

    def run_until(self, requests: int) -> None:
        def client() -> None:
            while (step := self._take(requests)) is not None:
                try:
                    ok = step.run()
                except OSError:
                    ok = False
                if not ok:
                    self.failed.append(step.name)

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


# --- the readings -----------------------------------------------------------------------------


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def reading(server: Server) -> dict[int, int]:
    return {pid: resident_kb(pid) for pid in sorted(_children(server.process.pid))}


def a_reference(url: str) -> str:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        return str(connection.execute("SELECT reference FROM signals LIMIT 1").fetchone()[0])


def main(args: argparse.Namespace) -> int:
    warm, total = (20, 200) if args.tiny else (args.warm, args.requests)
    print(machine.describe())
    print()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        folder = Path(tmp)
        url = prepare_portal(folder)
        env = portal_environment(url, folder)
        with gunicorn("portal", "portal:create_app()", env, HOST) as server:
            status = status_paths(server, 10)
            steps = the_mix(server, status, a_reference(url), log_in(server))
            load = Load(steps)
            started = time.monotonic()
            load.run_until(warm)
            first = reading(server)
            load.run_until(total)
            second = reading(server)
            elapsed = time.monotonic() - started
    if set(first) != set(second):
        print(f"A worker was replaced between the readings: {first} then {second}")
        return 1
    per_cycle = sum(step.requests for step in steps)
    print(
        f"{CLIENTS} clients; {load.sent:,} requests in {elapsed:.0f} s, in cycles of "
        f"{per_cycle} ({', '.join(step.name for step in steps)}); failed: {len(load.failed)}."
    )
    print()
    print(f"| worker | RSS after {warm:,} | RSS after {total:,} | growth | ratio | ≤ {TARGET}× |")
    print("|---|---:|---:|---:|---:|---|")
    for number, pid in enumerate(first, start=1):
        ratio = second[pid] / first[pid]
        met = "yes" if ratio <= TARGET else "no"
        print(
            f"| {number} (pid {pid}) | {first[pid] / 1024:.1f} MB | {second[pid] / 1024:.1f} MB "
            f"| {(second[pid] - first[pid]) / 1024:+.1f} MB | {ratio:.2f} | {met} |"
        )
    return 0 if not load.failed else 1
