"""The text the inbox's free-text search looks in, the same on SQLite and PostgreSQL.

Below models and domain (like vocabulary): the models keep ``Signal.search_text`` up to date
with it, bulk loaders (bench/) call it directly, and the search normalises what a colleague
types with the same function, so both sides always agree. Searching is substring matching of
the normalised words, indexed by trigrams (SQLite FTS5 ``trigram``, PostgreSQL ``pg_trgm``):
the same results on both databases for the same data.

The two indexes are made by migration 07497610045f, not by the models: Alembic cannot
describe an FTS5 table or an operator-class index. :func:`kept_outside_the_models` names them,
so that comparing the models with a database (autogenerate, tests/test_migrations.py) leaves
them alone. A change to what :func:`signal_search_text` writes needs a migration that
writes every signal's text again (as 07497610045f fills it)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# Between the fields, so a word cannot match across the end of one field and the start of the
# next; a searched word never contains it (the query is split on whitespace).
FIELD_SEPARATOR = "\n"

# SQLite: an FTS5 table over signals.search_text (external content, kept by triggers), and
# the shadow tables FTS5 makes for it (signal_search_data, _idx, _docsize, _config).
SQLITE_INDEX = "signal_search"
SQLITE_TRIGGERS = ("signals_search_insert", "signals_search_update", "signals_search_delete")
_SQLITE_INDEX_TABLES = frozenset(
    [SQLITE_INDEX, *(f"{SQLITE_INDEX}_{shadow}" for shadow in ("data", "idx", "docsize", "config"))]
)
# PostgreSQL: a GIN index with pg_trgm's gin_trgm_ops on signals.search_text.
POSTGRESQL_INDEX = "ix_signals_search_text_trgm"
# Shorter words have no trigram: both databases scan for them (the same plain comparison).
TRIGRAM = 3


def normalise(text: str) -> str:
    """Case and accents do not matter: "École" and "ecole" are the same word, on both
    databases (SQLite's own LIKE folds ASCII only). Runs of whitespace become one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def search_words(q: str) -> list[str]:
    """What a colleague typed as normalised words. The whole query is normalised before it is
    split: a compatibility character can fall apart into a space ("a¨b" is "a b"), and a word
    that is only accents is no word at all."""
    return normalise(q).split()


def signal_search_text(
    *,
    reference: str | None,
    title: str | None,
    street: str | None,
    house_number: str | None,
    postcode: str | None,
    description: str | None,
    organisation_name: str | None = None,
    kvk_number: str | None = None,
) -> str:
    """The normalised fields, one per line, empty ones left out. Every writer of signals
    (the models' flush hook, bulk loaders) calls this with the signal's own values.

    The postcode also without its space, so "1216ab" finds "1216 AB" as any other substring
    does (the KvK number is stored as its 8 digits already: "12.34.56.78" is looked up as
    those digits by the search)."""
    compact_postcode = "".join(postcode.split()) if postcode and " " in postcode.strip() else None
    fields = (
        reference, title, street, house_number, postcode, compact_postcode, description,
        organisation_name, kvk_number,
    )  # fmt: skip
    return _joined(fields)


def kept_outside_the_models(name: str | None, type_: str) -> bool:
    """True for the search indexes, which migrations make and the models do not describe
    (for Alembic's ``include_name``: ``lambda name, type_, _: not kept_outside_the_models(
    name, type_)``)."""
    if not name:
        return False
    if type_ == "table":
        return name in _SQLITE_INDEX_TABLES
    if type_ == "index":
        return name == POSTGRESQL_INDEX
    return False


def _joined(fields: Iterable[str | None]) -> str:
    return FIELD_SEPARATOR.join(n for f in fields if f and (n := normalise(f)))
