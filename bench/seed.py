"""Fills a database with many realistic signals quickly, for the benchmarks (not the tests).

``database(url, signals)`` migrates the database, loads the CBS geography and the demo staff,
and bulk-inserts ``signals`` signals with their themes and reporters straight into the models'
tables: SQLAlchemy Core ``INSERT`` with executemany in big batches on SQLite, ``COPY`` on
PostgreSQL. A million take a few minutes on either. Nothing goes through the form or the ORM,
so whatever the database keeps up to date by itself (triggers, indexes) is kept up to date by
the load as well, and every column the models fill in Python (``search_text``) is filled here
with the same function.

A SQLite database is seeded once per size and kept as a template file in the temp folder
(``portal-bench/``); later runs copy it. The template's name holds a hash of the migrations,
the models and this seeder, and today's date (the ages and deadlines are relative to now), so
a schema change or a new day seeds afresh.

The data (``bench/README.md``): three years, 30% more signals each year; 93% of those older
than 60 days closed, fewer of the recent ones; open signals mostly being worked on; owners
from the routing rules (5% reassigned, 3% without a location in the general inbox, flagged);
1-2 themes; 15% initiatives; 3% from organisations (name and KvK number); 20% registered by
staff (phone, email, counter, social media, schouw); due dates as the form stores them; 20%
of the open ones with a follow-up day; 1% sensitive; a pin on most; descriptions from
sentences residents write (``bench/seed_rows.py``, ``bench/seed_text.py``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, MetaData, Table, insert, inspect, select, text  # noqa: E402

from bench.seed_rows import SignalRows  # noqa: E402
from portal import create_app, migrate  # noqa: E402
from portal.database import make_engine  # noqa: E402
from portal.domain.geography import default_geography  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    ReferenceCounter,
    Reporter,
    Role,
    RoutingRule,
    Signal,
    SignalTheme,
    User,
)
from portal.seeding import seed_demo_data, seed_geography  # noqa: E402

if TYPE_CHECKING:
    from flask import Flask

    from tests.fixtures.databases import PostgresCluster

SEED_VERSION = 1
CACHE = Path(tempfile.gettempdir()) / "portal-bench"


def database(url: str, signals: int, *, pins: float = 0.6, seed: int = 2026) -> float:
    """A migrated database at ``url`` with the geography, the demo staff and ``signals``
    signals. ``pins``: the share with a point on the map. Returns the seconds the signals
    took to insert (0.0 when a SQLite template was copied)."""
    if url.startswith("sqlite:///"):
        target = Path(url.removeprefix("sqlite:///"))
        template, seconds = sqlite_template(signals, pins=pins, seed=seed)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
        return seconds
    return fill(url, signals, pins=pins, seed=seed)


@contextmanager
def postgres(root: Path) -> Iterator[PostgresCluster | None]:
    """A throwaway PostgreSQL cluster in ``root`` (as the tests start one), or None when
    PostgreSQL is not installed here."""
    if shutil.which("initdb") is None:
        yield None
        return
    from tests.fixtures.databases import PostgresCluster

    root.mkdir(parents=True, exist_ok=True)
    cluster = PostgresCluster(root)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def sqlite_template(signals: int, *, pins: float = 0.6, seed: int = 2026) -> tuple[Path, float]:
    """The cached template file for this size (seeded now when missing), and the seconds the
    insert took (0.0 when it was there already)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    stem = f"signals-{signals}-{pins:g}-{seed}"
    path = CACHE / f"{stem}-{_fingerprint()}.sqlite3"
    if path.exists():
        return path, 0.0
    for old in CACHE.glob(f"{stem}-*.sqlite3*"):
        old.unlink(missing_ok=True)
    building = path.with_suffix(f".{os.getpid()}.tmp")
    seconds = fill(f"sqlite:///{building}", signals, pins=pins, seed=seed)
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    building.replace(path)  # whole or not at all: a second run never copies a half file
    return path, seconds


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{SEED_VERSION} {date.today()}".encode())
    sources = [
        *sorted((ROOT / "migrations" / "versions").glob("*.py")),
        *sorted((ROOT / "portal" / "models").glob("*.py")),
        ROOT / "portal" / "search_text.py",
        ROOT / "bench" / "seed.py",
        ROOT / "bench" / "seed_rows.py",
        ROOT / "bench" / "seed_text.py",
    ]
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def demo_app(url: str) -> Flask:
    """The app on ``url`` (empty), migrated and seeded as ``make run`` seeds it: the CBS
    geography, the demo staff with their routing rules and the demo signals."""
    migrate.upgrade(url)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        seed_geography(db.session, default_geography())
        list(seed_demo_data(db.session))
        db.session.commit()
    return app


