"""Email alerts per wijk: anyone may ask for a weekly mail with the wijk's news and the
signals there that were newly handled. Double opt-in, one-click unsubscribe in every mail.

* Subscribing always gets the same answer, whatever the address (no way to learn who is
  subscribed). A new or lapsed address gets a mail with a link to confirm; an address that
  is subscribed already gets nothing new.
* The link's token is never stored, only its hash. Every mail must carry a working link,
  and the table keeps one hash, so the token is derived (HMAC with the app's secret key) from
  what identifies this subscription: address, wijk and when it was made. A new subscription
  after unsubscribing starts anew, so its token is new and old links stay dead.
* A confirmation link works CONFIRM_DAYS days; an address that was never confirmed is then
  deleted by the weekly job (someone may have typed another person's address), and so is an
  address UNSUBSCRIBED_KEEP_DAYS after it unsubscribed (its links then lead nowhere).
* Opening a link (GET) never changes anything: mail scanners open links before people do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from portal.domain import audit
from portal.domain.notifications import MailContext
from portal.domain.tokens import hash_token
from portal.domain.visibility import public_conditions
from portal.domain.wijk_news import published_between
from portal.models import Signal, Wijk, WijkAlert, WijkNews
from portal.outbox import forget_recipients, queue_mail
from portal.vocabulary import Status

CONFIRM_DAYS = 7
UNSUBSCRIBED_KEEP_DAYS = 30
DUE_SLACK = timedelta(hours=1)
# A longer list in one mail is cut off with "and N more" (the wijk page has them all).
MAX_PER_SECTION = 25
MAX_TOKEN_LENGTH = 100


class AlertState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


@dataclass(frozen=True)
class AlertLinks:
    """The alert pages (public URLs, in mail: keep them stable)."""

    base_url: str

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def confirm(self, token: str) -> str:
        return self._url(f"/attendering/bevestigen/{token}")

    def unsubscribe(self, token: str) -> str:
        return self._url(f"/attendering/afmelden/{token}")

    def wijk(self, wijk_code: str) -> str:
        return self._url(f"/wijken/{wijk_code}")

    def news(self, news: WijkNews) -> str:
        return self._url(f"/wijken/{news.wijk_code}/nieuws/{news.id}")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def state_of(alert: WijkAlert) -> AlertState:
    if alert.unsubscribed_at is not None:
        return AlertState.UNSUBSCRIBED
    if alert.confirmed_at is not None:
        return AlertState.CONFIRMED
    return AlertState.PENDING


def token_for(alert: WijkAlert, secret: str) -> str:
    """The subscription's link token: the same for every mail of this subscription."""
    made = alert.created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")
    message = f"wijk-alert\x00{alert.email}\x00{alert.wijk_code}\x00{made}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _current_token(alert: WijkAlert, secret: str) -> str:
    token = token_for(alert, secret)
    if alert.token_hash != hash_token(token):
        # Only after the secret key changed: links from earlier mail stop working, and
        # this mail's link is the one that counts.
        alert.token_hash = hash_token(token)
    return token


def alert_for_token(session: Session, token: str) -> WijkAlert | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    query = select(WijkAlert).where(WijkAlert.token_hash == hash_token(token))
    return session.scalars(query).first()


def confirm_link_expired(alert: WijkAlert, now: datetime) -> bool:
    """A link to confirm works CONFIRM_DAYS days (once confirmed, it keeps leading there)."""
    if state_of(alert) != AlertState.PENDING:
        return False
    return now - alert.created_at > timedelta(days=CONFIRM_DAYS)


# --- subscribing, confirming, unsubscribing ---------------------------------------------------


