"""What the domain needs to write mail without knowing about Flask: a renderer for the mail
templates and the public links that go in them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

# The secret part of every link that opens something by itself (status page, set password,
# the answer pages of functionaries and partners, wijk alerts, followed signals).
SECRET_LINK = re.compile(
    r"(/status/|/backoffice/wachtwoord/|/antwoord/(?:escalatie|partner)/"
    r"|/attendering/(?:bevestigen|afmelden)/|/volgen/)[A-Za-z0-9_-]{16,}"
)
REDACTED = "[verwijderd]"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


class MailRenderer(Protocol):
    def render(self, template: str, locale: str, **context: object) -> RenderedMail: ...


@dataclass(frozen=True)
class Links:
    """Absolute links for mail. The paths are part of the public contract (DESIGN.md)."""

    base_url: str

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def status(self, token: str) -> str:
        return self._url(f"/status/{token}")

    def status_lookup(self) -> str:
        return self._url("/status/opvragen")

    def backoffice_signal(self, reference: str) -> str:
        return self._url(f"/backoffice/signalen/{reference}")

    def backoffice_login(self) -> str:
        return self._url("/backoffice/login")

    def set_password(self, token: str) -> str:
        return self._url(f"/backoffice/wachtwoord/{token}")


def redact_secret_links(text: str) -> str:
    """The mail as it may be kept once delivered: what it said, never a working link."""
    return SECRET_LINK.sub(lambda m: m.group(1) + REDACTED, text)
