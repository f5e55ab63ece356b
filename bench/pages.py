"""Public pages under gunicorn against the bare stack (bench/bare_app.py), side by side.

Both run on the same gunicorn config (2 sync workers) and SQLite (WAL), the portal in its
production configuration with delivery left to the outbox worker (as on several app servers).
Eight clients (two processes of four threads, new connection per request as gunicorn's sync
workers close them) keep both busy for a few seconds per round; the rounds alternate between
the two so that a busy machine hurts both alike. Reported per case: the median throughput, the
server CPU per request (the workers' user + system time over the round) and the ratio of the
portal's throughput to the bare stack's.

    .venv/bin/python -m bench pages                  # 5 rounds of 4 s per case
    .venv/bin/python -m bench pages --rounds 3 --seconds 2
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import machine

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
HOST = "wijkzaken.hilversum.example"
CLIENT_PROCESSES = 2
THREADS_PER_PROCESS = 4
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SUBMISSION_KEY = re.compile(r'name="submission_key"[^>]*value="([^"]+)"')
STATUS_LINK = re.compile(r'href="https://' + re.escape(HOST) + r'(/status/[^"]+)"')

FORM = {
    "kind": "knelpunt",
    "themes": "schoon",
    "title": "Glasbak kapot bij het winkelcentrum",
    "description": "De glasbak aan de Kerkelandenlaan is kapot en er ligt glas op de stoep.",
    "wijk": "WK040203",
    "buurt": "BU04020304",
    "street": "Kerkelandenlaan",
    "house_number": "12",
    "postcode": "1216 AB",
    "name": "Jan Jansen",
    "email": "jan.jansen@example.nl",
    "may_contact": "y",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=5, help="rounds per case (median)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one round")


# --- servers ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    host_header: str

    def cpu_seconds(self) -> float:
        """User + system time of the gunicorn master and its workers so far."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
        return total


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


