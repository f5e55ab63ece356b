"""Engine creation for the two supported databases: SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError


def make_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, echo=echo, pool_pre_ping=True)
    if parsed.get_backend_name() != "sqlite":
        raise ValueError(f"Unsupported database: {parsed.get_backend_name()}")
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, echo=echo, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers carry on while one writer commits; the busy timeout makes concurrent
    # writers wait for each other instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 32 MB of pages per connection instead of SQLite's 2 MB: at a million signals an inbox
    # page reads more than that (counts, partial indexes), and read again from the OS every
    # request (bench/README.md, "The inbox"). It grows only as far as it is used.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


class DriverQuery:
    """A SELECT compiled once per dialect and run straight on a pooled DBAPI connection.

    For the one read on the busiest public page (the status page's state): SQLAlchemy's own
    execution (connection, context, result, type processing) costs more than the query
    (bench/README.md, "Public pages"). Rows come back as the driver gives them, so only
    columns whose driver values are the Python ones (integers, text) belong in it."""

    def __init__(self, statement: Select[Any]) -> None:
        self._statement = statement
        self._compiled: dict[tuple[str, str, str], tuple[str, tuple[str, ...] | None]] = {}

    def first(self, engine: Engine, **params: object) -> tuple[Any, ...] | None:
        dialect = engine.dialect
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        compiled = self._compiled.get(key)
        if compiled is None:
            statement = self._statement.compile(dialect=dialect)
            names = tuple(statement.positiontup or ()) if statement.positional else None
            compiled = self._compiled[key] = (str(statement), names)
        sql, names = compiled
        arguments = tuple(params[name] for name in names) if names is not None else params
        try:
            connection = engine.raw_connection()
            try:
                cursor = connection.cursor()
                try:
                    cursor.execute(sql, arguments)
                    row = cursor.fetchone()
                finally:
                    cursor.close()
            finally:
                connection.close()  # back to the pool, which rolls the read back
        except dialect.loaded_dbapi.OperationalError as error:
            # As SQLAlchemy raises it elsewhere: the database is unavailable (a 503 page).
            raise OperationalError(sql, arguments, error) from error
        return tuple(row) if row is not None else None
