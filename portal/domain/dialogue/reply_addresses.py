"""Reply-To addresses that lead a mail reply back to its signal.

The address carries an opaque reply id, never the status token: a reply id only lets its
holder add a message (which staff see marked as coming by mail), it opens nothing. One
active id per signal; revoking it makes later mail to it go to an admin instead."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import ReplyAddress, Signal

PLACEHOLDER = "{reply_id}"
# Lower case letters and digits without look-alikes: mail servers may change the case of a
# local part, and people retype addresses. 20 characters of 32 symbols is 100 bits.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ID_LENGTH = 20
_ID_PATTERN = f"[{ALPHABET}]{{{ID_LENGTH}}}"


def new_reply_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def active_reply_address(session: Session, signal: Signal) -> ReplyAddress | None:
    return session.scalars(
        select(ReplyAddress)
        .where(ReplyAddress.signal_id == signal.id, ReplyAddress.revoked_at.is_(None))
        .order_by(ReplyAddress.id.desc())
    ).first()


def reply_address_for(
    session: Session, signal: Signal, now: datetime, *, signal_is_new: bool = False
) -> ReplyAddress:
    """The signal's active reply address, made the first time a mail needs one.
    ``signal_is_new``: made in this transaction, so it has none yet (no need to look)."""
    existing = None if signal_is_new else active_reply_address(session, signal)
    if existing is not None:
        return existing
    address = ReplyAddress(signal_id=signal.id, reply_id=new_reply_id(), created_at=now)
    session.add(address)
    if not signal_is_new:
        session.flush()  # the next mail in this transaction finds it
    return address


def revoke(session: Session, signal: Signal, now: datetime) -> bool:
    """Stops the signal's reply address working; the next mail gets a new one. Returns
    whether there was one to revoke."""
    address = active_reply_address(session, signal)
    if address is None:
        return False
    address.revoked_at = now
    session.flush()
    return True


def format_address(template: str, reply_id: str) -> str:
    """``wijkzaken+{reply_id}@hilversum.nl`` with the id filled in."""
    return template.replace(PLACEHOLDER, reply_id)


def reply_id_from(address: str, template: str) -> str | None:
    """The reply id in an address made from ``template``, or None when the address is not
    one of ours. Case-insensitive, as mail servers treat addresses."""
    if PLACEHOLDER not in template:
        return None
    before, _sep, after = template.partition(PLACEHOLDER)
    pattern = re.escape(before.lower()) + f"({_ID_PATTERN})" + re.escape(after.lower())
    match = re.fullmatch(pattern, address.strip().strip("<>").lower())
    return match.group(1) if match else None


def find(session: Session, reply_id: str) -> ReplyAddress | None:
    return session.scalars(select(ReplyAddress).where(ReplyAddress.reply_id == reply_id)).first()
