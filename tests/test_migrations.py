"""Alembic migrations against the models, and the CLI that sets a database up: ``db upgrade``,
``seed wijken`` and ``users create``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import func, inspect, select

from portal import create_app, migrate
from portal.database import make_engine
from portal.domain.users import verify_password
from portal.extensions import db
from portal.models import Base, Buurt, User, Wijk
from portal.search_text import kept_outside_the_models
from tests.factories import db_session

TABLES = set(Base.metadata.tables)


def schema_differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": _described_by_the_models}
            )
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _described_by_the_models(name: str | None, type_: str, _parents: object) -> bool:
    # The search indexes (an FTS5 table, a pg_trgm index) are the migrations' own, as in
    # migrations/env.py; tests/test_inbox_text_search_sync.py checks that they are there.
    return not kept_outside_the_models(name, type_)


def tables_in(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        return {name for name in names if _described_by_the_models(name, "table", None)}
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()


@pytest.fixture
def empty_app(app_config, empty_database_url) -> Iterator[Flask]:
    app = create_app({**app_config, "DATABASE_URL": empty_database_url})
    yield app
    with app.app_context():
        db.engine().dispose()


# --- migrations -----------------------------------------------------------------------------


def test_upgrade_from_empty_gives_the_models_schema(database_url, empty_database_url):
    assert tables_in(empty_database_url) == set()
    migrate.upgrade(empty_database_url)

    assert tables_in(empty_database_url) == TABLES
    assert current_revision(empty_database_url) == head_revision()
    assert schema_differences(empty_database_url) == []


def test_the_seeded_test_database_matches_the_models(database_url):
    assert schema_differences(database_url) == []


def test_downgrade_to_base_and_upgrade_again(database_url, empty_database_url):
    migrate.upgrade(empty_database_url)
    migrate.downgrade(empty_database_url, "base")

    assert tables_in(empty_database_url) == set()
    assert current_revision(empty_database_url) is None

    migrate.upgrade(empty_database_url)
    assert tables_in(empty_database_url) == TABLES
    assert schema_differences(empty_database_url) == []


def test_flask_db_upgrade(database_url, empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Database at head" in result.output
    url = empty_app.config["DATABASE_URL"]
    assert schema_differences(url) == []

    again = runner.invoke(args=["db", "upgrade"])  # nothing to do, and no harm done
    assert again.exit_code == 0, again.output
    assert current_revision(url) == head_revision()


def test_db_upgrade_on_the_seeded_database_keeps_the_data(app, runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with db_session(app) as session:
        assert session.scalar(select(func.count()).select_from(Wijk)) == 9


# --- seed wijken ----------------------------------------------------------------------------


def geography_counts(app: Flask) -> tuple[int, int, int, int]:
    with db_session(app) as session:
        return (
            session.scalar(select(func.count()).select_from(Wijk)) or 0,
            session.scalar(select(func.count()).select_from(Buurt)) or 0,
            session.scalar(select(func.count(func.distinct(Wijk.code)))) or 0,
            session.scalar(select(func.count(func.distinct(Buurt.code)))) or 0,
        )


def test_seed_wijken_into_an_empty_database_is_idempotent(database_url, empty_app):
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0

    first = runner.invoke(args=["seed", "wijken"])
    assert first.exit_code == 0, first.output
    assert "52 new" in first.output
    assert "Centraal Bureau voor de Statistiek" in first.output
    second = runner.invoke(args=["seed", "wijken"])
    assert second.exit_code == 0, second.output
    assert "0 new" in second.output

    assert geography_counts(empty_app) == (9, 43, 9, 43)
    with db_session(empty_app) as session:
        kerkelanden = session.get(Buurt, "BU04020304")
        assert kerkelanden is not None
        assert (kerkelanden.name, kerkelanden.wijk_code) == ("Kerkelanden", "WK040203")


def test_seed_wijken_keeps_an_admin_renamed_wijk(app, runner):
    with db_session(app) as session:
        session.get(Wijk, "WK040203").name = "Zuidwest (Kerkelanden en Zeverijn)"
        session.get(Buurt, "BU04020304").name = "Kerkelanden-Noord"
        session.commit()

    for _ in range(2):
        result = runner.invoke(args=["seed", "wijken"])
        assert result.exit_code == 0, result.output

    assert geography_counts(app) == (9, 43, 9, 43)
    with db_session(app) as session:
        assert session.get(Wijk, "WK040203").name == "Zuidwest (Kerkelanden en Zeverijn)"
        assert session.get(Buurt, "BU04020304").name == "Kerkelanden-Noord"
        assert session.get(Wijk, "WK040201").name == "Centrum"


# --- users create ---------------------------------------------------------------------------

PASSWORD = "een-lang-wachtwoord-42"


def create_user(runner, *extra: str, input: str | None = None):
    return runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Nieuwe.AM@Hilversum.example",
            "--name",
            "Nieuwe Accountmanager",
            "--role",
            "accountmanager",
            *extra,
        ],
        input=input,
    )


def user_by_email(app: Flask, email: str) -> User | None:
    with db_session(app) as session:
        user = session.scalars(select(User).where(User.email == email)).first()
        if user is not None:
            _ = user.wijken  # load before the session closes
        return user


def test_users_create_with_wijken(app, runner):
    result = create_user(runner, "--wijk", "WK040203", "--wijk", "WK040204", "--password", PASSWORD)

    assert result.exit_code == 0, result.output
    assert "Created accountmanager nieuwe.am@hilversum.example" in result.output
    user = user_by_email(app, "nieuwe.am@hilversum.example")
    assert user is not None
    assert user.name == "Nieuwe Accountmanager"
    assert user.role == "accountmanager"
    assert [w.code for w in user.wijken] == ["WK040203", "WK040204"]
    assert verify_password(user, PASSWORD)
    assert PASSWORD not in user.password_hash


def test_users_create_asks_for_the_password(app, runner):
    result = create_user(runner, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    user = user_by_email(app, "nieuwe.am@hilversum.example")
    assert user is not None and verify_password(user, PASSWORD)
    assert user.wijken == []


def test_users_create_rejects_an_unknown_wijk(app, runner):
    result = create_user(runner, "--wijk", "WK040203", "--wijk", "WK999999", "--password", PASSWORD)

    assert result.exit_code != 0
    assert "Onbekende wijkcode(s): WK999999" in result.output
    assert "Traceback" not in result.output
    assert user_by_email(app, "nieuwe.am@hilversum.example") is None


@pytest.mark.parametrize(
    "email", ["anna.de.vries@hilversum.example", "Anna.De.Vries@Hilversum.Example"]
)
def test_users_create_rejects_a_duplicate_email(app, runner, email):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            email,
            "--name",
            "Anna Twee",
            "--role",
            "admin",
            "--password",
            PASSWORD,
        ]
    )

    assert result.exit_code != 0
    assert "Er bestaat al een account met e-mailadres anna.de.vries@hilversum.example" in (
        result.output
    )
    with db_session(app) as session:
        names = session.scalars(
            select(User.name).where(func.lower(User.email) == "anna.de.vries@hilversum.example")
        ).all()
    assert names == ["Anna de Vries"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--password", "kort"], "minstens 12 tekens"),
        (["--role", "koning", "--password", PASSWORD], "Invalid value for '--role'"),
    ],
)
def test_users_create_rejects_bad_input(app, runner, extra, message):
    args = ["users", "create", "--email", "x@hilversum.example", "--name", "X"]
    if "--role" not in extra:
        args += ["--role", "admin"]
    result = runner.invoke(args=[*args, *extra])
    assert result.exit_code != 0
    assert message in result.output
    assert user_by_email(app, "x@hilversum.example") is None


def _row_for(table, **given: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Values for every required column of a reflected table (as that revision has it)."""
    from datetime import UTC, date, datetime

    from sqlalchemy import Boolean, Date, DateTime, Integer

    row: dict[str, object] = {}
    for column in table.columns:
        if column.name in given:
            row[column.name] = given[column.name]
        elif column.nullable or column.primary_key or column.server_default is not None:
            continue
        elif isinstance(column.type, Boolean):
            row[column.name] = False
        elif isinstance(column.type, Integer):
            row[column.name] = 1
        elif isinstance(column.type, DateTime):
            row[column.name] = datetime(2026, 11, 1, tzinfo=UTC)
        elif isinstance(column.type, Date):
            row[column.name] = date(2026, 11, 1)
        else:
            row[column.name] = "x"
    return row


