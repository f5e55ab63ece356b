"""Following someone else's signal: "Dit is mijn melding ook". Instead of reporting the same
problem again, a resident follows the signal they found nearby: a page of its own with its
public title, place, status and the dates of its status changes (never the reporter's data,
description or the messages to them) and, with an email address, a short mail at every new
status, each with a one-click unsubscribe (RFC 8058).

Links: only the hash of a follower's token is stored (a leaked database opens nothing), so a
mail cannot repeat the link shown on screen. Each status mail therefore brings a link of its
own - one more SignalFollower row for the same signal and address, like the status page's
"every mail brings a fresh link" (tokens.py). The rows of one address are one follower: the
address gets one mail per change, and stopping through any of its links stops them all
(and forgets the address). The newest ``MAX_LINKS_PER_ADDRESS`` links keep working, so the
unsubscribe link of a recent mail always does.

A follow link stops working when its signal turns sensitive, and some time after the signal
was closed, as status links do (``tokens.LINK_DAYS_AFTER_CLOSING``); ``forget_followers``
then removes the rows."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from portal.domain.mail import Links
from portal.domain.nearby import PUBLIC_STATUS_LABELS, public_view
from portal.domain.notifications import MailContext
from portal.domain.tokens import LINK_DAYS_AFTER_CLOSING, hash_token, links_expire_at
from portal.domain.visibility import is_public
from portal.models import Signal, SignalEvent, SignalFollower
from portal.outbox import forget_recipients, queue_mail
from portal.vocabulary import CLOSED_STATUSES

MAX_LINKS_PER_ADDRESS = 10
# A stopped follow link says so this long, then it is forgotten (404 like any unknown link).
STOPPED_LINK_DAYS = LINK_DAYS_AFTER_CLOSING
CLOSED = tuple(s.value for s in CLOSED_STATUSES)
EMAIL_MAX = 320


@dataclass(frozen=True)
class FollowLinks:
    """The follower's links (public contract like the status page's: printed in mail)."""

    links: Links

    def _url(self, path: str) -> str:
        return self.links.base_url.rstrip("/") + path

    def page(self, token: str) -> str:
        return self._url(f"/volgen/{token}")

    def unsubscribe(self, token: str) -> str:
        """For people a page with a "Stop met volgen" button (GET), for mail programs the
        List-Unsubscribe URL: a POST here stops the mail at once (RFC 8058)."""
        return self._url(f"/volgen/{token}/afmelden")


@dataclass(frozen=True)
class StatusStep:
    """One line of the follow page's history: when, and which status (never a message)."""

    at: datetime
    status: str


def followable_signal(session: Session, reference: str) -> Signal | None:
    """The signal a resident may start following: known, public and still open."""
    if not reference or len(reference) > 32:
        return None
    signal = session.scalars(select(Signal).where(Signal.reference == reference)).first()
    if signal is None or not is_public(signal) or signal.status in CLOSED:
        return None
    return signal


def _normalised(email: str | None) -> str | None:
    text = (email or "").strip().lower()
    return text[:EMAIL_MAX] or None


def _new_link(session: Session, signal: Signal, email: str | None, locale: str) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        SignalFollower(
            signal_id=signal.id, token_hash=hash_token(token), email=email, locale=locale
        )
    )
    session.flush()
    return token


def start_following(
    session: Session,
    signal: Signal,
    *,
    email: str | None,
    locale: str,
    mail: MailContext,
) -> str:
    """A new follower; returns the token of their page (shown once). With an address, the
    link is mailed too. The caller commits."""
    address = _normalised(email)
    token = _new_link(session, signal, address, locale)
    if address is not None:
        _trim(session, signal.id, address)
        _queue(session, signal, address, locale, token, "follow_started", mail)
    return token


def _queue(
    session: Session,
    signal: Signal,
    address: str,
    locale: str,
    token: str,
    template: str,
    mail: MailContext,
    **context: object,
) -> None:
    links = FollowLinks(mail.links)
    rendered = mail.renderer.render(
        template,
        locale,
        signal=public_view(signal),
        status_labels=PUBLIC_STATUS_LABELS,
        follow_url=links.page(token),
        stop_url=links.unsubscribe(token),
        **context,
    )
    queue_mail(
        session,
        purpose=template,
        recipient=address,
        mail=rendered,
        signal_id=signal.id,
        list_unsubscribe=links.unsubscribe(token),
    )


