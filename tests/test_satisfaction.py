""" "Bent u tevreden?" after resolving: once only, open for SATISFACTION_DAYS, and a "no"
becomes a reopen request the owner decides on (reopen, or keep closed with an explanation the
resident receives). Through HTTP, the real database and a real SMTP server."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.domain import casework
from portal.domain.casework import Actor
from portal.extensions import db
from portal.models import ReopenRequest, SatisfactionSurvey, Signal
from tests.conftest import csrf_token
from tests.factories import ANNA, db_session, intake_settings, login, make_signal, user_id

RESIDENT = "bewoner@example.nl"
QUESTION = "Bent u tevreden over hoe uw melding is afgehandeld?"


def visible(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def signal_of(session, reference: str) -> Signal:
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def move(app: Flask, reference: str, target: str, message: str, at: datetime | None = None):
    anna = user_id(app, ANNA)
    with app.app_context():
        signal = signal_of(db.session, reference)
        casework.change_status(
            db.session,
            signal,
            target,
            message=message,
            seen_version=signal.version,
            actor=Actor(anna, at or datetime.now(UTC)),
            mail=intake_settings(app).mail,
        )
        db.session.commit()


def resolved_signal(app: Flask, at: datetime | None = None) -> tuple[str, str]:
    reference, token = make_signal(app)
    move(app, reference, "resolved", "De glasbak is geleegd en het afval is weg.", at)
    return reference, token


def session_token(client: FlaskClient) -> str:
    """The session's CSRF token, also when the status page itself no longer has a form."""
    return csrf_token(client, "/status/opvragen")


def answer(client: FlaskClient, token: str, satisfied: str | None, comment: str = ""):  # type: ignore[no-untyped-def]
    data = {"csrf_token": session_token(client), "comment": comment}
    if satisfied is not None:
        data["satisfied"] = satisfied
    return client.post(f"/status/{token}/tevreden", data=data)


def surveys(app: Flask, reference: str) -> list[tuple[bool | None, str | None, bool]]:
    with db_session(app) as session:
        signal = signal_of(session, reference)
        rows = session.scalars(
            select(SatisfactionSurvey).where(SatisfactionSurvey.signal_id == signal.id)
        )
        return [(s.satisfied, s.comment, s.answered_at is not None) for s in rows]


def requests_of(app: Flask, reference: str) -> list[ReopenRequest]:
    with db_session(app) as session:
        signal = signal_of(session, reference)
        found = list(
            session.scalars(select(ReopenRequest).where(ReopenRequest.signal_id == signal.id))
        )
        for row in found:
            session.expunge(row)
        return found


def test_resolving_asks_in_the_mail_and_on_the_status_page(app, client, smtp):
    reference, token = resolved_signal(app)
    mail = smtp.to(RESIDENT)[-1]
    body = mail.get_body(("plain",)).get_content()
    assert QUESTION in body
    assert "#tevreden" in body
    page = client.get(f"/status/{token}").get_data(as_text=True)
    assert QUESTION in visible(page)
    assert f'action="/status/{token}/tevreden"' in page
    assert surveys(app, reference) == [(None, None, False)]


def test_satisfied_is_stored_once_and_the_question_goes_away(app, client, smtp):
    reference, token = resolved_signal(app)
    response = answer(client, token, "ja", "Snel opgelost, dank!")
    assert response.status_code == 303
    page = visible(client.get(f"/status/{token}").get_data(as_text=True))
    assert "Bedankt voor uw antwoord. Fijn dat u tevreden bent." in page
    assert QUESTION not in page
    assert surveys(app, reference) == [(True, "Snel opgelost, dank!", True)]
    assert requests_of(app, reference) == []

    # A second answer (another tab, a replay) changes nothing.
    again = client.post(
        f"/status/{token}/tevreden",
        data={"csrf_token": session_token(client), "satisfied": "nee"},
    )
    assert again.status_code == 303
    assert "U heeft deze vraag al beantwoord" in visible(client.get(f"/status/{token}").text)
    assert surveys(app, reference) == [(True, "Snel opgelost, dank!", True)]
    assert requests_of(app, reference) == []


def test_the_question_is_open_through_the_last_day_in_hilversum(app):
    from portal.domain.dialogue.satisfaction import open_survey

    reference, _token = make_signal(app)
    # 23:30 UTC on 1 December is already 2 December in Hilversum.
    asked = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    with app.app_context():
        signal = signal_of(db.session, reference)
        survey = open_survey(db.session, signal, signal.events[0], now=asked, days=14)
        local = survey.open_until.astimezone(ZoneInfo("Europe/Amsterdam"))
        assert (local.date().isoformat(), local.hour, local.minute) == ("2026-12-16", 23, 59)
        db.session.rollback()


def test_the_question_expires_after_the_configured_days(app, client):
    days = app.config["SATISFACTION_DAYS"]
    reference, token = resolved_signal(app, at=datetime.now(UTC) - timedelta(days=days + 1))
    page = visible(client.get(f"/status/{token}").get_data(as_text=True))
    assert QUESTION not in page
    assert answer(client, token, "nee").status_code == 303
    assert surveys(app, reference) == [(None, None, False)]
    assert requests_of(app, reference) == []


def test_a_missing_choice_is_refused_with_the_comment_kept(app, client):
    reference, token = resolved_signal(app)
    response = answer(client, token, None, "Ik weet het niet")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Kies ja of nee." in visible(page)
    assert "Ik weet het niet" in page
    assert 'href="#satisfied-0"' in page
    assert surveys(app, reference) == [(None, None, False)]


