"""steering counts: how many signals came in, got their first response and were closed per
local day, wijk, owner, kind and sensitivity (and within the target or not)

``steering_counts`` is to the dashboard what ``inbox_counts`` is to the inbox
(portal/models/steering_counts.py): filled from the signals already there and kept by
triggers on ``signals`` from then on, on both databases and for every writer. Each signal
counts under up to three events: ``came_in`` on the day of created_at, ``responded`` on the
day of responded_at, ``closed`` on the day of closed_at while it is closed.

The day is the day in Hilversum (Europe/Amsterdam), as the dashboard's periods are. PostgreSQL
knows the zone; SQLite does not, so its triggers apply the EU rule the Netherlands follows:
summer time from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
October (tests/test_steering_counts.py checks it against zoneinfo).

``signals.response_days`` and ``handling_days``: the days (with the fraction) from coming in
to the first response and to the closing, generated columns the database works out itself
(VIRTUAL on SQLite, STORED on PostgreSQL). The partial indexes on responded_at and closed_at
now hold them, with what visibility and the selection test, so a month's medians sort
numbers from the index alone instead of converting two timestamps per row.

Revision ID: c7d2e5f8a9b1
Revises: b5e8c3d1f4a7
Create Date: 2026-12-03 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7d2e5f8a9b1"
down_revision: str | None = "b5e8c3d1f4a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "day, event, wijk_code, owner_id, kind, sensitive, in_time"
CLOSED = "('resolved', 'declined')"

# event: (its moment, when the signal counts under it, whether it was within the target)
EVENTS = {
    "came_in": ("created_at", "true", "false"),
    "responded": ("responded_at", "{p}responded_at IS NOT NULL", "{p}responded_in_time"),
    "closed": (
        "closed_at",
        "{p}closed_at IS NOT NULL AND {p}status IN " + CLOSED,
        "{p}handled_in_time",
    ),
}
COUNTED = (
    "created_at", "responded_at", "closed_at", "status", "wijk_code", "owner_id", "kind",
    "sensitive", "responded_in_time", "handled_in_time",
)  # fmt: skip


def sqlite_day(moment: str) -> str:
    """The day in Hilversum of a UTC timestamp stored as 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    year = f"strftime('%Y', {moment})"
    summer_from = f"datetime({year} || '-04-01', 'weekday 0', '-7 days', '+1 hours')"
    summer_to = f"datetime({year} || '-11-01', 'weekday 0', '-7 days', '+1 hours')"
    return (
        f"date({moment}, CASE WHEN {moment} >= {summer_from} AND {moment} < {summer_to} "
        "THEN '+2 hours' ELSE '+1 hours' END)"
    )


def postgres_day(moment: str) -> str:
    # timestamptz AT TIME ZONE gives the wall clock there, whatever the session's zone
    return f"CAST({moment} AT TIME ZONE 'Europe/Amsterdam' AS DATE)"


def _key_values(row: str, event: str, day) -> str:  # type: ignore[no-untyped-def]
    return ", ".join(_key_list(row, event, day))


def _key_list(row: str, event: str, day) -> list[str]:  # type: ignore[no-untyped-def]
    """The counted key of a signal row under ``event`` (``new``, ``old``, or a table's): no
    wijk is '', no owner is 0, no verdict on the target is false."""
    prefix = f"{row}." if row else ""
    moment, _when, in_time = EVENTS[event]
    return [
        day(f"{prefix}{moment}"),
        f"'{event}'",
        f"coalesce({prefix}wijk_code, '')",
        f"coalesce({prefix}owner_id, 0)",
        f"{prefix}kind",
        f"{prefix}sensitive",
        f"coalesce({in_time.format(p=prefix)}, false)",
    ]


def _when(row: str, event: str) -> str:
    return EVENTS[event][1].format(p=f"{row}." if row else "")


def _sqlite_add(row: str) -> str:
    return " ".join(
        f"INSERT INTO steering_counts ({KEY}, signals) "
        f"SELECT {_key_values(row, event, sqlite_day)}, 1 WHERE {_when(row, event)} "
        f"ON CONFLICT ({KEY}) DO UPDATE SET signals = signals + 1;"
        for event in EVENTS
    )


def _sqlite_subtract(row: str) -> str:
    return " ".join(
        f"UPDATE steering_counts SET signals = signals - 1 WHERE {_when(row, event)} "
        f"AND ({KEY}) = ({_key_values(row, event, sqlite_day)});"
        for event in EVENTS
    )


