"""signal search text and its trigram index

``signals.search_text``: the normalised text the inbox's free-text search looks in
(portal/search_text.py), filled here for the signals already there, then indexed by
trigrams so that a substring search reads the index instead of every row:

- SQLite: an FTS5 table with the ``trigram`` tokenizer over signals.search_text (external
  content: the text is stored once, in signals), kept in step by triggers on signals, so
  every write keeps it right, bulk loads and hand-written SQL included.
- PostgreSQL: pg_trgm's GIN index on signals.search_text (``LIKE '%word%'`` uses it).

Neither index is in the models (Alembic cannot describe them): migrations/env.py leaves them
out of the comparison (portal.search_text.kept_outside_the_models).

A later migration that rebuilds ``signals`` on SQLite (a batch ``recreate``: copy, DROP,
rename) drops these triggers with the old table and must create them again (the statements
below; the FTS table itself keeps matching, the ids are copied).

Revision ID: 07497610045f
Revises: b21a5ff13d97
Create Date: 2026-12-01 19:14:47.931116
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal.search_text import signal_search_text

revision: str = "07497610045f"
down_revision: str | None = "b21a5ff13d97"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
FTS_TABLE = "signal_search"
TRIGRAM_INDEX = "ix_signals_search_text_trgm"

# The text is normalised (casefolded, no accents) before it is stored, so the tokenizer
# compares it as it is: a MATCH is then exactly a substring test, as LIKE is on PostgreSQL.
SQLITE_CREATE = [
    f"""CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
        search_text, content='signals', content_rowid='id',
        tokenize='trigram case_sensitive 1'
    )""",
    # External content: the index is told the old text when it goes ('delete' needs exactly
    # what was indexed), and the new text when it comes.
    f"""CREATE TRIGGER signals_search_insert AFTER INSERT ON signals BEGIN
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    f"""CREATE TRIGGER signals_search_update AFTER UPDATE OF id, search_text ON signals BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    f"""CREATE TRIGGER signals_search_delete AFTER DELETE ON signals BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS signals_search_insert",
    "DROP TRIGGER IF EXISTS signals_search_update",
    "DROP TRIGGER IF EXISTS signals_search_delete",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]

# As this revision has them (not the models, which move on).
signals = sa.table(
    "signals",
    sa.column("id", sa.Integer),
    sa.column("reference", sa.String),
    sa.column("title", sa.String),
    sa.column("street", sa.String),
    sa.column("house_number", sa.String),
    sa.column("postcode", sa.String),
    sa.column("description", sa.Text),
    sa.column("search_text", sa.Text),
)
reporters = sa.table(
    "reporters",
    sa.column("signal_id", sa.Integer),
    sa.column("organisation_name", sa.String),
    sa.column("kvk_number", sa.String),
)


def upgrade() -> None:
    # A plain ADD COLUMN on both (SQLite allows NOT NULL with a default): no table rebuild.
    op.add_column("signals", sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    conn = op.get_bind()
    # Filled before the index exists: building it once is cheaper than updating it per row.
    _fill_search_texts(conn)
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_CREATE:
            op.execute(statement)
        op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    elif conn.dialect.name == "postgresql":
        # Trusted since PostgreSQL 13: the database's owner may create it, no superuser.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            TRIGRAM_INDEX,
            "signals",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        # The triggers name the column: they go first, or SQLite refuses to drop it.
        for statement in SQLITE_DROP:
            op.execute(statement)
    elif conn.dialect.name == "postgresql":
        op.drop_index(TRIGRAM_INDEX, table_name="signals")
        # pg_trgm stays: it may have been there before, or be used by something else.
    op.drop_column("signals", "search_text")


def _fill_search_texts(conn: sa.Connection) -> None:
    """Every signal's text with the same function the models use, in batches by id."""
    query = (
        sa.select(
            signals.c.id,
            signals.c.reference,
            signals.c.title,
            signals.c.street,
            signals.c.house_number,
            signals.c.postcode,
            signals.c.description,
            reporters.c.organisation_name,
            reporters.c.kvk_number,
        )
        .select_from(signals.outerjoin(reporters, reporters.c.signal_id == signals.c.id))
        .order_by(signals.c.id)
        .limit(BATCH)
    )
    update = (
        signals.update()
        .where(signals.c.id == sa.bindparam("signal_id"))
        .values(search_text=sa.bindparam("text"))
    )
    last_id = 0
    while rows := conn.execute(query.where(signals.c.id > last_id)).all():
        conn.execute(
            update,
            [
                {
                    "signal_id": row.id,
                    "text": signal_search_text(
                        reference=row.reference,
                        title=row.title,
                        street=row.street,
                        house_number=row.house_number,
                        postcode=row.postcode,
                        description=row.description,
                        organisation_name=row.organisation_name,
                        kvk_number=row.kvk_number,
                    ),
                }
                for row in rows
            ],
        )
        last_id = rows[-1].id
