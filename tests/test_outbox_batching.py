"""Batched outbox delivery against a real SMTP server that counts its connections, can close
them after some messages, refuse recipients or answer slowly; on SQLite and PostgreSQL
(every test taking ``make_app`` runs on both)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, select

from portal import create_app
from portal.domain.mail import RenderedMail
from portal.extensions import db
from portal.mailer import OUTBOX_ID_HEADER, make_sender, mime_message
from portal.models import OutboxMessage, utcnow
from portal.outbox import BATCH_SIZE, ServerUnavailable, deliver_due, queue_mail
from tests.fixtures.mailserver import CollectingHandler, SMTPServer
from tests.test_outbox import OUTBOX_WORKER, worker_environment

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SENDER = "Wijkzaken Hilversum <wijkzaken@hilversum.example>"


class ScriptedHandler(CollectingHandler):
    def __init__(self) -> None:
        super().__init__()
        self.close_after: int | None = None  # messages per connection, then it hangs up
        self.refuse: dict[str, str] = {}  # recipient -> the reply to its RCPT
        self.delay = 0.0  # seconds before accepting each message
        self._per_connection: Counter[int] = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.delay:
            await asyncio.sleep(self.delay)
        reply = await super().handle_DATA(server, session, envelope)
        self._per_connection[id(server)] += 1
        if self.close_after and self._per_connection[id(server)] >= self.close_after:
            # After the reply went out: the message is accepted, the connection is gone.
            asyncio.get_running_loop().call_soon(server.transport.close)
        return reply


class CountingController(Controller):
    connections = 0

    def factory(self):  # type: ignore[no-untyped-def]
        self.connections += 1  # one SMTP protocol instance per connection
        return super().factory()


class ScriptedServer(SMTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.handler: ScriptedHandler = ScriptedHandler()

    def start(self) -> None:
        self._controller = CountingController(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        self._controller.connections = 0  # start() made one to check the server is up

    @property
    def connections(self) -> int:
        assert isinstance(self._controller, CountingController)
        return self._controller.connections

    def ids(self) -> Counter[int]:
        return Counter(int(message[OUTBOX_ID_HEADER]) for message in self.messages)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    scripted.start()
    yield scripted
    scripted.stop()


@pytest.fixture
def make_app(
    app_config: dict[str, object], server: ScriptedServer
) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(**overrides: object) -> Flask:
        config = {**app_config, "MAIL_PORT": server.port, "OUTBOX_DELIVERY": "off"}
        app = create_app({**config, **overrides})
        apps.append(app)
        return app

    yield make
    for app in apps:
        db.engine(app).dispose()


def queue(app: Flask, count: int, recipient: Callable[[int], str] | None = None) -> list[int]:
    with app.app_context():
        messages = [
            queue_mail(
                db.session,
                purpose="test",
                recipient=recipient(number) if recipient else f"bewoner{number}@example.nl",
                mail=RenderedMail(
                    subject=f"Uw melding HLV-2026-{number:06d} is ontvangen",
                    text=f"Beste bewoner,\n\nWe hebben melding {number} ontvangen.\n",
                    html=f"<p>We hebben melding <b>{number}</b> ontvangen.</p>",
                ),
            )
            for number in range(count)
        ]
        db.session.commit()
        return [message.id for message in messages]


def rows(app: Flask) -> list[OutboxMessage]:
    with app.extensions["portal.db"]() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def deliver(app: Flask, **kwargs: object):  # type: ignore[no-untyped-def]
    return deliver_due(app.extensions["portal.db"], make_sender(app), **kwargs)  # type: ignore[arg-type]


# --- one connection -------------------------------------------------------------------------


def test_a_run_of_several_batches_uses_one_connection(make_app, server: ScriptedServer) -> None:
    app = make_app()
    ids = queue(app, 2 * BATCH_SIZE + 50)

    report = deliver(app)

    assert (report.sent, report.retried, report.failed) == (len(ids), 0, 0)
    assert server.connections == 1
    assert server.ids() == dict.fromkeys(ids, 1)
    assert {(row.status, row.attempts, row.claimed_until) for row in rows(app)} == {
        ("sent", 1, None)
    }


def test_the_mail_of_one_commit_goes_over_one_connection(make_app, server: ScriptedServer) -> None:
    app = make_app(OUTBOX_DELIVERY="sync")
    ids = queue(app, 3)  # delivered by the after-commit hook

    assert server.ids() == dict.fromkeys(ids, 1)
    assert server.connections == 1


def test_a_connection_closed_mid_batch_loses_and_repeats_nothing(
    make_app, server: ScriptedServer
) -> None:
    server.handler.close_after = 7
    app = make_app()
    ids = queue(app, 120)

    report = deliver(app)

    assert (report.sent, report.retried, report.failed) == (120, 0, 0)
    assert server.ids() == dict.fromkeys(ids, 1)
    assert server.connections == 18  # 120 / 7, rounded up: one fresh connection each time
    assert {(row.status, row.attempts) for row in rows(app)} == {("sent", 1)}


def test_refused_recipients_are_retried_without_ending_the_batch(
    make_app, server: ScriptedServer
) -> None:
    server.handler.refuse = {
        "bewoner3@example.nl": "550 5.1.1 No such mailbox",
        "bewoner5@example.nl": "451 4.2.0 Mailbox busy, try later",
    }
    app = make_app()
    ids = queue(app, 8)

    report = deliver(app)

    assert (report.sent, report.retried, report.failed) == (6, 2, 0)
    assert server.connections == 1  # the connection stays in use after a refusal
    by_id = {row.id: row for row in rows(app)}
    refused = {ids[3]: "550", ids[5]: "451"}
    for message_id, row in by_id.items():
        if message_id in refused:
            assert (row.status, row.attempts) == ("pending", 1)
            assert refused[message_id] in row.last_error
            assert row.next_attempt_at > utcnow()
        else:
            assert (row.status, row.attempts) == ("sent", 1)
    assert set(server.ids()) == set(ids) - set(refused)


def test_a_server_gone_mid_run_leaves_the_rest_their_turn(make_app, server: ScriptedServer) -> None:
    """The batch after the failing one was claimed while the failing one was sent: it is
    handed back, uncharged, as is the rest of the failing batch."""
    app = make_app()
    ids = queue(app, 3 * BATCH_SIZE)
    send = make_sender(app)
    failing = ids[BATCH_SIZE + 20]

    def send_until_the_server_goes(message: OutboxMessage) -> None:
        if message.id == failing:
            raise ServerUnavailable("mail server went away")
        send(message)

    report = deliver_due(app.extensions["portal.db"], send_until_the_server_goes)

    assert (report.sent, report.retried, report.failed) == (BATCH_SIZE + 20, 1, 0)
    state = {row.id: (row.status, row.attempts, row.claimed_until) for row in rows(app)}
    assert [state[i] for i in ids[: BATCH_SIZE + 20]] == [("sent", 1, None)] * (BATCH_SIZE + 20)
    assert state[failing][:2] == ("pending", 1)
    untried = ids[BATCH_SIZE + 21 :]
    assert [state[i] for i in untried] == [("pending", 0, None)] * len(untried)
    # Due again at once: the next run sends them.
    assert deliver(app).sent == len(untried)
    assert set(server.ids()) == set(ids) - {failing}


def test_a_claim_takes_one_batch_and_the_next_is_claimed_while_it_is_sent(
    make_app, server: ScriptedServer
) -> None:
    app = make_app()
    ids = queue(app, 95)
    send = make_sender(app)
    claimed_while_sending: list[int] = []

    def count_claims_then_send(message: OutboxMessage) -> None:
        with app.extensions["portal.db"]() as session:
            claimed = select(func.count()).where(OutboxMessage.status == "sending")
            claimed_while_sending.append(session.scalar(claimed))
        send(message)

    report = deliver_due(app.extensions["portal.db"], count_claims_then_send, batch_size=10)

    assert report.sent == 95
    assert server.ids() == dict.fromkeys(ids, 1)
    # This batch and the next one at most (never all that is due), less what was recorded.
    assert 1 <= max(claimed_while_sending) <= 20
    assert claimed_while_sending[0] >= 10


# --- several deliverers ---------------------------------------------------------------------


def test_racing_deliverers_in_small_batches_send_each_message_once(
    make_app, server: ScriptedServer
) -> None:
    app = make_app()
    ids = queue(app, 300)
    start = threading.Barrier(3)
    reports = []

    def worker() -> None:
        start.wait()
        reports.append(deliver(app, batch_size=10))

    workers = [threading.Thread(target=worker) for _ in range(3)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)

    assert sum(report.sent for report in reports) == 300
    assert server.ids() == dict.fromkeys(ids, 1)
    assert {(row.status, row.attempts) for row in rows(app)} == {("sent", 1)}


def test_two_worker_processes_deliver_each_message_exactly_once(
    make_app, app_config: dict[str, object], server: ScriptedServer, tmp_path: Path
) -> None:
    """Two ``outbox send --loop`` workers (as on two hosts) find the same 400 messages; the
    server takes 5 ms per message, so both are busy at the same time."""
    server.handler.delay = 0.005
    app = make_app()
    env = worker_environment(app_config, tmp_path, server.port)
    command = OUTBOX_WORKER
    workers = [
        subprocess.Popen(
            [*command, "--interval", "0.1"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 60
        for worker in workers:  # both running before there is anything to send
            assert worker.stdout is not None
            assert worker.stdout.readline().startswith("Delivering queued mail every")
            assert time.monotonic() < deadline
        ids = queue(app, 400)
        assert len(server.wait_for(400, timeout=60)) >= 400
        time.sleep(0.5)  # anything sent twice would arrive now
    finally:
        outputs = []
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            output, errors = worker.communicate(timeout=30)
            outputs.append(output)
            assert worker.returncode == 0, errors

    assert server.ids() == dict.fromkeys(ids, 1)
    assert {(row.status, row.attempts) for row in rows(app)} == {("sent", 1)}
    sent_by = [
        sum(int(line.split()[2].rstrip(",")) for line in output.splitlines() if "sent" in line)
        for output in outputs
    ]
    assert sum(sent_by) == 400
    assert min(sent_by) > 0, sent_by  # both took part
    assert server.connections <= 2 * 4  # one per run of a worker; a few runs each at most


# --- what goes over the wire ----------------------------------------------------------------


def message_row(**fields: object) -> OutboxMessage:
    values: dict[str, object] = {
        "id": 7,
        "created_at": utcnow(),
        "purpose": "test",
        "recipient": "bewoner@example.nl",
        "subject": "Uw melding",
        "body_text": "Tekst\n",
        "body_html": "<p>Tekst</p>\n",
        **fields,
    }
    return OutboxMessage(**values)


def parsed(data: bytes) -> email.message.EmailMessage:
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert b"\n" not in data.replace(b"\r\n", b"")  # only CRLF line ends
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


@pytest.mark.parametrize("eight_bit", [True, False])
def test_text_outside_ascii_and_long_lines_arrive_as_written(eight_bit: bool) -> None:
    text = "Eén melding – ‘glasbak’ kapot.\r\nTweede regel.\n" + "x" * 1500 + "\n"
    html = "<p>Eén melding – ‘glasbak’</p>\n<p>" + "lang " * 400 + "</p>\n"
    subject = "Uw melding HLV-2026-000007 is ‘in behandeling’ – " + "heel lang " * 10
    data = mime_message(
        message_row(body_text=text, body_html=html, subject=subject),
        SENDER,
        SENDER,
        eight_bit=eight_bit,
    )
    if not eight_bit:
        assert data.isascii()

    message = parsed(data)

    assert message["Subject"] == subject
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and rich is not None
    assert plain.get_content().replace("\r\n", "\n") == text.replace("\r\n", "\n")
    assert rich.get_content().replace("\r\n", "\n") == html


def test_long_ascii_headers_are_folded_and_read_back_whole() -> None:
    subject = " ".join(f"woord{n}" for n in range(40))
    unsubscribe = "https://wijkzaken.hilversum.example/volgen/" + "A" * 300 + "/afmelden"
    data = mime_message(
        message_row(subject=subject, list_unsubscribe=unsubscribe, body_html=None),
        SENDER,
        SENDER,
    )
    header_lines = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert max(len(line) for line in header_lines if not line.startswith(b"List-Unsub")) <= 78

    message = parsed(data)

    assert message["Subject"] == subject
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n") == "Tekst\n"


def test_a_line_break_in_a_header_is_refused_and_the_message_retried(
    make_app, server: ScriptedServer
) -> None:
    app = make_app()
    [message_id] = queue(app, 1, recipient=lambda _n: "bewoner@example.nl\r\nBcc: x@example.nl")

    report = deliver(app)

    assert (report.sent, report.retried) == (0, 1)
    [row] = rows(app)
    assert (row.id, row.status) == (message_id, "pending")
    assert "line break" in row.last_error
    assert server.messages == []