def _trim(session: Session, signal_id: int, address: str) -> None:
    """Keeps the newest MAX_LINKS_PER_ADDRESS links of one address for one signal."""
    keep = (
        select(SignalFollower.id)
        .where(SignalFollower.signal_id == signal_id, SignalFollower.email == address)
        .order_by(SignalFollower.id.desc())
        .limit(MAX_LINKS_PER_ADDRESS)
    )
    session.execute(
        delete(SignalFollower)
        .where(
            SignalFollower.signal_id == signal_id,
            SignalFollower.email == address,
            SignalFollower.id.not_in(keep.scalar_subquery()),
        )
        .execution_options(synchronize_session=False)
    )


def find_follower(session: Session, token: str) -> SignalFollower | None:
    """The follower of this link, whatever the state of its signal (stopping always works)."""
    if not token or len(token) > 100:
        return None
    return session.scalars(
        select(SignalFollower).where(SignalFollower.token_hash == hash_token(token))
    ).first()


def follower_for_page(session: Session, token: str, now: datetime) -> SignalFollower | None:
    """The follower whose page this link opens: None when unknown, when its signal turned
    sensitive, or when the signal was closed too long ago."""
    follower = find_follower(session, token)
    if follower is None:
        return None
    signal = session.get(Signal, follower.signal_id)
    if signal is None or not is_public(signal):
        return None
    expires = links_expire_at(signal)
    if expires is not None and now >= expires:
        return None
    return follower


def stop_following(session: Session, follower: SignalFollower, now: datetime) -> None:
    """No more mail about this signal to this follower, through any of their links, and
    their address is forgotten. Safe to repeat (a mail program may POST twice)."""
    if follower.unsubscribed_at is not None:
        return
    rows = [follower]
    if follower.email is not None:
        rows = list(
            session.scalars(
                select(SignalFollower).where(
                    SignalFollower.signal_id == follower.signal_id,
                    SignalFollower.email == follower.email,
                )
            )
        )
    if follower.email is not None:
        forget_recipients(
            session, [follower.email], purpose_prefix="follow_", signal_id=follower.signal_id
        )
    for row in rows:
        row.email = None
        row.unsubscribed_at = row.unsubscribed_at or now
    session.flush()


def status_history(signal: Signal) -> list[StatusStep]:
    """The public status steps, oldest first: dates and statuses only."""
    return [
        StatusStep(event.created_at, event.to_status)
        for event in signal.events
        if event.is_public and event.to_status
    ]


def notify_followers(
    session: Session, signal: Signal, event: SignalEvent, mail: MailContext
) -> int:
    """A mail to each address following ``signal`` about the new status of ``event``, each
    with a fresh link; none for a sensitive signal. Returns how many were queued."""
    if not is_public(signal) or not event.to_status:
        return 0
    newest = (
        select(SignalFollower.email, func.max(SignalFollower.id).label("newest_id"))
        .where(
            SignalFollower.signal_id == signal.id,
            SignalFollower.email.is_not(None),
            SignalFollower.unsubscribed_at.is_(None),
        )
        .group_by(SignalFollower.email)
        .subquery()
    )
    followers = session.execute(
        select(SignalFollower.email, SignalFollower.locale)
        .join(newest, SignalFollower.id == newest.c.newest_id)
        .order_by(SignalFollower.id)
    ).all()
    for address, locale in followers:
        token = _new_link(session, signal, address, locale)
        _trim(session, signal.id, address)
        _queue(
            session,
            signal,
            address,
            locale,
            token,
            "follow_status",
            mail,
            new_status=event.to_status,
        )
    return len(followers)


def forget_followers(session: Session, now: datetime) -> int:
    """Removes the links that no longer open anything: of signals closed longer ago than
    their links work, and links stopped longer ago than STOPPED_LINK_DAYS. Returns how many
    (for ``jobs run``)."""
    closed_before = now - timedelta(days=LINK_DAYS_AFTER_CLOSING)
    closed_long_ago = select(Signal.id).where(
        Signal.status.in_(CLOSED), Signal.closed_at.is_not(None), Signal.closed_at < closed_before
    )
    result = session.execute(
        delete(SignalFollower)
        .where(
            or_(
                SignalFollower.signal_id.in_(closed_long_ago),
                SignalFollower.unsubscribed_at < now - timedelta(days=STOPPED_LINK_DAYS),
            )
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
