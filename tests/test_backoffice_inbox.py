"""The inbox: 'Mijn signalen' and 'Alle signalen', every filter, search, sorting, pages, counts
per status, lenient query arguments and the number of SQL statements per page. Tests that use
``app``/``client`` run on SQLite and on PostgreSQL; the pure domain tests run once."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from werkzeug.datastructures import MultiDict

from portal.domain import casework
from portal.domain.inbox import Deadlines, InboxFilter, InboxPage, subtract_working_days
from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.routing import LocationInput
from portal.extensions import db
from portal.models import Signal, User
from portal.vocabulary import Kind, Status, Theme
from tests.factories import (
    ADMIN,
    ANNA,
    KERKELANDEN,
    MANAGEMENT,
    SANNE,
    SINT_VITUSBUURT,
    db_session,
    intake_settings,
    login,
    user_id,
)

TZ = ZoneInfo("Europe/Amsterdam")
INBOX = "/backoffice/signalen"
ZUID = "BU04020401"  # Bloemenkwartier Noord, wijk Zuid (Pieter Jansen)
OOST = "BU04020601"  # Geuzenbuurt, wijk Oost (Joris van Dijk)
REFERENCE_LINK = re.compile(
    r'class="utrecht-link portal-inbox-reference" href="([^"]+)">([^<]+)</a>'
)
COUNT_LINK = re.compile(
    r'<a class="utrecht-link" href="([^"]+)"( aria-current="true")?>([^<]+)</a>'
)


# --- arranging ------------------------------------------------------------------------------


def local_noon(days_ago: int) -> datetime:
    """Noon (Amsterdam) ``days_ago`` days back, in UTC: far from midnight, whatever DST does."""
    day = datetime.now(TZ).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(12), tzinfo=TZ).astimezone(UTC)


def submit(
    app: Flask,
    *,
    buurt: str | None = KERKELANDEN,
    title: str = "Afval bij de glasbak",
    description: str = "Er ligt al dagen afval naast de glasbak op de hoek.",
    kind: Kind = Kind.KNELPUNT,
    themes: tuple[Theme, ...] = (Theme.SCHOON,),
    street: str | None = None,
    house_number: str | None = None,
    postcode: str | None = None,
    when: datetime | None = None,
) -> str:
    """A signal through the intake operation, optionally as if it came in at ``when``."""
    settings = intake_settings(app)
    if when is not None:
        settings = replace(settings, now=when)
    with app.app_context():
        result = submit_signal(
            db.session,
            Submission(
                kind=kind,
                themes=list(themes),
                title=title,
                description=description,
                location=LocationInput(buurt_code=buurt, postcode=postcode),
                street=street,
                house_number=house_number,
                reporter=ReporterInput(name="Jan Jansen", email=None),
            ),
            settings,
        )
        db.session.commit()
        return result.signal.reference


def actor(app: Flask, now: datetime | None = None) -> casework.Actor:
    with db_session(app) as session:
        admin_id = session.scalar(select(User.id).where(User.email == ADMIN))
    assert admin_id is not None
    return casework.Actor(user_id=admin_id, now=now or datetime.now(UTC))


def move(app: Flask, reference: str, *targets: Status, at: datetime | None = None) -> None:
    """Status changes through the casework operation (with the message some need), made at
    ``at`` (default: now)."""
    who = actor(app, at)
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
        for target in targets:
            casework.change_status(
                db.session,
                signal,
                target.value,
                message="Bericht aan de bewoner.",
                seen_version=signal.version,
                actor=who,
                mail=intake_settings(app).mail,
            )
        db.session.commit()


def follow_up(app: Flask, reference: str, on: date, *, set_at: datetime | None = None) -> None:
    """Sets the follow-up day as someone did at ``set_at`` (the operation refuses past days)."""
    who = actor(app, set_at)
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
        casework.set_follow_up(db.session, signal, on=on, seen_version=signal.version, actor=who)
        db.session.commit()


def give_to(app: Flask, reference: str, email: str) -> None:
    who = actor(app)
    owner = user_id(app, email)
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
        casework.reassign(
            db.session,
            signal,
            wijk_code=None,
            buurt_code=None,
            owner_id=owner,
            reason="Zij kent de buurt.",
            seen_version=signal.version,
            actor=who,
            mail=intake_settings(app).mail,
        )
        db.session.commit()


# --- reading the page -----------------------------------------------------------------------


def page(client: FlaskClient, query: str | dict[str, str] = "") -> str:
    response = client.get(INBOX, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return response.get_data(as_text=True)


def references(client: FlaskClient, query: str | dict[str, str] = "") -> list[str]:
    """The meldnummers in the table, in the order shown."""
    return [ref for _href, ref in REFERENCE_LINK.findall(page(client, query))]


def heading(body: str) -> str:
    match = re.search(r'<h1 class="utrecht-heading-1">([^<]+)</h1>', body)
    assert match
    return match.group(1)


def counts(body: str) -> dict[str, tuple[int, str, bool]]:
    """Label -> (count, link, current) from the counts per status."""
    block = re.search(r'<ul class="portal-inbox-counts".*?</ul>', body, re.S)
    assert block
    found = {}
    for href, current, text in COUNT_LINK.findall(block.group(0)):
        label, number = re.fullmatch(r"(.+) \((\d+)\)", text.strip()).groups()  # type: ignore[union-attr]
        found[label] = (int(number), html.unescape(href), bool(current))
    return found


def pagination(body: str) -> str:
    block = re.search(r'<nav class="utrecht-pagination".*?</nav>', body, re.S)
    return block.group(0) if block else ""


def link_query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(html.unescape(href)).query)


# --- mine and all ---------------------------------------------------------------------------


def test_mine_holds_my_wijken_and_what_i_own(app, client):
    kerkelanden = submit(app, buurt=KERKELANDEN, title="Kerkelanden")
    centrum = submit(app, buurt=SINT_VITUSBUURT, title="Centrum")
    handed_over = submit(app, buurt=ZUID, title="Zuid maar van Anna")
    give_to(app, handed_over, ANNA)

    login(client, ANNA)
    body = page(client, {"scope": "mine"})
    assert heading(body) == "Mijn signalen"
    mine = [ref for _h, ref in REFERENCE_LINK.findall(body)]
    assert kerkelanden in mine and handed_over in mine
    assert centrum not in mine
    assert set(references(client, {"scope": "all"})) >= {kerkelanden, centrum, handed_over}

    sanne = login(app.test_client(), SANNE)
    assert references(sanne, {"scope": "mine"}) == [centrum]
    assert kerkelanden in references(sanne, {"scope": "all"})


def test_accountmanagers_start_with_mine_admins_and_management_with_all(app):
    submit(app)
    for email, expected in ((ANNA, "Mijn signalen"), (ADMIN, "Alle signalen")):
        client = login(app.test_client(), email)
        assert heading(page(client)) == expected
        assert heading(client.get("/backoffice/").get_data(as_text=True)) == expected
    management = login(app.test_client(), MANAGEMENT)
    body = page(management)
    assert heading(body) == "Alle signalen"
    assert 'aria-current="page">Alle signalen</a>' in body  # the navigation agrees
    assert len(REFERENCE_LINK.findall(body)) == 1


def test_rows_show_reference_link_title_kind_place_status_age_and_owner(app, client):
    # A week: more than 3 working days whatever today is.
    reference = submit(app, title="Losse tegel", kind=Kind.INITIATIEF, when=local_noon(7))
    login(client, ANNA)
    body = page(client, {"scope": "all"})
    [(href, shown)] = REFERENCE_LINK.findall(body)
    assert shown == reference
    assert href == f"/backoffice/signalen/{reference}"
    rows = re.findall(r"<tr class=\"utrecht-table__row\">.*?</tr>", body, re.S)
    [row] = [r for r in rows if reference in r]
    assert '<th scope="row"' in row
    cells = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    for expected in ("Losse tegel", "Initiatief", "Zuidwest", "Kerkelanden", "Ontvangen"):
        assert expected in cells
    assert "7 dagen" in cells and "Anna de Vries" in cells
    assert "Reactie te laat" in cells  # no response after more than 3 working days
    assert '<caption class="utrecht-table__caption">' in body
    assert body.count('<th scope="col"') == 7


def test_markers_for_follow_up_and_an_unknown_location(app, client):
    placed = submit(app)
    unknown = submit(app, buurt=None, title="Ergens")
    follow_up(app, placed, datetime.now(TZ).date())
    login(client, ADMIN)
    body = page(client, {"scope": "all"})
    assert body.count("portal-mark-follow-up") == 1
    assert body.count("portal-mark-flagged") == 1
    assert "Locatie onbekend" in body and "Opvolgen:" in body
    assert unknown in body


def test_an_empty_inbox_says_so(app, client):
    login(client, ANNA)
    body = page(client, {"scope": "mine"})
    assert "U heeft nu geen signalen" in body
    assert "<table" not in body
    filtered = page(client, {"scope": "all", "q": "bestaat-niet"})
    assert "Geen signalen gevonden met deze filters." in filtered
    assert 'href="/backoffice/signalen?scope=all">Wis filters' in filtered


# --- filters --------------------------------------------------------------------------------


def test_status_filters(app, client):
    fresh = submit(app, title="Nieuw")
    working = submit(app, title="Bezig")
    move(app, working, Status.IN_PROGRESS)
    done = submit(app, title="Klaar")
    move(app, done, Status.RESOLVED)
    declined = submit(app, title="Afgewezen")
    move(app, declined, Status.DECLINED)
    login(client, ANNA)

    assert set(references(client, {"scope": "all", "status": "open"})) == {fresh, working}
    assert set(references(client, {"scope": "all", "status": "closed"})) == {done, declined}
    assert references(client, {"scope": "all", "status": "in_progress"}) == [working]
    assert references(client, {"scope": "all", "status": "resolved"}) == [done]
    assert len(references(client, {"scope": "all"})) == 4


def test_kind_and_theme_filters(app, client):
    problem = submit(app, kind=Kind.KNELPUNT, themes=(Theme.SCHOON,))
    idea = submit(app, kind=Kind.INITIATIEF, themes=(Theme.SOCIAAL, Theme.VEILIG))
    login(client, ANNA)
    assert references(client, {"scope": "all", "kind": "knelpunt"}) == [problem]
    assert references(client, {"scope": "all", "kind": "initiatief"}) == [idea]
    assert references(client, {"scope": "all", "theme": "veilig"}) == [idea]
    assert references(client, {"scope": "all", "theme": "schoon"}) == [problem]
    assert references(client, {"scope": "all", "theme": "heel"}) == []


def test_wijk_and_buurt_filters(app, client):
    kerkelanden = submit(app, buurt=KERKELANDEN)
    centrum = submit(app, buurt=SINT_VITUSBUURT)
    nowhere = submit(app, buurt=None)
    login(client, ADMIN)
    assert references(client, {"scope": "all", "wijk": "WK040203"}) == [kerkelanden]
    assert references(client, {"scope": "all", "wijk": "wk040201"}) == [centrum]  # any case
    assert references(client, {"scope": "all", "wijk": "none"}) == [nowhere]
    assert references(client, {"scope": "all", "buurt": SINT_VITUSBUURT}) == [centrum]
    assert references(client, {"scope": "all", "buurt": "BU04020301"}) == []
    body = page(client, {"scope": "all", "wijk": "WK040203"})
    assert '<option value="WK040203" selected>Zuidwest</option>' in body


def test_owner_filter_including_unassigned(app, client):
    annas = submit(app, buurt=KERKELANDEN)
    sannes = submit(app, buurt=SINT_VITUSBUURT)
    orphan = submit(app, buurt=ZUID)
    with db_session(app) as session:
        # No operation unassigns a signal; an owner who left without a handover looks so.
        session.scalars(select(Signal).where(Signal.reference == orphan)).one().owner_id = None
        session.commit()
    login(client, ADMIN)
    anna = str(user_id(app, ANNA))
    assert references(client, {"scope": "all", "owner": anna}) == [annas]
    assert references(client, {"scope": "all", "owner": str(user_id(app, SANNE))}) == [sannes]
    assert references(client, {"scope": "all", "owner": "none"}) == [orphan]
    assert f'<option value="{anna}" selected>Anna de Vries</option>' in page(
        client, {"scope": "all", "owner": anna}
    )


def test_overdue_filter(app, client):
    late = submit(app, title="Te lang ontvangen", when=local_noon(10))
    fresh = submit(app, title="Net binnen")
    old_but_picked_up = submit(app, title="Opgepakt", when=local_noon(10))
    move(app, old_but_picked_up, Status.IN_PROGRESS)
    old_and_closed = submit(app, title="Gesloten", when=local_noon(10))
    move(app, old_and_closed, Status.RESOLVED)
    follow_up_passed = submit(app, title="Opvolgen verlopen", when=local_noon(10))
    move(app, follow_up_passed, Status.PLANNED)
    three_days_ago = datetime.now(TZ).date() - timedelta(days=3)
    follow_up(app, follow_up_passed, three_days_ago, set_at=local_noon(8))
    follow_up_today = submit(app, title="Opvolgen vandaag", when=local_noon(10))
    move(app, follow_up_today, Status.PLANNED)
    follow_up(app, follow_up_today, datetime.now(TZ).date())

    login(client, ADMIN)
    overdue = set(references(client, {"scope": "all", "overdue": "1"}))
    assert overdue == {late, follow_up_passed}
    assert fresh not in overdue and follow_up_today not in overdue
    assert 'name="overdue" value="1" checked' in page(client, {"scope": "all", "overdue": "1"})


def test_open_question_filter(app, client):
    asked = submit(app)
    move(app, asked, Status.AWAITING_RESIDENT)
    submit(app)
    login(client, ANNA)
    assert references(client, {"scope": "all", "open_question": "1"}) == [asked]


def test_created_date_range_counts_whole_local_days(app, client):
    old = submit(app, when=local_noon(40))
    middle = submit(app, when=local_noon(20))
    new = submit(app)
    today = datetime.now(TZ).date()
    login(client, ANNA)
    since = (today - timedelta(days=25)).isoformat()
    until = (today - timedelta(days=10)).isoformat()
    assert set(references(client, {"scope": "all", "created_from": since})) == {middle, new}
    assert set(references(client, {"scope": "all", "created_to": until})) == {old, middle}
    both = {"scope": "all", "created_from": since, "created_to": until}
    assert references(client, both) == [middle]
    exactly = (today - timedelta(days=20)).isoformat()
    only_that_day = {"scope": "all", "created_from": exactly, "created_to": exactly}
    assert references(client, only_that_day) == [middle]
    assert f'name="created_from" value="{since}"' in page(client, both)


def test_filters_combine(app, client):
    match = submit(app, buurt=KERKELANDEN, kind=Kind.INITIATIEF, themes=(Theme.SOCIAAL,))
    submit(app, buurt=KERKELANDEN, kind=Kind.KNELPUNT, themes=(Theme.SOCIAAL,))
    submit(app, buurt=SINT_VITUSBUURT, kind=Kind.INITIATIEF, themes=(Theme.SOCIAAL,))
    login(client, ANNA)
    query = {"scope": "mine", "kind": "initiatief", "theme": "sociaal", "status": "open"}
    assert references(client, query) == [match]


# --- search ---------------------------------------------------------------------------------


def test_search_reference_title_description_and_address(app, client):
    glasbak = submit(app, title="Glasbak vol", description="Naast de bak staan flessen.")
    lantaarn = submit(
        app,
        title="Lamp kapot",
        description="De lantaarnpaal knippert al weken.",
        street="Kerkelandenlaan",
        house_number="12",
        postcode="1216 AB",
    )
    login(client, ANNA)

    def search(q: str) -> list[str]:
        return references(client, {"scope": "all", "q": q})

    assert search(glasbak) == [glasbak]  # a whole reference number
    assert search(glasbak.lower()) == [glasbak]
    assert search(glasbak[-6:]) == [glasbak]  # part of one
    assert search("glasbak") == [glasbak]  # title
    assert search("GLASBAK") == [glasbak]  # case does not matter
    assert search("knippert") == [lantaarn]  # description
    assert search("kerkelandenlaan 12") == [lantaarn]  # street and number
    assert search("1216 ab") == [lantaarn]
    assert search("1216AB") == [lantaarn]  # postcode without the space
    assert search("lamp knippert") == [lantaarn]  # every word must match
    assert search("lamp flessen") == []
    assert 'name="q" value="lamp knippert"' in page(client, {"scope": "all", "q": "lamp knippert"})


def test_percent_and_underscore_in_a_search_are_literal(app, client):
    percent = submit(app, title="Speeltuin 100% kapot")
    hundred = submit(app, title="Speeltuin 1000 kapot")
    underscore = submit(app, title="Bordje a_b weg")
    other = submit(app, title="Bordje axb weg")
    slash = submit(app, title="Bus 2/3 rijdt niet")
    login(client, ANNA)

    def search(q: str) -> list[str]:
        return references(client, {"scope": "all", "q": q})

    assert search("100%") == [percent]
    assert search("%") == [percent]
    assert search("a_b") == [underscore]
    assert search("_") == [underscore]
    assert search("2/3") == [slash]  # the escape character itself
    assert hundred not in search("100%") and other not in search("a_b")


# --- sorting and pages ----------------------------------------------------------------------


def test_sort_orders(app, client):
    oldest = submit(app, buurt=SINT_VITUSBUURT, when=local_noon(30))  # Centrum
    middle = submit(app, buurt=OOST, when=local_noon(20))  # Oost
    newest = submit(app, buurt=None, when=local_noon(1))  # no wijk
    zuidwest = submit(app, buurt=KERKELANDEN, when=local_noon(10))
    move(app, oldest, Status.RESOLVED)
    move(app, zuidwest, Status.IN_PROGRESS)
    login(client, ADMIN)

    def order(sort: str) -> list[str]:
        return references(client, {"scope": "all", "sort": sort})

    assert order("newest") == [newest, zuidwest, middle, oldest]
    assert order("oldest") == [oldest, middle, zuidwest, newest]
    # The order of the status model: received, in progress, ..., resolved.
    assert order("status") == [newest, middle, zuidwest, oldest]
    # By wijk name (Centrum, Oost, Zuidwest), signals without a wijk last.
    assert order("wijk") == [oldest, middle, zuidwest, newest]
    assert '<option value="wijk" selected>Op wijk</option>' in page(
        client, {"scope": "all", "sort": "wijk"}
    )


def test_pages_keep_every_filter(app, client):
    app.config["BACKOFFICE_PAGE_SIZE"] = 2
    made = [submit(app, title=f"Melding {i}", when=local_noon(10 - i)) for i in range(5)]
    submit(app, title="Andere wijk", buurt=SINT_VITUSBUURT)
    login(client, ANNA)
    query = {"scope": "mine", "status": "open", "q": "melding", "sort": "oldest"}

    first = page(client, query)
    assert [r for _h, r in REFERENCE_LINK.findall(first)] == made[:2]
    nav = pagination(first)
    assert 'rel="prev"' not in nav
    assert re.search(r'aria-current="page" href="[^"]*">.*?1</a>', nav)
    [next_href] = re.findall(r'rel="next" href="([^"]+)"', nav)
    assert link_query(next_href) == {
        "scope": ["mine"],
        "status": ["open"],
        "q": ["melding"],
        "sort": ["oldest"],
        "page": ["2"],
    }

    second = client.get(html.unescape(next_href)).get_data(as_text=True)
    assert [r for _h, r in REFERENCE_LINK.findall(second)] == made[2:4]
    nav = pagination(second)
    [prev_href] = re.findall(r'rel="prev" href="([^"]+)"', nav)
    assert "page" not in link_query(prev_href)  # page 1 is the default
    assert link_query(prev_href)["q"] == ["melding"]

    last = page(client, {**query, "page": "3"})
    assert [r for _h, r in REFERENCE_LINK.findall(last)] == made[4:]
    assert 'rel="next"' not in pagination(last)
    assert "pagina 3 van 3" in last  # in the title
    # Past the end: the last page, not an empty one.
    assert REFERENCE_LINK.findall(page(client, {**query, "page": "99"})) == REFERENCE_LINK.findall(
        last
    )


def test_counts_per_status_ignore_only_the_status_filter(app, client):
    for _ in range(2):
        submit(app)
    working = submit(app)
    move(app, working, Status.IN_PROGRESS)
    done = submit(app)
    move(app, done, Status.RESOLVED)
    submit(app, buurt=SINT_VITUSBUURT)  # not Anna's
    login(client, ANNA)

    body = page(client, {"scope": "mine", "status": "received"})
    shown = counts(body)
    assert shown["Alle"][0] == 4
    assert shown["Open"][0] == 3
    assert shown["Gesloten"][0] == 1
    assert shown["Ontvangen"][0] == 2
    assert shown["In behandeling"][0] == 1
    assert shown["Afgehandeld"][0] == 1
    assert shown["Heropend"][0] == 0
    assert shown["Ontvangen"][2] and not shown["Open"][2]  # the current one is marked
    assert link_query(shown["In behandeling"][1]) == {
        "scope": ["mine"],
        "status": ["in_progress"],
    }
    assert "status" not in link_query(shown["Alle"][1])
    # Other filters do narrow the counts.
    assert counts(page(client, {"scope": "mine", "q": done}))["Alle"][0] == 1


def test_the_filter_form_is_a_labelled_get_form_that_works_without_script(app, client):
    login(client, ANNA)
    body = page(client)
    form = re.search(r'<form method="get" action="/backoffice/signalen".*?</form>', body, re.S)
    assert form
    for name in (
        "q",
        "status",
        "kind",
        "theme",
        "wijk",
        "buurt",
        "owner",
        "overdue",
        "open_question",
        "created_from",
        "created_to",
        "sort",
    ):
        field = re.search(rf'<(input|select)[^>]*id="([^"]+)" name="{name}"', form.group(0))
        assert field, name
        assert re.search(rf'<label [^>]*for="{field.group(2)}"', form.group(0)), name
    assert ">Filter</button>" in form.group(0)
    assert "Wis filters" in form.group(0)
    assert "<script" not in body


BAD_QUERIES = [
    "page=-1",
    "page=abc",
    "page=99999999999999999999",
    "page=0",
    "page=%C2%B2",
    "owner=%C2%B2",
    "status=bogus",
    "status=open&status=closed",
    "kind=%3Cscript%3E",
    "theme=schoon%27--",
    "wijk=WK%27%20OR%201%3D1",
    "buurt=%00",
    "owner=abc",
    "owner=-5",
    "owner=999999999999999999999999",
    "created_from=2026-13-45",
    "created_to=9999-12-31",
    "created_from=0001-01-01",
    "created_from=20260101",
    "q=%00%01",
    "q=" + "x" * 5000,
    "q=%25%25%25",
    "q=%E2%80%AE%F0%9F%92%A9",
    "q=%ff%fe",
    "sort=drop%20table",
    "scope=everything",
    "overdue=maybe&open_question=2",
    "scope[]=all",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_query_arguments_never_break_the_page(app, client, query):
    submit(app)
    login(client, ANNA)
    response = client.get(f"{INBOX}?{query}")
    assert response.status_code == 200, query


# --- statements per page --------------------------------------------------------------------


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = db.engine(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_for(app: Flask, client: FlaskClient, query: dict[str, str]) -> list[str]:
    client.get(INBOX, query_string=query)  # warm: the same work as a real second visit
    with statements(app) as seen:
        response = client.get(INBOX, query_string=query)
    assert response.status_code == 200
    return list(seen)


@pytest.mark.parametrize(
    "query",
    [{"scope": "all"}, {"scope": "mine", "status": "open", "sort": "wijk", "q": "afval"}],
    ids=["all", "mine-filtered-by-wijk-order"],
)
def test_one_page_costs_the_same_few_statements_for_5_or_60_signals(app, client, query):
    buurten = [KERKELANDEN, SINT_VITUSBUURT, ZUID, OOST, None]
    for i in range(5):
        submit(app, buurt=buurten[i], title=f"Afval {i}", themes=(Theme.SCHOON, Theme.HEEL))
    login(client, ANNA if query["scope"] == "mine" else ADMIN)
    few = statements_for(app, client, query)

    for i in range(55):
        reference = submit(app, buurt=buurten[i % 5], title=f"Afval {i}", kind=Kind.INITIATIEF)
        if i % 7 == 0:
            follow_up(app, reference, datetime.now(TZ).date())
    many = statements_for(app, client, query)
    assert len(REFERENCE_LINK.findall(page(client, query))) > 5
    assert len(many) == len(few), "\n".join(many)
    # The user and session, the counts, the page, its themes, reopen requests, the targets for
    # "ver over tijd", the deadline counts and the absence cover note ('mine' adds its wijken,
    # a search the ids its index finds).
    assert len(many) <= 11, "\n".join(many)


# --- the domain, without Flask --------------------------------------------------------------


def test_filter_parsing_is_lenient_and_round_trips():
    args = MultiDict(
        {
            "scope": "all",
            "status": "awaiting_resident",
            "kind": "initiatief",
            "theme": "veilig",
            "wijk": "wk040203",
            "buurt": "BU04020304",
            "owner": "7",
            "overdue": "on",
            "open_question": "1",
            "created_from": "2026-01-31",
            "created_to": "2026-02-28",
            "q": "  lamp \t kapot ",
            "sort": "status",
            "page": "3",
        }
    )
    flt = InboxFilter.from_args(args)
    assert flt == InboxFilter(
        scope="all",
        status="awaiting_resident",
        kind="initiatief",
        theme="veilig",
        wijk="WK040203",
        buurt="BU04020304",
        owner=7,
        overdue=True,
        open_question=True,
        created_from=date(2026, 1, 31),
        created_to=date(2026, 2, 28),
        q="lamp kapot",
        sort="status",
        page=3,
    )
    assert InboxFilter.from_args(flt.to_args()) == flt
    assert flt.is_filtered
    assert "page" not in flt.to_args(page=1)


def test_filter_parsing_ignores_nonsense():
    flt = InboxFilter.from_args(
        {
            "scope": "x",
            "status": "gone",
            "kind": "",
            "wijk": "Centrum",
            "owner": "-1",
            "page": "0",
            "created_from": "31-01-2026",
            "q": "\x00",
            "sort": "random()",
        },
        default_scope="all",
    )
    assert flt == InboxFilter(scope="all")
    assert not flt.is_filtered
    assert flt.to_args() == {"scope": "all"}
    assert InboxFilter.from_args({"owner": "NONE", "wijk": "none"}).owner == "none"
    assert InboxFilter.from_args({"wijk": "none"}).wijk == "none"
    assert InboxFilter.from_args({"page": "5000000"}).page == 1_000_000


def test_working_days_skip_the_weekend():
    amsterdam = TZ
    wednesday = datetime(2026, 3, 4, 10, 0, tzinfo=amsterdam)
    assert subtract_working_days(wednesday, 3, amsterdam) == datetime(
        2026, 2, 27, 10, 0, tzinfo=amsterdam
    )  # Friday
    saturday = datetime(2026, 3, 7, 10, 0, tzinfo=amsterdam)
    assert subtract_working_days(saturday, 3, amsterdam) == datetime(
        2026, 3, 4, 10, 0, tzinfo=amsterdam
    )
    # Across the switch to summer time the wall-clock time stays.
    after_dst = datetime(2026, 3, 30, 10, 0, tzinfo=amsterdam)
    assert subtract_working_days(after_dst, 1, amsterdam) == datetime(
        2026, 3, 27, 10, 0, tzinfo=amsterdam
    )
    deadlines = Deadlines.at(wednesday.astimezone(UTC), 3, amsterdam)
    assert deadlines.today == date(2026, 3, 4)
    assert deadlines.response_cutoff == datetime(2026, 2, 27, 9, 0, tzinfo=UTC)


def test_page_numbers_show_the_ends_and_a_window():
    def numbers(page: int, pages: int) -> list[int | None]:
        return InboxPage(rows=[], total=pages * 50, page=page, pages=pages).page_numbers()

    assert numbers(1, 1) == [1]
    assert numbers(1, 3) == [1, 2, 3]
    assert numbers(10, 20) == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert numbers(2, 20) == [1, 2, 3, 4, None, 20]
