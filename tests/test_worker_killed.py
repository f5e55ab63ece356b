"""A gunicorn worker is killed (SIGKILL: the OOM killer, a host going down) in the middle of a
resident's report with two photos, while the photos are still arriving or after they were
stored but before the signal was committed. Nothing half-written may remain: no signal, and
after the upload sweep no photo file that no signal uses. Gunicorn starts a new worker; the
resident sends the same form again (same session, same submission key) and it gives exactly
one signal with both photos and one confirmation mail. On SQLite and on PostgreSQL.

"Stored but not committed" is reached without touching the portal: the test holds the write
lock the signal's insert needs (SQLite's one writer, PostgreSQL's lock on the signals table),
so the worker stores the photos and then waits; it is killed while it waits."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.database import make_engine
from portal.domain.photos import is_stored_name
from portal.models import Attachment, OutboxMessage, Signal
from tests.fixtures.servers import (
    REPO,
    Server,
    answers_http,
    gunicorn,
    production_env,
    wait_until,
    wait_until_up,
    worker_pids,
)
from tests.test_scale_out import (
    PUBLIC_HOST,
    REFERENCE,
    Browser,
    form_on,
    jpeg,
    multipart,
    report_fields,
    resident_email,
)

pytestmark = pytest.mark.slow

RESIDENT = 5
PHOTO_SIZES = [(40, 30), (50, 30)]
OLDER_THAN_THE_SWEEP_AGE = 25 * 3600  # seconds; the sweep removes loose files after 24 h
WAIT_SECONDS = 20  # well within gunicorn's 30 s worker timeout and SQLite's busy timeout


# --- a request sent by hand, and the worker that holds it -----------------------------------


def start_post(server: Server, browser: Browser, body: bytes, content_type: str) -> socket.socket:
    """Sends the head of POST /melden as ``browser`` would (its cookies, through the load
    balancer), no body yet: the caller sends it, all or part."""
    head = [
        "POST /melden HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        f"Referer: https://{PUBLIC_HOST}/melden",
        f"X-Forwarded-For: {browser.address}",
        "X-Forwarded-Proto: https",
        f"X-Forwarded-Host: {PUBLIC_HOST}",
        "Cookie: " + "; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
        "Connection: close",
    ]
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT_SECONDS)
    connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    return connection


def holder_of(server: Server, connection: socket.socket) -> int | None:
    """The worker whose open files include the server's end of ``connection`` (the kernel's
    socket table gives its inode, the worker's /proc/<pid>/fd the sockets it holds)."""
    ports = (f"{server.port:04X}", f"{connection.getsockname()[1]:04X}")
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if (local, remote) == ports and fields[9] != "0":
            inode = fields[9]
    if inode is None:
        return None  # not accepted yet
    for pid in worker_pids(server):
        with_fds = Path(f"/proc/{pid}/fd")
        for fd in with_fds.iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except FileNotFoundError:  # closed meanwhile
                continue
    return None


def kill_the_worker_holding(server: Server, connection: socket.socket) -> int:
    """SIGKILLs the worker handling ``connection``, once it has it; returns its pid."""
    found: list[int] = []

    def accepted() -> bool:
        pid = holder_of(server, connection)
        found.extend([pid] if pid else [])
        return bool(found)

    wait_until(accepted, "a worker to take the request", timeout=WAIT_SECONDS)
    [killed] = found[:1]
    os.kill(killed, signal.SIGKILL)
    # The master notices, and starts a worker in its place.
    wait_until(
        lambda: killed not in worker_pids(server) and len(worker_pids(server)) == 2,
        "gunicorn to replace the killed worker",
        timeout=WAIT_SECONDS,
        processes=[server.started],
    )
    wait_until(lambda: answers_http(server.port), "gunicorn to answer", timeout=WAIT_SECONDS)
    connection.settimeout(WAIT_SECONDS)
    try:
        answer = connection.recv(65536)
    except ConnectionResetError:
        answer = b""
    assert answer == b""  # no answer came: the worker died with the request
    connection.close()
    return killed


