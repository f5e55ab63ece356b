"""The inbox's free-text search, as WHERE conditions (a full scan: bench/README.md, "Known
limits")."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from portal.domain import organisations
from portal.domain.geography import normalise_postcode
from portal.domain.inbox.filter import MAX_QUERY_WORDS
from portal.models import Reporter, Signal
from portal.vocabulary import SubmitterKind

_REFERENCE = re.compile(r"[A-Za-z]{1,10}-\d{4}-\d{6}")


def text_conditions(q: str, dialect: str) -> list[ColumnElement[bool]]:
    """Every word must occur in the reference, title, address or description, or in the
    name or KvK number of the organisation that sent it. Case does not matter (SQLite: for
    ASCII letters only), and % and _ are taken literally. The contact details (a person's
    name, email address, phone) are never searched: not every colleague may see them."""
    where: list[ColumnElement[bool]] = []
    for word in q.split()[:MAX_QUERY_WORDS]:
        if _REFERENCE.fullmatch(word):
            # A whole reference number: the unique index finds it, no scan needed.
            where.append(Signal.reference == word.upper())
            continue
        pattern = "%" + word.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        cheap = (Signal.title, Signal.street, Signal.postcode, Signal.house_number)
        # Cheap columns first, the description last: OR stops at the first match.
        matches = [_like(column, pattern, dialect) for column in cheap]
        matches.append(_like(Signal.reference, pattern, dialect))
        matches.append(_organisation_matches(word, pattern, dialect))
        matches.append(_like(Signal.description, pattern, dialect))
        postcode = normalise_postcode(word)
        if postcode and " " not in word:  # "1216ab" finds "1216 AB"
            matches.append(Signal.postcode == postcode)
        where.append(or_(*matches))
    return where


def _like(column: Any, pattern: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return column.ilike(pattern, escape="/")
    # SQLite's LIKE already ignores ASCII case; lower() would only copy every text.
    return column.like(pattern, escape="/")


def _organisation_matches(word: str, pattern: str, dialect: str) -> ColumnElement[bool]:
    """The word in the organisation's name or KvK number ("12.34.56.78" finds 12345678).

    Each database its own way, as measured with bench/inbox_bench.py's 100,000 signals (3% of
    them from organisations): SQLite checks the signal's own submitter kind first and looks up
    the reporter (by its unique signal_id) only for the few organisations, which adds about
    10% to a search; PostgreSQL made that lookup for every row (five times slower), but with
    an uncorrelated IN it reads the matching reporters once into a hashed set (+13%)."""
    found = [
        _like(Reporter.organisation_name, pattern, dialect),
        Reporter.kvk_number.like(pattern, escape="/"),
    ]
    try:
        kvk = organisations.normalise_kvk(word)
    except organisations.InvalidKvkNumber:
        kvk = None
    if kvk and kvk != word:
        found.append(Reporter.kvk_number == kvk)
    if dialect == "postgresql":
        matching = select(Reporter.signal_id).where(
            Reporter.organisation_name.is_not(None), or_(*found)
        )
        return Signal.id.in_(matching)
    reporter = select(Reporter.id).where(Reporter.signal_id == Signal.id, or_(*found))
    return and_(Signal.submitter_kind == SubmitterKind.ORGANISATION.value, reporter.exists())