def test_an_upgrade_that_rebuilds_signals_keeps_what_hangs_off_them(
    database_url, empty_database_url
):
    # On SQLite a batch migration rebuilds a table (copy, DROP, rename). With foreign keys on,
    # that DROP first deletes every row, cascading into the signals' timelines and reporters.
    from sqlalchemy import MetaData

    before = "7e9faa2b1348"  # the revision before the first one that rebuilds `signals`
    migrate.upgrade(empty_database_url, before)
    engine = make_engine(empty_database_url)
    try:
        tables = MetaData()
        tables.reflect(engine, only=["signals", "signal_events", "reporters"])
        with engine.begin() as conn:
            conn.execute(
                tables.tables["signals"].insert(), _row_for(tables.tables["signals"], id=1)
            )
            conn.execute(
                tables.tables["signal_events"].insert(),
                _row_for(tables.tables["signal_events"], signal_id=1, kind="created"),
            )
            conn.execute(
                tables.tables["reporters"].insert(),
                _row_for(tables.tables["reporters"], signal_id=1, email="jan@example.nl"),
            )
    finally:
        engine.dispose()

    migrate.upgrade(empty_database_url)

    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            counts = {
                name: conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one()
                for name in ("signals", "signal_events", "reporters")
            }
            foreign_key_problems = (
                conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if conn.dialect.name == "sqlite"
                else []
            )
    finally:
        engine.dispose()
    assert counts == {"signals": 1, "signal_events": 1, "reporters": 1}
    assert foreign_key_problems == []
