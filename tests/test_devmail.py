"""The development SMTP sink: real SMTP in, .eml files out."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from portal.devmail import SavedMail, slug, start_sink
from tests.fixtures.databases import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[Controller, list[SavedMail], Path]]:
    folder = tmp_path / "mail"
    saved: list[SavedMail] = []
    controller = start_sink("127.0.0.1", free_port(), folder, on_saved=saved.append)
    yield controller, saved, folder
    controller.stop()


def resident_mail(subject: str = "Losse stoeptegel – Kerkelanden") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Wijkzaken Hilversum <wijkzaken@hilversum.example>"
    message["To"] = "bewoner@example.nl"
    message["Subject"] = subject
    message.set_content("Beste bewoner,\n\nWe gaan ermee aan de slag.\n")
    message.add_alternative(
        "<p>Beste bewoner,</p><p>We gaan ermee aan de slag.</p>", subtype="html"
    )
    return message


def send(port: int, message: EmailMessage, to_addrs: list[str] | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message, to_addrs=to_addrs)


def read_eml(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[return-value]


def test_saves_each_message_as_an_eml_file(sink) -> None:
    controller, saved, folder = sink

    # The Bcc address only exists in the envelope; the saved file must still show it.
    send(controller.port, resident_mail(), ["bewoner@example.nl", "archief@hilversum.example"])

    [path] = folder.iterdir()
    assert re.fullmatch(r"\d{8}-\d{6}-0001-losse-stoeptegel-kerkelanden\.eml", path.name)
    stored = read_eml(path)
    assert stored["Subject"] == "Losse stoeptegel – Kerkelanden"
    assert stored["X-RcptTo"] == "bewoner@example.nl, archief@hilversum.example"
    assert stored["X-MailFrom"] == "wijkzaken@hilversum.example"
    plain = stored.get_body(("plain",))
    html = stored.get_body(("html",))
    assert plain is not None and "We gaan ermee aan de slag." in plain.get_content()
    assert html is not None and "<p>Beste bewoner,</p>" in html.get_content()

    # handle_DATA finishes before the server answers 250, so the report is already there.
    [report] = saved
    assert report.path == path
    assert str(report) == (
        "to bewoner@example.nl, archief@hilversum.example"
        f" | Losse stoeptegel – Kerkelanden | {path}"
    )


def test_same_subject_twice_gives_two_files(sink) -> None:
    controller, saved, folder = sink

    send(controller.port, resident_mail("Status"))
    send(controller.port, resident_mail("Status"))

    names = sorted(path.name for path in folder.iterdir())
    assert len(names) == 2
    assert [name.split("-", 3)[2:] for name in names] == [
        ["0001", "status.eml"],
        ["0002", "status.eml"],
    ]
    assert [report.path.name for report in saved] == names


def test_slug_makes_readable_file_names() -> None:
    assert (
        slug("Ééntje: straatlamp kapot!! (Hilversum-Oost)")
        == "eentje-straatlamp-kapot-hilversum-oost"
    )
    assert slug("…") == ""
    assert len(slug("x" * 200)) == 50


def test_devmail_command_saves_and_prints(tmp_path: Path) -> None:
    port = free_port()
    folder = tmp_path / "mail"
    env = {
        **os.environ,
        "PORTAL_TESTING": "true",
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "PORTAL_UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }
    command = [sys.executable, "-m", "flask", "--app", "portal", "devmail"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--dir", str(folder)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, server)
        send(port, resident_mail("Melding ontvangen"))
    finally:
        server.send_signal(signal.SIGTERM)
        output, errors = server.communicate(timeout=30)

    assert server.returncode == 0, errors
    [path] = folder.iterdir()
    assert read_eml(path)["Subject"] == "Melding ontvangen"
    lines = output.splitlines()
    assert lines[0] == f"Saving mail sent to 127.0.0.1:{port} in {folder}; Ctrl-C to stop."
    assert lines[1] == f"to bewoner@example.nl | Melding ontvangen | {path}"
    assert lines[-1] == "Stopped."


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"devmail did not start listening on port {port}")
