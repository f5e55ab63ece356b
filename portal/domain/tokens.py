"""Private status-page tokens: 256 random bits handed out once, stored only as a hash.

The policy residents are told on their status page: asking for a new link (with reference
and email) makes every older link stop working; every mail brings a fresh link, and only the
newest ``MAX_LINKS_PER_SIGNAL`` keep working; all links stop ``LINK_DAYS_AFTER_CLOSING`` days
after the signal was closed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, delete, select
from sqlalchemy.orm import Session

from portal.database import DriverQuery
from portal.models import Signal, StatusToken
from portal.vocabulary import CLOSED_STATUSES

MAX_LINKS_PER_SIGNAL = 10
LINK_DAYS_AFTER_CLOSING = 90


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_status_token(
    session: Session, signal: Signal, *, revoke_others: bool = False, signal_is_new: bool = False
) -> str:
    """A new link for this signal; the oldest beyond the newest ``MAX_LINKS_PER_SIGNAL`` (or,
    with ``revoke_others``, all earlier ones) stop working. ``signal_is_new``: it was made in
    this transaction and has no other link, so there is nothing to revoke."""
    token = secrets.token_urlsafe(32)
    session.add(StatusToken(signal_id=signal.id, token_hash=hash_token(token)))
    if signal_is_new:
        return token
    session.flush()
    keep = select(StatusToken.id).where(StatusToken.signal_id == signal.id)
    keep = keep.order_by(StatusToken.id.desc()).limit(1 if revoke_others else MAX_LINKS_PER_SIGNAL)
    session.execute(
        delete(StatusToken)
        .where(StatusToken.signal_id == signal.id, StatusToken.id.not_in(keep.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return token


def links_expire_at(signal: Signal) -> datetime | None:
    return _expiry(signal.status, signal.closed_at)


def _expiry(status: str, closed_at: datetime | None) -> datetime | None:
    if status not in _CLOSED or closed_at is None:
        return None
    return closed_at + timedelta(days=LINK_DAYS_AFTER_CLOSING)


_CLOSED = frozenset(s.value for s in CLOSED_STATUSES)


@dataclass(frozen=True)
class PageState:
    """What decides whether a cached status page still holds, read without loading the
    signal itself (its description, its relations): one small indexed query."""

    signal_id: int
    version: int
    page_version: int
    status: str


# Built once, on the tables, and run on the driver (portal/database.py): on the busiest
# public page, making the statement anew, or running it through SQLAlchemy's session or
# connection, cost more than the rest of a cached page (bench/README.md, "Public pages").
_SIGNALS = Signal.__table__
_TOKENS = StatusToken.__table__
_PAGE_STATE = DriverQuery(
    select(_SIGNALS.c.id, _SIGNALS.c.version, _SIGNALS.c.page_version, _SIGNALS.c.status)
    .join(_TOKENS, _TOKENS.c.signal_id == _SIGNALS.c.id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)
_CLOSED_AT = select(_SIGNALS.c.closed_at).where(_SIGNALS.c.id == bindparam("signal_id"))


def page_state_for_token(engine: Engine, token: str, now: datetime) -> PageState | None:
    """As ``signal_for_token``, but only the signal's state (None: unknown or expired), read
    without an ORM session: a cached page then needs none at all."""
    if not token or len(token) > 100:
        return None
    row = _PAGE_STATE.first(engine, token_hash=hash_token(token))
    if row is None:
        return None
    signal_id, version, page_version, status = row
    if status in _CLOSED:  # when its links stop working depends on when it was closed
        with engine.connect() as connection:
            closed_at = connection.execute(_CLOSED_AT, {"signal_id": signal_id}).scalar()
        expires = _expiry(status, closed_at)
        if expires is not None and now >= expires:
            return None
    return PageState(signal_id, version, page_version, status)


def signal_for_token(session: Session, token: str, now: datetime) -> Signal | None:
    if not token or len(token) > 100:
        return None
    signal = session.scalars(
        select(Signal).join(StatusToken).where(StatusToken.token_hash == hash_token(token))
    ).first()
    if signal is None:
        return None
    expires = links_expire_at(signal)
    if expires is not None and now >= expires:
        return None
    return signal
