"""Migration 07497610045f on a database that already holds signals: it writes every signal's
search text (in batches, with the same function the models use), builds the trigram index
over it, and its downgrade takes both away again and keeps the signals. On SQLite and
PostgreSQL."""

from __future__ import annotations

from sqlalchemy import MetaData, inspect, select
from sqlalchemy.orm import Session

from portal import migrate
from portal.database import make_engine
from portal.domain.inbox.text_search import text_conditions
from portal.models import Signal
from portal.search_text import POSTGRESQL_INDEX, SQLITE_INDEX, signal_search_text
from tests.test_migrations import _row_for

BEFORE = "b21a5ff13d97"
THIS = "07497610045f"
SIGNALS = 5003  # more than one batch of the backfill (5,000)

SPECIAL = {
    1: dict(title="Afval", description="Zakken bij de ingang.", street="Kerkstraat"),
    2: dict(
        title="École De Regenboog",
        description="Het hek is kapot.",
        postcode="1216 AB",
        house_number="12",
    ),
}
ORGANISATION = {
    "signal_id": 1,
    "organisation_name": "Bakkerij De Korenschoof",
    "kvk_number": "12345678",
}


def arrange(url: str) -> None:
    migrate.upgrade(url, BEFORE)
    engine = make_engine(url)
    try:
        tables = MetaData()
        tables.reflect(engine, only=["signals", "reporters"])
        signals, reporters = tables.tables["signals"], tables.tables["reporters"]
        rows = [
            _row_for(signals, id=n, reference=f"HLV-2025-{n:06d}", **values_of(n))
            for n in range(1, SIGNALS + 1)
        ]
        organisation = {
            "id": 1,
            "name": "Jan Jansen",
            "email": "jan@example.nl",
            "phone": None,
            **ORGANISATION,
        }
        person = {
            "id": 2,
            "signal_id": 2,
            "name": "Piet Persoon",
            "email": None,
            "phone": "0612345678",
            "organisation_name": None,
            "kvk_number": None,
        }
        with engine.begin() as conn:
            conn.execute(signals.insert(), rows)
            conn.execute(
                reporters.insert(),
                [_row_for(reporters, **organisation), _row_for(reporters, **person)],
            )
    finally:
        engine.dispose()


def values_of(n: int) -> dict[str, str | None]:
    # The same keys in every row: one executemany.
    plain = {"street": None, "house_number": None, "postcode": None}
    return {
        **plain,
        "title": f"Melding {n}",
        "description": "Iets in de buurt.",
        **SPECIAL.get(n, {}),
    }


def expected_text(n: int) -> str:
    values = values_of(n)
    organisation = ORGANISATION if n == 1 else {}
    return signal_search_text(
        reference=f"HLV-2025-{n:06d}",
        title=values["title"],
        street=values["street"],
        house_number=values["house_number"],
        postcode=values["postcode"],
        description=values["description"],
        organisation_name=organisation.get("organisation_name"),
        kvk_number=organisation.get("kvk_number"),
    )


def found(session: Session, q: str) -> set[int]:
    return set(session.scalars(select(Signal.id).where(*text_conditions(session, q))))


def test_the_upgrade_fills_and_indexes_the_search_text_and_the_downgrade_removes_it(
    database_url: str, empty_database_url: str
) -> None:
    url = empty_database_url
    arrange(url)
    migrate.upgrade(url, THIS)

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            texts = dict(session.execute(select(Signal.id, Signal.search_text)).all())
            assert texts == {n: expected_text(n) for n in range(1, SIGNALS + 1)}
            assert "jan" not in texts[1] and "0612345678" not in texts[2]
            # Found through the new index (on SQLite the FTS5 table, rebuilt from the texts).
            assert found(session, "korenschoof") == {1}
            assert found(session, "12.34.56.78") == {1}
            assert found(session, "ecole 1216ab") == {2}
            assert found(session, "melding 5003") == {5003}
            assert len(found(session, "melding")) == SIGNALS - 2
            indexes = index_objects(session)
        assert indexes
    finally:
        engine.dispose()

    migrate.downgrade(url, BEFORE)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            assert index_objects(session) == set()
            columns = {c["name"] for c in inspect(engine).get_columns("signals")}
            assert "search_text" not in columns
            count = session.connection().exec_driver_sql("SELECT count(*) FROM signals")
            count = count.scalar_one()
    finally:
        engine.dispose()
    assert count == SIGNALS

    migrate.upgrade(url)  # and up again, to head
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            assert found(session, "korenschoof") == {1}
    finally:
        engine.dispose()


def index_objects(session: Session) -> set[str]:
    """The migration's own objects present in the database."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        names = set(
            connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE name LIKE 'signal%search%'"
            ).scalars()
        )
        if SQLITE_INDEX in names:
            connection.exec_driver_sql(
                f"INSERT INTO {SQLITE_INDEX}({SQLITE_INDEX}) VALUES ('integrity-check')"
            )
            indexed = connection.exec_driver_sql(
                f"SELECT count(*) FROM {SQLITE_INDEX}_docsize"
            ).scalar_one()
            assert indexed == SIGNALS
        return names
    return set(
        connection.exec_driver_sql(
            "SELECT indexname FROM pg_indexes WHERE indexname = %(name)s",
            {"name": POSTGRESQL_INDEX},
        ).scalars()
    )
