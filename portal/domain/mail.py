"""What the domain needs to write mail without knowing about Flask: a renderer for the mail
templates and the public links that go in them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
