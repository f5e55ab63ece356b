"""Cover during absence: routing to the stand-in in the period (by local date, Europe/Amsterdam)
and back afterwards by itself, owner mail to the stand-in (read back from a real SMTP server),
the confirmation naming the stand-in, "waarneming voor …" in the inbox, recording and ending
an absence, and handing back in one action. On SQLite and PostgreSQL (the ``app`` fixture);
the browser test on SQLite."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import pytest
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.domain import absences, casework
from portal.domain.casework import Actor
from portal.domain.routing import Cover, RoutingRules, route
from portal.domain.working_days import local_date
from portal.extensions import db
from portal.models import Absence, AuditRecord, OutboxMessage, Signal, User
from portal.seeding import DEMO_PASSWORD
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    EVA,
    MANAGEMENT,
    SANNE,
    SINT_VITUSBUURT,
    db_session,
    intake_settings,
    login,
    make_signal,
    user_id,
)
from tests.fixtures.browser import assert_accessible
from tests.fixtures.mailserver import SMTPServer
from tests.test_confirmation_and_status import report
from tests.test_resident_dialogue import post_message
from tests.test_satisfaction import answer, move

ABSENCES = "/backoffice/afwezigheid"
INBOX = "/backoffice/"
# Monday 14 to Friday 18 December 2026; Hilversum is UTC+1 then.
FIRST_DAY, LAST_DAY = date(2026, 12, 14), date(2026, 12, 18)


def visible(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def today() -> date:
    return local_date(datetime.now(UTC))


def record(
    app: Flask,
    away: str = ANNA,
    stand_in: str = SANNE,
    starts_on: date | None = None,
    ends_on: date | None = None,
    *,
    on: date | None = None,
) -> int:
    """An absence recorded by an admin through the domain operation; returns its id.
    ``on``: the day it is recorded (a past period needs an earlier day)."""
    starts_on = starts_on or today()
    ends_on = ends_on or starts_on + timedelta(days=3)
    with db_session(app) as session:
        absence = absences.record_absence(
            session,
            user_id=user_id(app, away),
            stand_in_id=user_id(app, stand_in),
            starts_on=starts_on,
            ends_on=ends_on,
            actor_id=user_id(app, ADMIN),
            today=on or today(),
        )
        session.commit()
        return absence.id


def owner_of(app: Flask, reference: str) -> str | None:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        return signal.owner.email if signal.owner else None


def created_details(app: Flask, reference: str) -> dict[str, object]:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        record_ = session.scalars(
            select(AuditRecord).where(
                AuditRecord.signal_id == signal.id, AuditRecord.action == "signal.created"
            )
        ).one()
        return dict(record_.details)


def to(message: EmailMessage) -> str:
    return message["To"].addresses[0].addr_spec


def staff_mail(messages: list[EmailMessage]) -> list[EmailMessage]:
    """Without the resident's mail (the factories' residents write from example.nl)."""
    return [m for m in messages if not to(m).endswith("example.nl")]


def mail_about(smtp: SMTPServer, reference: str) -> list[str]:
    """Who received staff mail about ``reference`` (from the SMTP server)."""
    return [to(m) for m in staff_mail(smtp.messages) if reference in str(m["Subject"])]


def day_text(day: date) -> str:
    """How the pages write a day: "18 december", with the year when it is not this year."""
    return format_date(day, "d MMMM" if day.year == today().year else "d MMMM y", locale="nl")


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment in Hilversum in December (UTC+1), as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=1)


# --- routing in and out of the period -------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected_owner"),
    [
        (at_local(FIRST_DAY - timedelta(days=1), 23, 30), ANNA),  # the evening before
        (at_local(FIRST_DAY, 0, 30), SANNE),  # the first day, just after midnight in Hilversum
        (at_local(LAST_DAY, 23, 30), SANNE),  # the last day, late
        (at_local(LAST_DAY + timedelta(days=1), 0, 30), ANNA),  # the day after
    ],
    ids=["day-before", "first-day", "last-day", "day-after"],
)
def test_new_signals_route_to_the_stand_in_during_the_period_only(
    app: Flask, smtp: SMTPServer, moment: datetime, expected_owner: str
) -> None:
    absence_id = record(app, ANNA, SANNE, FIRST_DAY, LAST_DAY)
    # In UTC the first two moments are on the same day, the last two as well: the local
    # date decides, not the UTC one.
    assert moment.date() in {FIRST_DAY - timedelta(days=1), LAST_DAY}

    reference, _token = make_signal(app, now=moment)  # Kerkelanden, wijk Zuidwest (Anna)

    assert owner_of(app, reference) == expected_owner
    details = created_details(app, reference)
    if expected_owner == SANNE:
        assert details["covering_for"] == user_id(app, ANNA)
        assert details["absence_id"] == absence_id
        assert details["owner_id"] == user_id(app, SANNE)
    else:
        assert "covering_for" not in details and "absence_id" not in details
    # The owner's "new signal" mail goes to whoever got it, never to both.
    assert mail_about(smtp, reference) == [expected_owner]


def test_an_absence_of_someone_else_changes_nothing_for_other_wijken(app: Flask) -> None:
    record(app, ANNA, SANNE, FIRST_DAY, LAST_DAY)
    reference, _token = make_signal(app, buurt=SINT_VITUSBUURT, now=at_local(FIRST_DAY, 10))
    assert owner_of(app, reference) == SANNE
    assert "covering_for" not in created_details(app, reference)


def test_a_deactivated_stand_in_receives_nothing(app: Flask) -> None:
    record(app, ANNA, EVA, FIRST_DAY, LAST_DAY)
    with db_session(app) as session:
        session.scalars(select(User).where(User.email == EVA)).one().active = False
        session.commit()
    reference, _token = make_signal(app, now=at_local(FIRST_DAY, 10))
    assert owner_of(app, reference) == ANNA


def test_routing_passes_an_absent_stand_in_on_and_stops_at_a_circle() -> None:
    rules = RoutingRules(
        by_wijk={"WK040203": 1, "WK040201": 4},
        general_owner_id=9,
        stand_ins={1: Cover(2, 10), 2: Cover(3, 11), 4: Cover(5, 12), 5: Cover(4, 13)},
    )
    chained = route(rules, "WK040203")
    assert (chained.owner_id, chained.covering_for, chained.absence_id) == (3, 1, 10)
    circle = route(rules, "WK040201")
    assert (circle.owner_id, circle.covering_for) == (5, 4)
    nobody_away = route(rules, "WK040208")  # no rule: the general inbox
    assert (nobody_away.owner_id, nobody_away.general, nobody_away.covering_for) == (9, True, None)


def test_the_confirmation_names_the_stand_in(app: Flask, client: FlaskClient, smtp) -> None:
    record(app, ANNA, SANNE)
    shown = report(client)
    page = visible(shown["page"])
    assert "Sanne Bakker van Bureau Wijkzaken bekijkt uw melding over wijk Zuidwest" in page
    assert "Anna de Vries" not in page
    assert owner_of(app, shown["reference"]) == SANNE
    confirmation = next(m for m in smtp.messages if "is ontvangen" in str(m["Subject"]))
    text = " ".join(confirmation.get_body(("plain",)).get_content().split())
    assert "Sanne Bakker neemt waar voor Anna de Vries, accountmanager voor wijk Zuidwest" in text
    # The stand-in's own heads-up says whom she covers for.
    heads_up = next(m for m in smtp.messages if to(m) == SANNE)
    assert "waarneemt voor Anna de Vries" in heads_up.get_body(("plain",)).get_content()


# --- owner mail while away ------------------------------------------------------------------


def test_all_owner_mail_goes_to_the_stand_in_while_the_owner_is_away(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    reference, token = make_signal(app)  # Anna's, before she leaves
    resolved, resolved_token = make_signal(app, title="Bank kapot")
    move(app, resolved, "resolved", "De bank is gerepareerd.")
    evas, _t = make_signal(app, buurt=None, title="Waar is dit?")  # general inbox: Eva
    absence_id = record(app, ANNA, SANNE, today() - timedelta(days=1), today() + timedelta(days=3))
    before = len(smtp.messages)

    # owner_resident_message
    assert post_message(client, token, "Er ligt nu ook een kapotte stoel.").status_code == 303
    # owner_reopen_request
    assert answer(client, resolved_token, "nee", "De bank is weer kapot.").status_code == 303
    # owner_assigned: an admin gives Anna one of Eva's signals (Eva hears it was taken)
    admin = user_id(app, ADMIN)
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == evas)).one()
        casework.reassign(
            db.session,
            signal,
            wijk_code=None,
            buurt_code=None,
            owner_id=user_id(app, ANNA),
            reason="Anna kent deze straat.",
            seen_version=signal.version,
            actor=Actor(admin, datetime.now(UTC)),
            mail=intake_settings(app).mail,
        )
        # owner_taken_over: Eva takes Anna's first signal over
        taken = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
        casework.reassign(
            db.session,
            taken,
            wijk_code=None,
            buurt_code=None,
            owner_id=user_id(app, EVA),
            reason="Ik pak hem op.",
            seen_version=taken.version,
            actor=Actor(user_id(app, EVA), datetime.now(UTC)),
            mail=intake_settings(app).mail,
        )
        db.session.commit()

    news = smtp.messages[before:]
    assert [to(m) for m in staff_mail(news)] == [SANNE, SANNE, SANNE, EVA, SANNE]
    with app.app_context():
        purposes = db.session.scalars(
            select(OutboxMessage.purpose)
            .where(OutboxMessage.recipient == SANNE)
            .order_by(OutboxMessage.id)
        ).all()
    assert purposes[-4:] == [
        "owner_resident_message",
        "owner_reopen_request",
        "owner_assigned",
        "owner_taken_over",
    ]
    assert not [m for m in news if to(m) == ANNA]
    # The stand-in is greeted as herself and told why the mail reaches her.
    for message in staff_mail(news):
        if to(message) != SANNE:
            continue
        for part in ("plain", "html"):
            body = message.get_body((part,)).get_content()
            assert "Beste Sanne Bakker," in body
            assert "U krijgt deze e-mail omdat u waarneemt voor Anna de Vries." in body

    # Back early: from today her mail is hers again.
    with db_session(app) as session:
        absences.end_absence(
            session, session.get(Absence, absence_id), actor_id=admin, today=today()
        )
        session.commit()
    count = len(smtp.messages)
    other, other_token = make_signal(app, title="Papier")
    assert owner_of(app, other) == ANNA
    post_message(client, other_token, "Het waait alle kanten op.")
    assert [to(m) for m in staff_mail(smtp.messages[count:])] == [ANNA, ANNA]


# --- the inbox: "waarneming voor …" ---------------------------------------------------------


def test_the_stand_in_sees_whom_they_cover_with_links_to_those_signals(app: Flask) -> None:
    start = today()
    record(app, ANNA, SANNE, start, start + timedelta(days=3))
    anna = user_id(app, ANNA)
    reference, _token = make_signal(app, title="Zwerfvuil bij school")  # to Sanne now

    sanne = login(app.test_client(), SANNE)
    page = sanne.get(INBOX).get_data(as_text=True)
    text = visible(page)
    assert "Waarneming" in text
    ends = day_text(start + timedelta(days=3))
    assert f"U neemt waar voor Anna de Vries tot en met {ends}." in text
    assert f'href="/backoffice/signalen?scope=all&amp;owner={anna}&amp;status=open"' in page
    assert 'href="/backoffice/signalen?scope=all&amp;wijk=WK040203&amp;status=open"' in page
    assert reference in text  # what routing gave her is simply hers: in "Mijn signalen"

    anna_page = visible(login(app.test_client(), ANNA).get(INBOX).get_data(as_text=True))
    assert f"U bent afwezig tot en met {ends}. Sanne Bakker neemt voor u waar." in anna_page
    eva_page = visible(login(app.test_client(), EVA).get(INBOX).get_data(as_text=True))
    assert "Waarneming" not in eva_page


# --- recording and ending through the page --------------------------------------------------


def post_absence(client: FlaskClient, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, ABSENCES)
    return client.post(f"{ABSENCES}/nieuw", data={"csrf_token": token, **data})


def test_an_accountmanager_records_her_own_absence_only(app: Flask) -> None:
    client = login(app.test_client(), ANNA)
    start, end = today() + timedelta(days=7), today() + timedelta(days=11)
    response = post_absence(
        client,
        user=str(user_id(app, EVA)),  # ignored: she can only record her own
        stand_in=str(user_id(app, SANNE)),
        starts_on=start.strftime("%d-%m-%Y"),
        ends_on=end.isoformat(),
    )
    assert response.status_code == 303
    flashed = visible(client.get(ABSENCES).get_data(as_text=True))
    assert "Vastgelegd: Sanne Bakker neemt waar voor Anna de Vries van" in flashed
    with db_session(app) as session:
        [absence] = session.scalars(select(Absence)).all()
        assert (absence.user_id, absence.stand_in_id) == (user_id(app, ANNA), user_id(app, SANNE))
        assert (absence.starts_on, absence.ends_on) == (start, end)
        assert absence.created_by_id == user_id(app, ANNA)
        audit = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "absence.recorded")
        ).one()
        assert audit.details["stand_in_id"] == user_id(app, SANNE)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"stand_in": "self"}, "Iemand kan niet voor zichzelf waarnemen. Kies een collega."),
        ({"stand_in": ""}, "Kies wie er voor u waarneemt."),
        ({"ends_on": "-1"}, "De laatste dag kan niet vóór de eerste dag liggen."),
        ({"starts_on": "morgen"}, "Vul de eerste dag in zoals 14-12-2026."),
        ({"overlap": "yes"}, "In deze periode is al een afwezigheid vastgelegd."),
    ],
    ids=["self", "no-stand-in", "end-before-start", "garbled-date", "overlap"],
)
def test_a_wrong_absence_is_refused_next_to_its_field(
    app: Flask, fields: dict[str, str], message: str
) -> None:
    if fields.get("overlap"):
        record(app, ANNA, EVA, today() + timedelta(days=8), today() + timedelta(days=20))
    client = login(app.test_client(), ANNA)
    start = today() + timedelta(days=7)
    data = {
        "stand_in": str(user_id(app, SANNE)),
        "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=2)).isoformat(),
    }
    if fields.get("stand_in") == "self":
        data["stand_in"] = str(user_id(app, ANNA))
    elif "stand_in" in fields:
        data["stand_in"] = fields["stand_in"]
    if fields.get("ends_on") == "-1":
        data["ends_on"] = (start - timedelta(days=1)).isoformat()
    if "starts_on" in fields:
        data["starts_on"] = fields["starts_on"]
    response = post_absence(client, **data)
    assert response.status_code == 422
    page = visible(response.get_data(as_text=True))
    assert "Er ging iets mis" in page and message in page
    assert data["starts_on"] in response.get_data(as_text=True)  # the form comes back filled
    with db_session(app) as session:
        assert len(session.scalars(select(Absence)).all()) == (1 if fields.get("overlap") else 0)


def test_an_admin_records_an_absence_for_anyone_and_management_cannot(app: Flask) -> None:
    admin = login(app.test_client(), ADMIN)
    start = today() + timedelta(days=1)
    response = post_absence(
        admin,
        user=str(user_id(app, ANNA)),
        stand_in=str(user_id(app, EVA)),
        starts_on=start.isoformat(),
        ends_on=start.isoformat(),
    )
    assert response.status_code == 303
    with db_session(app) as session:
        absence = session.scalars(select(Absence)).one()
        assert (absence.user_id, absence.stand_in_id) == (user_id(app, ANNA), user_id(app, EVA))
    management = login(app.test_client(), MANAGEMENT)
    assert management.get(ABSENCES).status_code == 403


def end(client: FlaskClient, absence_id: int):  # type: ignore[no-untyped-def]
    token = csrf_token(client, ABSENCES)
    return client.post(f"{ABSENCES}/{absence_id}/beeindigen", data={"csrf_token": token})


def test_ending_an_absence_returns_routing_and_a_coming_one_is_cancelled(app: Flask) -> None:
    current = record(app, ANNA, SANNE, today() - timedelta(days=2), today() + timedelta(days=5))
    coming = record(app, SANNE, EVA, today() + timedelta(days=10), today() + timedelta(days=12))
    assert owner_of(app, make_signal(app)[0]) == SANNE

    sanne = login(app.test_client(), SANNE)
    assert end(sanne, current).status_code == 403  # not hers to end
    anna = login(app.test_client(), ANNA)
    assert end(anna, current).status_code == 303
    assert "De afwezigheid van Anna de Vries is beëindigd." in visible(anna.get(ABSENCES).text)
    assert owner_of(app, make_signal(app)[0]) == ANNA

    assert end(sanne, coming).status_code == 303
    with db_session(app) as session:
        ended = session.get(Absence, current)
        assert ended is not None and ended.ends_on == today() - timedelta(days=1)
        assert session.get(Absence, coming) is None
        actions = session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.action.like("absence.%"))
            .order_by(AuditRecord.id)
        ).all()
        assert actions[-2:] == ["absence.ended", "absence.cancelled"]


# --- handing back ---------------------------------------------------------------------------


def past_cover(app: Flask) -> tuple[int, list[str], dict[str, str]]:
    """Anna was away from 23 to 27 November 2026 and Sanne stood in. Returns the absence, the
    references Sanne should hand back, and the others by what happened to them."""
    first, last = date(2026, 11, 23), date(2026, 11, 27)
    absence_id = record(app, ANNA, SANNE, first, last, on=date(2026, 11, 20))
    routed = [make_signal(app, title=f"Melding {n}", now=at_local(first, 9 + n))[0] for n in (1, 2)]
    closed = make_signal(app, title="Opgelost", now=at_local(last, 12))[0]
    passed_on = make_signal(app, title="Doorgegeven", now=at_local(last, 13))[0]
    own = make_signal(app, buurt=SINT_VITUSBUURT, title="Van Sanne", now=at_local(last, 14))[0]
    after = make_signal(app, title="Erna", now=at_local(last + timedelta(days=1), 9))[0]
    sanne = user_id(app, SANNE)
    with app.app_context():
        for reference, step in ((closed, "close"), (passed_on, "pass")):
            signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
            actor = Actor(sanne, datetime.now(UTC))
            if step == "close":
                casework.change_status(
                    db.session,
                    signal,
                    "resolved",
                    message="Opgeruimd.",
                    seen_version=signal.version,
                    actor=actor,
                    mail=intake_settings(app).mail,
                )
            else:
                casework.reassign(
                    db.session,
                    signal,
                    wijk_code=None,
                    buurt_code=None,
                    owner_id=user_id(app, EVA),
                    reason="Eva weet hiervan.",
                    seen_version=signal.version,
                    actor=actor,
                    mail=intake_settings(app).mail,
                )
        db.session.commit()
    return (
        absence_id,
        routed,
        {"closed": closed, "passed_on": passed_on, "own": own, "after": after},
    )


def test_the_stand_in_hands_back_in_one_action_from_the_inbox(app: Flask, smtp: SMTPServer) -> None:
    absence_id, routed, others = past_cover(app)
    assert [owner_of(app, r) for r in routed] == [SANNE, SANNE]
    sanne = login(app.test_client(), SANNE)
    page = sanne.get(INBOX).get_data(as_text=True)
    assert (
        "Uw waarneming voor Anna de Vries is voorbij. Er staan nog 2 signalen uit die tijd op "
        "uw naam." in visible(page)
    )
    assert f'action="/backoffice/afwezigheid/{absence_id}/teruggeven"' in page
    assert "Geef terug aan Anna de Vries" in page
    before = len(smtp.messages)

    token = csrf_token(sanne, INBOX)
    response = sanne.post(
        f"{ABSENCES}/{absence_id}/teruggeven",
        data={"csrf_token": token, "next": "/backoffice/?scope=mine"},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/backoffice/?scope=mine"
    landed = visible(sanne.get(response.headers["Location"]).get_data(as_text=True))
    assert "2 signalen zijn teruggegeven aan Anna de Vries." in landed
    assert "Uw waarneming voor Anna de Vries is voorbij" not in landed
    assert [owner_of(app, r) for r in routed] == [ANNA, ANNA]
    assert owner_of(app, others["closed"]) == SANNE  # closed: stays where it is
    assert owner_of(app, others["passed_on"]) == EVA  # passed on already
    assert owner_of(app, others["own"]) == SANNE  # her own wijk
    assert owner_of(app, others["after"]) == ANNA
    with db_session(app) as session:
        for reference in routed:
            signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
            step = signal.events[-1]
            assert (step.kind, step.is_public, step.author_id) == (
                "reassigned",
                False,
                user_id(app, SANNE),
            )
            assert step.message == (
                f"Teruggegeven na de waarneming van {day_text(date(2026, 11, 23))} tot en met "
                f"{day_text(date(2026, 11, 27))}."
            )
            moved = session.scalars(
                select(AuditRecord)
                .where(
                    AuditRecord.signal_id == signal.id, AuditRecord.action == "signal.reassigned"
                )
                .order_by(AuditRecord.id)
            ).all()[-1]
            assert moved.details["before"]["owner_id"] == user_id(app, SANNE)
            assert moved.details["after"]["owner_id"] == user_id(app, ANNA)
        handed = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "absence.handed_back")
        ).one()
        assert sorted(handed.details["references"]) == sorted(routed)
    mails = [m for m in smtp.messages[before:] if to(m) == ANNA]
    assert sorted(r for r in routed if any(r in str(m["Subject"]) for m in mails)) == sorted(routed)

    again = sanne.post(f"{ABSENCES}/{absence_id}/teruggeven", data={"csrf_token": token})
    assert again.status_code == 303
    assert "Er zijn geen open signalen meer om aan Anna de Vries terug te geven." in visible(
        sanne.get(again.headers["Location"]).get_data(as_text=True)
    )


def test_only_the_stand_in_or_an_admin_hands_back_and_only_afterwards(app: Flask) -> None:
    absence_id = record(app, ANNA, SANNE, today(), today() + timedelta(days=2))
    reference = make_signal(app)[0]
    assert owner_of(app, reference) == SANNE

    eva = login(app.test_client(), EVA)
    refused = eva.post(
        f"{ABSENCES}/{absence_id}/teruggeven", data={"csrf_token": csrf_token(eva, INBOX)}
    )
    assert refused.status_code == 403
    sanne = login(app.test_client(), SANNE)
    early = sanne.post(
        f"{ABSENCES}/{absence_id}/teruggeven", data={"csrf_token": csrf_token(sanne, INBOX)}
    )
    assert early.status_code == 303
    assert "Anna de Vries is nog afwezig." in visible(sanne.get(early.headers["Location"]).text)
    assert owner_of(app, reference) == SANNE
    assert sanne.post(f"{ABSENCES}/{absence_id}/teruggeven", data={}).status_code == 400


# --- in a browser ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_accountmanager_records_her_absence_and_the_stand_in_sees_it(
    app: Flask, live_server: str, new_page: Callable[..., Page]
) -> None:
    anna = new_page()
    log_in(anna, live_server, ANNA)
    anna.goto(f"{live_server}{ABSENCES}")
    expect(anna.locator("h1")).to_have_text("Afwezigheid en waarneming")
    assert_accessible(anna)
    anna.get_by_role("button", name="Leg afwezigheid vast").click()
    expect(anna.locator(".portal-error-summary")).to_be_visible()  # nothing chosen yet
    assert_accessible(anna)
    anna.get_by_label("Wie neemt waar?").select_option(label="Sanne Bakker")
    anna.get_by_label("Eerste dag van de afwezigheid").fill(today().isoformat())
    anna.get_by_label("Laatste dag van de afwezigheid").fill(
        (today() + timedelta(days=4)).isoformat()
    )
    anna.get_by_role("button", name="Leg afwezigheid vast").click()
    expect(
        anna.get_by_text("Vastgelegd: Sanne Bakker neemt waar voor Anna de Vries")
    ).to_be_visible()
    expect(anna.get_by_role("button", name=re.compile("Beëindig nu"))).to_be_visible()
    assert_accessible(anna)

    sanne = new_page()
    log_in(sanne, live_server, SANNE)
    expect(sanne.get_by_text("U neemt waar voor Anna de Vries tot en met")).to_be_visible()
    assert_accessible(sanne)
    sanne.get_by_role("link", name="Open signalen van Anna de Vries").click()
    expect(sanne.locator("h1")).to_be_visible()
    assert_accessible(sanne)


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/backoffice/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()
