"""Wijk news: short public updates by an accountmanager for their wijk, shown on the wijk page,
in the wijk's Atom feed and in the weekly alert mail.

An accountmanager posts for their own wijken, an admin for any; management only reads.
Withdrawing keeps the row (the audit refers to it) but takes it off the page, the feed and
the alerts at once. Every change writes an audit record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from portal.domain import audit
from portal.domain.photos import is_stored_name
from portal.models import Role, User, Wijk, WijkNews

TITLE_MAX = 120
TEXT_MAX = 2000
PHOTO_ALT_MAX = 200
# Where the back office keeps news photos: a folder of their own under the upload folder, so
# the sweep of loose resident uploads (which only looks at the folder itself) never takes them.
PHOTO_SUBFOLDER = "wijknieuws"


class NewsError(ValueError):
    """Why news cannot be saved: ``wijk_not_allowed``, ``title_required``,
    ``title_too_long``, ``text_required``, ``text_too_long``, ``alt_required``,
    ``alt_too_long``, ``withdrawn``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NewsInput:
    wijk_code: str
    title: str
    text: str
    # The stored name of the photo (PhotoStore) and what it shows; None: no photo.
    photo_name: str | None = None
    photo_alt: str | None = None


def recent_for_wijk(session: Session, wijk_code: str, *, limit: int = 5) -> list[WijkNews]:
    """The wijk's newest published news, newest first (withdrawn news never)."""
    return list(
        session.scalars(
            select(WijkNews)
            .where(WijkNews.wijk_code == wijk_code, WijkNews.withdrawn_at.is_(None))
            .order_by(WijkNews.published_at.desc(), WijkNews.id.desc())
            .limit(limit)
        )
    )


def published(session: Session, wijk_code: str, news_id: int) -> WijkNews | None:
    """One published news item of this wijk (None for another wijk's, or withdrawn)."""
    news = session.get(WijkNews, news_id)
    if news is None or news.wijk_code != wijk_code or news.withdrawn_at is not None:
        return None
    return news


def published_between(
    session: Session, wijk_code: str, after: datetime, until: datetime
) -> list[WijkNews]:
    """News published in (after, until], oldest first: what a weekly mail reports."""
    return list(
        session.scalars(
            select(WijkNews)
            .where(
                WijkNews.wijk_code == wijk_code,
                WijkNews.withdrawn_at.is_(None),
                WijkNews.published_at > after,
                WijkNews.published_at <= until,
            )
            .order_by(WijkNews.published_at, WijkNews.id)
        )
    )


def last_change(session: Session, wijk_code: str) -> datetime | None:
    """When the wijk's news last changed (posted, edited or withdrawn): the feed's updated."""
    latest = session.execute(
        select(func.max(WijkNews.updated_at), func.max(WijkNews.withdrawn_at)).where(
            WijkNews.wijk_code == wijk_code
        )
    ).one()
    moments = [moment for moment in latest if moment is not None]
    return max(moments) if moments else None


# --- the photo and its alt text --------------------------------------------------------------


def photo_name(news: WijkNews) -> str | None:
    """The stored name of the news photo, or None (also for anything we did not store)."""
    name = news.photo_key or ""
    return name if is_stored_name(name) else None


def photo_alt(news: WijkNews) -> str:
    return news.photo_alt or ""


# --- who may do what --------------------------------------------------------------------------


def may_post(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.ACCOUNTMANAGER)


def postable_wijken(session: Session, user: User) -> list[Wijk]:
    """The wijken this user may post news for: an admin all, an accountmanager their own."""
    if user.role == Role.ADMIN:
        return list(session.scalars(select(Wijk).order_by(Wijk.name)))
    if user.role == Role.ACCOUNTMANAGER:
        return sorted(user.wijken, key=lambda w: w.name)
    return []


def may_edit(user: User, news: WijkNews) -> bool:
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.ACCOUNTMANAGER and news.wijk_code in {w.code for w in user.wijken}


