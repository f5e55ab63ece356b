"""Exporting an inbox list as CSV (issue 13): the file round-trips through Python's csv
module with Dutch characters, in both separators; it holds exactly the list's signals, no
personal data unless an admin asks with a reason (audited, without the data), and no cell a
spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import AuditRecord
from portal.vocabulary import Status
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    KERKELANDEN,
    SINT_VITUSBUURT,
    db_session,
    login,
    make_signal,
)
from tests.test_deadlines import local, move

EXPORT = "/backoffice/export?scope=all"
FILE = "/backoffice/export/signalen.csv?scope=all"


def rows_of(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    body = response.get_data()
    assert body.startswith("\ufeff".encode()), "no BOM: Excel would misread the accents"
    text = body.decode("utf-8")[1:]
    separator = ";" if text.split("\r\n", 1)[0].count(";") > 1 else ","
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=separator))


def export(client: FlaskClient, query: str = "", separator: str = ";"):  # type: ignore[no-untyped-def]
    """The file as the page's download button asks for it."""
    return client.get(f"{FILE}{query}&csv-separator={quote(separator)}")


def export_personal(client: FlaskClient, reason: str, query: str = ""):  # type: ignore[no-untyped-def]
    token = csrf_token(client, EXPORT + query)
    data = {"csrf_token": token, "separator": ";", "reason": reason}
    return client.post(EXPORT + query, data=data)


def test_the_file_round_trips_with_dutch_characters_and_iso_dates(app: Flask, client) -> None:
    reference, _token = make_signal(
        app,
        title="Scheve stoeptegel bij café ’t Hoekje",
        description="De tegel bij de ingang van café ’t Hoekje ligt scheef, al weken.",
        email="mevrouw.ozdemir@example.nl",
        name="Ayşe Özdemir",
        now=local(date(2026, 10, 1)),
    )
    move(app, reference, Status.IN_PROGRESS, at=local(date(2026, 10, 2)))
    login(client, ANNA)
    for separator in (";", ","):
        response = export(client, separator=separator)
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.is_streamed
        assert "attachment" in response.headers["Content-Disposition"]
        [row] = rows_of(response)
        assert row["Meldnummer"] == reference
        assert row["Titel"] == "Scheve stoeptegel bij café ’t Hoekje"
        assert row["Soort"] == "Knelpunt" and row["Thema's"] == "Schoon"
        assert row["Status"] == "In behandeling"
        assert row["Wijk"] == "Zuidwest" and row["Buurt"] == "Kerkelanden"
        assert row["Binnengekomen op"] == "2026-10-01T10:00:00+02:00"
        assert row["Eerste reactie op"] == "2026-10-02T10:00:00+02:00"
        assert row["Afgesloten op"] == ""
        assert row["Reactie uiterlijk"] == "2026-10-06"
        assert row["Reactie binnen de termijn"] == "ja"
        assert row["Eigenaar"] == "Anna de Vries"
    body = response.get_data(as_text=True)
    assert "Özdemir" not in body and "mevrouw.ozdemir" not in body  # no personal data


def test_the_file_holds_exactly_the_list(app: Flask, client) -> None:
    for buurt in (KERKELANDEN, KERKELANDEN, SINT_VITUSBUURT):
        make_signal(app, buurt=buurt)
    login(client, ADMIN)
    assert len(rows_of(export(client))) == 3
    zuidwest = rows_of(export(client, "&wijk=WK040203"))
    assert [r["Wijk"] for r in zuidwest] == ["Zuidwest", "Zuidwest"]
    page = client.get("/backoffice/signalen?scope=all&wijk=WK040203").get_data(as_text=True)
    assert "/backoffice/export?scope=all&amp;wijk=WK040203" in page
    assert "Het bestand krijgt 2 signalen" in client.get(f"{EXPORT}&wijk=WK040203").get_data(
        as_text=True
    )


def test_a_formula_typed_by_a_resident_stays_text(app: Flask, client) -> None:
    make_signal(app, title='=HYPERLINK("http://aanvaller.example","klik")')
    login(client, ADMIN)
    [row] = rows_of(export(client))
    assert row["Titel"] == '\'=HYPERLINK("http://aanvaller.example","klik")'


def test_personal_data_only_for_an_admin_who_says_why(app: Flask, client) -> None:
    make_signal(app, email="jan.jansen@example.nl", name="Jan Jansen", phone="035 123 45 67")
    login(client, ADMIN)
    refused = export_personal(client, reason="")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Schrijf op waarom u de gegevens van de melders nodig heeft." in page
    assert 'name="reason"' in page

    reason = "Verzoek om inzage van de melder, zaak 2026-118"
    [row] = rows_of(export_personal(client, reason=reason))
    assert (row["Naam melder"], row["E-mailadres melder"]) == (
        "Jan Jansen",
        "jan.jansen@example.nl",
    )
    assert row["Telefoon melder"] == "035 123 45 67"
    with db_session(app) as session:
        [record] = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "export.personal_data")
        ).all()
        assert record.details["reason"] == reason
        assert record.details["filter"] == {"scope": "all"}
        assert "jan.jansen" not in json.dumps(record.details)


def test_an_accountmanager_cannot_ask_for_personal_data(app: Flask, client) -> None:
    make_signal(app, email="jan.jansen@example.nl", name="Jan Jansen")
    login(client, ANNA)
    form = client.get(EXPORT).get_data(as_text=True)
    assert 'name="reason"' not in form and "Download het bestand" in form
    token = csrf_token(client, EXPORT)
    refused = client.post(EXPORT, data={"csrf_token": token, "separator": ";", "reason": "graag"})
    assert refused.status_code == 403
    [row] = rows_of(export(client))
    assert "Naam melder" not in row and "jan.jansen" not in json.dumps(row)
    with db_session(app) as session:
        assert not session.scalars(
            select(AuditRecord).where(AuditRecord.action == "export.personal_data")
        ).all()