def subscribe(
    session: Session,
    email: str,
    wijk: Wijk,
    *,
    locale: str,
    now: datetime,
    mail: MailContext,
    secret: str,
) -> bool:
    """Asks for confirmation unless the address is subscribed already. The caller answers
    the same either way; True when a mail was queued (for tests and logs only)."""
    address = normalise_email(email)
    alert = session.scalars(
        select(WijkAlert).where(WijkAlert.email == address, WijkAlert.wijk_code == wijk.code)
    ).first()
    if alert is not None and state_of(alert) == AlertState.CONFIRMED:
        return False
    if alert is None:
        alert = WijkAlert(email=address, wijk_code=wijk.code, created_at=now, locale=locale)
        alert.token_hash = hash_token(token_for(alert, secret))
        session.add(alert)
    elif state_of(alert) == AlertState.UNSUBSCRIBED or confirm_link_expired(alert, now):
        # A new subscription: a new token, so links to the old one stay dead.
        alert.created_at, alert.locale = now, locale
        alert.confirmed_at = alert.unsubscribed_at = alert.last_sent_at = None
        alert.token_hash = hash_token(token_for(alert, secret))
    # Still pending and not expired: the same link again (the first mail's keeps working).
    session.flush()
    token = _current_token(alert, secret)
    links = AlertLinks(mail.links.base_url)
    rendered = mail.renderer.render(
        "alert_confirm",
        alert.locale,
        wijk=wijk,
        confirm_url=links.confirm(token),
        wijk_url=links.wijk(wijk.code),
        confirm_days=CONFIRM_DAYS,
    )
    queue_mail(session, purpose="alert_confirm", recipient=alert.email, mail=rendered)
    return True


def confirm(session: Session, alert: WijkAlert, *, now: datetime) -> bool:
    """Confirms a pending subscription (True); anything else is left as it is (False)."""
    if state_of(alert) != AlertState.PENDING or confirm_link_expired(alert, now):
        return False
    alert.confirmed_at = now
    session.flush()
    # When consent was given, without the address: the subscription row holds that.
    audit.record(session, "wijk_alert.confirmed", alert_id=alert.id, wijk=alert.wijk_code)
    return True


def unsubscribe(session: Session, alert: WijkAlert, *, now: datetime) -> bool:
    """Stops the mail (True), or did nothing because it was stopped already (False)."""
    if alert.unsubscribed_at is not None:
        return False
    alert.unsubscribed_at = now
    session.flush()
    audit.record(session, "wijk_alert.unsubscribed", alert_id=alert.id, wijk=alert.wijk_code)
    return True


# --- the weekly mail --------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    items: list[object] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def _section(items: list[object]) -> Section:
    return Section(items[:MAX_PER_SECTION], len(items))


@dataclass(frozen=True)
class WeeklyContent:
    since: datetime
    news: Section  # of WijkNews
    handled: Section  # of Signal

    @property
    def is_empty(self) -> bool:
        return not (self.news.total or self.handled.total)


def handled_between(
    session: Session, wijk_code: str, after: datetime, until: datetime
) -> list[Signal]:
    """Signals in the wijk resolved in (after, until], oldest first; never sensitive ones.
    Residents see only their public title (or theme and buurt), never what was written."""
    return list(
        session.scalars(
            select(Signal)
            .options(selectinload(Signal.themes), selectinload(Signal.buurt))
            .where(
                Signal.wijk_code == wijk_code,
                Signal.status == Status.RESOLVED.value,
                *public_conditions(),
                Signal.closed_at > after,
                Signal.closed_at <= until,
            )
            .order_by(Signal.closed_at, Signal.id)
        )
    )


def weekly_content(session: Session, alert: WijkAlert, now: datetime) -> WeeklyContent:
    since = alert.last_sent_at or alert.confirmed_at or alert.created_at
    return WeeklyContent(
        since=since,
        news=_section(list(published_between(session, alert.wijk_code, since, now))),
        handled=_section(list(handled_between(session, alert.wijk_code, since, now))),
    )