_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in COUNTED)
SQLITE_TRIGGERS = {
    "steering_counts_insert": f"AFTER INSERT ON signals BEGIN {_sqlite_add('new')} END",
    "steering_counts_delete": f"AFTER DELETE ON signals BEGIN {_sqlite_subtract('old')} END",
    "steering_counts_update": (
        f"AFTER UPDATE OF {', '.join(COUNTED)} ON signals WHEN {_CHANGED} "
        f"BEGIN {_sqlite_subtract('old')} {_sqlite_add('new')} END"
    ),
}


def _rows(table: str, change: int, day) -> str:  # type: ignore[no-untyped-def]
    """Every (key, change) of the signals in ``table``, one per event it counts under."""
    columns = [c.strip() for c in KEY.split(",")]
    selects = []
    for event in EVENTS:
        values = _key_list("", event, day)
        keyed = ", ".join(f"{v} AS {c}" for v, c in zip(values, columns, strict=True))
        selects.append(f"SELECT {keyed}, {change} AS change FROM {table} WHERE {_when('', event)}")
    return " UNION ALL ".join(selects)


def _postgres_sums(changes: str) -> str:
    """Apply ``changes`` summed per key, in key order (as inbox_counts does)."""
    return f"""
        INSERT INTO steering_counts AS counts ({KEY}, signals)
        SELECT {KEY}, sum(change)
        FROM ({changes}) AS changes
        GROUP BY {KEY}
        HAVING sum(change) <> 0
        ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET signals = counts.signals + excluded.signals;
    """


POSTGRES_FUNCTIONS = {
    "steering_counts_insert": _postgres_sums(_rows("new_rows", 1, postgres_day)),
    "steering_counts_delete": _postgres_sums(_rows("old_rows", -1, postgres_day)),
    "steering_counts_update": _postgres_sums(
        f"{_rows('new_rows', 1, postgres_day)} UNION ALL {_rows('old_rows', -1, postgres_day)}"
    ),
    "steering_counts_truncate": "DELETE FROM steering_counts;",
}
POSTGRES_TRIGGERS = {
    "steering_counts_insert": "AFTER INSERT ON signals REFERENCING NEW TABLE AS new_rows",
    "steering_counts_delete": "AFTER DELETE ON signals REFERENCING OLD TABLE AS old_rows",
    "steering_counts_update": (
        "AFTER UPDATE ON signals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    ),
    "steering_counts_truncate": "AFTER TRUNCATE ON signals",
}

# The days from coming in to each moment, worked out by the database (portal/models/signal.py).
DAYS = {"responded_at": "response_days", "closed_at": "handling_days"}
SQLITE_DAYS = "FLOAT GENERATED ALWAYS AS (julianday({moment}) - julianday(created_at)) VIRTUAL"
POSTGRES_DAYS = (
    "double precision GENERATED ALWAYS AS "
    "(CAST(EXTRACT(EPOCH FROM ({moment} - created_at)) / 86400.0 AS double precision)) STORED"
)
# What the medians of a period read, after the moment itself: visibility, the selection.
DURATION_COLUMNS = ["sensitive", "status", "owner_id", "wijk_code", "kind", "buurt_code"]


def _moment_indexes(columns: dict[str, list[str]]) -> None:
    for moment, rest in columns.items():
        op.drop_index(f"ix_signals_{moment}", table_name="signals")
        present = sa.text(f"{moment} IS NOT NULL")
        op.create_index(
            f"ix_signals_{moment}",
            "signals",
            [moment, *rest],
            sqlite_where=present,
            postgresql_where=present,
        )


def upgrade() -> None:
    op.create_table(
        "steering_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("event", sa.String(length=12), nullable=False),
        sa.Column("wijk_code", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("in_time", sa.Boolean(), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*[c.strip() for c in KEY.split(",")], name="pk_steering_counts"),
        sqlite_with_rowid=False,  # stored in key order: a period is one range of days
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for moment, name in DAYS.items():
        # Plain ALTER TABLE, not a batch recreate: that would drop the counts' triggers.
        kind = (POSTGRES_DAYS if postgres else SQLITE_DAYS).format(moment=moment)
        op.execute(f"ALTER TABLE signals ADD COLUMN {name} {kind}")
    _moment_indexes({moment: [*DURATION_COLUMNS, name] for moment, name in DAYS.items()})
    day = postgres_day if postgres else sqlite_day
    op.execute(
        f"INSERT INTO steering_counts ({KEY}, signals) SELECT {KEY}, sum(change) "
        f"FROM ({_rows('signals', 1, day)}) AS changes GROUP BY {KEY}"
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
    _moment_indexes({"responded_at": [], "closed_at": []})
    for name in DAYS.values():
        op.execute(f"ALTER TABLE signals DROP COLUMN {name}")
    op.drop_table("steering_counts")