def fill(url: str, signals: int, *, pins: float = 0.6, seed: int = 2026) -> float:
    """Seeds ``url`` (empty) and returns the seconds the signals took to insert."""
    app = demo_app(url)
    with app.app_context():
        owners = {r.scope: r.owner_id for r in db.session.scalars(select(RoutingRule))}
        staff = list(
            db.session.scalars(select(User.id).where(User.role == Role.ACCOUNTMANAGER.value))
        )
        db.engine().dispose()
    engine = make_engine(url)
    # Filled when the schema has it (the model may be ahead of its migration while the
    # search is being built).
    columns = {c["name"] for c in inspect(engine).get_columns("signals")}
    start = time.perf_counter()
    rows = SignalRows(signals, owners, staff, pins=pins, seed=seed)
    rows.has_search_text = "search_text" in columns
    if engine.dialect.name == "postgresql":
        _copy(engine, rows)
    else:
        _insert(engine, rows)
    seconds = time.perf_counter() - start
    _settle(engine)
    engine.dispose()
    return seconds


# --- loading --------------------------------------------------------------------------------


def _insert(engine: Engine, rows: SignalRows) -> None:
    """SQLite: Core INSERT, executemany per batch, one transaction."""
    tables = [_table(engine, model) for model in (Signal, SignalTheme, Reporter)]
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        conn.exec_driver_sql("PRAGMA cache_size=-1000000")
        with _indexes_built_afterwards(conn, tables):
            for batches in rows.batches():
                for table, batch in zip(tables, batches, strict=True):
                    conn.execute(insert(table), batch)
        _counters(conn, rows)


@contextmanager
def _indexes_built_afterwards(conn, tables: list[Table]) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The models' own indexes dropped during the load and made again after it: one sort per
    index instead of a million inserts in random order. Triggers, constraints and indexes
    outside the models (the search's) stay and are kept up to date row by row."""
    indexes = [i for t in tables for i in t.indexes if i.name in _present_indexes(conn, t)]
    for index in indexes:
        index.drop(conn)
    yield
    for index in indexes:
        index.create(conn)


def _present_indexes(conn, table: Table) -> set[str]:  # type: ignore[no-untyped-def]
    return {i["name"] for i in inspect(conn).get_indexes(table.name)}


def _table(engine: Engine, model: type) -> Table:
    """The model's table, or the database's own while the model is ahead of the migrations
    (a column being added): Core would otherwise insert the new column's default."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    present = {c["name"] for c in inspect(engine).get_columns(table.name)}
    if set(table.c.keys()) <= present:
        return table
    return Table(table.name, MetaData(), autoload_with=engine)


def _copy(engine: Engine, rows: SignalRows) -> None:
    """PostgreSQL: COPY per table and batch, one transaction."""
    tables = [_table(engine, model) for model in (Signal, SignalTheme, Reporter)]
    with engine.begin() as conn:
        # The search's trigram index (GIN) gathers new entries in a pending list first.
        conn.exec_driver_sql("SET LOCAL gin_pending_list_limit = '64MB'")
        cursor = conn.connection.driver_connection.cursor()  # psycopg, same transaction
        with _indexes_built_afterwards(conn, tables):
            for batches in rows.batches():
                for table, batch in zip(tables, batches, strict=True):
                    columns = list(batch[0])
                    names = ", ".join(columns)
                    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row([row[c] for c in columns])
        for table in ("signals", "reporters"):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        _counters(conn, rows)


def _counters(conn, rows: SignalRows) -> None:  # type: ignore[no-untyped-def]
    """The reference counters where the load left them: a signal submitted later (a
    benchmark of the form) gets the next number, not one already taken."""
    table = ReferenceCounter.__table__
    conn.execute(table.delete().where(table.c.prefix == "HLV"))
    conn.execute(
        insert(table),
        [{"prefix": "HLV", "year": y, "last_value": n} for y, n in rows.last_numbers.items()],
    )


def _settle(engine: Engine) -> None:
    """Statistics for the planner and, on PostgreSQL, the visibility map index-only scans
    need: what autovacuum gives a database that has been running for a while."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name != "postgresql":
            conn.execute(text("ANALYZE"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            return
        # An auto-analyze started by the load holds a snapshot for a moment, and while it
        # does VACUUM cannot mark pages all-visible: try again until it could.
        for _attempt in range(10):
            conn.execute(text("VACUUM ANALYZE"))
            visible, pages = conn.execute(
                text("SELECT relallvisible, relpages FROM pg_class WHERE relname = 'signals'")
            ).one()
            if visible >= 0.95 * pages:
                break
            time.sleep(1)


if __name__ == "__main__":  # python bench/seed.py URL SIGNALS: seed one database by hand
    started = time.perf_counter()
    inserted = database(sys.argv[1], int(sys.argv[2]))
    print(f"inserted in {inserted:.1f} s, {time.perf_counter() - started:.1f} s in all")
