"""Several app servers, as in production: one PostgreSQL, one Redis, two gunicorn servers
(2 workers each) with a shared upload folder, and two ``outbox send --loop`` workers mailing
to one SMTP server. The test plays the load balancer (TLS ends there; it says who the client
is in X-Forwarded-*) and the residents' browsers, and sends every step of a resident's visit
to a different server than the step before: nothing one process holds may be needed by
another.

200 residents report at once (some with a photo): every signal is stored once with its own
reference, every mail reaches the SMTP server once, every photo can be fetched from either
server; on PostgreSQL and on SQLite (both servers on one database file). Then one address
posts again and again, alternating between the servers: the per-address limit counts both
servers' posts together."""

from __future__ import annotations

import http.client
import io
import re
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.database import make_engine
from portal.models import Attachment, OutboxMessage, Signal
from tests.fixtures.servers import (
    PUBLIC_HOST,
    Server,
    Started,
    flask_command,
    gunicorn,
    production_env,
    wait_until,
    wait_until_up,
)

pytestmark = pytest.mark.slow

RESIDENTS = 200
WITH_PHOTO_EVERY = 4  # every 4th resident sends a photo
CONCURRENT_BROWSERS = 8
LIMIT = 10
LIMITED_POSTS = 2 * LIMIT
DRAIN_SECONDS = 90
OUTBOX_WORKER = ("outbox", "send", "--loop", "--interval", "0.2")

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SUBMISSION_KEY = re.compile(r'name="submission_key"[^>]*value="([^"]+)"')
REFERENCE = re.compile(r'class="portal-reference">([A-Z]+-\d{4}-\d{6})<')
STATUS_LINK = re.compile(r'class="utrecht-link portal-status-link" href="([^"]+)"')
PHOTO_LINK = re.compile(r'src="(/status/[^"/]+/foto/\d+)"')


# --- the load balancer and the residents' browsers ------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


class Browser:
    """One resident's browser (its own cookies), reaching the app servers through the load
    balancer this test plays: https ends there, and it passes on the client's address."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.cookies: dict[str, str] = {}

    def get(self, server: Server, path: str) -> Reply:
        return self._request(server, "GET", path)

    def post(self, server: Server, path: str, body: bytes, content_type: str) -> Reply:
        # As a browser does on https: the CSRF check compares the Referer with the host.
        headers = {"Content-Type": content_type, "Referer": f"https://{PUBLIC_HOST}{path}"}
        return self._request(server, "POST", path, body, headers)

    def _request(
        self,
        server: Server,
        method: str,
        path: str,
        body: bytes | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Reply:
        headers = {
            "X-Forwarded-For": self.address,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": PUBLIC_HOST,
            **(extra or {}),
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            reply = Reply(response.status, response.headers, response.read())
        finally:
            connection.close()
        for header in reply.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply


def multipart(
    fields: Mapping[str, str | Sequence[str]], photos: Sequence[tuple[str, bytes]] = ()
) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends the form."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        for item in [value] if isinstance(value, str) else value:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{item}\r\n".encode()
            )
    for filename, data in photos:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
            f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def report_fields(n: int, csrf_token: str, submission_key: str) -> dict[str, str | list[str]]:
    return {
        "csrf_token": csrf_token,
        "submission_key": submission_key,
        "kind": "knelpunt",
        "themes": ["schoon", "veilig"],
        "title": f"Losse stoeptegel nummer {n}",
        "description": f"Bij huisnummer {n} ligt een stoeptegel los; iemand kan struikelen.",
        "wijk": "WK040203",
        "buurt": "BU04020304",
        "street": "Kerkelandenlaan",
        "house_number": str(n + 1),
        "postcode": "1216 AB",
        "name": f"Bewoner {n}",
        "email": resident_email(n),
        "may_contact": "y",
    }


def resident_email(n: int) -> str:
    return f"bewoner{n}@example.nl"


def photo_size(n: int) -> tuple[int, int]:
    return (40 + n % 60, 30)  # a size of its own, to recognise it when it is served


def jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 20)).save(out, "JPEG")
    return out.getvalue()


@dataclass(frozen=True)
class Submitted:
    n: int
    reference: str
    status_path: str
    photo: tuple[int, int] | None


def form_on(browser: Browser, server: Server) -> tuple[str, str]:
    page = browser.get(server, "/melden")
    assert page.status == 200, page.text[:2000]
    token, key = CSRF.search(page.text), SUBMISSION_KEY.search(page.text)
    assert token and key, "the form lacks its CSRF token or submission key"
    return token.group(1), key.group(1)


def resident(servers: Sequence[Server], n: int) -> Submitted:
    """Loads the form from one server, sends it to the other and reads the confirmation from
    the first again: the session (signed cookie) and the CSRF token travel with the browser."""
    browser = Browser(f"10.20.{n // 200}.{n % 200 + 1}")
    first, other = servers[n % 2], servers[(n + 1) % 2]
    token, key = form_on(browser, first)
    size = photo_size(n) if n % WITH_PHOTO_EVERY == 0 else None
    photos = [(f"stoeptegel-{n}.jpg", jpeg(size))] if size else []
    body, content_type = multipart(report_fields(n, token, key), photos)
    posted = browser.post(other, "/melden", body, content_type)
    assert posted.status == 303, posted.text[:3000]
    location = urlsplit(posted.headers["Location"]).path
    assert location == "/melden/bedankt"
    confirmation = browser.get(first, location)
    assert confirmation.status == 200, confirmation.text[:2000]
    reference, link = REFERENCE.search(confirmation.text), STATUS_LINK.search(confirmation.text)
    assert reference and link, confirmation.text[:3000]
    return Submitted(n, reference.group(1), urlsplit(link.group(1)).path, size)


# --- the servers ---------------------------------------------------------------------------


@contextmanager
def deployment(
    database_url: str, redis_url: str, smtp_port: int, tmp_path: Path
) -> Iterator[tuple[list[Server], list[Started]]]:
    """Two app servers and two outbox workers with the settings of README's "Production:
    several app servers"."""
    env = production_env(
        database_url,
        tmp_path / "shared-uploads",
        mail_port=smtp_port,
        # One key for all (production_env's own): they sign the sessions.
        PORTAL_RATELIMIT_STORAGE_URI=redis_url,
        PORTAL_SUBMIT_RATE_LIMIT=f"{LIMIT} per hour",
    )
    with ExitStack() as stack:
        servers = [
            stack.enter_context(gunicorn(env, tmp_path / f"gunicorn-{i}.log")) for i in (1, 2)
        ]
        workers = [
            stack.enter_context(flask_command(env, tmp_path / f"outbox-{i}.log", *OUTBOX_WORKER))
            for i in (1, 2)
        ]
        wait_until_up(*servers)
        yield servers, workers


