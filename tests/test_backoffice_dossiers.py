"""The dossier screens through the app: who may read and act, the list and its filters, a
new dossier (the form keeps what was typed), the dossier page (signals, who a message will
reach, timeline, budget grants), its actions with their refusals and stale pages, and the
signal page's dossier part. SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.domain import sensitive
from portal.domain.casework import Actor, internal_note
from portal.domain.initiatives import budget
from portal.domain.working_days import local_date
from portal.models import Dossier, OutboxMessage, Signal, SignalEvent
from portal.vocabulary import Kind
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    KERKELANDEN,
    MANAGEMENT,
    SANNE,
    SINT_VITUSBUURT,
    db_session,
    login,
    make_signal,
    user_id,
)
from tests.fixtures.mailserver import SMTPServer

TITLE = "Integrale handhaving Sint Vitusbuurt"
LIST = "/backoffice/dossiers"
VERSION = re.compile(r'name="version" value="(\d+)"')
SIGNAL_VERSIONS = re.compile(r'name="signal_versions" value="([^"]*)"')


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def vitus(app: Flask, email: str | None, **fields) -> str:  # type: ignore[no-untyped-def]
    fields.setdefault("title", f"Overlast ({email})")
    return make_signal(app, buurt=SINT_VITUSBUURT, email=email, **fields)[0]


def signal_of(session, reference: str) -> Signal:  # type: ignore[no-untyped-def]
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def create(client: FlaskClient, title: str = TITLE, **fields: str) -> str:
    """A dossier made through the form; returns its page's path."""
    form = client.get(f"{LIST}/nieuw").get_data(as_text=True)
    me = re.search(r'<option value="(\d+)" selected>', form)  # the form's default owner: me
    assert me
    token = csrf_token(client, f"{LIST}/nieuw")
    data = {"csrf_token": token, "title": title, "description": "", "owner": me.group(1)}
    data["wijk"] = ""
    response = client.post(f"{LIST}/nieuw", data={**data, **fields})
    assert response.status_code == 303, text(response)[:2000]
    return response.headers["Location"]


def post(client: FlaskClient, page: str, action: str, **fields: str):  # type: ignore[no-untyped-def]
    """Posts a form of the dossier page as the page showed it (token and versions)."""
    shown = text(client.get(page))
    data = {"csrf_token": csrf_token(client, page), **fields}
    if (version := VERSION.search(shown)) and "version" not in fields:
        data["version"] = version.group(1)
    if (versions := SIGNAL_VERSIONS.search(shown)) and "signal_versions" not in fields:
        data["signal_versions"] = versions.group(1)
    return client.post(f"{page}/{action}", data=data)


def add(client: FlaskClient, page: str, reference: str) -> None:
    response = post(client, page, "meldingen", reference=reference)
    assert response.status_code == 303, text(response)[:3000]


def mark_sensitive(app: Flask, reference: str) -> None:
    with db_session(app) as session:
        signal = signal_of(session, reference)
        sensitive.mark(
            session,
            signal,
            reason="APJ",
            seen_version=signal.version,
            actor=Actor(user_id(app, SANNE), datetime.now(UTC)),
        )
        session.commit()


@pytest.fixture
def sanne(client: FlaskClient) -> FlaskClient:
    return login(client, SANNE)


# --- who may ------------------------------------------------------------------------------


def test_everyone_on_staff_reads_workers_act_and_management_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    assert client.get(LIST).status_code == 302  # anonymous: to the login page
    reference = vitus(app, "a@example.nl")
    login(client, SANNE)
    page = create(client)
    add(client, page, reference)
    client.post("/backoffice/logout", data={"csrf_token": csrf_token(client, LIST)})
    assert "/backoffice/login" in client.get(page).headers["Location"]

    login(client, MANAGEMENT)
    assert client.get(LIST).status_code == 200
    shown = client.get(page)
    assert shown.status_code == 200
    assert "U kunt dit dossier bekijken, maar niet wijzigen." in text(shown)
    assert "Verstuur naar alle melders" not in text(shown)
    assert "Nieuw dossier" not in text(client.get(LIST))
    token = csrf_token(client, LIST)
    for action in ("bericht", "status", "meldingen", "weghalen", "wijzigen", "sluiten", "notitie"):
        refused = client.post(f"{page}/{action}", data={"csrf_token": token, "message": "Hallo"})
        assert refused.status_code == 403, action
    assert client.get(f"{LIST}/nieuw").status_code == 403
    client.post("/backoffice/logout", data={"csrf_token": token})

    # An accountmanager of another wijk may work on it, as on any signal (decided): the
    # timeline says who did what.
    login(client, ANNA)
    other = vitus(app, "b@example.nl")
    add(client, page, other)
    assert "Anna de Vries" in text(client.get(page))
    assert client.get(f"{LIST}/DOS-1999-000001").status_code == 404


