"""The inbox's free-text search, as WHERE conditions.

Every word typed must occur in the signal's search text (``Signal.search_text``: the
normalised reference, title, address, description and organisation, portal/search_text.py),
as a substring, after the same normalisation: case and accents do not matter, ``%`` and
``_`` are plain characters. The same signals on SQLite and PostgreSQL for the same data, each
through its own trigram index (made by migration 07497610045f):

- SQLite: the FTS5 ``trigram`` table ``signal_search``. A quoted phrase there is exactly a
  substring test (the text is normalised already, so the tokenizer is case-sensitive). All
  words go into one MATCH (``"glasbak" AND "kapot"``): FTS5 intersects its lists itself.
- PostgreSQL: ``search_text LIKE '%word%'`` with pg_trgm's GIN index (the index narrows by
  trigrams, the LIKE decides).

A word of one or two characters has no trigram to look up: both databases then compare it
the same plain way (``instr`` / ``strpos``: exact, no pattern characters), within what the
other words found, or over every signal when it stands alone. A whole reference number stays
an exact lookup on the unique index. The contact details (a person's name, email address,
phone) are never in the search text: not every colleague may see them.

The index is asked once per page: the page's counts and its rows are two statements, and
each made the index lookup again (at 1,000,000 signals "glasbak kapot" took FTS5 11 ms of
each statement's 20, bench/README.md). The ids found go into both as a list: an IN over a
JSON array on SQLite (``json_each``: no limit on the number of parameters), ``= ANY`` of
an array on PostgreSQL. A search that finds more than ``CARRIED_IDS_MAX`` signals (a single
common word, or one of two letters over every signal) keeps the lookup inside each
statement instead, as one materialised CTE that all of a statement's SELECTs share: a list
that long costs more to carry than to find again."""

from __future__ import annotations

import json
import re
from functools import lru_cache

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Select,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from portal.domain import organisations
from portal.domain.inbox.filter import MAX_QUERY_WORDS
from portal.models import Signal
from portal.search_text import SQLITE_INDEX, TRIGRAM, search_words

_REFERENCE = re.compile(r"[a-z]{1,10}-\d{4}-\d{6}")
_FTS = table(SQLITE_INDEX)
_LIKE_ESCAPE = "\\"


# At most this many ids found are handed to the page's statements as a list (see above).
CARRIED_IDS_MAX = 20_000


def text_conditions(session: Session, q: str) -> list[ColumnElement[bool]]:
    """Nothing for an empty query, else one condition: the signal is among those whose
    search text has every word. Asks the index now (once), unless the search is broad."""
    words = tuple(search_words(q)[:MAX_QUERY_WORDS])
    if not words:
        return []
    dialect = session.get_bind().dialect.name
    matching = _matching(words, dialect)
    found = session.scalars(lookup(words, dialect).limit(CARRIED_IDS_MAX + 1)).all()
    if len(found) > CARRIED_IDS_MAX:
        return [Signal.id.in_(select(matching.c.id))]
    return [_among(list(found), dialect)]


def lookup(words: tuple[str, ...], dialect: str) -> Select[tuple[int]]:
    """The statement that asks the index for the ids of the signals with every word."""
    return _matching(words, dialect).element  # type: ignore[return-value]


def _among(ids: list[int], dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return Signal.id == any_(bindparam("found_ids", ids, type_=ARRAY(Integer)))
    each = func.json_each(bindparam("found_ids", json.dumps(ids))).table_valued("value")
    return Signal.id.in_(select(each.c.value))


@lru_cache(maxsize=256)
def _matching(words: tuple[str, ...], dialect: str) -> CTE:
    """The ids of the signals with every word, as a CTE. One object per query (hence the
    cache): SQLAlchemy writes a CTE once at the top of a statement for all the places that
    refer to that same object, and the inbox asks for the conditions more than once per
    statement. The object holds only the query's words, nothing of a user or a session."""
    where: list[ColumnElement[bool]] = []
    indexed: list[str] = []  # SQLite: the MATCH expression of each word FTS5 can look up
    for word in words:
        if _REFERENCE.fullmatch(word):
            # A whole reference number: the unique index finds it.
            where.append(Signal.reference == word.upper())
            continue
        variants = _variants(word)
        if dialect == "sqlite" and all(len(v) >= TRIGRAM for v in variants):
            indexed.append(_fts_alternatives(variants))
        else:
            where.append(or_(*(_contains(v, dialect) for v in variants)))
    found = _fts_rowids(" AND ".join(indexed)) if indexed else None
    if found is not None and not where:
        ids = found  # straight from the FTS5 table (the outer IN meets the signals)
    else:
        ids = select(Signal.id).where(*where)
        if found is not None:
            ids = ids.where(Signal.id.in_(found))
    return ids.cte("text_matches").prefix_with("MATERIALIZED")


def _variants(word: str) -> list[str]:
    """The word itself and what else it may stand for: "12.34.56.78" is the KvK number
    12345678. (A postcode typed without its space, "1216ab", needs nothing: the search text
    has the postcode both ways.)"""
    variants = [word]
    try:
        kvk = organisations.normalise_kvk(word)
    except organisations.InvalidKvkNumber:
        kvk = None
    if kvk and kvk != word:
        variants.append(kvk)
    return variants


def _contains(normalised: str, dialect: str) -> ColumnElement[bool]:
    if len(normalised) < TRIGRAM:
        position = func.strpos if dialect == "postgresql" else func.instr
        return position(Signal.search_text, normalised) > 0
    if dialect == "postgresql":
        escaped = "".join(_LIKE_ESCAPE + c if c in "%_\\" else c for c in normalised)
        return Signal.search_text.like(f"%{escaped}%", escape=_LIKE_ESCAPE)
    return Signal.id.in_(_fts_rowids(_fts_alternatives([normalised])))


def _fts_alternatives(variants: list[str]) -> str:
    # FTS5 strings: within double quotes everything is literal, a quote is written twice.
    quoted = ['"' + v.replace('"', '""') + '"' for v in variants]
    return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"


def _fts_rowids(expression: str):  # type: ignore[no-untyped-def]
    """The ids the FTS5 table finds for ``expression`` (its rowid is the signal's id)."""
    match = literal_column(SQLITE_INDEX).op("MATCH")(bindparam("fts", expression, unique=True))
    return select(literal_column("rowid").label("id")).select_from(_FTS).where(match)
