"""Who may see which signal. Every signal is visible to all staff, except a sensitive one:
only its owner, admins and colleagues let in (SignalAccess) may open it or find it in any
list, search or count."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from portal.models import Signal, User


def inbox_conditions(user: User) -> list[ColumnElement[bool]]:
    """Extra WHERE conditions for every list, search and count of signals for ``user``."""
    return []


def can_open(session: Session, user: User, signal: Signal) -> bool:
    return True
