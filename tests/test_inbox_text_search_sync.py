"""``Signal.search_text`` and its trigram index stay in step with the signals, whichever way
they change: intake (the form, an organisation, staff registering one), staff editing the
title, description or address, correcting the location, an organisation renamed or removed,
and on SQLite the FTS5 table after any insert, update and delete (the triggers), the ORM's or
a bulk load's. Every check compares with what ``signal_search_text`` makes of the signal's
own values. On SQLite and PostgreSQL."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.orm import Session

from portal.domain.inbox.text_search import text_conditions
from portal.models import Reporter, Signal
from portal.search_text import (
    POSTGRESQL_INDEX,
    SQLITE_INDEX,
    SQLITE_TRIGGERS,
    search_words,
    signal_search_text,
)
from portal.vocabulary import Status
from tests.factories import db_session, make_signal
from tests.test_backoffice_inbox import move
from tests.test_backoffice_inbox import submit as submit_with_address
from tests.test_organisations import BAKKERIJ, organisation_signal
from tests.test_relocation import IN_ZEVERIJN, correct


def stored(session: Session, reference: str) -> str:
    return session.scalars(select(Signal.search_text).where(Signal.reference == reference)).one()


def recomputed(session: Session, reference: str) -> str:
    """What the search text of the signal should be, from its own values as stored."""
    signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
    reporter = signal.reporter
    return signal_search_text(
        reference=signal.reference,
        title=signal.title,
        street=signal.street,
        house_number=signal.house_number,
        postcode=signal.postcode,
        description=signal.description,
        organisation_name=reporter.organisation_name if reporter else None,
        kvk_number=reporter.kvk_number if reporter else None,
    )


def in_step(app: Flask, reference: str) -> str:
    with db_session(app) as session:
        text = stored(session, reference)
        assert text == recomputed(session, reference)
        return text


def search(app: Flask, q: str) -> set[str]:
    with db_session(app) as session:
        return set(session.scalars(select(Signal.reference).where(*text_conditions(session, q))))


def edit(app: Flask, reference: str, **changes: object) -> None:
    """A colleague's edit of the signal's fields, as any operation would make it: through
    the ORM, committed once."""
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        for name, value in changes.items():
            setattr(signal, name, value)
        session.commit()


def edit_reporter(app: Flask, reference: str, **changes: object) -> None:
    with db_session(app) as session:
        reporter = session.scalars(
            select(Reporter).join(Signal).where(Signal.reference == reference)
        ).one()
        for name, value in changes.items():
            setattr(reporter, name, value)
        session.commit()


# --- intake ---------------------------------------------------------------------------------


def test_intake_writes_the_search_text_without_contact_details(app: Flask) -> None:
    resident, _token = make_signal(
        app,
        title="Glasbak kapot",
        description="De klep van de glasbak is kapot.",
        name="Jan Jansen",
        email="jan@example.nl",
        phone="0612345678",
    )
    organisation = organisation_signal(app, contact="Fatima el Amrani")
    addressed = submit_with_address(
        app, title="Lamp", street="Kerkelandenlaan", house_number="12", postcode="1216 AB"
    )
    assert in_step(app, resident) == (
        f"{resident.lower()}\nglasbak kapot\nde klep van de glasbak is kapot."
    )
    text = in_step(app, organisation)
    assert "bakkerij de korenschoof\n12345678" in text
    assert in_step(app, addressed).startswith(
        f"{addressed.lower()}\nlamp\nkerkelandenlaan\n12\n1216 ab\n1216ab\n"
    )
    for text in (in_step(app, r) for r in (resident, organisation, addressed)):
        for contact in ("jan", "fatima", "amrani", "@", "0612345678"):
            assert contact not in text
    assert search(app, "korenschoof") == {organisation}
    assert search(app, "1216ab") == {addressed}
    assert search(app, "jansen") == set()


# --- staff change a signal ------------------------------------------------------------------


def test_editing_the_title_description_and_address_rewrites_it(app: Flask) -> None:
    reference = submit_with_address(app, title="Glasbak vol", description="Flessen ernaast.")
    edit(app, reference, title="Lantaarnpaal", description="Hij knippert al weken.")
    assert "lantaarnpaal\nhij knippert al weken." in in_step(app, reference)
    assert search(app, "glasbak") == set()
    assert search(app, "knippert lantaarn") == {reference}

    edit(app, reference, street="Larenseweg", house_number="3", postcode="1221 CM")
    assert search(app, "larenseweg 1221cm") == {reference}
    edit(app, reference, street=None, house_number=None, postcode=None)
    assert search(app, "larenseweg") == set()
    in_step(app, reference)


def test_one_update_carries_the_new_text_and_other_changes_leave_it_alone(app: Flask) -> None:
    reference = submit_with_address(app, title="Glasbak vol")
    with db_session(app) as session:
        written = statements(session, lambda: edit(app, reference, title="Glasbak leeg"))
    # The new text goes with the new title, in the UPDATE that writes the title anyway.
    with_text = [s for s in written if "search_text" in s]
    assert len(with_text) == 1 and "title=" in with_text[0], written
    with db_session(app) as session:
        # A status change writes the signal, but not its search text (and reads nothing more).
        written = statements(session, lambda: move(app, reference, Status.IN_PROGRESS))
    assert written and not any("search_text" in s for s in written), written
    assert search(app, "leeg") == {reference}
    in_step(app, reference)


def statements(session: Session, action) -> list[str]:  # type: ignore[no-untyped-def]
    """The UPDATEs of signals while ``action`` runs."""
    seen: list[str] = []
    engine = session.get_bind()

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE SIGNALS"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_correcting_the_location_keeps_it_found(app: Flask) -> None:
    reference = submit_with_address(app, title="Bankje kapot", postcode="1216 AB")
    before = in_step(app, reference)
    correct(app, reference, point=IN_ZEVERIJN)
    assert in_step(app, reference) == before
    assert search(app, "bankje 1216ab") == {reference}


# --- the organisation -----------------------------------------------------------------------


def test_renaming_the_organisation_or_removing_it_rewrites_it(app: Flask) -> None:
    reference = organisation_signal(app, title="Zwerfvuil")
    assert search(app, "korenschoof") == {reference}

    edit_reporter(app, reference, organisation_name="Banketbakkerij Het Gooi")
    assert "banketbakkerij het gooi" in in_step(app, reference)
    assert search(app, "korenschoof") == set()
    assert search(app, "banketbakkerij") == {reference}

    edit_reporter(app, reference, kvk_number="87654321")
    assert search(app, "8765.4321") == {reference}
    assert search(app, "12345678") == set()

    with db_session(app) as session:  # the reporter goes (as anonymising may do)
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        session.delete(signal.reporter)
        session.commit()
    assert in_step(app, reference) == f"{reference.lower()}\nzwerfvuil\n" + (
        "er ligt al dagen afval naast de glasbak op de hoek."
    )
    assert search(app, "banketbakkerij") == set()


def test_a_new_reporter_for_an_existing_signal_brings_its_organisation(app: Flask) -> None:
    reference, _token = make_signal(app, email=None, name=None)
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        signal_id = signal.id
        if signal.reporter is not None:
            session.delete(signal.reporter)
            session.flush()
        # By its key only, as a bulk of new rows would be made.
        session.add(Reporter(signal_id=signal_id, organisation_name=BAKKERIJ))
        session.commit()
    assert search(app, "korenschoof") == {reference}
    in_step(app, reference)


# --- the index itself -----------------------------------------------------------------------


def index_agrees_with_a_scan(app: Flask, words: list[str]) -> None:
    """For each word, what the search finds (through the trigram index) is exactly the
    signals whose search text contains it, by a plain scan."""
    with db_session(app) as session:
        texts = dict(session.execute(select(Signal.reference, Signal.search_text)).all())
    for word in words:
        (normalised,) = search_words(word)
        assert search(app, word) == {r for r, t in texts.items() if normalised in t}, word


def test_the_index_follows_bulk_inserts_updates_and_deletes(app: Flask) -> None:
    """Rows written without the ORM, as a bulk load writes them (with the text computed by
    the same function): on SQLite the triggers feed the FTS table, on PostgreSQL the GIN
    index is an ordinary index."""
    kept, _token = make_signal(app, title="Glasbak kapot", description="Bij de hoek.")
    with db_session(app) as session:
        template = session.scalars(select(Signal).where(Signal.reference == kept)).one()
        base = {
            c: getattr(template, c)
            for c in ("kind", "status", "location_source", "created_at", "updated_at")
        }
        rows = []
        for n, (title, description) in enumerate(
            [
                ("Glasbak vol", "Flessen naast de glasbak."),
                ("Lamp kapot", "De lantaarnpaal knippert."),
                ("Bankje", "Het bankje bij de glasbak is kapot."),
            ],
            start=1,
        ):
            reference = f"HLV-2025-{n:06d}"
            rows.append(
                {
                    **base,
                    "reference": reference,
                    "title": title,
                    "description": description,
                    "version": 1,
                    "search_text": signal_search_text(
                        reference=reference,
                        title=title,
                        street=None,
                        house_number=None,
                        postcode=None,
                        description=description,
                    ),
                }
            )
        session.execute(insert(Signal.__table__), rows)
        session.commit()
    words = ["glasbak", "kapot", "knippert", "bankje", "lantaarn", "hoek", "flessen"]
    index_agrees_with_a_scan(app, words)
    assert search(app, "glasbak kapot") == {kept, "HLV-2025-000003"}

    with db_session(app) as session:
        new_text = signal_search_text(
            reference="HLV-2025-000002",
            title="Lamp hersteld",
            street=None,
            house_number=None,
            postcode=None,
            description="Werkt weer.",
        )
        session.execute(
            update(Signal.__table__)
            .where(Signal.__table__.c.reference == "HLV-2025-000002")
            .values(title="Lamp hersteld", description="Werkt weer.", search_text=new_text)
        )
        session.execute(
            delete(Signal.__table__).where(Signal.__table__.c.reference == "HLV-2025-000003")
        )
        session.commit()
    index_agrees_with_a_scan(app, [*words, "hersteld", "werkt"])
    assert search(app, "glasbak kapot") == {kept}
    assert search(app, "knippert") == set()
    assert_index_intact(app)


def test_the_index_follows_the_orm_too(app: Flask) -> None:
    references = [make_signal(app, title=f"Glasbak {n}")[0] for n in range(3)]
    edit(app, references[0], description="Nu met een kapotte klep.")
    with db_session(app) as session:
        session.delete(
            session.scalars(select(Signal).where(Signal.reference == references[1])).one()
        )
        session.commit()
    # A new signal may get the id of the deleted one (SQLite): the old text must be gone.
    newest = make_signal(app, title="Speeltuin", description="Schommel los.")[0]
    index_agrees_with_a_scan(app, ["glasbak", "kapotte", "schommel", "speeltuin", "afval"])
    assert search(app, "glasbak") == {references[0], references[2]}
    assert search(app, "schommel") == {newest}
    assert_index_intact(app)


def assert_index_intact(app: Flask) -> None:
    with db_session(app) as session:
        connection = session.connection()
        if connection.dialect.name != "sqlite":
            return
        # FTS5's own check of its index (raises when the index is corrupt)...
        connection.exec_driver_sql(
            f"INSERT INTO {SQLITE_INDEX}({SQLITE_INDEX}) VALUES ('integrity-check')"
        )
        # ... and that it holds a row for each signal and no other.
        ids = set(connection.exec_driver_sql("SELECT id FROM signals").scalars())
        indexed = set(
            connection.exec_driver_sql(f"SELECT rowid FROM {SQLITE_INDEX}_docsize").scalars()
        )
        assert indexed == ids


def test_the_search_indexes_are_there_at_head(app: Flask) -> None:
    """The migrations' own objects, which the schema comparison leaves out: a later
    migration that rebuilds signals on SQLite must make the triggers again."""
    with db_session(app) as session:
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            objects = dict(
                connection.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE tbl_name IN ('signals', ?)",
                    (SQLITE_INDEX,),
                ).all()
            )
            assert set(SQLITE_TRIGGERS) <= set(objects), sorted(objects)
            assert "trigram case_sensitive 1" in objects[SQLITE_INDEX]
            assert "content='signals'" in objects[SQLITE_INDEX]
        else:
            definition = connection.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = %(name)s",
                {"name": POSTGRESQL_INDEX},
            ).scalar_one()
            assert "USING gin (search_text gin_trgm_ops)" in definition