# --- the list ---------------------------------------------------------------------------------


def test_the_list_filters_on_state_owner_and_wijk_and_counts_only_what_you_may_see(
    app: Flask, client: FlaskClient
) -> None:
    hidden = vitus(app, "a@example.nl")
    login(client, SANNE)
    centrum = create(client, wijk="WK040201", owner=str(user_id(app, SANNE)))
    add(client, centrum, hidden)
    add(client, centrum, vitus(app, "b@example.nl"))
    mark_sensitive(app, hidden)
    zuidwest = create(
        client, "Voetbalkooi Kerkelanden", wijk="WK040203", owner=str(user_id(app, ANNA))
    )
    closed = create(client, "Oud dossier", owner=str(user_id(app, SANNE)))
    assert post(client, closed, "sluiten", reason="Klaar.").status_code == 303

    def references(query: str = "") -> list[str]:
        page = text(client.get(f"{LIST}{query}"))
        return re.findall(r">(DOS-\d{4}-\d{6})</a>", page)

    ref = {path: path.rsplit("/", 1)[1] for path in (centrum, zuidwest, closed)}
    assert sorted(references()) == sorted([ref[centrum], ref[zuidwest]])
    assert references("?state=closed") == [ref[closed]]
    assert sorted(references("?state=all")) == sorted(ref.values())
    assert references("?mine=1") == [ref[centrum]]
    assert references("?wijk=WK040203") == [ref[zuidwest]]
    assert references("?wijk=bestaat-niet&state=nope") == references()

    def count(page: str) -> str:
        row = re.search(rf">{ref[centrum]}</a>.*?</tr>", page, re.S)
        assert row
        return re.findall(r'numeric-column">(\d+)<', row.group(0))[0]

    assert count(text(client.get(LIST))) == "2"  # Sanne owns the sensitive one
    client.post("/backoffice/logout", data={"csrf_token": csrf_token(client, LIST)})
    login(client, ANNA)
    assert count(text(client.get(LIST))) == "1"


# --- a new dossier ----------------------------------------------------------------------------


def test_a_new_dossier_starts_with_me_and_my_wijk_and_keeps_what_was_typed(
    app: Flask, sanne: FlaskClient
) -> None:
    form = text(sanne.get(f"{LIST}/nieuw"))
    assert re.search(rf'<option value="{user_id(app, SANNE)}" selected>Sanne Bakker', form)
    assert '<option value="WK040201" selected>' in form
    token = csrf_token(sanne, f"{LIST}/nieuw")
    refused = sanne.post(
        f"{LIST}/nieuw",
        data={"csrf_token": token, "title": " ", "description": "Met politie en corporatie."},
    )
    assert refused.status_code == 422
    page = text(refused)
    assert "<title>Fout: Nieuw dossier" in page
    assert "Geef het dossier een titel." in page and "Kies wie het dossier trekt." in page
    assert "Met politie en corporatie." in page
    location = create(
        sanne, description="Met politie en corporatie.", owner=str(user_id(app, SANNE))
    )
    assert re.fullmatch(rf"/backoffice/dossiers/DOS-{datetime.now(UTC).year}-\d{{6}}", location)
    shown = text(sanne.get(location))
    assert "is gemaakt. Voeg nu de meldingen toe." in shown
    assert TITLE in shown and "Met politie en corporatie." in shown


# --- the page ---------------------------------------------------------------------------------


