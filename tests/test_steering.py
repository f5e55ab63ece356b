"""The management dashboard (issue 13): the figures for a period against a hand-computed
story of seven signals, working-day targets and the previous period included; every figure
equal to the inbox list its link opens; what each role sees; the period's parsing."""

from __future__ import annotations

import re
from datetime import date, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.domain.dialogue import satisfaction
from portal.domain.steering.period import Period
from portal.extensions import db
from portal.models import Signal, Wijk
from portal.vocabulary import Status
from tests.factories import (
    ADMIN,
    ANNA,
    KERKELANDEN,
    MANAGEMENT,
    SINT_VITUSBUURT,
    db_session,
    intake_settings,
    login,
    make_signal,
)
from tests.test_deadlines import local, move

OCTOBER = "/backoffice/cijfers?periode=2026-10"
ZUIDWEST, CENTRUM = "WK040203", "WK040201"
FIGURE_LINK = re.compile(r'<a class="utrecht-link" href="(/backoffice/signalen\?[^"]+)">(\d+)</a>')
FIGURE_ROW = re.compile(r'<tr class="utrecht-table__row" id="cijfer-([a-z0-9-]+)">(.*?)</tr>', re.S)
INBOX_TOTAL = re.compile(r"tot en met \d+ van (\d+),")


def signal_at(app: Flask, when: datetime, buurt: str, title: str) -> str:
    reference, _token = make_signal(app, buurt=buurt, title=title, now=when)
    return reference


def answer(app: Flask, reference: str, *, satisfied: bool, at: datetime) -> None:
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
        satisfaction.answer(
            db.session,
            signal,
            satisfied=satisfied,
            comment=None,
            now=at,
            mail=intake_settings(app).mail,
        )
        db.session.commit()


@pytest.fixture
def story(app: Flask) -> dict[str, str]:
    """Seven signals in September to November 2026 (local 10:00 unless said), with the
    default targets: a first response within 3 working days, handling within 20.

    A  Thu 1 Oct Kerkelanden   responded Fri 2 Oct (due Tue 6 Oct), resolved Mon 12 Oct (due
                               Thu 29 Oct), resident satisfied
    B  Mon 5 Oct Kerkelanden   responded Fri 9 Oct (due Thu 8 Oct: late), still in progress
    C  Tue 1 Sep Sint-Vitus    responded Wed 2 Sep (due Fri 4 Sep), declined Fri 2 Oct (due
                               Tue 29 Sep: late)
    D  Mon 19 Oct Kerkelanden  never answered
    E  Thu 29 Oct Sint-Vitus   responded Mon 2 Nov, still in progress
    F  Tue 15 Sep Kerkelanden  resolved Fri 25 Sep (the first response too; due Fri 18 Sep:
                               late; handling due Tue 13 Oct)
    G  Tue 6 Oct Kerkelanden   resolved Wed 7 Oct (due Fri 9 Oct), resident not satisfied on
                               Thu 8 Oct: a reopen request waits
    """
    made = {
        "A": signal_at(app, local(date(2026, 10, 1)), KERKELANDEN, "A"),
        "B": signal_at(app, local(date(2026, 10, 5)), KERKELANDEN, "B"),
        "C": signal_at(app, local(date(2026, 9, 1)), SINT_VITUSBUURT, "C"),
        "D": signal_at(app, local(date(2026, 10, 19)), KERKELANDEN, "D"),
        "E": signal_at(app, local(date(2026, 10, 29)), SINT_VITUSBUURT, "E"),
        "F": signal_at(app, local(date(2026, 9, 15)), KERKELANDEN, "F"),
        "G": signal_at(app, local(date(2026, 10, 6)), KERKELANDEN, "G"),
    }
    move(app, made["A"], Status.IN_PROGRESS, at=local(date(2026, 10, 2)))
    move(app, made["A"], Status.RESOLVED, at=local(date(2026, 10, 12)))
    answer(app, made["A"], satisfied=True, at=local(date(2026, 10, 13)))
    move(app, made["B"], Status.IN_PROGRESS, at=local(date(2026, 10, 9)))
    move(app, made["C"], Status.IN_PROGRESS, at=local(date(2026, 9, 2)))
    move(app, made["C"], Status.DECLINED, at=local(date(2026, 10, 2)))
    move(app, made["E"], Status.IN_PROGRESS, at=local(date(2026, 11, 2)))
    move(app, made["F"], Status.RESOLVED, at=local(date(2026, 9, 25)))
    move(app, made["G"], Status.RESOLVED, at=local(date(2026, 10, 7)))
    answer(app, made["G"], satisfied=False, at=local(date(2026, 10, 8)))
    return made