@contextmanager
def gunicorn(name: str, app: str, env: dict[str, str], host_header: str) -> Iterator[Server]:
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    process = subprocess.Popen(
        [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", app],
        env={**clean, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = Server(name, port, process, host_header)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _request(server, "GET", "/melden")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.1)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _request(
    server: Server,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(
            method, path, body=body, headers={"Host": server.host_header, **(headers or {})}
        )
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        cookies = [
            v.split(";", 1)[0] for k, v in response.getheaders() if k.lower() == "set-cookie"
        ]
        found = {k.lower(): v for k, v in response.getheaders()}
        if cookies:
            found["cookie"] = "; ".join(cookies)
        return response.status, found, text
    finally:
        connection.close()


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
    )
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


# --- what a client does -------------------------------------------------------------------------


def get_page(server: Server, path: str) -> bool:
    status, _headers, _text = _request(server, "GET", path)
    return status == 200


def portal_flow(server: Server) -> bool:
    """A resident: the form, sending it, the confirmation (with the session cookie)."""
    status, headers, page = _request(server, "GET", "/melden")
    token, key = CSRF.search(page), SUBMISSION_KEY.search(page)
    if status != 200 or not token or not key:
        return False
    fields = {"csrf_token": token.group(1), "submission_key": key.group(1), **FORM}
    body, content_type = _multipart(fields)
    cookie = headers.get("cookie", "")
    status, headers, _ = _request(
        server, "POST", "/melden", body, {"Content-Type": content_type, "Cookie": cookie}
    )
    if status != 303:
        return False
    location = headers["location"].split(HOST, 1)[-1]
    status, _headers, page = _request(
        server, "GET", location, headers={"Cookie": headers.get("cookie", cookie)}
    )
    return status == 200 and "portal-status-link" in page


def bare_flow(server: Server) -> bool:
    status, _headers, _page = _request(server, "GET", "/melden")
    if status != 200:
        return False
    body, content_type = _multipart({"title": FORM["title"], "description": FORM["description"]})
    status, headers, _ = _request(server, "POST", "/melden", body, {"Content-Type": content_type})
    if status != 303:
        return False
    status, _headers, _ = _request(server, "GET", headers["location"])
    return status == 200


def _client_process(work: Callable[[], bool], seconds: float, results) -> None:  # type: ignore[no-untyped-def]
    done = [0] * THREADS_PER_PROCESS
    failed = [0] * THREADS_PER_PROCESS
    stop = time.monotonic() + seconds

    def loop(i: int) -> None:
        while time.monotonic() < stop:
            try:
                ok = work()
            except OSError:
                ok = False
            if ok:
                done[i] += 1
            else:
                failed[i] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(THREADS_PER_PROCESS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put((sum(done), sum(failed)))


@dataclass
class Round:
    per_second: float
    cpu_ms: float
    done: int
    failed: int


def load(server: Server, work: Callable[[], bool], seconds: float) -> Round:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=_client_process, args=(work, seconds, results))
        for _ in range(CLIENT_PROCESSES)
    ]
    cpu_before = server.cpu_seconds()
    started = time.monotonic()
    for p in processes:
        p.start()
    counts = [results.get() for _ in processes]
    for p in processes:
        p.join()
    elapsed = time.monotonic() - started
    cpu = server.cpu_seconds() - cpu_before
    done = sum(c[0] for c in counts)
    failed = sum(c[1] for c in counts)
    return Round(done / elapsed, cpu / max(done, 1) * 1000, done, failed)


# --- the run ----------------------------------------------------------------------------------


def prepare_portal(folder: Path) -> str:
    from bench.seed import demo_app

    url = f"sqlite:///{folder / 'portal.sqlite3'}"
    demo_app(url)
    return url


def portal_environment(url: str, folder: Path) -> dict[str, str]:
    """The portal in production configuration, delivery left to the outbox worker (as on
    several app servers), the submit limit raised out of the way of the clients."""
    return {
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "PORTAL_PUBLIC_BASE_URL": f"https://{HOST}",
        "PORTAL_DATABASE_URL": url,
        "PORTAL_UPLOAD_FOLDER": str(folder / "uploads"),
        "PORTAL_OUTBOX_DELIVERY": "off",
        "PORTAL_SUBMIT_RATE_LIMIT": "1000000 per hour",
    }


def status_paths(server: Server, count: int) -> list[str]:
    """Status pages of signals sent through the form (their links show once, on the
    confirmation page)."""
    paths = []
    for _ in range(count):
        _status, headers, page = _request(server, "GET", "/melden")
        fields = {
            "csrf_token": CSRF.search(page).group(1),  # type: ignore[union-attr]
            "submission_key": SUBMISSION_KEY.search(page).group(1),  # type: ignore[union-attr]
            **FORM,
        }
        body, content_type = _multipart(fields)
        cookie = headers.get("cookie", "")
        _status, headers, _ = _request(
            server, "POST", "/melden", body, {"Content-Type": content_type, "Cookie": cookie}
        )
        location = headers["location"].split(HOST, 1)[-1]
        _s, _h, page = _request(server, "GET", location, headers={"Cookie": headers["cookie"]})
        paths.append(STATUS_LINK.search(page).group(1))  # type: ignore[union-attr]
    return paths


def count_signals(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM signals")).scalar_one())


@dataclass
class Result:
    case: str
    portal: list[Round]
    bare: list[Round] | None

    def row(self) -> str:
        p = statistics.median(r.per_second for r in self.portal)
        p_cpu = statistics.median(r.cpu_ms for r in self.portal)
        if self.bare is None:
            return f"| {self.case} | {p:,.0f} | {p_cpu:.2f} | | | |"
        b = statistics.median(r.per_second for r in self.bare)
        b_cpu = statistics.median(r.cpu_ms for r in self.bare)
        ratio = f"{p / b:.2f}" if b else "none: the bare stack served nothing"
        return f"| {self.case} | {p:,.0f} | {p_cpu:.2f} | {b:,.0f} | {b_cpu:.2f} | {ratio} |"


def main(args: argparse.Namespace) -> int:
    rounds, seconds = (1, 0.5) if args.tiny else (args.rounds, args.seconds)
    print(machine.describe())
    print()
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        folder = Path(tmp)
        url = prepare_portal(folder)
        portal_env = portal_environment(url, folder)
        bare_env = {"BARE_DATABASE_URL": f"sqlite:///{folder / 'bare.sqlite3'}"}
        with (
            gunicorn("portal", "portal:create_app()", portal_env, HOST) as portal,
            gunicorn("bare", "bench.bare_app:create_app()", bare_env, "127.0.0.1") as bare,
        ):
            paths = status_paths(portal, 20)
            before = count_signals(url)
            cycle = iter(paths * 1_000_000)
            lock = threading.Lock()

            def next_status() -> str:
                with lock:
                    return next(cycle)

            def bare_get() -> bool:
                return get_page(bare, "/melden")

            cases: list[tuple[str, Callable[[], bool], Callable[[], bool] | None]] = [
                ("GET /melden", lambda: get_page(portal, "/melden"), bare_get),
                ("GET /status/<token>", lambda: get_page(portal, next_status()), bare_get),
                (
                    "resident flow (GET, POST, GET)",
                    lambda: portal_flow(portal),
                    lambda: bare_flow(bare),
                ),
                ("GET /privacy (for contrast)", lambda: get_page(portal, "/privacy"), None),
            ]
            results = []
            failures = 0
            flows = 0
            for case, portal_work, bare_work in cases:
                portal_rounds, bare_rounds = [], []
                for _ in range(rounds):
                    if bare_work is not None:
                        bare_rounds.append(load(bare, bare_work, seconds))
                    portal_rounds.append(load(portal, portal_work, seconds))
                failures += sum(r.failed for r in portal_rounds + bare_rounds)
                if case.startswith("resident flow"):
                    flows = sum(r.done for r in portal_rounds)
                results.append(Result(case, portal_rounds, bare_rounds if bare_work else None))
            stored = count_signals(url) - before
    print(
        f"{rounds} rounds of {seconds:g} s per case, {CLIENT_PROCESSES * THREADS_PER_PROCESS} "
        "clients; medians. CPU: the server's user + system time per request (flow: per flow)."
    )
    print()
    print("| case | portal per s | portal CPU ms | bare per s | bare CPU ms | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for result in results:
        print(result.row())
    print()
    print(f"Confirmed flows: {flows}; signals stored meanwhile: {stored}; failed: {failures}.")
    return 0 if failures == 0 and stored == flows else 1
