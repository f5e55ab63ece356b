"""Private status-page tokens: 256 random bits handed out once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Signal, StatusToken


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_status_token(session: Session, signal: Signal) -> str:
    token = secrets.token_urlsafe(32)
    session.add(StatusToken(signal_id=signal.id, token_hash=hash_token(token)))
    return token


def signal_for_token(session: Session, token: str) -> Signal | None:
    if not token or len(token) > 100:
        return None
    return session.scalars(
        select(Signal).join(StatusToken).where(StatusToken.token_hash == hash_token(token))
    ).first()