def due_dates(app: Flask, reference: str) -> tuple[object, ...]:
    """(respond due, handle due, responded in time, handled in time)"""
    with db_session(app) as session:
        s = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        return s.respond_due_on, s.handle_due_on, s.responded_in_time, s.handled_in_time


def test_the_working_day_targets_and_whether_each_step_came_in_time(app, story) -> None:
    assert due_dates(app, story["A"]) == (date(2026, 10, 6), date(2026, 10, 29), True, True)
    assert due_dates(app, story["B"]) == (date(2026, 10, 8), date(2026, 11, 2), False, None)
    assert due_dates(app, story["C"]) == (date(2026, 9, 4), date(2026, 9, 29), True, False)
    assert due_dates(app, story["F"])[2:] == (False, True)
    assert due_dates(app, story["G"])[2:] == (True, True)


def figures(page: str) -> dict[str, list[str]]:
    """Each figure row of the period table: its cells' text."""
    table = page.split('id="cijfers-periode"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row_id, body in FIGURE_ROW.findall(table):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", body, re.S)
        rows[row_id] = [" ".join(unescape(re.sub(r"<[^>]+>", "", c)).split()) for c in cells[1:]]
    return rows


def test_the_figures_for_october_against_the_hand_computed_story(app, client, story) -> None:
    login(client, MANAGEMENT)
    page = client.get(OCTOBER)
    assert page.status_code == 200
    rows = figures(page.get_data(as_text=True))
    # October | September | difference
    assert rows["came-in"] == ["5", "2", "+3"]  # A B D E G | C F
    assert rows["closed"] == ["3", "1", "+2"]  # A C G | F
    assert rows["open-at-end"] == ["3", "1", "+2"]  # B D E | C
    assert rows["responded-in-time"] == ["67% (2 van 3)", "50% (1 van 2)", "+17 procentpunt"]
    assert rows["handled-in-time"] == ["67% (2 van 3)", "100% (1 van 1)", "−33 procentpunt"]
    assert rows["satisfied"] == ["50% (1 tevreden, 1 niet)", "–", "–"]
    # Days from coming in: responded A 1, B 4, G 1 | C 1, F 10; closed A 11, C 31, G 1 | F 10.
    assert rows["response-time"] == ["1,0 dag", "5,5 dagen", "−4,5"]
    assert rows["response-time-90"] == ["4,0 dagen", "10,0 dagen", "−6"]
    assert rows["handling-time"] == ["11,0 dagen", "10,0 dagen", "+1"]
    assert rows["handling-time-90"] == ["31,0 dagen", "10,0 dagen", "+21"]
    today = page.get_data(as_text=True).split('id="cijfers-nu"', 1)[1].split("</ul>", 1)[0]
    assert [int(n) for _url, n in FIGURE_LINK.findall(today)] == [3, 0, 1]  # B D E late; G


def test_each_figure_equals_the_inbox_list_it_links_to(app, client, story) -> None:
    login(client, ADMIN)
    page = client.get(OCTOBER).get_data(as_text=True)
    links = FIGURE_LINK.findall(page)
    assert len(links) > 50  # the table, today, the weeks and the wijken
    nonzero = 0
    for url, shown in links:
        listed = client.get(unescape(url))
        assert listed.status_code == 200, url
        body = listed.get_data(as_text=True)
        total = INBOX_TOTAL.search(body)
        counted = int(total.group(1)) if total else 0
        if not total:
            assert "Geen signalen gevonden" in body, url
        assert counted == int(shown), (unescape(url), shown, counted)
        nonzero += counted > 0
    assert nonzero >= 20


def test_the_inbox_behind_a_figure_says_what_it_is_narrowed_to(app, client, story) -> None:
    login(client, ADMIN)
    page = client.get(OCTOBER).get_data(as_text=True)
    row = page.split('id="cijfer-handled-in-time"', 1)[1].split("</tr>", 1)[0]
    part_url = unescape(FIGURE_LINK.findall(row)[0][0])
    assert parse_qs(urlsplit(part_url).query)["handled_in_time"] == ["1"]
    listed = client.get(part_url).get_data(as_text=True)
    assert "U ziet de signalen achter een cijfer van het dashboard" in listed
    assert "Afgesloten van 1 oktober 2026 tot en met 31 oktober 2026" in listed
    assert "Afgehandeld binnen de termijn" in listed
    # The filter form keeps them, and one link takes them away.
    assert '<input type="hidden" name="handled_in_time" value="1">' in listed
    cleared = re.search(r'href="([^"]+)">Toon de lijst zonder deze voorwaarden', listed)
    assert cleared and "handled_in_time" not in unescape(cleared.group(1))
    assert "closed_from" not in unescape(cleared.group(1))


def test_an_accountmanager_sees_their_own_wijk_and_management_every_wijk(app, story) -> None:
    anna = login(app.test_client(), ANNA)
    mine = anna.get(OCTOBER).get_data(as_text=True)
    assert "U ziet uw eigen signalen en die in uw wijken." in mine
    assert figures(mine)["came-in"][0] == "4"  # A B D G, not E in Centrum
    own_wijken = mine.split('id="cijfers-wijken"', 1)[1].split("</table>", 1)[0]
    assert ">Zuidwest<" in own_wijken and ">Centrum<" not in own_wijken
    everyone = login(app.test_client(), MANAGEMENT).get(OCTOBER).get_data(as_text=True)
    assert figures(everyone)["came-in"][0] == "5"
    wijken = everyone.split('id="cijfers-wijken"', 1)[1].split("</table>", 1)[0]
    zuidwest = wijken.split(">Zuidwest<", 1)[1].split("</tr>", 1)[0]
    assert [int(n) for _url, n in FIGURE_LINK.findall(zuidwest)] == [4, 2, 2, 2, 2]
    centrum = wijken.split(">Centrum<", 1)[1].split("</tr>", 1)[0]
    assert [int(n) for _url, n in FIGURE_LINK.findall(centrum)] == [1, 1, 1, 0, 1]


def test_a_selection_narrows_every_figure(app, client, story) -> None:
    login(client, MANAGEMENT)
    page = client.get(f"{OCTOBER}&wijk={CENTRUM}").get_data(as_text=True)
    rows = figures(page)
    assert rows["came-in"][:2] == ["1", "1"]  # E | C
    assert rows["closed"][:2] == ["1", "0"]  # C
    for url, _shown in FIGURE_LINK.findall(page):
        assert f"wijk={CENTRUM}" in url


def test_the_weekly_trend_counts_each_week_from_monday(app, client, story) -> None:
    login(client, MANAGEMENT)
    page = client.get(OCTOBER).get_data(as_text=True)
    weeks = page.split('id="cijfers-weken"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row"[^>]*>([^<]+)</th>(.*?)</tr>', weeks, re.S)
    assert len(rows) == 13
    assert rows[0][0] == "3 augustus 2026" and rows[-1][0] == "26 oktober 2026"
    per_week = {day: [int(n) for _u, n in FIGURE_LINK.findall(cells)] for day, cells in rows}
    assert per_week["28 september 2026"] == [1, 1]  # A came in; C closed
    assert per_week["5 oktober 2026"] == [2, 1]  # B, G; G resolved
    assert sum(v[0] for v in per_week.values()) == 7
    assert sum(v[1] for v in per_week.values()) == 4  # F, C, A, G
    table = page.split('id="cijfers-wijken"', 1)[1].split("</table>", 1)[0]
    wijken = table.split("<tbody", 1)[1].count("<tr ")
    with db_session(app) as session:
        assert wijken == session.scalar(select(func.count()).select_from(Wijk))
    assert page.count('src="data:image/svg+xml;') == 1 + wijken  # the trend and each wijk


def test_an_older_period_from_a_bookmark_is_the_one_chosen(app, client) -> None:
    login(client, MANAGEMENT)
    page = client.get("/backoffice/cijfers?periode=2024-03").get_data(as_text=True)
    assert '<option value="2024-03" selected>maart 2024</option>' in page


def test_the_dashboard_is_for_staff_only(app, client) -> None:
    assert client.get("/backoffice/cijfers").status_code in (302, 303)


LAST_WHOLE_MONTH = Period.month(2026, 11)  # seen on 3 December 2026


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"periode": "2026-10"}, Period(date(2026, 10, 1), date(2026, 10, 31), "month")),
        ({"periode": "2026-K4"}, Period(date(2026, 10, 1), date(2026, 12, 31), "quarter")),
        ({"periode": "2025"}, Period(date(2025, 1, 1), date(2025, 12, 31), "year")),
        ({"van": "2026-10-05", "tot": "2026-10-18"}, Period(date(2026, 10, 5), date(2026, 10, 18))),
        # Nonsense, the future, backwards or too long: the last whole month.
        ({"periode": "2026-13"}, LAST_WHOLE_MONTH),
        ({"periode": "2027-01"}, LAST_WHOLE_MONTH),
        ({"van": "2026-10-18", "tot": "2026-10-05"}, LAST_WHOLE_MONTH),
        ({"van": "2001-01-01", "tot": "2026-10-05"}, LAST_WHOLE_MONTH),
        ({}, LAST_WHOLE_MONTH),
    ],
)
def test_a_period_from_the_query(args, expected) -> None:
    assert Period.parse(args, date(2026, 12, 3)) == expected


