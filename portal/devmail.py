"""A development SMTP sink: accepts every message and keeps it as an ``.eml`` file, so mail
from a local portal can be opened in any mail client instead of reaching real people."""

from __future__ import annotations

import email
import email.policy
import itertools
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class SavedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    subject: str
    path: Path

    def __str__(self) -> str:
        return f"to {', '.join(self.rcpt_tos)} | {self.subject or '(no subject)'} | {self.path}"


OnSaved = Callable[[SavedMail], None]


def slug(text: str, max_length: int = 50) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].rstrip("-")


class SavingHandler:
    """aiosmtpd handler that writes each message to ``folder``."""

    def __init__(self, folder: Path, on_saved: OnSaved | None = None) -> None:
        self.folder = folder
        self.on_saved = on_saved
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        saved = self.save(envelope.mail_from or "", list(envelope.rcpt_tos), envelope.content)
        if self.on_saved is not None:
            self.on_saved(saved)
        return "250 Message accepted for delivery"

    def save(self, mail_from: str, rcpt_tos: list[str], content: bytes | str | None) -> SavedMail:
        raw = content.encode("utf-8") if isinstance(content, str) else content or b""
        parsed: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[assignment]
        subject = str(parsed.get("Subject", ""))
        # The envelope says who really got it (Bcc never shows in the headers).
        envelope_headers = f"X-MailFrom: {mail_from}\r\nX-RcptTo: {', '.join(rcpt_tos)}\r\n"
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self._new_path(subject)
            path.write_bytes(envelope_headers.encode("utf-8") + raw)
        return SavedMail(mail_from, tuple(rcpt_tos), subject, path)

    def _new_path(self, subject: str) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        while True:
            # The counter keeps names in arrival order within a second; the existence check
            # keeps a restarted sink from overwriting what it saved a moment ago.
            name = f"{stamp}-{next(self._counter):04d}-{slug(subject) or 'no-subject'}.eml"
            path = self.folder / name
            if not path.exists():
                return path


def start_sink(
    host: str, port: int, folder: Path | str, on_saved: OnSaved | None = None
) -> Controller:
    """Starts the sink in a background thread; call ``.stop()`` on the result to end it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(SavingHandler(folder, on_saved), hostname=host, port=port)
    controller.start()
    return controller