def staff_listing(session: Session, user: User) -> list[WijkNews]:
    """The news a staff member sees in the back office: of their own wijken (accountmanager),
    or all (admin, and management, who read everything), newest first, withdrawn included."""
    query = select(WijkNews).options(joinedload(WijkNews.wijk), joinedload(WijkNews.author))
    if user.role == Role.ACCOUNTMANAGER:
        query = query.where(WijkNews.wijk_code.in_([w.code for w in user.wijken]))
    elif user.role not in (Role.ADMIN, Role.MANAGEMENT):
        return []
    return list(session.scalars(query.order_by(WijkNews.published_at.desc(), WijkNews.id.desc())))


# --- changes --------------------------------------------------------------------------------


def _checked(session: Session, user: User, data: NewsInput) -> NewsInput:
    if data.wijk_code not in {w.code for w in postable_wijken(session, user)}:
        raise NewsError("wijk_not_allowed")
    title = " ".join((data.title or "").split())
    text = (data.text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    alt = " ".join((data.photo_alt or "").split()) or None
    if not title:
        raise NewsError("title_required")
    if len(title) > TITLE_MAX:
        raise NewsError("title_too_long")
    if not text:
        raise NewsError("text_required")
    if len(text) > TEXT_MAX:
        raise NewsError("text_too_long")
    if data.photo_name and not alt:
        raise NewsError("alt_required")
    if alt and len(alt) > PHOTO_ALT_MAX:
        raise NewsError("alt_too_long")
    if data.photo_name and not is_stored_name(data.photo_name):
        raise ValueError("not a photo from the photo store")
    return NewsInput(data.wijk_code, title, text, data.photo_name, alt if data.photo_name else None)


def post_news(session: Session, user: User, data: NewsInput, *, now: datetime) -> WijkNews:
    """Publishes at once: on the wijk page and in the feed now, in the next weekly mail."""
    clean = _checked(session, user, data)
    news = WijkNews(
        wijk_code=clean.wijk_code,
        title=clean.title,
        body=clean.text,
        photo_key=clean.photo_name,
        photo_alt=clean.photo_alt,
        author_id=user.id,
        published_at=now,
        updated_at=now,
    )
    session.add(news)
    session.flush()
    audit.record(
        session,
        "wijk_news.posted",
        actor_id=user.id,
        news_id=news.id,
        wijk=news.wijk_code,
        title=news.title,
        photo=clean.photo_name is not None,
    )
    return news


def update_news(
    session: Session, user: User, news: WijkNews, data: NewsInput, *, now: datetime
) -> str | None:
    """Saves an edit; returns the stored name of a photo that is no longer used (the caller
    deletes the file once the change is committed)."""
    if not may_edit(user, news):
        raise NewsError("wijk_not_allowed")
    if news.withdrawn_at is not None:
        raise NewsError("withdrawn")
    clean = _checked(session, user, data)
    old_photo = photo_name(news)
    changed = [
        name
        for name, old, new in (
            ("wijk", news.wijk_code, clean.wijk_code),
            ("title", news.title, clean.title),
            ("text", news.body, clean.text),
            ("photo", news.photo_key, clean.photo_name),
            ("photo description", news.photo_alt, clean.photo_alt),
        )
        if old != new
    ]
    news.wijk_code, news.title, news.body = clean.wijk_code, clean.title, clean.text
    news.photo_key, news.photo_alt = clean.photo_name, clean.photo_alt
    news.updated_at = now
    session.flush()
    audit.record(session, "wijk_news.changed", actor_id=user.id, news_id=news.id, changed=changed)
    return old_photo if old_photo and old_photo != clean.photo_name else None


def withdraw_news(session: Session, user: User, news: WijkNews, *, now: datetime) -> None:
    """Off the page, the feed and the alerts; mail sent already cannot be taken back."""
    if not may_edit(user, news):
        raise NewsError("wijk_not_allowed")
    if news.withdrawn_at is not None:
        raise NewsError("withdrawn")
    news.withdrawn_at = now
    session.flush()
    audit.record(
        session, "wijk_news.withdrawn", actor_id=user.id, news_id=news.id, wijk=news.wijk_code
    )
