"""The text the inbox's free-text search looks in, the same on SQLite and PostgreSQL.

Below models and domain (like vocabulary): the models keep ``Signal.search_text`` up to date
with it, bulk loaders (bench/) call it directly, and the search normalises what a colleague
types with the same function, so both sides always agree. Searching is substring matching of
the normalised words, indexed by trigrams (SQLite FTS5 ``trigram``, PostgreSQL ``pg_trgm``):
the same results on both databases for the same data."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# Between the fields, so a word cannot match across the end of one field and the start of the
# next; a searched word never contains it (the query is split on whitespace).
FIELD_SEPARATOR = "\n"


def normalise(text: str) -> str:
    """Case and accents do not matter: "École" and "ecole" are the same word, on both
    databases (SQLite's own LIKE folds ASCII only). Runs of whitespace become one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


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
    (the models' flush hook, bulk loaders) calls this with the signal's own values."""
    fields = (
        reference, title, street, house_number, postcode, description, organisation_name,
        kvk_number,
    )  # fmt: skip
    return _joined(fields)


def _joined(fields: Iterable[str | None]) -> str:
    return FIELD_SEPARATOR.join(n for f in fields if f and (n := normalise(f)))
