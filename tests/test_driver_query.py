"""portal.database.DriverQuery runs a compiled SELECT on the driver itself: its rows must be
the ones SQLAlchemy gives for the same statement, on both databases, with parameters in any
order (SQLite's are positional, psycopg's named)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import bindparam, select

from portal.database import DriverQuery
from portal.extensions import db
from portal.models import User

USERS = User.__table__


def test_rows_are_the_ones_sqlalchemy_gives(app: Flask) -> None:
    statement = (
        select(USERS.c.id, USERS.c.email, USERS.c.role)
        .where(USERS.c.role == bindparam("role"), USERS.c.id > bindparam("after"))
        .order_by(USERS.c.id)
    )
    query = DriverQuery(statement)
    with app.app_context():
        engine = db.engine()
        with engine.connect() as connection:
            expected = connection.execute(statement, {"role": "accountmanager", "after": 1}).all()
        assert expected, "the seeded data has accountmanagers"
        assert query.first(engine, after=1, role="accountmanager") == tuple(expected[0])
        assert query.first(engine, role="accountmanager", after=10**9) is None
        # Compiled once per dialect, then reused.
        assert query.first(engine, role="accountmanager", after=1) == tuple(expected[0])