def outbox_drained(session: Session, smtp) -> bool:  # type: ignore[no-untyped-def]
    session.rollback()  # a fresh snapshot each time
    waiting = session.scalar(
        select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
    )
    sent = session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
    return waiting == 0 and len(smtp.messages) >= (sent or 0) > 0


# Also on SQLite (one host, one database file, four worker processes writing to it in WAL
# mode): nothing accepted may be lost there either.
@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_two_app_servers_store_and_mail_everything_once(database_url, redis_url, smtp, tmp_path):
    engine = make_engine(database_url)
    with deployment(database_url, redis_url, smtp.port, tmp_path) as (servers, workers):
        with ThreadPoolExecutor(max_workers=CONCURRENT_BROWSERS) as pool:
            submitted = list(pool.map(lambda n: resident(servers, n), range(RESIDENTS)))

        # Every photo can be read from either server (one shared upload folder).
        browser = Browser("10.30.0.1")
        photos_seen = 0
        for item in (s for s in submitted if s.photo):
            status_page = browser.get(servers[item.n % 2], item.status_path)
            assert status_page.status == 200
            [photo_path] = PHOTO_LINK.findall(status_page.text)
            served = [browser.get(server, photo_path) for server in servers]
            assert [r.status for r in served] == [200, 200]
            assert served[0].body == served[1].body
            assert Image.open(io.BytesIO(served[0].body)).size == item.photo
            photos_seen += 1
        assert photos_seen == RESIDENTS // WITH_PHOTO_EVERY

        with Session(engine) as session:
            wait_until(
                lambda: outbox_drained(session, smtp),
                "the outbox workers to deliver every mail",
                timeout=DRAIN_SECONDS,
                processes=workers,
            )
    outputs = [worker.output() for worker in workers]

    # Every signal stored once, each with its own reference.
    references = [s.reference for s in submitted]
    assert len(set(references)) == RESIDENTS
    with Session(engine) as session:
        stored = list(session.scalars(select(Signal.reference)))
        assert sorted(stored) == sorted(references)
        assert session.scalar(select(func.count()).select_from(Attachment)) == photos_seen
        queued = list(session.scalars(select(OutboxMessage)))
    engine.dispose()

    # Every queued mail reached the SMTP server exactly once.
    assert {m.status for m in queued} == {"sent"}
    received = smtp.messages
    assert len(received) == len(queued)
    assert Counter(m["Message-ID"] for m in received).most_common(1)[0][1] == 1
    assert sorted(int(m["X-Portal-Outbox-Id"]) for m in received) == sorted(m.id for m in queued)
    # One confirmation per resident, with their own reference; the owner's heads-ups are
    # among the rest (counted above).
    assert Counter(m.purpose for m in queued)["confirmation"] == RESIDENTS
    for item in submitted:
        [confirmation] = [m for m in received if str(m["To"]) == resident_email(item.n)]
        assert item.reference in confirmation.get_body(("plain",)).get_content()
    sent_by_workers = [
        sum(int(n) for n in re.findall(r"Outbox: sent (\d+)", output)) for output in outputs
    ]
    assert sum(sent_by_workers) == len(queued), outputs


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_submit_limit_counts_both_servers_together(database_url, redis_url, smtp, tmp_path):
    with deployment(database_url, redis_url, smtp.port, tmp_path) as (servers, _workers):
        browser = Browser("10.40.0.1")  # one resident's address, behind the load balancer
        statuses: list[int] = []
        refused_pages: list[str] = []
        for n in range(LIMITED_POSTS):
            server = servers[n % 2]  # the load balancer alternates
            token, key = form_on(browser, server)
            body, content_type = multipart(report_fields(n, token, key))
            reply = browser.post(server, "/melden", body, content_type)
            statuses.append(reply.status)
            if reply.status == 429:
                refused_pages.append(reply.text)
    # Per server, each would have let LIMIT through (2 × LIMIT in all).
    assert statuses == [303] * LIMIT + [429] * (LIMITED_POSTS - LIMIT)
    for page in refused_pages:
        assert "U heeft in korte tijd veel meldingen verstuurd" in page
        assert 'value="Losse stoeptegel nummer' in page  # the form comes back filled in
    engine = make_engine(database_url)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Signal)) == LIMIT
    engine.dispose()
