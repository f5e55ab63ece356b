"""Part of the signal page (templates/backoffice/signal/): its context and actions."""

from __future__ import annotations

from typing import Any

from portal.models import Signal


def page_context(signal: Signal) -> dict[str, Any]:
    return {}