def grant(app: Flask, reference: str, cents: int) -> None:
    """A granted amount for an initiative, through the budget ledger's own operations."""
    now = datetime.now(UTC)
    with db_session(app) as session:
        budget.set_budget(
            session,
            "WK040201",
            local_date(now).year,
            500_000,
            reason="Wijkbudget",
            actor=Actor(user_id(app, ADMIN), now),
        )
        signal = signal_of(session, reference)
        budget.record_grant(
            session,
            signal,
            amount_cents=cents,
            purpose="Materiaal voor de buurtschouw",
            decided_on=local_date(now),
            show_amount=False,
            override_reason=None,
            actor=Actor(user_id(app, SANNE), now),
            seen_version=signal.version,
            threshold_cents=app.config["BUDGET_APPROVAL_THRESHOLD_CENTS"],
        )
        session.commit()


def test_the_page_shows_its_signals_who_a_message_reaches_its_timeline_and_grants(
    app: Flask, sanne: FlaskClient
) -> None:
    first = vitus(app, "a@example.nl")
    again = vitus(app, "A@example.nl")
    initiative = vitus(app, None, name=None, kind=Kind.INITIATIEF, title="Buurtschouw")
    grant(app, initiative, 75_000)
    page = create(sanne, owner=str(user_id(app, SANNE)), wijk="WK040201")
    for reference in (first, again, initiative):
        add(sanne, page, reference)
    shown = text(sanne.get(page))
    for reference in (first, again, initiative):
        assert f'href="/backoffice/signalen/{reference}"' in shown
    assert "Sint Vitusbuurt" in shown and "Initiatief" in shown and "Knelpunt" in shown
    assert "Ontvangen" in shown
    # Said before it is sent: who gets a mail and who reads it only on the status page.
    assert "Het bericht komt op de statuspagina van elk van de 3 meldingen." in shown
    assert "1 melder krijgt het ook per e-mail." in shown
    assert "1 melding heeft geen e-mailadres" in shown
    assert "De 3 open meldingen krijgen de nieuwe status" in shown
    assert "Melding " + initiative in re.sub(r"<[^>]+>", "", shown)  # "… toegevoegd"
    assert "Materiaal voor de buurtschouw" in shown and "750,00" in shown and "Toegekend" in shown


def test_adding_by_reference_says_why_it_cannot(app: Flask, sanne: FlaskClient) -> None:
    elsewhere = vitus(app, "a@example.nl")
    first = create(sanne, "Eerste aanpak", owner=str(user_id(app, SANNE)))
    add(sanne, first, elsewhere)
    page = create(sanne, owner=str(user_id(app, SANNE)))
    for typed, message in (
        ("", "Vul het meldnummer in"),
        ("HLV-1999-000123", "Er is geen melding met dit nummer die u kunt openen."),
        (
            elsewhere.lower().replace("-", " "),
            f"Deze melding zit al in dossier {first.rsplit('/', 1)[1]} (‘Eerste aanpak’)",
        ),
    ):
        refused = post(sanne, page, "meldingen", reference=typed)
        assert refused.status_code == 422, typed
        assert message in text(refused)
        assert f'value="{typed}"' in refused.get_data(as_text=True)  # what was typed stays


def test_a_public_update_from_the_page_mails_each_resident_once(
    app: Flask, sanne: FlaskClient, smtp: SMTPServer
) -> None:
    references = [
        vitus(app, "a@example.nl"),
        vitus(app, "b@example.nl"),
        vitus(app, None, name=None),
    ]
    page = create(sanne, owner=str(user_id(app, SANNE)))
    for reference in references:
        add(sanne, page, reference)
    before = len(smtp.messages)
    refused = post(sanne, page, "bericht", message="  ")
    assert refused.status_code == 422 and "Schrijf het bericht aan de melders." in text(refused)
    # A colleague added a signal since the page was loaded: the count on screen was wrong.
    stale = post(sanne, page, "bericht", message="Nieuws over de aanpak.", version="1")
    assert stale.status_code == 409
    assert "Iemand anders heeft dit dossier net gewijzigd" in text(stale)
    assert "Nieuws over de aanpak." in text(stale)
    sent = post(sanne, page, "bericht", message="Nieuws over de aanpak.")
    assert sent.status_code == 303
    shown = text(sanne.get(page))
    assert (
        "Uw bericht staat op de statuspagina van 3 meldingen. 2 melders krijgen een e-mail."
        in shown
    )
    smtp.wait_for(before + 2)
    news = [
        m for m in smtp.messages[before:] if str(m["Subject"]).startswith("Nieuws over uw melding")
    ]
    assert sorted(str(m["To"]) for m in news) == ["a@example.nl", "b@example.nl"]


