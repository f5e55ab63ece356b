"""The daily digest (``jobs run``): one mail per accountmanager and working day, from
DIGEST_HOUR on, with their due follow-ups, late signals, escalations waiting for an answer and
what came in since their previous digest; none when there is nothing to say or they switched
it off; never two, also not from two runs at the same moment. Mail is checked as it reaches
the real SMTP server (aiosmtpd). Tests with ``app`` run on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import secrets
import threading
import time as clock
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from portal.domain import casework
from portal.domain.digest import send_digests
from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.routing import LocationInput
from portal.domain.working_days import LOCAL_TIMEZONE
from portal.extensions import db
from portal.jobs import JobContext, daily_digest, run_due
from portal.models import AuditRecord, DigestRun, Escalation, Functionary, OutboxMessage, Signal
from portal.vocabulary import Kind, Status, Theme
from tests.conftest import csrf_token
from tests.factories import (
    ANNA,
    KERKELANDEN,
    SANNE,
    SINT_VITUSBUURT,
    db_session,
    intake_settings,
    login,
    user_id,
)
from tests.fixtures.mailserver import SMTPServer

SUBJECT = "Uw dagoverzicht van 1 december 2026"
RESIDENT = ("Jan Jansen", "jan.jansen@example.nl", "035 123 45 67")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIMEZONE).astimezone(UTC)


TUESDAY = date(2026, 12, 1)
NOW = local(TUESDAY, 8, 15)


# --- arranging ------------------------------------------------------------------------------


def submit(app: Flask, when: datetime, *, buurt: str = KERKELANDEN, title: str) -> str:
    settings = replace(intake_settings(app), now=when)
    with app.app_context():
        result = submit_signal(
            db.session,
            Submission(
                kind=Kind.KNELPUNT,
                themes=[Theme.SCHOON],
                title=title,
                description="Er ligt al dagen afval naast de glasbak op de hoek.",
                location=LocationInput(buurt_code=buurt),
                reporter=ReporterInput(
                    name=RESIDENT[0], email=RESIDENT[1], phone=RESIDENT[2], may_contact=True
                ),
            ),
            settings,
        )
        db.session.commit()
        return result.signal.reference


def with_signal(app: Flask, reference: str, work) -> None:  # type: ignore[no-untyped-def]
    actor = casework.Actor(user_id=user_id(app, ANNA), now=NOW)
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
        work(signal, actor)
        db.session.commit()


def move(app: Flask, reference: str, target: Status, at: datetime) -> None:
    def work(signal: Signal, actor: casework.Actor) -> None:
        casework.change_status(
            db.session,
            signal,
            target.value,
            message="Wij pakken het op.",
            seen_version=signal.version,
            actor=replace(actor, now=at),
            mail=intake_settings(app).mail,
        )

    with_signal(app, reference, work)


def follow_up(app: Flask, reference: str, on: date, reason: str, set_at: datetime) -> None:
    def work(signal: Signal, actor: casework.Actor) -> None:
        casework.set_follow_up(
            db.session,
            signal,
            on=on,
            reason=reason,
            seen_version=signal.version,
            actor=replace(actor, now=set_at),
        )

    with_signal(app, reference, work)


def escalate(app: Flask, reference: str, *, reply_by: date, state: str = "open") -> None:
    """An escalation row as the escalation feature stores it (written directly here, so this
    test does not depend on how that feature's forms work)."""
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
        functionary = Functionary(
            name="Karin Mol", role_title="Teamleider", department="Openbare Ruimte",
            email="k.mol@hilversum.example",
        )  # fmt: skip
        escalation = Escalation(
            signal_id=signal.id,
            functionary=functionary,
            question="Kan de glasbak vaker geleegd worden?",
            urgency="normal",
            reply_by=reply_by,
            created_at=local(date(2026, 11, 24), 10),
            created_by_id=user_id(app, ANNA),
            token_hash=secrets.token_hex(32),
            link_expires_at=local(date(2027, 1, 1), 0),
        )
        if state == "answered":
            escalation.answered_at, escalation.answer = local(date(2026, 11, 27), 9), "Ja."
        elif state == "closed":
            escalation.closed_at, escalation.outcome = local(date(2026, 11, 27), 9), "Geregeld."
        db.session.add(escalation)
        db.session.commit()


def arrange(app: Flask) -> dict[str, str]:
    """Anna's signals: one of each section and some that belong in none."""
    refs = {}
    refs["follow"] = submit(app, local(date(2026, 11, 25), 10), title="Opvolgen glasbak")
    move(app, refs["follow"], Status.IN_PROGRESS, local(date(2026, 11, 26), 9))
    follow_up(app, refs["follow"], TUESDAY, "Bellen met de aannemer", local(date(2026, 11, 26), 9))
    refs["late"] = submit(app, local(date(2026, 11, 23), 10), title="Niemand reageerde")
    refs["escalated"] = submit(app, local(date(2026, 11, 20), 10), title="Geëscaleerd")
    move(app, refs["escalated"], Status.FORWARDED, local(date(2026, 11, 23), 9))
    escalate(app, refs["escalated"], reply_by=date(2026, 11, 30))
    refs["answered"] = submit(app, local(date(2026, 11, 20), 11), title="Al beantwoord")
    move(app, refs["answered"], Status.FORWARDED, local(date(2026, 11, 23), 9))
    escalate(app, refs["answered"], reply_by=date(2026, 11, 30), state="answered")
    escalate(app, refs["answered"], reply_by=date(2026, 11, 30), state="closed")
    refs["new"] = submit(app, local(date(2026, 11, 30), 14), title="Nieuw van maandag")
    refs["quiet"] = submit(app, local(date(2026, 11, 27), 10), title="Nog binnen de tijd")
    refs["sanne"] = submit(
        app, local(date(2026, 11, 30), 15), buurt=SINT_VITUSBUURT, title="Centrum"
    )
    return refs


def run_job(app: Flask, now: datetime) -> str:
    with app.app_context():
        context = JobContext(
            session=db.session,
            upload_folder=Path(app.config["UPLOAD_FOLDER"]),
            now=now,
            mail=intake_settings(app).mail,
        )
        [result] = run_due(context, (("daily-digest", daily_digest),))
        assert result.ok, result.summary
        return result.summary


def digests(smtp: SMTPServer, address: str) -> list:  # type: ignore[type-arg]
    return [m for m in smtp.to(address) if str(m["Subject"]).startswith("Uw dagoverzicht")]


def text_of(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


# --- the tests ------------------------------------------------------------------------------


def test_the_digest_says_what_needs_attention_once_a_day(app, smtp):
    refs = arrange(app)
    first = run_job(app, NOW)
    assert first.startswith("sent 2, already sent today 0")
    again = run_job(app, NOW + timedelta(hours=3))
    assert again.startswith("sent 0, already sent today 2")

    [mail] = digests(smtp, ANNA)
    assert mail["Subject"] == SUBJECT
    body = text_of(mail)
    assert "Beste Anna de Vries," in body
    sections = body.split("\nVandaag opvolgen (1)\n", 1)[1]
    follow, rest = sections.split("\nTe laat (1)\n", 1)
    late, rest = rest.split("\nEscalaties zonder antwoord (1)\n", 1)
    escalated, new = rest.split("\nNieuw sinds 30 november 2026 00:00 (1)\n", 1)
    assert f"{refs['follow']} – Opvolgen glasbak" in follow
    assert "Opvolgdatum: 1 december 2026. Reden: Bellen met de aannemer" in follow
    assert f"http://portal.test/backoffice/signalen/{refs['follow']}" in follow
    assert f"{refs['late']} – Niemand reageerde" in late
    assert "Reactie te laat: de eerste reactie moest uiterlijk 26 november 2026." in late
    assert f"{refs['escalated']} – Geëscaleerd" in escalated
    assert "Gevraagd aan Karin Mol, Teamleider (Openbare Ruimte)." in escalated
    assert "Antwoord gevraagd uiterlijk 30 november 2026. Die datum is voorbij." in escalated
    assert f"{refs['new']} – Nieuw van maandag" in new
    assert "Binnengekomen op 30 november 2026 14:00, wijk Zuidwest." in new
    for absent in (refs["answered"], refs["quiet"], refs["sanne"]):
        assert absent not in body
    for personal in RESIDENT:
        assert personal not in body and personal not in mail.get_body(("html",)).get_content()
    assert "http://portal.test/backoffice/account" in body  # where to switch it off
    html_part = mail.get_body(("html",)).get_content()
    assert f'href="http://portal.test/backoffice/signalen/{refs["late"]}"' in html_part
    assert "Bellen met de aannemer" in html_part and "Karin Mol" in html_part

    [sanne] = digests(smtp, SANNE)
    assert refs["sanne"] in text_of(sanne) and refs["new"] not in text_of(sanne)
    with db_session(app) as session:
        runs = session.scalars(select(DigestRun).order_by(DigestRun.user_id)).all()
        assert {(r.user_id, r.day) for r in runs} == {
            (user_id(app, ANNA), TUESDAY),
            (user_id(app, SANNE), TUESDAY),
        }
        purposes = session.scalars(
            select(OutboxMessage.purpose).where(OutboxMessage.purpose == "daily_digest")
        ).all()
        assert len(purposes) == 2


def test_nothing_to_report_sends_nothing_and_claims_nothing(app, smtp):
    summary = run_job(app, NOW)
    assert summary.startswith("sent 0, already sent today 0, nothing to report")
    assert digests(smtp, ANNA) == []
    with db_session(app) as session:
        assert session.scalar(select(func.count(DigestRun.id))) == 0
    # Something turns up later that day: the next run sends it.
    reference = submit(app, local(TUESDAY, 9), title="Nieuw vanochtend")
    assert run_job(app, local(TUESDAY, 10)).startswith("sent 1")
    [mail] = digests(smtp, ANNA)
    assert reference in text_of(mail)


def test_not_before_the_digest_hour_and_not_in_the_weekend(app, smtp):
    arrange(app)
    assert run_job(app, local(TUESDAY, 6, 59)) == "not yet: the digest goes from 07:00"
    saturday = local(date(2026, 12, 5), 9)
    assert run_job(app, saturday) == "skipped: not a working day"
    christmas = local(date(2026, 12, 25), 9)
    assert run_job(app, christmas) == "skipped: not a working day"
    assert digests(smtp, ANNA) == []
    with app.app_context():
        mail = intake_settings(app).mail
        assert send_digests(db.session, now=local(TUESDAY, 6, 59), mail=mail, hour=6).startswith(
            "sent 2"
        )
        assert send_digests(db.session, now=local(TUESDAY, 8), mail=mail, hour=9).startswith(
            "not yet: the digest goes from 09:00"
        )
        db.session.rollback()


def test_each_user_can_switch_it_off_on_their_account_page(app, smtp):
    arrange(app)
    client = login(app.test_client(), ANNA)
    page = client.get("/backoffice/account").get_data(as_text=True)
    assert "Dagoverzicht per e-mail" in page
    assert re.search(r'<input checked [^>]*id="digest_enabled" name="digest_enabled"', page)
    token = csrf_token(client, "/backoffice/account")
    response = client.post("/backoffice/account/dagoverzicht", data={"csrf_token": token})
    assert response.status_code == 303
    assert "U krijgt geen dagoverzicht meer." in client.get("/backoffice/account").text
    summary = run_job(app, NOW)
    assert "switched off 1" in summary
    assert digests(smtp, ANNA) == [] and len(digests(smtp, SANNE)) == 1
    # Back on: the next working day she gets it again.
    response = client.post(
        "/backoffice/account/dagoverzicht", data={"csrf_token": token, "digest_enabled": "y"}
    )
    assert response.status_code == 303
    # (Sanne's Centrum signal is neither new nor late on Wednesday: only Anna's digest.)
    assert run_job(app, local(date(2026, 12, 2), 8)).startswith("sent 1")
    assert len(digests(smtp, ANNA)) == 1
    with db_session(app) as session:
        switched = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "user.digest_switched")
        ).all()
        assert [r.details["on"] for r in switched] == [False, True]
    # Management owns no signals: no switch for them.
    management = login(app.test_client(), "marco.hendriks@hilversum.example")
    assert "Dagoverzicht" not in management.get("/backoffice/account").text


