"""The inbox's free-text search gives the same signals on SQLite and PostgreSQL for the same
data: the search text each database holds (``Signal.search_text``, written by the models'
flush hook), and what each trigram index finds in it (SQLite FTS5, PostgreSQL pg_trgm),
compared with each other and with a plain substring test in Python."""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal import create_app
from portal.domain.inbox import text_search
from portal.domain.inbox.filter import MAX_QUERY_WORDS
from portal.domain.inbox.text_search import lookup, text_conditions
from portal.extensions import db
from portal.models import Reporter, Signal
from portal.search_text import normalise, search_words, signal_search_text
from tests.factories import db_session

_databases = itertools.count()
_references = itertools.count(1)


@pytest.fixture(scope="module")
def twins(
    sqlite_template: Path, postgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Flask]]:
    """One app on a SQLite database and one on a PostgreSQL database, side by side, both
    from the migrated test template, for the whole module (Hypothesis runs many examples)."""
    path = tmp_path_factory.mktemp("twins") / "portal.sqlite3"
    shutil.copyfile(sqlite_template, path)
    name = f"twins_{os.getpid()}_{next(_databases)}"
    postgres.execute(f"CREATE DATABASE {name} TEMPLATE portal_template")
    apps = {
        "sqlite": create_app(
            {"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{path}"}
        ),
        "postgresql": create_app(
            {"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": postgres.url(name)}
        ),
    }
    yield apps
    for app in apps.values():
        with app.app_context():
            db.engine().dispose()
    postgres.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- what the search should find: a plain substring test in Python --------------------------

_REFERENCE = re.compile(r"[a-z]{1,10}-\d{4}-\d{6}")


def expected(q: str, signals: dict[str, str]) -> set[str]:
    """The references whose search text (``signals``: reference -> text) has every word of
    ``q``; a whole reference is looked up as such, a KvK number typed with dots or spaces as
    its digits."""
    found = set(signals)
    for word in search_words(q)[:MAX_QUERY_WORDS]:
        if _REFERENCE.fullmatch(word):
            found &= {word.upper()}
            continue
        variants = {word}
        digits = re.sub(r"[\s.\-]", "", word)
        if len(digits) == 8 and digits.isascii() and digits.isdigit():
            variants.add(digits)
        found &= {ref for ref, t in signals.items() if any(v in t for v in variants)}
    return found


def found_by(app: Flask, q: str, references: set[str]) -> set[str]:
    """What the inbox's conditions find for ``q`` among ``references``."""
    with db_session(app) as session:
        return set(
            session.scalars(
                select(Signal.reference).where(
                    Signal.reference.in_(references), *text_conditions(session, q)
                )
            )
        )


# --- generated data and queries -------------------------------------------------------------

# Few letters, so that generated words often match; with accents, case, LIKE's pattern
# characters, FTS5's quote, its escape character, hyphens and digits.
ALPHABET = "aAbcdeéÉEëkKoöß%_\\\"'-/. 0123456789"
short_text = st.text(ALPHABET, max_size=12)
field = st.none() | short_text


@st.composite
def signal_fields(draw: st.DrawFn) -> dict[str, str | None]:
    return {
        "title": draw(st.text(ALPHABET, min_size=1, max_size=30)),
        "description": draw(st.text(ALPHABET, max_size=60)),
        "street": draw(field),
        "house_number": draw(st.none() | st.text(ALPHABET, max_size=5)),
        "postcode": draw(st.none() | st.sampled_from(["1216 AB", "1211 KL", "1216AB"])),
        "organisation_name": draw(field),
        "kvk_number": draw(st.none() | st.sampled_from(["12345678", "87654321"])),
    }


@st.composite
def query_for(draw: st.DrawFn, texts: list[str], references: list[str]) -> str:
    """A query of one to three words: pieces of the signals' own text (re-cased, so the
    search must fold them), references whole or in part, KvK numbers as people type them,
    or made-up words."""

    def piece() -> str:
        source = draw(st.sampled_from(texts)) if texts else ""
        if not source:
            return draw(short_text)
        start = draw(st.integers(0, len(source) - 1))
        end = draw(st.integers(start, min(len(source), start + 8)))
        return source[start:end]

    def word() -> str:
        kind = draw(st.sampled_from(["piece", "piece", "made-up", "reference", "kvk"]))
        if kind == "piece":
            chosen = piece()
            return chosen.upper() if draw(st.booleans()) else chosen
        if kind == "reference":
            reference = draw(st.sampled_from(references))
            return draw(st.sampled_from([reference, reference.lower(), reference[-6:]]))
        if kind == "kvk":
            return draw(st.sampled_from(["12.34.56.78", "1234-5678", "87654321", "1234"]))
        return draw(short_text)

    return " ".join(word() for _ in range(draw(st.integers(1, 3))))