@contextmanager
def signal_inserts_held(database_url: str) -> Iterator[None]:
    """Holds what a new signal's insert must wait for, for as long as the block runs."""
    if database_url.startswith("sqlite"):
        lock = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # the one write lock; readers carry on (WAL)
        try:
            yield
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        return
    engine = make_engine(database_url)
    with engine.connect() as connection:
        # EXCLUSIVE lets others read the table (a submission key is looked up) but not write.
        connection.execute(text("LOCK TABLE signals IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()


def stored_files(folder: Path) -> set[str]:
    return (
        {p.name for p in folder.iterdir() if is_stored_name(p.name)} if folder.is_dir() else set()
    )


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


# --- the test ------------------------------------------------------------------------------


@pytest.mark.parametrize("moment", ["while the photos arrive", "after the photos are stored"])
def test_a_worker_killed_mid_submission_leaves_nothing_and_the_retry_gives_one_signal(
    database_url, smtp, tmp_path, moment
):
    uploads = tmp_path / "uploads"
    env = production_env(database_url, uploads, mail_port=smtp.port)  # `outbox send` delivers
    engine = make_engine(database_url)
    with gunicorn(env, tmp_path / "gunicorn.log") as server:
        wait_until_up(server)
        browser = Browser("10.70.0.1")
        token, key = form_on(browser, server)
        photos = [(f"stoep-{i}.jpg", jpeg(size)) for i, size in enumerate(PHOTO_SIZES)]
        body, content_type = multipart(report_fields(RESIDENT, token, key), photos)

        if moment == "while the photos arrive":
            connection = start_post(server, browser, body, content_type)
            # Everything up to the middle of the second photo; the rest never comes.
            connection.sendall(body[: len(body) - len(photos[1][1]) // 2])
            killed = kill_the_worker_holding(server, connection)
            assert stored_files(uploads) == set()  # the form was never read to its end
        else:
            with signal_inserts_held(database_url):
                connection = start_post(server, browser, body, content_type)
                connection.sendall(body)
                wait_until(
                    lambda: len(stored_files(uploads)) == len(photos),
                    "the worker to store the photos",
                    timeout=WAIT_SECONDS,
                    processes=[server.started],
                )
                killed = kill_the_worker_holding(server, connection)
            assert len(stored_files(uploads)) == len(photos)  # loose now: for the sweep
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Signal)) == 0
            assert session.scalar(select(func.count()).select_from(Attachment)) == 0
            assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        left_by_the_kill = stored_files(uploads)
        assert f"Worker (pid:{killed}) was sent SIGKILL!" in server.started.output()

        # The browser shows a broken connection; the resident sends the same form again.
        retry = browser.post(server, "/melden", body, content_type)
        assert retry.status == 303, retry.text[:3000]
        confirmation = browser.get(server, urlsplit(retry.headers["Location"]).path)
        reference = REFERENCE.search(confirmation.text)
        assert reference, confirmation.text[:3000]

    with Session(engine) as session:
        [stored] = session.scalars(select(Signal)).all()
        assert stored.reference == reference.group(1)
        attachments = list(session.scalars(select(Attachment)))
        confirmations = session.scalar(
            select(func.count()).where(OutboxMessage.purpose == "confirmation")
        )
    assert sorted((a.width, a.height) for a in attachments) == PHOTO_SIZES
    assert all(a.signal_id == stored.id for a in attachments)
    in_use = {a.stored_name for a in attachments}
    assert stored_files(uploads) == in_use | left_by_the_kill
    assert confirmations == 1

    flask(env, "outbox", "send", "--now")
    [mail] = smtp.to(resident_email(RESIDENT))
    assert stored.reference in mail.get_body(("plain",)).get_content()

    # A day later the sweep has removed what the killed worker stored, and nothing else.
    for name in stored_files(uploads):
        aged = time.time() - OLDER_THAN_THE_SWEEP_AGE
        os.utime(uploads / name, (aged, aged))
    swept = flask(env, "jobs", "run")
    assert f"removed {len(left_by_the_kill)} loose upload(s)" in swept
    assert stored_files(uploads) == in_use
    assert all((uploads / name).stat().st_size > 0 for name in in_use)
    engine.dispose()
