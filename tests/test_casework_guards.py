"""Regressions found by reviewing the casework (issue 8): each failed before its fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.domain import absences, casework, escalations, sensitive
from portal.domain.casework import Actor
from portal.domain.reply_links import WITHHELD, scrubber
from portal.models import Absence, Reporter
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    EVA,
    SANNE,
    db_session,
    intake_settings,
    login,
    make_signal,
    user_id,
)
from tests.test_absences import today
from tests.test_backoffice_signal import page_url, post_action
from tests.test_escalations import (
    FUNCTIONARY,
    add_functionary,
    escalate,
    link_in,
    resident_signal,
    signal_of,
)
from tests.test_partner_shares import VERSA, add_partner, share


def test_a_colleague_let_into_a_sensitive_signal_cannot_give_it_away(app, smtp) -> None:
    reference, _token = make_signal(app)
    anna, eva, sanne = user_id(app, ANNA), user_id(app, EVA), user_id(app, SANNE)
    with db_session(app) as session:
        signal = signal_of(session, reference)
        now = datetime.now(UTC)
        sensitive.mark(
            session, signal, reason="APJ", seen_version=signal.version, actor=Actor(anna, now)
        )
        sensitive.let_in(
            session, signal, user_id=eva, seen_version=signal.version, actor=Actor(anna, now)
        )
        session.commit()
    colleague = login(app.test_client(), EVA)
    response = post_action(
        colleague, app, reference, "reassign", {"owner": str(sanne), "reason": "weg"}
    )
    assert response.status_code == 422
    assert "alleen de eigenaar of een beheerder" in response.get_data(as_text=True)
    with db_session(app) as session:
        assert signal_of(session, reference).owner_id == anna
    assert login(app.test_client(), SANNE).get(page_url(reference)).status_code == 404
    # The owner herself may hand it on.
    owner = login(app.test_client(), ANNA)
    moved = post_action(owner, app, reference, "reassign", {"owner": str(sanne), "reason": "Sanne"})
    assert moved.status_code == 303


def test_the_phone_number_is_cut_out_however_it_is_written() -> None:
    scrub = scrubber(Reporter(name="Jan Jansen", email="jan@voorbeeld.nl", phone="06-12345678"))
    for written in ("+31 6 12345678", "0031612345678", "(06)12345678", "+31 (0)6 1234 5678"):
        assert scrub(f"Bel mij: {written}.") == f"Bel mij: {WITHHELD}."
    assert scrub("Groet, Jansen") == f"Groet, {WITHHELD}"
    # Other numbers and words that merely contain the name stay.
    assert scrub("Huisnummer 12345678 aan de Jansenstraat") == (
        "Huisnummer 12345678 aan de Jansenstraat"
    )


def record_form(client, app, starts_on: str, ends_on: str, stand_in: str = SANNE):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/backoffice/afwezigheid")
    return client.post(
        "/backoffice/afwezigheid/nieuw",
        data={
            "csrf_token": token,
            "user": str(user_id(app, ANNA)),
            "stand_in": str(user_id(app, stand_in)),
            "starts_on": starts_on,
            "ends_on": ends_on,
        },
    )


def test_absence_dates_far_off_or_far_back_are_refused_without_breaking_pages(app) -> None:
    anna = login(app.test_client(), ANNA)
    for starts_on, ends_on in (
        ("0001-01-01", today().isoformat()),
        ("9999-12-30", "9999-12-31"),
        ((today() - timedelta(days=30)).isoformat(), today().isoformat()),
    ):
        assert record_form(anna, app, starts_on, ends_on).status_code == 422, starts_on
    with db_session(app) as session:
        assert session.scalars(select(Absence)).all() == []
    assert anna.get("/backoffice/afwezigheid").status_code == 200
    assert login(app.test_client(), SANNE).get("/backoffice/").status_code in (200, 302)


def test_a_stand_in_who_is_away_then_cannot_cover(app) -> None:
    admin = user_id(app, ADMIN)
    with db_session(app) as session:
        absences.record_absence(
            session,
            user_id=user_id(app, SANNE),
            stand_in_id=user_id(app, EVA),
            starts_on=today(),
            ends_on=today() + timedelta(days=3),
            actor_id=admin,
            today=today(),
        )
        session.commit()
    anna = login(app.test_client(), ANNA)
    response = record_form(
        anna, app, today().isoformat(), (today() + timedelta(days=2)).isoformat()
    )
    assert response.status_code == 422
    assert "zelf afwezig" in response.get_data(as_text=True)


def test_ending_an_absence_early_still_hands_back_that_days_signals(app, smtp) -> None:
    anna, sanne, admin = user_id(app, ANNA), user_id(app, SANNE), user_id(app, ADMIN)
    day = today()
    with db_session(app) as session:
        absence = absences.record_absence(
            session,
            user_id=anna,
            stand_in_id=sanne,
            starts_on=day - timedelta(days=1),
            ends_on=day + timedelta(days=3),
            actor_id=admin,
            today=day - timedelta(days=1),
        )
        session.commit()
        absence_id = absence.id
    reference, _token = make_signal(app)  # Kerkelanden: Anna's wijk, so Sanne's now
    with db_session(app) as session:
        absence = session.get(Absence, absence_id)
        absences.end_absence(session, absence, actor_id=anna, today=day)
        session.commit()
        assert [s.reference for s in absences.to_hand_back(session, absence)] == [reference]


def test_links_stop_working_when_the_signal_is_closed(app, smtp, client) -> None:
    reference = resident_signal(app, may_share=True)
    functionary_id, partner_id = add_functionary(app), add_partner(app)
    anna_client = login(app.test_client(), ANNA)
    assert escalate(anna_client, app, reference, functionary_id).status_code == 303
    assert share(anna_client, app, reference, [partner_id], ["description"]).status_code == 303
    escalation_link = link_in(smtp.to(FUNCTIONARY)[0])
    partner_link = link_in(smtp.to(VERSA)[0])
    assert client.get(escalation_link).status_code == 200
    assert client.get(partner_link).status_code == 200
    with db_session(app) as session:
        signal = signal_of(session, reference)
        casework.change_status(
            session,
            signal,
            "declined",
            message="Dit pakken wij niet op.",
            seen_version=signal.version,
            actor=Actor(user_id(app, ANNA), datetime.now(UTC)),
            mail=intake_settings(app).mail,
        )
        session.commit()
    assert client.get(escalation_link).status_code == 404
    assert client.get(partner_link).status_code == 404
    with db_session(app) as session:
        later = datetime.now(UTC) + timedelta(days=8)
        report = escalations.remind_due(session, now=later, mail=intake_settings(app).mail)
        assert report.startswith("0 ")
