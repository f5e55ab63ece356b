"""What the pages show of the links between signals (the operations are in ``links``): the
list on the signal page, and on the duplicate's status page the pointer to the signal it
repeats - its public face only (``nearby.public_view``), never its description, reporter or
photos.

When the duplicate relation holds: from the decline that marked the signal as a duplicate
until its next status change. Staff reopen a duplicate when it deserves its own handling after
all; declined later for another reason, it must not tell the resident again that someone
else reported the same. So the resident sees the pointer only while the signal's newest
status step is the decline ``links.mark_duplicate`` made: that step's id is kept on the link
(``SignalLink.decline_event_id``; the link itself stays, so staff see the history, until they
remove it). The order of the steps decides, not their time: steps made in the same second
(or with a clock set back) cannot mislead it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.domain.nearby import PublicSignal, public_view
from portal.domain.visibility import is_public
from portal.models import Signal, SignalEvent, SignalFollower, SignalLink
from portal.vocabulary import CLOSED_STATUSES, LinkKind, Status

RELATED = LinkKind.RELATED.value
DUPLICATE = LinkKind.DUPLICATE.value
CLOSED = {s.value for s in CLOSED_STATUSES}
# Written by ``links.mark_duplicate``.
MARKED_DUPLICATE = "signal.marked_duplicate"


def _duplicate_link(session: Session, signal: Signal) -> SignalLink | None:
    return session.scalars(
        select(SignalLink).where(SignalLink.signal_id == signal.id, SignalLink.kind == DUPLICATE)
    ).first()


def original_of(session: Session, signal: Signal) -> Signal | None:
    """The signal ``signal`` was marked a duplicate of, if any (also once it was reopened:
    the link stays until staff remove it)."""
    link = _duplicate_link(session, signal)
    return session.get(Signal, link.other_id) if link is not None else None


def still_repeats(session: Session, duplicate_id: int) -> bool:
    """Whether the newest status step of the signal is the decline that marked it as a
    duplicate (see the module's docstring). False when it was never marked."""
    declined = session.scalars(
        select(SignalLink.decline_event_id).where(
            SignalLink.signal_id == duplicate_id, SignalLink.kind == DUPLICATE
        )
    ).first()
    newest = session.scalar(
        select(func.max(SignalEvent.id)).where(
            SignalEvent.signal_id == duplicate_id, SignalEvent.kind == "status_changed"
        )
    )
    return declined is not None and declined == newest


# --- the signal page ------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    """One link as the signal page lists it. ``role``: ``related``, ``duplicate_of`` (this
    signal repeats ``other``) or ``repeated_by`` (``other`` repeats this one).
    ``reopened``: a duplicate link whose duplicate was reopened since it was marked (its
    resident no longer sees the pointer)."""

    link: SignalLink
    other: Signal
    role: str
    reopened: bool = False


def links_of(session: Session, signal: Signal) -> list[LinkRow]:
    """Every link of ``signal``, the duplicate relation first, then oldest first."""
    links = session.scalars(
        select(SignalLink)
        .where(or_(SignalLink.signal_id == signal.id, SignalLink.other_id == signal.id))
        .order_by(SignalLink.created_at, SignalLink.id)
    ).all()
    ids = {link.other_id if link.signal_id == signal.id else link.signal_id for link in links}
    others = {s.id: s for s in session.scalars(select(Signal).where(Signal.id.in_(ids)))}
    rows = []
    for link in links:
        mine = link.signal_id == signal.id
        other = others[link.other_id if mine else link.signal_id]
        if link.kind == RELATED:
            rows.append(LinkRow(link, other, "related"))
            continue
        reopened = not still_repeats(session, link.signal_id)
        rows.append(LinkRow(link, other, "duplicate_of" if mine else "repeated_by", reopened))
    return sorted(rows, key=lambda row: row.role != "duplicate_of")


# --- the duplicate's status page ------------------------------------------------------------


@dataclass(frozen=True)
class DuplicatePointer:
    """What the duplicate's status page says about the original: its public face when it is
    public (else None: only a sentence), whether it can still be followed, and whether the
    resident's address follows it already. Never the original itself: the page gets
    nothing it must not show."""

    other: PublicSignal | None
    followable: bool
    following: bool


def pointer_for(session: Session, signal: Signal) -> DuplicatePointer | None:
    """For a signal declined as a duplicate, while that holds; None otherwise."""
    if signal.status != Status.DECLINED.value:
        return None
    original = original_of(session, signal)
    if original is None or not still_repeats(session, signal.id):
        return None
    if not is_public(original):
        return DuplicatePointer(other=None, followable=False, following=False)
    email = (signal.reporter.email or "").strip().lower() if signal.reporter else ""
    following = bool(email) and (
        session.scalars(
            select(SignalFollower.id).where(
                SignalFollower.signal_id == original.id,
                SignalFollower.email == email,
                SignalFollower.unsubscribed_at.is_(None),
            )
        ).first()
        is not None
    )
    return DuplicatePointer(
        other=public_view(original),
        followable=original.status not in CLOSED,
        following=following,
    )
