"""Outbox delivery against raw smtplib: the same messages, the same local SMTP server.

Raw: ``smtplib`` sends N prepared messages (MIME bytes built before the clock starts) over one
connection. Outbox: N messages queued with ``portal.outbox.queue_mail`` (untimed) are delivered
by ``portal.outbox.deliver_due`` with the app's sender, exactly as ``flask outbox send`` calls
it: claiming, building the mail, SMTP, recording the outcome. The SMTP server (aiosmtpd, a sink
that counts messages and connections) runs in a process of its own, as a mail server would;
the rounds alternate between raw, SQLite and PostgreSQL.

    .venv/bin/python -m bench outbox                  # 1,000 messages, 11 rounds
    .venv/bin/python -m bench outbox --messages 500 --rounds 3 --no-postgres
"""

from __future__ import annotations

import argparse
import email.policy
import logging
import multiprocessing
import secrets
import shutil
import smtplib
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import partial
from pathlib import Path

from bench import machine

SENDER = "Wijkzaken Hilversum <wijkzaken@hilversum.example>"
SENDER_ADDRESS = "wijkzaken@hilversum.example"
TARGET = 0.8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=1000, help="messages per round")
    parser.add_argument("--rounds", type=int, default=11, help="rounds per side (median)")
    parser.add_argument(
        "--no-postgres", action="store_true", help="SQLite only (also when initdb is missing)"
    )


# --- the mail ---------------------------------------------------------------------------------


def _mail(number: int):  # type: ignore[no-untyped-def]
    """A resident's confirmation of about the size of the real one (1 KB text, 5 KB HTML),
    with a secret status link that the outbox redacts in the copy it keeps, and a few of the
    characters outside ASCII the real templates have (é, ‘’, –)."""
    from portal.domain.mail import RenderedMail

    reference = f"HLV-2026-{number:06d}"
    link = f"https://wijkzaken.hilversum.example/status/{number:012d}Qm9uZGlnZS1saW5rLXZvb3ItZGUtYmVuY2g"
    paragraphs = [
        "Beste Jan Jansen,",
        f"Bedankt voor uw melding. We hebben hem goed ontvangen onder nummer {reference}.",
        "Een medewerker van het wijkteam bekijkt uw melding binnen drie werkdagen. U hoort van "
        "ons als er iets verandert, of als we een vraag hebben.",
        f"Bekijk hoe het met uw melding staat: {link}",
        "Bewaar deze link. Iedereen met deze link kan uw melding bekijken. Deel hem dus niet.",
        "Uw melding: Glasbak kapot bij het winkelcentrum. De glasbak aan de Kerkelandenlaan is "
        "kapot en er ligt glas op de stoep. Kinderen lopen hier elke dag langs naar school.",
        "Plaats: Kerkelandenlaan 12, 1216 AB Hilversum (Kerkelanden, Zuidwest).",
        "U krijgt één e-mail als er iets verandert; antwoorden kan via ‘Reageer’ op de pagina.",
        "Met vriendelijke groet,\nWijkzaken – Gemeente Hilversum",
    ]
    text = "\n\n".join(paragraphs) + "\n"
    style = (
        'style="font-family: Arial, sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a"'
    )
    html_paragraphs = "".join(f"<p {style}>{p}</p>\n" for p in paragraphs)
    button = (
        f'<p><a href="{link}" style="display: inline-block; padding: 12px 20px; '
        'background: #00529b; color: #ffffff; text-decoration: none; border-radius: 4px">'
        "Bekijk hoe het met uw melding staat</a></p>\n"
    )
    table = "".join(
        f'<tr><th scope="row" {style}>{label}</th><td {style}>{value}</td></tr>\n'
        for label, value in [
            ("Nummer", reference),
            ("Soort", "Knelpunt"),
            ("Thema", "Schoon"),
            ("Plaats", "Kerkelandenlaan 12, 1216 AB"),
            ("Buurt", "Kerkelanden"),
            ("Wijk", "Zuidwest"),
        ]
    )
    html = (
        '<!doctype html>\n<html lang="nl"><head><meta charset="utf-8">'
        f"<title>Uw melding {reference} is ontvangen</title></head>\n"
        f'<body style="margin: 0; padding: 24px; background: #f3f3f3">\n'
        f'<div style="max-width: 600px; margin: 0 auto; background: #ffffff; padding: 24px">\n'
        f"{html_paragraphs}{button}<table>{table}</table>\n</div></body></html>\n"
    )
    return RenderedMail(subject=f"Uw melding {reference} is ontvangen", text=text, html=html)


