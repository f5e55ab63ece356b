"""inbox at a million signals

``inbox_counts``: how many signals per (wijk, owner, status, sensitive, kind), filled from the
signals already there and kept by triggers on ``signals`` from then on (portal/models/
inbox_counts.py), so the inbox's counts per status sum a few hundred rows instead of grouping
every signal. Both databases get triggers, so every writer keeps it right - the ORM, raw SQL,
bulk loads (bench/seed.py), later migrations:

- SQLite: a row trigger per INSERT, DELETE and UPDATE of the counted columns, one UPSERT each.
- PostgreSQL: statement triggers with transition tables: one statement adds up all its rows
  and applies the sums in key order (a COPY of a million rows makes a few hundred UPSERTs,
  and two transactions take the counter rows in the same order). TRUNCATE empties it.

Plus four partial indexes over the open signals for the deadline filters and their counts
(bench/README.md). A later migration that rebuilds ``signals`` on SQLite (batch
``recreate``) drops the triggers with the old table and must create them again (the
statements below).

Revision ID: 5fe5c3ea45ac
Revises: e35192142f3d
Create Date: 2026-12-01 19:15:22.014648
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5fe5c3ea45ac"
down_revision: str | None = "e35192142f3d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status NOT IN ('resolved', 'declined')"
COVERED = [
    "status", "sensitive", "owner_id", "wijk_code", "kind", "handle_due_on", "respond_due_on",
    "responded_at", "follow_up_on", "created_at", "id",
]  # fmt: skip


def _leading(*columns: str) -> list[str]:
    return [*columns, *(c for c in COVERED if c not in columns)]


INDEXES = {
    "ix_signals_open_handle_due": (_leading("handle_due_on"), OPEN),
    "ix_signals_open_created": (_leading("created_at", "id"), OPEN),
    "ix_signals_open_respond_due": (
        _leading("respond_due_on"),
        f"{OPEN} AND responded_at IS NULL",
    ),
    "ix_signals_open_follow_up": (
        _leading("follow_up_on"),
        f"{OPEN} AND follow_up_on IS NOT NULL",
    ),
}

KEY = "wijk_code, owner_id, status, sensitive, kind, handle_due_month"


def _key(row: str, month: str) -> str:
    """The counted key of a signal row (``new``, ``old``, or a table's): no wijk is '', no
    owner is 0; the handling due month ('2026-12', ``month`` of the date) only while open."""
    return ", ".join(_key_values(row, month))


def _key_values(row: str, month: str) -> list[str]:
    prefix = f"{row}." if row else ""
    due = month.format(f"{prefix}handle_due_on")
    return [
        f"coalesce({prefix}wijk_code, '')",
        f"coalesce({prefix}owner_id, 0)",
        f"{prefix}status",
        f"{prefix}sensitive",
        f"{prefix}kind",
        f"CASE WHEN {prefix}{OPEN} THEN coalesce({due}, '') ELSE '' END",
    ]


SQLITE_MONTH = "substr({}, 1, 7)"  # dates are stored as 'YYYY-MM-DD'
POSTGRES_MONTH = "to_char({}, 'YYYY-MM')"


def _sqlite_add(row: str) -> str:
    return (
        f"INSERT INTO inbox_counts ({KEY}, signals) VALUES ({_key(row, SQLITE_MONTH)}, 1) "
        f"ON CONFLICT ({KEY}) DO UPDATE SET signals = signals + 1;"
    )


def _sqlite_subtract(row: str) -> str:
    return (
        f"UPDATE inbox_counts SET signals = signals - 1 WHERE ({KEY}) = "
        f"({_key(row, SQLITE_MONTH)});"
    )


COUNTED = ("wijk_code", "owner_id", "status", "sensitive", "kind", "handle_due_on")
SQLITE_TRIGGERS = {
    "inbox_counts_insert": f"AFTER INSERT ON signals BEGIN {_sqlite_add('new')} END",
    "inbox_counts_delete": f"AFTER DELETE ON signals BEGIN {_sqlite_subtract('old')} END",
    "inbox_counts_update": (
        f"AFTER UPDATE OF {', '.join(COUNTED)} ON signals "
        f"WHEN ({_key('old', SQLITE_MONTH)}) IS NOT ({_key('new', SQLITE_MONTH)}) "
        f"BEGIN {_sqlite_subtract('old')} {_sqlite_add('new')} END"
    ),
}


def _postgres_sums(changes: str) -> str:
    """Apply ``changes`` (rows of the key and +1/-1) summed per key, in key order."""
    return f"""
        INSERT INTO inbox_counts AS counts ({KEY}, signals)
        SELECT {KEY}, sum(change)
        FROM ({changes}) AS changes
        GROUP BY {KEY}
        HAVING sum(change) <> 0
        ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET signals = counts.signals + excluded.signals;
    """


def _postgres_rows(table: str, change: int) -> str:
    columns = [c.strip() for c in KEY.split(",")]
    values = _key_values("", POSTGRES_MONTH)
    keyed = ", ".join(f"{v} AS {c}" for v, c in zip(values, columns, strict=True))
    return f"SELECT {keyed}, {change} AS change FROM {table}"


POSTGRES_FUNCTIONS = {
    "inbox_counts_insert": _postgres_sums(_postgres_rows("new_rows", 1)),
    "inbox_counts_delete": _postgres_sums(_postgres_rows("old_rows", -1)),
    "inbox_counts_update": _postgres_sums(
        f"{_postgres_rows('new_rows', 1)} UNION ALL {_postgres_rows('old_rows', -1)}"
    ),
    "inbox_counts_truncate": "DELETE FROM inbox_counts;",
}
POSTGRES_TRIGGERS = {
    "inbox_counts_insert": "AFTER INSERT ON signals REFERENCING NEW TABLE AS new_rows",
    "inbox_counts_delete": "AFTER DELETE ON signals REFERENCING OLD TABLE AS old_rows",
    "inbox_counts_update": (
        "AFTER UPDATE ON signals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    ),
    "inbox_counts_truncate": "AFTER TRUNCATE ON signals",
}


def upgrade() -> None:
    op.create_table(
        "inbox_counts",
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("handle_due_month", sa.String(length=7), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("wijk_code", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "status",
            "kind",
            "handle_due_month",
            "sensitive",
            "wijk_code",
            "owner_id",
            name=op.f("pk_inbox_counts"),
        ),
        # Stored in key order: adding up per status, kind and month reads it in order.
        sqlite_with_rowid=False,
    )
    for name, (columns, where) in INDEXES.items():
        condition = sa.text(where)
        op.create_index(
            name, "signals", columns, sqlite_where=condition, postgresql_where=condition
        )
    # The signals already there, then the triggers for every change from now on (a migration
    # runs with the application stopped: nothing writes in between).
    postgres = op.get_bind().dialect.name == "postgresql"
    key = _key("", POSTGRES_MONTH if postgres else SQLITE_MONTH)
    op.execute(
        f"INSERT INTO inbox_counts ({KEY}, signals) SELECT {key}, count(*) FROM signals "
        f"GROUP BY {key}"
    )
    if postgres:
        for name, body in POSTGRES_FUNCTIONS.items():
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {body} RETURN NULL; END $$"
            )
        for name, when in POSTGRES_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON signals")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for name in INDEXES:
        op.drop_index(name, table_name="signals")
    op.drop_table("inbox_counts")