def test_one_status_for_all_and_a_stale_signal_changes_nothing(
    app: Flask, sanne: FlaskClient
) -> None:
    first, second = vitus(app, "a@example.nl"), vitus(app, "b@example.nl")
    page = create(sanne, owner=str(user_id(app, SANNE)))
    add(sanne, page, first)
    add(sanne, page, second)
    shown = text(sanne.get(page))
    fields = {
        "csrf_token": csrf_token(sanne, page),
        "version": VERSION.search(shown).group(1),  # type: ignore[union-attr]
        "signal_versions": SIGNAL_VERSIONS.search(shown).group(1),  # type: ignore[union-attr]
        "status": "planned",
        "message": "De handhaving begint maandag.",
    }
    with db_session(app) as session:  # a colleague notes something on the second one
        signal = signal_of(session, second)
        internal_note(
            session,
            signal,
            message="Gebeld.",
            seen_version=signal.version,
            actor=Actor(user_id(app, ANNA), datetime.now(UTC)),
        )
        session.commit()
    refused = sanne.post(f"{page}/status", data=fields)
    assert refused.status_code == 409
    page_text = text(refused)
    assert (
        f"Melding {second} is net gewijzigd door iemand anders. Er is niets veranderd." in page_text
    )
    assert "De handhaving begint maandag." in page_text
    with db_session(app) as session:
        assert {signal_of(session, r).status for r in (first, second)} == {"received"}
    # The page came back with the versions now on screen: trying again goes through.
    fields["signal_versions"] = SIGNAL_VERSIONS.search(page_text).group(1)  # type: ignore[union-attr]
    assert sanne.post(f"{page}/status", data=fields).status_code == 303
    assert "2 meldingen hebben nu de status ‘Ingepland’." in text(sanne.get(page))
    with db_session(app) as session:
        assert {signal_of(session, r).status for r in (first, second)} == {"planned"}
    refused = post(sanne, page, "status", status="resolved", message="")
    assert refused.status_code == 422
    assert "bij de status ‘Afgehandeld’ is dat verplicht" in text(refused)


def test_who_may_not_open_every_signal_cannot_send_to_all(app: Flask, client: FlaskClient) -> None:
    hidden, seen = vitus(app, "a@example.nl"), vitus(app, "b@example.nl")
    login(client, SANNE)
    page = create(client, owner=str(user_id(app, SANNE)))
    add(client, page, hidden)
    add(client, page, seen)
    mark_sensitive(app, hidden)
    client.post("/backoffice/logout", data={"csrf_token": csrf_token(client, LIST)})
    login(client, ANNA)
    shown = text(client.get(page))
    assert "Er zit nog 1 melding in dit dossier die u niet mag openen" in shown
    assert hidden not in shown and seen in shown
    assert "U kunt geen bericht aan alle melders sturen" in shown
    for action, fields in (("bericht", {"message": "Hallo"}), ("status", {"status": "planned"})):
        refused = post(client, page, action, **fields)
        assert refused.status_code == 422
        assert "In dit dossier zitten meldingen die u niet mag openen (1)." in text(refused)
    with db_session(app) as session:
        steps = select(func.count(SignalEvent.id)).where(SignalEvent.kind == "dossier_update")
        assert session.scalar(steps) == 0
        assert (
            session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.purpose == "public_dossier_update"
                )
            )
            == 0
        )


