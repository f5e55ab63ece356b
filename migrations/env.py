"""Alembic environment: the URL and metadata come from the portal, never from alembic.ini."""

from __future__ import annotations

from alembic import context

from portal.database import make_engine
from portal.models import Base
from portal.search_text import kept_outside_the_models

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            _run_without_foreign_keys(conn)
        else:
            _run(conn)
    engine.dispose()


def _run_without_foreign_keys(connection) -> None:  # type: ignore[no-untyped-def]
    # A batch migration rebuilds a SQLite table (copy, DROP, rename). With foreign keys on,
    # that DROP first deletes every row and cascades into the child tables: a signal's
    # timeline, reporter and photos would be gone. SQLite only takes this pragma outside a
    # transaction; the check afterwards refuses a migration that left a dangling reference.
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        _run(connection)
        dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if dangling:
            raise RuntimeError(f"The migration left rows without their parent: {dangling[:5]}")
    finally:
        connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_described_by_the_models,
    )
    with context.begin_transaction():
        context.run_migrations()


def _described_by_the_models(name, type_, _parent_names) -> bool:  # type: ignore[no-untyped-def]
    # The search indexes (an FTS5 table, a pg_trgm index) are made by their migration, not by
    # the models: autogenerate must not offer to drop them.
    return not kept_outside_the_models(name, type_)


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `db upgrade`.")
run_migrations()
