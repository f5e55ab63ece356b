"""Wijk news: short public updates by an accountmanager for their wijk."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import WijkNews


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
