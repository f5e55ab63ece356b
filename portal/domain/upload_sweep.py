"""Removing photos nobody will ever see: files in the upload folder that no signal refers to.

A photo is stored as soon as the form is sent, so that it survives a form that comes back to
fix another field (the resident sees it ticked and keeps it). A resident who then gives up
leaves the file behind; after a day no form can still be waiting for it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.photos import is_stored_name
from portal.models import Attachment

LOOSE_UPLOAD_AGE = timedelta(hours=24)
# Names per IN (...) query: well below SQLite's and PostgreSQL's parameter limits.
_BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    removed: int
    referenced: int
    recent: int

    def __str__(self) -> str:
        hours = int(LOOSE_UPLOAD_AGE.total_seconds() // 3600)
        return (
            f"removed {self.removed} loose upload(s); kept {self.referenced} older one(s) "
            f"that a signal uses and {self.recent} younger than {hours} h"
        )


def sweep_loose_uploads(
    session: Session, folder: Path, *, now: datetime, max_age: timedelta = LOOSE_UPLOAD_AGE
) -> SweepReport:
    """Deletes files older than ``max_age`` that no attachment names. Files whose names the
    photo store does not make are never touched; running it again does no harm."""
    if not folder.is_dir():
        return SweepReport(0, 0, 0)
    cutoff = (now - max_age).timestamp()
    old: list[Path] = []
    recent = 0
    for path in folder.iterdir():
        if not is_stored_name(path.name) or not path.is_file():
            continue
        if path.stat().st_mtime < cutoff:
            old.append(path)
        else:
            recent += 1
    # Asked after the files were listed, so a photo attached meanwhile is seen as in use.
    in_use = _referenced(session, [path.name for path in old])
    removed = 0
    for path in old:
        if path.name in in_use:
            continue
        path.unlink(missing_ok=True)  # another sweep may have been first
        removed += 1
    return SweepReport(removed=removed, referenced=len(in_use), recent=recent)


def _referenced(session: Session, names: Iterable[str]) -> set[str]:
    names = list(names)
    found: set[str] = set()
    for start in range(0, len(names), _BATCH):
        chunk = names[start : start + _BATCH]
        found.update(
            session.scalars(select(Attachment.stored_name).where(Attachment.stored_name.in_(chunk)))
        )
    return found
