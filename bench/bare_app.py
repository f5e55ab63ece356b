"""The bare stack the portal's pages are measured against: Flask on the same gunicorn config and
the same SQLAlchemy + SQLite (WAL) setup, without anything of the portal. A GET returns a small
page; a POST inserts one row and redirects (303) to a small confirmation page.

    gunicorn --workers 2 'bench.bare_app:create_app()'   (BARE_DATABASE_URL names the database)
"""

from __future__ import annotations

import os

from flask import Flask, redirect, request
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, event, insert

PAGE = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Melden</title></head>
<body><main><h1>Melden</h1>
<form method="post" action="/melden"><label for="t">Titel</label>
<input id="t" name="title"><label for="d">Omschrijving</label>
<textarea id="d" name="description"></textarea><button>Verstuur</button></form>
</main></body></html>
"""
THANKS = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Bedankt</title></head>
<body><main><h1>Bedankt</h1><p>Uw melding is ontvangen.</p></main></body></html>
"""

metadata = MetaData()
rows = Table(
    "rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(120)),
    Column("description", Text),
)


def create_app() -> Flask:
    app = Flask(__name__)
    engine = create_engine(os.environ["BARE_DATABASE_URL"])

    @event.listens_for(engine, "connect")
    def _wal(connection, _record):  # type: ignore[no-untyped-def]
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA busy_timeout=5000")

    metadata.create_all(engine)

    @app.get("/melden")
    def form():  # type: ignore[no-untyped-def]
        return PAGE

    @app.post("/melden")
    def submit():  # type: ignore[no-untyped-def]
        with engine.begin() as connection:
            connection.execute(
                insert(rows).values(
                    title=request.form.get("title", ""),
                    description=request.form.get("description", ""),
                )
            )
        return redirect("/bedankt", code=303)

    @app.get("/bedankt")
    def thanks():  # type: ignore[no-untyped-def]
        return THANKS

    return app