def _prepared(number: int) -> bytes:
    """The raw side's message: the same content as the outbox sends, as MIME bytes."""
    mail = _mail(number)
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = SENDER
    message["To"] = f"bewoner{number}@example.nl"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message.as_bytes(policy=email.policy.SMTP)  # CRLF line ends, as on the wire


# --- the SMTP server --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(port: int, counts, ready, stop) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            counts[0] += 1
            return "250 Message accepted for delivery"

    class CountingController(Controller):
        def factory(self):  # type: ignore[no-untyped-def]
            counts[1] += 1  # one SMTP instance per connection (the first is start()'s probe)
            return super().factory()

    controller = CountingController(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@dataclass
class SinkServer:
    port: int
    counts: object  # multiprocessing Array: messages, connections

    @property
    def messages(self) -> int:
        return int(self.counts[0])  # type: ignore[index]

    @property
    def connections(self) -> int:
        return int(self.counts[1])  # type: ignore[index]


@contextmanager
def sink_server() -> Iterator[SinkServer]:
    context = multiprocessing.get_context("fork")
    port = _free_port()
    counts = context.Array("q", 2, lock=False)  # written by the server's one event loop only
    ready, stop = context.Event(), context.Event()
    process = context.Process(target=_serve, args=(port, counts, ready, stop), daemon=True)
    process.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the SMTP server did not start")
        yield SinkServer(port, counts)
    finally:
        stop.set()
        process.join(30)


# --- the two sides ----------------------------------------------------------------------------


@dataclass
class Round:
    seconds: float
    cpu_seconds: float  # this process's, all threads
    sent: int
    connections: int

    def per_second(self) -> float:
        return self.sent / self.seconds


def raw_round(server: SinkServer, count: int) -> Round:
    prepared = [(f"bewoner{n}@example.nl", _prepared(n)) for n in range(count)]
    messages_before, connections_before = server.messages, server.connections
    started, cpu = time.perf_counter(), time.process_time()
    smtp = smtplib.SMTP("127.0.0.1", server.port, timeout=10)
    for recipient, message in prepared:
        smtp.sendmail(SENDER_ADDRESS, [recipient], message)
    smtp.quit()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    sent = server.messages - messages_before
    return Round(elapsed, cpu, sent, server.connections - connections_before)


@dataclass
class Portal:
    name: str
    app: object
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(10**9)))

    def queue(self, count: int) -> None:
        from portal.extensions import db
        from portal.outbox import queue_mail

        with self.app.app_context():  # type: ignore[attr-defined]
            for _ in range(count):
                number = next(self.numbers)
                queue_mail(
                    db.session,
                    purpose="confirmation",
                    recipient=f"bewoner{number}@example.nl",
                    mail=_mail(number),
                )
            db.session.commit()

    def deliver_round(self, server: SinkServer, count: int) -> Round:
        from portal.mailer import make_sender
        from portal.outbox import deliver_due

        app = self.app
        self.queue(count)
        messages_before, connections_before = server.messages, server.connections
        started, cpu = time.perf_counter(), time.process_time()
        # As ``flask --app portal outbox send`` runs it.
        sent = 0
        while True:
            report = deliver_due(
                app.extensions["portal.db"],  # type: ignore[attr-defined]
                make_sender(app),  # type: ignore[arg-type]
                max_attempts=app.config["OUTBOX_MAX_ATTEMPTS"],  # type: ignore[attr-defined]
            )
            sent += report.sent
            if report.retried or report.failed:
                raise RuntimeError(f"{self.name}: not everything was delivered: {report}")
            if report.sent == 0 or sent >= count:
                break
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if sent != count or server.messages - messages_before != count:
            raise RuntimeError(f"{self.name}: sent {sent}, received {server.messages}")
        return Round(elapsed, cpu, sent, server.connections - connections_before)

    def dispose(self) -> None:
        from portal.extensions import db

        db.engine(self.app).dispose()  # type: ignore[arg-type]