def test_edit_note_close_and_reopen(app: Flask, sanne: FlaskClient) -> None:
    reference = vitus(app, "a@example.nl")
    page = create(sanne, owner=str(user_id(app, SANNE)))
    edited = post(
        sanne,
        page,
        "wijzigen",
        title="Handhaving Vitus",
        description="Nieuw.",
        owner=str(user_id(app, ANNA)),
        wijk="WK040201",
    )
    assert edited.status_code == 303
    same = post(
        sanne,
        page,
        "wijzigen",
        title="Handhaving Vitus",
        description="Nieuw.",
        owner=str(user_id(app, ANNA)),
        wijk="WK040201",
    )
    assert same.status_code == 422 and "Er is niets veranderd" in text(same)
    assert (
        post(sanne, page, "notitie", message="Overleg met de politie op dinsdag.").status_code
        == 303
    )
    assert post(sanne, page, "sluiten", reason="Aanpak klaar.").status_code == 303
    shown = text(sanne.get(page))
    assert "Het dossier is gesloten." in shown and "Heropen dossier" in shown
    assert "Voeg toe aan dossier" not in shown
    refused = sanne.post(
        f"{page}/meldingen", data={"csrf_token": csrf_token(sanne, page), "reference": reference}
    )
    assert refused.status_code == 422 and "Heropen het eerst." in text(refused)
    assert post(sanne, page, "heropenen").status_code == 303
    shown = text(sanne.get(page))
    for line in (
        "Dossier gewijzigd",
        "titel",
        "eigenaar",
        "Overleg met de politie op dinsdag.",
        "Dossier gesloten",
        "Aanpak klaar.",
        "Dossier heropend",
    ):
        assert line in shown, line
    with db_session(app) as session:
        dossier = session.scalars(select(Dossier)).one()
        assert (dossier.title, dossier.owner_id, dossier.state) == (
            "Handhaving Vitus",
            user_id(app, ANNA),
            "open",
        )


# --- on the signal page -------------------------------------------------------------------------


def test_the_signal_page_adds_it_to_a_dossier_or_starts_one(
    app: Flask, client: FlaskClient
) -> None:
    first, second = vitus(app, "a@example.nl"), vitus(app, "b@example.nl")
    login(client, SANNE)
    dossier_page = create(client, owner=str(user_id(app, SANNE)))
    dossier_ref = dossier_page.rsplit("/", 1)[1]
    signal_page = f"/backoffice/signalen/{first}"
    shown = text(client.get(signal_page))
    assert "Deze melding hoort niet bij een dossier." in shown
    assert f"{dossier_ref} – {TITLE}" in shown
    version = VERSION.search(shown).group(1)  # type: ignore[union-attr]
    token = csrf_token(client, signal_page)
    wrong = client.post(
        f"{signal_page}/dossier",
        data={"csrf_token": token, "version": version, "dossier": "DOS-1999-000001"},
    )
    assert wrong.status_code == 422 and "Kies een dossier uit de lijst." in text(wrong)
    added = client.post(
        f"{signal_page}/dossier",
        data={"csrf_token": token, "version": version, "dossier": dossier_ref},
    )
    assert added.status_code == 303 and added.headers["Location"] == signal_page
    shown = text(client.get(signal_page))
    assert f"De melding zit nu in dossier {dossier_ref}." in shown
    assert f'href="/backoffice/dossiers/{dossier_ref}"' in shown
    assert "Toegevoegd aan een dossier" in shown  # the signal's own timeline

    other_page = f"/backoffice/signalen/{second}"
    version = VERSION.search(text(client.get(other_page))).group(1)  # type: ignore[union-attr]
    empty = client.post(
        f"{other_page}/dossier/nieuw", data={"csrf_token": token, "version": version, "title": ""}
    )
    assert empty.status_code == 422 and "Geef het dossier een titel." in text(empty)
    made = client.post(
        f"{other_page}/dossier/nieuw",
        data={"csrf_token": token, "version": version, "title": "Voetbalkooi"},
    )
    assert made.status_code == 303
    shown = text(client.get(made.headers["Location"]))
    assert "Voetbalkooi" in shown and f'href="/backoffice/signalen/{second}"' in shown
    with db_session(app) as session:
        dossier = session.scalars(select(Dossier).where(Dossier.title == "Voetbalkooi")).one()
        assert (dossier.owner_id, dossier.wijk_code) == (user_id(app, SANNE), "WK040201")

    client.post("/backoffice/logout", data={"csrf_token": token})
    login(client, MANAGEMENT)
    kerkelanden, _token = make_signal(app, buurt=KERKELANDEN)
    shown = text(client.get(f"/backoffice/signalen/{kerkelanden}"))
    assert "Deze melding hoort niet bij een dossier." in shown and "Maak dossier" not in shown