def test_each_period_is_compared_with_the_one_before() -> None:
    assert Period.month(2026, 1).previous() == Period.month(2025, 12)
    assert Period.month(2026, 3).previous() == Period.month(2026, 2)  # 28 days, not 31
    assert Period.quarter(2026, 1).previous() == Period.quarter(2025, 4)
    assert Period.year(2026).previous() == Period.year(2025)
    custom = Period(date(2026, 10, 5), date(2026, 10, 18))
    assert custom.previous() == Period(date(2026, 9, 21), date(2026, 10, 4))
    assert Period.month(2026, 10).weeks(2) == [
        Period(date(2026, 10, 19), date(2026, 10, 25)),
        Period(date(2026, 10, 26), date(2026, 11, 1)),
    ]
    # A period not over yet ends its weeks with the present one.
    assert Period.month(2026, 12).weeks(1, today=date(2026, 12, 3)) == [
        Period(date(2026, 11, 30), date(2026, 12, 6))
    ]


def test_the_medians_take_their_positions_from_the_rows_not_the_count_given(app, story) -> None:
    """A count from a summary that disagreed with the rows must not pick the wrong row (or
    none): the database counts the rows it ranks."""
    from portal.domain.steering.durations import spread
    from tests.test_deadlines import local as at

    with db_session(app) as session:
        october = [
            Signal.closed_at >= at(date(2026, 10, 1), 0),
            Signal.closed_at < at(date(2026, 11, 1), 0),
        ]
        for given in (1, 3, 50):  # A 11, C 31, G 1 days
            found = spread(session, Signal.handling_days, october, given)
            assert (found.count, found.median, found.p90) == (3, 11.0, 31.0)
        assert spread(session, Signal.handling_days, october, 0).median is None