def make_portal(name: str, url: str, server: SinkServer, folder: Path) -> Portal:
    from portal import create_app, migrate

    migrate.upgrade(url)
    app = create_app(
        {
            # The production configuration (as the worker runs), so its checks apply.
            "SECRET_KEY": secrets.token_urlsafe(48),
            "PUBLIC_BASE_URL": "https://wijkzaken.hilversum.example",
            "DATABASE_URL": url,
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": server.port,
            # Left to the worker, as ``deliver_round`` is; the commit only queues.
            "OUTBOX_DELIVERY": "off",
        }
    )
    return Portal(name, app)


@contextmanager
def postgres_url(wanted: bool) -> Iterator[str | None]:
    if not wanted or shutil.which("initdb") is None:
        yield None
        return
    from tests.fixtures.databases import PostgresCluster

    root = Path(tempfile.mkdtemp(prefix="bench-outbox-pg-"))
    cluster = PostgresCluster(root)
    cluster.start()
    try:
        cluster.execute("CREATE DATABASE bench_outbox")
        yield cluster.url("bench_outbox")
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- the run ----------------------------------------------------------------------------------


def _row(name: str, rounds: list[Round], raw: list[Round] | None) -> str:
    rate = statistics.median(r.per_second() for r in rounds)
    per_message = statistics.median(r.seconds / r.sent * 1000 for r in rounds)
    cpu = statistics.median(r.cpu_seconds / r.sent * 1000 for r in rounds)
    connections = max(r.connections for r in rounds)
    if raw is None:
        ratio, met = 1.0, ""
    else:
        # Each round's against the raw round run next to it: the machine's load changes by the
        # minute (it is shared), and a ratio of neighbours carries less of that than one of
        # medians taken minutes apart.
        ratio = statistics.median(
            r.per_second() / w.per_second() for r, w in zip(rounds, raw, strict=True)
        )
        met = "yes" if ratio >= TARGET else "no"
    return (
        f"| {name} | {rate:,.0f} | {per_message:.3f} | {cpu:.3f} | {connections} "
        f"| {ratio:.2f} | {met} |"
    )


def main(args: argparse.Namespace) -> int:
    count, rounds = (20, 1) if args.tiny else (args.messages, args.rounds)
    # The production configuration warns about in-memory rate limits; no requests here.
    logging.getLogger("portal.config").setLevel(logging.ERROR)
    print(machine.describe())
    print()
    with (
        sink_server() as server,
        tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp,
        postgres_url(not args.no_postgres) as pg_url,
    ):
        folder = Path(tmp)
        sqlite_url = f"sqlite:///{folder / 'outbox.sqlite3'}"
        portals = [make_portal("outbox, SQLite", sqlite_url, server, folder)]
        if pg_url is not None:
            portals.append(make_portal("outbox, PostgreSQL", pg_url, server, folder))
        raw_name = "raw smtplib, one connection"
        sides: list[tuple[str, Callable[[int], Round]]] = [
            (raw_name, lambda n: raw_round(server, n)),
            *((p.name, partial(p.deliver_round, server)) for p in portals),
        ]
        for _name, run in sides:  # warm-up: imports, caches, the first connections
            run(min(count, 20))
        measured: dict[str, list[Round]] = {name: [] for name, _run in sides}
        for round_number in range(rounds):
            # Each round starts with another side, so none always follows the same one.
            shift = round_number % len(sides)
            for name, run in sides[shift:] + sides[:shift]:
                measured[name].append(run(count))
        for portal in portals:
            portal.dispose()
    print(
        f"{count:,} messages per round, {rounds} round(s), the sides in turn; medians. One local "
        "aiosmtpd server (a process of its own) for all. CPU: this process's, all threads. "
        "Connections: the most one round opened. Ratio: the median of each round's messages/s "
        "over the raw round's."
    )
    print()
    print(
        "| what | messages/s | ms per message | CPU ms per message | connections | ratio | ≥ 0.8× |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, rounds_of_side in measured.items():
        print(_row(name, rounds_of_side, None if name == raw_name else measured[raw_name]))
    return 0