def add_signals(app: Flask, fields: list[dict[str, str | None]]) -> dict[str, str]:
    """Through the ORM (so the flush hook writes the search text); reference -> its text as
    the database holds it."""
    with db_session(app) as session:
        for values in fields:
            organisation = values["organisation_name"] or values["kvk_number"]
            session.add(
                Signal(
                    reference=values["reference"],
                    kind="knelpunt",
                    title=values["title"],
                    description=values["description"],
                    status="received",
                    street=values["street"],
                    house_number=values["house_number"],
                    postcode=values["postcode"],
                    location_source="unknown",
                    reporter=Reporter(
                        name="Piet Persoon",
                        email="piet@example.nl",
                        organisation_name=values["organisation_name"],
                        kvk_number=values["kvk_number"],
                    )
                    if organisation
                    else None,
                )
            )
        session.commit()
        references = [v["reference"] for v in fields]
        return dict(
            session.execute(
                select(Signal.reference, Signal.search_text).where(Signal.reference.in_(references))
            ).all()
        )


def remove_signals(app: Flask, references: set[str]) -> None:
    """Through the ORM: the reporters go with them, and on SQLite the trigger takes them out
    of the FTS table (the next example reuses their ids)."""
    with db_session(app) as session:
        for signal in session.scalars(select(Signal).where(Signal.reference.in_(references))):
            session.delete(signal)
        session.commit()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(fields=st.lists(signal_fields(), min_size=1, max_size=5), data=st.data())
def test_both_databases_find_the_same_signals(
    twins: dict[str, Flask], fields: list[dict[str, str | None]], data: st.DataObject
) -> None:
    for values in fields:
        values["reference"] = f"HLV-2026-{next(_references):06d}"
    stored = {name: add_signals(app, fields) for name, app in twins.items()}
    try:
        # The same search text on both, and what the function makes of the fields.
        assert stored["sqlite"] == stored["postgresql"]
        for values in fields:
            assert stored["sqlite"][values["reference"]] == signal_search_text(**values)
        texts = list(stored["sqlite"].values())
        references = sorted(stored["sqlite"])
        for _ in range(8):
            q = data.draw(query_for(texts, references), label="q")
            want = expected(q, stored["sqlite"])
            assert found_by(twins["sqlite"], q, set(references)) == want, q
            assert found_by(twins["postgresql"], q, set(references)) == want, q
    finally:
        for app in twins.values():
            remove_signals(app, {v["reference"] for v in fields})


# --- chosen cases, through the same conditions ----------------------------------------------

CORPUS = {
    "école": dict(title="École Het Baken", description="Het hek van de school is kapot."),
    "straße": dict(title="Straße", description="Een Duitse straatnaam in de melding."),
    "percent": dict(title="Speeltuin 100% kapot", description="Alles."),
    "thousand": dict(title="Speeltuin 1000 kapot", description="Alles."),
    "underscore": dict(title="Bordje a_b weg", description="Weg."),
    "axb": dict(title="Bordje axb weg", description="Weg."),
    "quote": dict(title='Bord "Verboden" scheef', description="Het bord met 'verboden'."),
    "backslash": dict(title="Pad C:\\temp", description="Een rare naam."),
    "hyphen": dict(title="Café-bakker", description="Bij de Cafe-Bakker ligt glas."),
    "glasbak": dict(title="Glasbak kapot", description="De klep van de glasbak is kapot."),
    "vol": dict(title="Glasbak vol", description="Er staan flessen naast."),
    "address": dict(
        title="Lamp", description="Knippert.", street="Kerkelandenlaan", postcode="1216 AB"
    ),
    "bakery": dict(
        title="Afval",
        description="Zakken.",
        organisation_name="Bakkerij De Korenschoof",
        kvk_number="12345678",
    ),
}
CASES = [
    ("ecole", {"école"}),
    ("ÉCOLE", {"école"}),
    ("strasse", {"straße"}),
    ("STRASSE", {"straße"}),
    ("100%", {"percent"}),
    ("%", {"percent"}),
    ("a_b", {"underscore"}),
    ("_", {"underscore"}),
    ('"verboden"', {"quote"}),
    ('"', {"quote"}),
    ("'verboden'", {"quote"}),
    ("c:\\temp", {"backslash"}),
    ("\\", {"backslash"}),
    ("cafe-bakker", {"hyphen"}),
    ("café-", {"hyphen"}),
    ("glasbak kapot", {"glasbak"}),
    ("kapot glasbak", {"glasbak"}),
    ("glasbak", {"glasbak", "vol"}),
    ("kapot", {"école", "percent", "thousand", "glasbak"}),
    ("ka", {"école", "percent", "thousand", "glasbak"}),  # two letters: a scan, same result
    ("g", None),  # one letter: every signal with a g
    ("1216ab", {"address"}),
    ("1216 ab", {"address"}),
    ("kerkelandenlaan 1216", {"address"}),
    ("korenschoof", {"bakery"}),
    ("12.34.56.78", {"bakery"}),
    ("1234 5678", {"bakery"}),
    ("piet", set()),  # a contact person's name is never searched
    ("glasbak xyzzy", set()),
]