def not_satisfied(app: Flask, client: FlaskClient, smtp) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    reference, token = resolved_signal(app)
    owner_mails = len(smtp.to(ANNA))
    response = answer(client, token, "nee", "Er ligt alweer afval naast de glasbak.")
    assert response.status_code == 303
    assert len(smtp.to(ANNA)) == owner_mails + 1
    owner_mail = smtp.to(ANNA)[-1].get_body(("plain",)).get_content()
    assert "Er ligt alweer afval naast de glasbak." in owner_mail
    return reference, token


def test_not_satisfied_becomes_a_reopen_request_the_owner_sees_in_the_inbox(app, client, smtp):
    reference, token = not_satisfied(app, client, smtp)
    (request,) = requests_of(app, reference)
    assert (
        request.decided_at is None and request.comment == "Er ligt alweer afval naast de glasbak."
    )
    page = visible(client.get(f"/status/{token}").get_data(as_text=True))
    assert "bekijkt of uw melding opnieuw wordt opgepakt" in page

    anna = login(app.test_client(), ANNA)
    other, _ = resolved_signal(app)
    inbox = anna.get("/backoffice/signalen?scope=mine&reopen_requested=1").get_data(as_text=True)
    assert reference in inbox and other not in inbox
    assert "Heropenverzoek" in visible(inbox)
    everything = anna.get("/backoffice/signalen?scope=mine&status=closed").get_data(as_text=True)
    assert other in everything  # the filter, not the list, left it out
    signal_page = visible(anna.get(f"/backoffice/signalen/{reference}").get_data(as_text=True))
    assert "Heropenverzoek: de melder is niet tevreden" in signal_page
    assert "Er ligt alweer afval naast de glasbak." in signal_page


def decide(app: Flask, client: FlaskClient, reference: str, decision: str, explanation: str):  # type: ignore[no-untyped-def]
    page = f"/backoffice/signalen/{reference}"
    with app.app_context():
        version = db.session.scalar(select(Signal.version).where(Signal.reference == reference))
    return client.post(
        f"{page}/heropenverzoek",
        data={
            "csrf_token": csrf_token(client, page),
            "version": str(version),
            "decision": decision,
            "explanation": explanation,
        },
    )


def test_the_owner_reopens_and_the_resident_is_told_why(app, client, smtp):
    reference, token = not_satisfied(app, client, smtp)
    anna = login(app.test_client(), ANNA)
    mails = len(smtp.to(RESIDENT))

    response = decide(app, anna, reference, "reopen", "We kijken er opnieuw naar.")

    assert response.status_code == 303
    with db_session(app) as session:
        assert signal_of(session, reference).status == "reopened"
    (request,) = requests_of(app, reference)
    assert (request.decision, request.explanation) == ("reopened", "We kijken er opnieuw naar.")
    assert len(smtp.to(RESIDENT)) == mails + 1
    assert "We kijken er opnieuw naar." in smtp.to(RESIDENT)[-1].get_body(("plain",)).get_content()
    status = visible(client.get(f"/status/{token}").get_data(as_text=True))
    assert "Nieuwe status: Heropend" in status and "We kijken er opnieuw naar." in status
    inbox = anna.get("/backoffice/signalen?scope=mine&reopen_requested=1").get_data(as_text=True)
    assert reference not in inbox

    # Decided once: a second decision (another tab) is refused and changes nothing.
    again = decide(app, anna, reference, "keep_closed", "Toch niet.")
    assert again.status_code in (409, 422)
    assert [r.decision for r in requests_of(app, reference)] == ["reopened"]


def test_the_owner_keeps_it_closed_with_an_explanation(app, client, smtp):
    reference, token = not_satisfied(app, client, smtp)
    anna = login(app.test_client(), ANNA)

    refused = decide(app, anna, reference, "keep_closed", "  ")
    assert refused.status_code == 422
    assert "Schrijf de melder waarom" in visible(refused.get_data(as_text=True))
    assert requests_of(app, reference)[0].decided_at is None

    explanation = "Het afval is opgehaald; nieuw afval kunt u als nieuwe melding doorgeven."
    assert decide(app, anna, reference, "keep_closed", explanation).status_code == 303
    with db_session(app) as session:
        assert signal_of(session, reference).status == "resolved"
    (request,) = requests_of(app, reference)
    assert (request.decision, request.explanation) == ("kept_closed", explanation)
    assert explanation in smtp.to(RESIDENT)[-1].get_body(("plain",)).get_content()
    assert explanation in visible(client.get(f"/status/{token}").get_data(as_text=True))


def test_reopening_from_the_status_menu_answers_a_waiting_request(app, client, smtp):
    reference, _token = not_satisfied(app, client, smtp)
    move(app, reference, "reopened", "Wij pakken het opnieuw op.")
    (request,) = requests_of(app, reference)
    assert (request.decision, request.explanation) == ("reopened", "Wij pakken het opnieuw op.")


def test_resolving_again_asks_again(app, client, smtp):
    reference, token = not_satisfied(app, client, smtp)
    move(app, reference, "reopened", "Wij pakken het opnieuw op.")
    move(app, reference, "resolved", "Nu is het echt opgeruimd.")
    assert QUESTION in visible(client.get(f"/status/{token}").get_data(as_text=True))
    assert answer(client, token, "ja").status_code == 303
    assert [s[0] for s in surveys(app, reference)] == [False, True]


@pytest.mark.parametrize("decision", ["reopen", "keep_closed"])
def test_management_cannot_decide(app, client, smtp, decision):
    from tests.factories import MANAGEMENT

    reference, _token = not_satisfied(app, client, smtp)
    marco = login(app.test_client(), MANAGEMENT)
    assert decide(app, marco, reference, decision, "Nee.").status_code == 403
    assert requests_of(app, reference)[0].decided_at is None