@dataclass
class WeeklyReport:
    sent: int = 0
    nothing_new: int = 0
    not_due: int = 0
    unconfirmed_removed: int = 0
    unsubscribed_removed: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, nothing new {self.nothing_new}, not due yet {self.not_due}; "
            f"removed {self.unconfirmed_removed} unconfirmed and "
            f"{self.unsubscribed_removed} unsubscribed address(es)"
        )


def send_weekly(
    session: Session, *, now: datetime, interval_days: int, mail: MailContext, secret: str
) -> WeeklyReport:
    """Queues the weekly mail for every confirmed subscription whose last mail (or
    confirmation) is at least ``interval_days`` old and that has something new. Running it
    again sends nothing twice: each mail is claimed by moving last_sent_at on with a
    conditional UPDATE, so a second run at the same moment finds it taken."""
    report = WeeklyReport()
    report.unconfirmed_removed = _remove(
        session,
        WijkAlert.confirmed_at.is_(None),
        WijkAlert.unsubscribed_at.is_(None),
        WijkAlert.created_at < now - timedelta(days=CONFIRM_DAYS),
    )
    report.unsubscribed_removed = _remove(
        session, WijkAlert.unsubscribed_at < now - timedelta(days=UNSUBSCRIBED_KEEP_DAYS)
    )
    # An hour's slack: with an hourly cron a run a few seconds earlier than last week's must
    # not push the mail an hour later, week after week.
    due_before = now - timedelta(days=interval_days) + DUE_SLACK
    alerts = session.scalars(
        select(WijkAlert)
        .options(selectinload(WijkAlert.wijk))
        .where(WijkAlert.confirmed_at.is_not(None), WijkAlert.unsubscribed_at.is_(None))
        .order_by(WijkAlert.id)
    ).all()
    links = AlertLinks(mail.links.base_url)
    for alert in alerts:
        since = alert.last_sent_at or alert.confirmed_at
        assert since is not None  # confirmed, see the query
        if since > due_before:
            report.not_due += 1
            continue
        content = weekly_content(session, alert, now)
        if content.is_empty:
            # Nothing to say: no mail, and the next run looks again from the same moment.
            report.nothing_new += 1
            continue
        if not _claim(session, alert, since, now):
            continue  # another run took it meanwhile
        token = _current_token(alert, secret)
        rendered = mail.renderer.render(
            "alert_weekly",
            alert.locale,
            wijk=alert.wijk,
            content=content,
            links=links,
            wijk_url=links.wijk(alert.wijk_code),
            unsubscribe_url=links.unsubscribe(token),
        )
        queue_mail(
            session,
            purpose="alert_weekly",
            recipient=alert.email,
            mail=rendered,
            list_unsubscribe=links.unsubscribe(token),
        )
        report.sent += 1
    session.flush()
    return report


def _claim(session: Session, alert: WijkAlert, since: datetime, now: datetime) -> bool:
    last_sent = (
        WijkAlert.last_sent_at.is_(None)
        if alert.last_sent_at is None
        else WijkAlert.last_sent_at == alert.last_sent_at
    )
    claimed = session.execute(
        update(WijkAlert)
        .where(WijkAlert.id == alert.id, WijkAlert.unsubscribed_at.is_(None), last_sent)
        .values(last_sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:  # what the UPDATE stored, without a second UPDATE at the next flush
        set_committed_value(alert, "last_sent_at", now)
    return bool(claimed)


def _remove(session: Session, *conditions: ColumnElement[bool]) -> int:
    """Deletes the subscriptions, and their address from the copies of mail sent to them
    (unless the address still follows another wijk)."""
    emails = set(session.scalars(select(WijkAlert.email).where(*conditions)))
    query = delete(WijkAlert).where(*conditions).execution_options(synchronize_session=False)
    removed = session.execute(query).rowcount or 0
    still_subscribed = set(
        session.scalars(select(WijkAlert.email).where(WijkAlert.email.in_(emails)))
    )
    forget_recipients(session, emails - still_subscribed, purpose_prefix="alert_")
    return removed