@pytest.fixture
def corpus(app: Flask) -> dict[str, str]:
    """key -> reference of the CORPUS signals in this test's database."""
    fields = []
    for key, values in CORPUS.items():
        fields.append(
            {
                "street": None,
                "house_number": None,
                "postcode": None,
                "organisation_name": None,
                "kvk_number": None,
                **values,
                "reference": f"HLV-2026-{next(_references):06d}",
                "key": key,
            }
        )
    add_signals(app, fields)
    return {f["key"]: f["reference"] for f in fields}


def test_chosen_words_find_what_a_colleague_expects(app: Flask, corpus: dict[str, str]) -> None:
    by_reference = {ref: key for key, ref in corpus.items()}
    for q, keys in CASES:
        found = {by_reference[r] for r in found_by(app, q, set(corpus.values()))}
        if keys is None:
            keys = {k for k, v in CORPUS.items() if any("g" in normalise(x) for x in v.values())}
        assert found == keys, q
    reference = corpus["glasbak"]
    assert found_by(app, reference.lower(), set(corpus.values())) == {reference}
    assert found_by(app, reference[-6:], set(corpus.values())) == {reference}


def test_a_broad_search_finds_the_same_as_a_narrow_one(
    app: Flask, corpus: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``CARRIED_IDS_MAX`` ids the lookup stays inside each statement instead of being
    handed over as a list: the same signals either way (and the limit is really passed)."""
    references = set(corpus.values())
    carried = {q: found_by(app, q, references) for q, _keys in CASES}
    assert any(len(found) > 1 for found in carried.values())
    with db_session(app) as session:
        narrow = text_conditions(session, "g")
    assert "found_ids" in str(narrow[0])  # the usual way: the ids handed over as a list
    monkeypatch.setattr(text_search, "CARRIED_IDS_MAX", 1)
    with db_session(app) as session:
        broad = text_conditions(session, "g")
    assert "found_ids" not in str(broad[0]) and "text_matches" in str(broad[0])
    for q, _keys in CASES:
        assert found_by(app, q, references) == carried[q], q


def test_every_word_goes_through_a_trigram_index_or_the_reference_index(app: Flask) -> None:
    """Words of three characters or more are looked up in the trigram index, a whole
    reference in the unique index: no scan of the signals table for them."""
    with db_session(app) as session:
        dialect = session.get_bind().dialect.name
        for q in ("glasbak kapot", "12.34.56.78", "HLV-2026-000001", "HLV-2026-000001 kapot"):
            # The statement the inbox sends to the index, as it sends it.
            ids = lookup(tuple(search_words(q)), dialect).limit(text_search.CARRIED_IDS_MAX + 1)
            plan = _plan(session, ids)
            if dialect == "sqlite":
                assert "SCAN signals" not in plan, plan
                if "HLV" not in q:
                    assert "SCAN signal_search VIRTUAL TABLE INDEX" in plan, plan
            else:
                assert "Seq Scan on signals" not in plan, plan
                if "HLV" not in q:
                    assert "Bitmap Index Scan on ix_signals_search_text_trgm" in plan, plan
            if "HLV" in q:
                assert "(reference=?)" in plan or "uq_signals_reference" in plan, plan


def _plan(session, query) -> str:  # type: ignore[no-untyped-def]
    compiled = query.compile(session.get_bind())
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
        return "\n".join(str(row[-1]) for row in rows)
    # A table this small is read whole by any sane planner: with scans off, the plan shows
    # whether the index can serve the condition at all.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
    return "\n".join(row[0] for row in rows)
