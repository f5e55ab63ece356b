"""Reference numbers like HLV-2026-000123: a per-year sequence without duplicates, also when
many residents submit at the same moment (one counter row, updated atomically)."""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.models import ReferenceCounter


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


# As people type a reference from a letter or mail: "hlv 2026 000005", "HLV2026-5", …
_TYPED_REFERENCE = re.compile(r"([a-z]{1,10})[\s._-]*(\d{4})[\s._-]*(\d{1,6})", re.IGNORECASE)


def normalise_reference(typed: str) -> str:
    """The reference in its one written form; text that is no reference comes back trimmed
    and upper-cased (and so simply matches nothing)."""
    match = _TYPED_REFERENCE.fullmatch(typed.strip())
    if match is None:
        return typed.strip().upper()
    prefix, year, number = match.groups()
    return format_reference(prefix.upper(), int(year), int(number))


def next_reference(session: Session, prefix: str, year: int) -> str:
    """Takes the next number. Must run inside the transaction that stores the signal, so a
    rolled-back submission gives its number back instead of leaving a gap."""
    number = _increment(session, prefix, year)
    if number is None:
        _create_counter(session, prefix, year)
        number = _increment(session, prefix, year)
    assert number is not None
    return format_reference(prefix, year, number)


def _increment(session: Session, prefix: str, year: int) -> int | None:
    # UPDATE ... RETURNING takes the row (PostgreSQL) or database (SQLite) write lock, so
    # concurrent transactions queue here and each sees the value the previous one committed.
    statement = (
        update(ReferenceCounter)
        .where(ReferenceCounter.prefix == prefix, ReferenceCounter.year == year)
        .values(last_value=ReferenceCounter.last_value + 1)
        .returning(ReferenceCounter.last_value)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none()


def _create_counter(session: Session, prefix: str, year: int) -> None:
    # Two first-of-the-year submissions may both try to create the row; the loser carries on
    # with the row the winner made. (No savepoints: pysqlite would commit early on RELEASE.)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(ReferenceCounter)
        .values(prefix=prefix, year=year, last_value=0)
        .on_conflict_do_nothing()
    )