def test_new_counts_from_the_previous_digest(app, smtp):
    submit(app, local(date(2026, 11, 30), 14), title="Van maandag")
    assert run_job(app, NOW).startswith("sent 1")
    before = submit(app, local(TUESDAY, 8, 0), title="Vlak voor het eerste overzicht")
    after = submit(app, local(TUESDAY, 12, 0), title="Na het eerste overzicht")
    assert run_job(app, local(date(2026, 12, 2), 8)).startswith("sent 1")
    first, second = digests(smtp, ANNA)
    assert "Nieuw sinds 30 november 2026 00:00 (1)" in text_of(first)
    text = text_of(second)
    assert "Nieuw sinds 1 december 2026 08:15 (1)" in text
    assert after in text and before not in text


def test_two_runs_at_the_same_moment_send_one_digest(app, smtp):
    arrange(app)
    engine = db.engine(app)
    second_claims = threading.Event()
    outcome: dict[str, object] = {}

    def notice(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "second-run" and (
            "INSERT INTO digest_runs" in statement
            # SQLite: the second run's first write (its job lease) already waits there.
            or (engine.dialect.name == "sqlite" and "INSERT INTO job_locks" in statement)
        ):
            second_claims.set()

    def second_run() -> None:
        try:
            outcome["summary"] = run_job(app, NOW)
        except Exception as error:
            outcome["error"] = error

    event.listen(engine, "before_cursor_execute", notice)
    try:
        with app.app_context():
            mail = intake_settings(app).mail
            assert send_digests(db.session, now=NOW, mail=mail).startswith("sent 2")
            # The first run has claimed the day but not committed when the second one starts.
            thread = threading.Thread(target=second_run, name="second-run")
            thread.start()
            assert second_claims.wait(10), "the second run never tried to claim the day"
            clock.sleep(0.3)  # it now waits for the first run's transaction
            db.session.commit()
        thread.join(40)
    finally:
        event.remove(engine, "before_cursor_execute", notice)
    assert "error" not in outcome, outcome
    assert str(outcome["summary"]).startswith("sent 0, already sent today 2")
    smtp.wait_for(2, timeout=2)
    assert len(digests(smtp, ANNA)) == 1 and len(digests(smtp, SANNE)) == 1


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_digest_is_accessible_html(app, smtp, page, html_snapshots) -> None:  # type: ignore[no-untyped-def]
    from tests.fixtures.browser import assert_accessible

    arrange(app)
    run_job(app, NOW)
    [mail] = digests(smtp, ANNA)
    source = mail.get_body(("html",)).get_content()
    assert '<html lang="nl">' in source
    html_snapshots.save(source.encode(), "mail:daily_digest-nl")
    page.set_content(source)
    assert_accessible(page)
