"""Escalation to a functionary with authority (horzelfunctie), through HTTP and the real
domain operations, on SQLite and PostgreSQL, with mail read back from a real SMTP server.

Covers: the register of functionaries (admin only), escalating from the signal page (and who
may), the data-minimised mail without the resident's name, e-mail address or phone number,
the one-time answer link (one use, expiry, closing, wrong token: 404), the answer on the
timeline and in the owner's mail, the reminder on the reply-by date (once), the overdue mark,
the queries for inbox and digest, and the stored copies of the mail without a working link."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from flask import Flask, render_template
from flask.testing import FlaskClient
from flask_login import login_user
from sqlalchemy import select

from portal import create_app
from portal.backoffice.signal_outreach import page_context
from portal.domain import escalations
from portal.domain.casework import Actor
from portal.domain.escalations import EscalationRequest
from portal.domain.functionaries import save_functionary
from portal.domain.working_days import local_date
from portal.extensions import db
from portal.models import AuditRecord, Escalation, OutboxMessage, Signal, SignalEvent, User
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    MANAGEMENT,
    SANNE,
    db_session,
    intake_settings,
    login,
    make_signal,
    user_id,
)
from tests.test_backoffice_signal import (
    logged_in,
    page_url,
    plain,
    post_action,
    rich,
    token_for,
    version_of,
    visible,
)

RESIDENT_NAME = "Jan Jansen"
RESIDENT_EMAIL = "jan.jansen@example.nl"
RESIDENT_PHONE = "035 123 45 67"
# The resident signs the description: the summary must cut that out as well.
DESCRIPTION = (
    "Het veld achter de school ligt al maanden vol afval.\n\n"
    "Groet, Jan Jansen (bel gerust: 035 1234567 of jan.jansen@example.nl)"
)
PERSONAL = (RESIDENT_NAME, RESIDENT_EMAIL, RESIDENT_PHONE, "035 1234567", "0351234567")
FUNCTIONARY = "karin.van.leeuwen@hilversum.example"
QUESTION = "Het veld is van de gemeente, maar niemand pakt het op. Kunt u hier doorpakken?"
ANSWER = "Ik laat Openbare Ruimte het veld deze week schoonmaken en spreek de aannemer aan."
ANSWER_LINK = re.compile(r"https?://[^\s\"'<>]+(/antwoord/(?:escalatie|partner)/[A-Za-z0-9_-]+)")


# --- helpers (the partner tests use them too) ----------------------------------------------


def add_functionary(
    app: Flask,
    name: str = "Karin van Leeuwen",
    email: str = FUNCTIONARY,
    role_title: str = "Afdelingshoofd Openbare Ruimte",
    active: bool = True,
) -> int:
    with db_session(app) as session:
        functionary = save_functionary(
            session,
            None,
            name=name,
            role_title=role_title,
            department="Openbare Ruimte",
            email=email,
            active=active,
            actor_id=user_id(app, ADMIN),
        )
        session.commit()
        return functionary.id


def resident_signal(app: Flask, **kwargs: object) -> str:
    reference, _token = make_signal(
        app,
        name=RESIDENT_NAME,
        email=RESIDENT_EMAIL,
        phone=RESIDENT_PHONE,
        description=DESCRIPTION,
        **kwargs,  # type: ignore[arg-type]
    )
    return reference


def post_to(client: FlaskClient, app: Flask, reference: str, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    form = {
        "csrf_token": token_for(client, reference),
        "version": str(version_of(app, reference)),
        **data,
    }
    return client.post(f"{page_url(reference)}/{path}", data=form)


def escalate(
    client: FlaskClient,
    app: Flask,
    reference: str,
    functionary_id: int,
    *,
    question: str = QUESTION,
    urgency: str = "normal",
    reply_by: date | str | None = None,
):  # type: ignore[no-untyped-def]
    day = reply_by if reply_by is not None else local_date(datetime.now(UTC)) + timedelta(days=7)
    return post_to(
        client,
        app,
        reference,
        "escaleren",
        {
            "functionary": str(functionary_id),
            "question": question,
            "urgency": urgency,
            "reply_by": day if isinstance(day, str) else day.isoformat(),
        },
    )


def escalate_at(
    app: Flask,
    reference: str,
    functionary_id: int,
    *,
    now: datetime,
    reply_by: date,
    link_days: int = 30,
) -> None:
    """An escalation made at another moment (the domain takes the clock from its caller)."""
    with db_session(app) as session:
        signal = signal_of(session, reference)
        escalations.escalate(
            session,
            signal,
            EscalationRequest(functionary_id, QUESTION, "normal", reply_by),
            seen_version=signal.version,
            actor=Actor(user_id(app, ANNA), now),
            mail=intake_settings(app).mail,
            link_days=link_days,
        )
        session.commit()


def signal_of(session, reference: str) -> Signal:  # type: ignore[no-untyped-def]
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def mails_to(smtp, address: str) -> list[EmailMessage]:  # type: ignore[no-untyped-def]
    smtp.wait_for(1)
    return smtp.to(address)


def link_in(message: EmailMessage) -> str:
    """The answer link's path, the same in both parts of the mail."""
    text_links = ANSWER_LINK.findall(plain(message))
    html_links = ANSWER_LINK.findall(rich(message))
    assert text_links and set(text_links) == set(html_links), (text_links, html_links)
    return text_links[0]


def assert_no_personal_data(message: EmailMessage) -> None:
    for part in (plain(message), rich(message), str(message["Subject"])):
        for value in PERSONAL:
            assert value.lower() not in part.lower(), value


def today() -> date:
    return local_date(datetime.now(UTC))


# --- the register --------------------------------------------------------------------------


def test_an_admin_keeps_the_register_of_functionaries(app: Flask, smtp) -> None:
    client = login(app.test_client(), ADMIN)
    token = csrf_token(client, "/backoffice/beheer/functionarissen/nieuw")
    refused = client.post(
        "/backoffice/beheer/functionarissen/nieuw",
        data={"csrf_token": token, "name": "Karin van Leeuwen", "email": "geen-adres"},
    )
    assert refused.status_code == 422
    page = visible(refused.get_data(as_text=True))
    assert "Vul de functie in." in page and "Vul de afdeling in." in page
    assert "Vul een geldig e-mailadres in" in page
    assert 'value="Karin van Leeuwen"' in refused.get_data(as_text=True)  # kept what was typed

    created = client.post(
        "/backoffice/beheer/functionarissen/nieuw",
        data={
            "csrf_token": token,
            "name": "  Karin   van Leeuwen ",
            "role_title": "Afdelingshoofd Openbare Ruimte",
            "department": "Openbare Ruimte",
            "email": "Karin.van.Leeuwen@Hilversum.example",
            "active": "y",
        },
    )
    assert created.status_code == 303
    listing = visible(client.get("/backoffice/beheer/functionarissen").get_data(as_text=True))
    assert "Karin van Leeuwen Afdelingshoofd Openbare Ruimte Openbare Ruimte" in listing
    assert FUNCTIONARY in listing
    with db_session(app) as session:
        functionary = session.scalars(select(escalations.Functionary)).one()
        assert functionary.email == FUNCTIONARY
        assert session.scalars(
            select(AuditRecord).where(AuditRecord.action == "functionary.created")
        ).one()

    # Set inactive: no longer offered on the signal page.
    edit = f"/backoffice/beheer/functionarissen/{functionary.id}"
    assert client.get(edit).status_code == 200
    response = client.post(
        edit,
        data={
            "csrf_token": token,
            "name": functionary.name,
            "role_title": functionary.role_title,
            "department": functionary.department,
            "email": functionary.email,
        },
    )
    assert response.status_code == 303
    reference = resident_signal(app)
    anna = logged_in(app, ANNA)
    page = anna.get(page_url(reference)).get_data(as_text=True)
    assert "Karin van Leeuwen" not in page
    assert "Er staan nog geen functionarissen in de lijst." in visible(page)
    assert client.get("/backoffice/beheer/functionarissen/999999").status_code == 404


def test_only_admins_keep_the_register(app: Flask, smtp) -> None:
    for email in (ANNA, MANAGEMENT):
        client = logged_in(app, email)
        assert client.get("/backoffice/beheer/functionarissen").status_code == 403
    anonymous = app.test_client().get("/backoffice/beheer/functionarissen")
    assert anonymous.status_code == 302


# --- escalating ----------------------------------------------------------------------------


def test_the_functionary_gets_a_summary_without_the_residents_personal_data(
    app: Flask, smtp
) -> None:
    functionary_id = add_functionary(app)
    reference = resident_signal(app)
    anna = logged_in(app, ANNA)
    public = "Wij hebben de afdeling gevraagd het veld te bekijken."
    internal = "Intern: de buurman belt elke week (kenmerk 9c2e)."
    assert post_action(anna, app, reference, "reply", {"message": public}).status_code == 303
    assert post_action(anna, app, reference, "note", {"message": internal}).status_code == 303

    reply_by = today() + timedelta(days=9)
    response = escalate(anna, app, reference, functionary_id, urgency="high", reply_by=reply_by)
    assert response.status_code == 303, visible(response.get_data(as_text=True))[:600]
    done = visible(anna.get(page_url(reference)).get_data(as_text=True))
    assert "Uw vraag is naar Karin van Leeuwen gestuurd." in done

    [message] = mails_to(smtp, FUNCTIONARY)
    assert str(message["Subject"]) == f"Dringend: wilt u helpen bij melding {reference}?"
    text = plain(message)
    assert "Beste Karin van Leeuwen," in text
    assert QUESTION in text
    assert "Dit is dringend." in text
    for fact in (f"Meldnummer: {reference}", "Soort: Knelpunt", "Onderwerp: Schoon"):
        assert fact in text
    assert "Wijk: Zuidwest" in text and "Buurt: Kerkelanden" in text
    assert "Het veld achter de school ligt al maanden vol afval." in text
    assert public in text  # the public timeline goes along
    assert internal not in text and internal not in rich(message)
    assert "Groet, [weggelaten] (bel gerust: [weggelaten] of [weggelaten])" in text
    assert_no_personal_data(message)
    assert "Anna de Vries" in text  # who asks (and signs)
    link_in(message)

    with db_session(app) as session:
        signal = signal_of(session, reference)
        escalation = session.scalars(select(Escalation)).one()
        assert (escalation.urgency, escalation.reply_by) == ("high", reply_by)
        assert escalation.created_by_id == user_id(app, ANNA)
        step = signal.events[-1]
        assert (step.kind, step.is_public, step.message) == ("escalated", False, QUESTION)
        assert step.author_id == user_id(app, ANNA)
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "signal.escalated")
        ).one()
        assert record.details["functionary_id"] == functionary_id
        assert record.details["event_id"] == step.id

    page = visible(anna.get(page_url(reference)).get_data(as_text=True))
    assert (
        "Karin van Leeuwen , Afdelingshoofd Openbare Ruimte (Openbare Ruimte) Wacht op antwoord"
        in page
    )


def test_the_stored_mail_and_the_database_hold_no_working_link(app: Flask, smtp) -> None:
    functionary_id = add_functionary(app)
    reference = resident_signal(app)
    anna = logged_in(app, ANNA)
    assert escalate(anna, app, reference, functionary_id).status_code == 303
    path = link_in(mails_to(smtp, FUNCTIONARY)[0])
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes
    with db_session(app) as session:
        stored = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "escalation_request")
        ).one()
        assert stored.status == "sent"
        assert token not in stored.body_text and token not in (stored.body_html or "")
        assert "/antwoord/escalatie/[verwijderd]" in stored.body_text
        escalation = session.scalars(select(Escalation)).one()
        assert escalation.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_an_escalation_needs_a_functionary_a_question_and_a_day_to_come(app: Flask, smtp) -> None:
    functionary_id = add_functionary(app)
    gone = add_functionary(app, name="Oud Hoofd", email="oud@hilversum.example", active=False)
    reference = resident_signal(app)
    anna = logged_in(app, ANNA)
    cases = [
        ({"functionary_id": gone}, "Kies een functionaris uit de lijst."),
        ({"functionary_id": 0}, "Kies een functionaris uit de lijst."),
        ({"question": "   "}, "Schrijf uw vraag of advies."),
        ({"question": "x" * 5001}, "Dit is te lang"),
        ({"urgency": "heel erg"}, "Kies hoe dringend het is."),
        ({"reply_by": ""}, "Vul de datum in waarop u uiterlijk antwoord wilt"),
        ({"reply_by": "31-02-2026"}, "Vul een datum in zoals 31-12-2026."),
        ({"reply_by": today() - timedelta(days=1)}, "Kies vandaag of een dag in de toekomst."),
        ({"reply_by": today() + timedelta(days=400)}, "Kies een datum binnen een jaar."),
    ]
    for change, message in cases:
        values = {"functionary_id": functionary_id, **change}
        response = escalate(anna, app, reference, values.pop("functionary_id"), **values)  # type: ignore[arg-type]
        assert response.status_code == 422, change
        assert message in visible(response.get_data(as_text=True)), change
    with db_session(app) as session:
        assert session.scalars(select(Escalation)).all() == []
    assert smtp.to(FUNCTIONARY) == []

    # Typed with a date as people write it, for today: fine.
    assert (
        escalate(
            anna, app, reference, functionary_id, reply_by=today().strftime("%d-%m-%Y")
        ).status_code
        == 303
    )


def test_an_escalation_on_top_of_a_colleagues_change_is_stale(app: Flask, smtp) -> None:
    functionary_id = add_functionary(app)
    reference = resident_signal(app)
    anna = logged_in(app, ANNA)
    seen = version_of(app, reference)
    assert post_action(anna, app, reference, "note", {"message": "Tussendoor."}).status_code == 303
    form = {
        "csrf_token": token_for(anna, reference),
        "version": str(seen),
        "functionary": str(functionary_id),
        "question": QUESTION,
        "urgency": "normal",
        "reply_by": (today() + timedelta(days=3)).isoformat(),
    }
    response = anna.post(f"{page_url(reference)}/escaleren", data=form)
    assert response.status_code == 409
    assert QUESTION in response.get_data(as_text=True)  # the typed question is kept
    with db_session(app) as session:
        assert session.scalars(select(Escalation)).all() == []


def test_management_reads_escalations_but_cannot_escalate(app: Flask, smtp) -> None:
    functionary_id = add_functionary(app)
    reference = resident_signal(app)
    assert escalate(logged_in(app, ANNA), app, reference, functionary_id).status_code == 303

    management = logged_in(app, MANAGEMENT)
    page = management.get(page_url(reference))
    assert page.status_code == 200
    assert "Verstuur escalatie" not in page.get_data(as_text=True)
    assert escalate(management, app, reference, functionary_id).status_code == 403
    anonymous = app.test_client()
    response = anonymous.post(f"{page_url(reference)}/escaleren", data={})
    assert response.status_code in (302, 400)  # the login page, or the CSRF check before it
    with db_session(app) as session:
        assert len(session.scalars(select(Escalation)).all()) == 1

    # The read-only list the page shows to who may not work (see _outreach_list.html).
    with app.test_request_context():
        manager = db.session.scalars(select(User).where(User.email == MANAGEMENT)).one()
        login_user(manager)
        signal = signal_of(db.session, reference)
        html = render_template(
            "backoffice/signal/_outreach_list.html",
            signal=signal,
            forms={},
            active_action=None,
            **page_context(signal),
        )
    listing = visible(html)
    assert "Karin van Leeuwen" in listing and "Wacht op antwoord" in listing
    assert QUESTION in listing
    assert "<form" not in html


# --- the answer link -----------------------------------------------------------------------


def test_the_functionary_answers_once_and_the_owner_hears_of_it(app: Flask, smtp) -> None:
    functionary_id = add_functionary(app)
    reference, status_token = make_signal(
        app, name=RESIDENT_NAME, email=RESIDENT_EMAIL, phone=RESIDENT_PHONE, description=DESCRIPTION
    )
    anna = logged_in(app, ANNA)
    assert escalate(anna, app, reference, functionary_id).status_code == 303
    path = link_in(mails_to(smtp, FUNCTIONARY)[0])

    outsider = app.test_client()  # no account, no login
    page = outsider.get(path)
    assert page.status_code == 200
    assert "no-store" in page.headers["Cache-Control"]
    assert 'name="robots" content="noindex"' in page.get_data(as_text=True)
    shown = visible(page.get_data(as_text=True))
    assert QUESTION in shown and reference in shown and "Kerkelanden" in shown
    for value in PERSONAL:
        assert value not in shown

    token = csrf_token(outsider, path)
    empty = outsider.post(path, data={"csrf_token": token, "answer": "  "})
    assert empty.status_code == 422
    assert "Schrijf uw antwoord." in visible(empty.get_data(as_text=True))
    assert empty.get_data(as_text=True).count("<title>Fout: ") == 1
    without_csrf = outsider.post(path, data={"answer": ANSWER})
    assert without_csrf.status_code == 400

    answered = outsider.post(path, data={"csrf_token": token, "answer": ANSWER})
    assert answered.status_code == 303
    assert answered.headers["Location"].endswith("/antwoord/bedankt")
    assert "Bedankt voor uw antwoord" in outsider.get("/antwoord/bedankt").get_data(as_text=True)

    # Once: the link now says so, and a second answer changes nothing.
    again = outsider.get(path)
    assert again.status_code == 404
    assert "Deze vraag is al beantwoord" in visible(again.get_data(as_text=True))
    assert QUESTION not in again.get_data(as_text=True)
    second = outsider.post(path, data={"csrf_token": token, "answer": "Nog iets."})
    assert second.status_code == 404

    with db_session(app) as session:
        signal = signal_of(session, reference)
        escalation = session.scalars(select(Escalation)).one()
        assert escalation.answer == ANSWER and escalation.answered_at is not None
        answers = [e for e in signal.events if e.kind == "escalation_answered"]
        assert [(e.message, e.is_public, e.author_id) for e in answers] == [(ANSWER, False, None)]
        assert escalations.state_of(escalation, today()) == escalations.ANSWERED

    # The owner (Anna) is mailed, and the answer is on her timeline as the functionary's.
    [owner_mail] = [m for m in smtp.to(ANNA) if "Antwoord van" in str(m["Subject"])]
    assert str(owner_mail["Subject"]) == f"Antwoord van Karin van Leeuwen over melding {reference}"
    assert ANSWER in plain(owner_mail) and QUESTION in plain(owner_mail)
    assert_no_personal_data(owner_mail)
    page = visible(anna.get(page_url(reference)).get_data(as_text=True))
    assert ANSWER in page and "Beantwoord" in page
    with app.test_request_context():
        signal = signal_of(db.session, reference)
        headings = page_context(signal)["outreach_events"]
        answer_event = next(e for e in signal.events if e.kind == "escalation_answered")
        assert headings[answer_event.id] == "Antwoord van Karin van Leeuwen"

    # Never on the resident's status page.
    status_page = app.test_client().get(f"/status/{status_token}").get_data(as_text=True)
    assert ANSWER not in status_page and QUESTION not in status_page


def test_a_wrong_token_finds_nothing(app: Flask, smtp) -> None:
    functionary_id = add_functionary(app)
    reference = resident_signal(app)
    assert escalate(logged_in(app, ANNA), app, reference, functionary_id).status_code == 303
    token = link_in(mails_to(smtp, FUNCTIONARY)[0]).rsplit("/", 1)[1]
    client = app.test_client()
    for path in (
        "/antwoord/escalatie/niet-echt",
        f"/antwoord/escalatie/{token[:-1]}",
        f"/antwoord/escalatie/{token}x",
        f"/antwoord/partner/{token}",  # an escalation's token opens no share
        "/antwoord/escalatie/" + "a" * 300,
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Deze link werkt niet (meer)" in visible(response.get_data(as_text=True))
        assert "no-store" in response.headers["Cache-Control"]


def test_the_link_expires_some_days_after_the_reply_by_date(app: Flask, smtp) -> None:
    functionary_id = add_functionary(app)
    reference = resident_signal(app)
    asked = datetime.now(UTC) - timedelta(days=40)
    escalate_at(
        app, reference, functionary_id, now=asked, reply_by=local_date(asked) + timedelta(days=2)
    )
    path = link_in(mails_to(smtp, FUNCTIONARY)[0])
    client = app.test_client()
    response = client.get(path)
    assert response.status_code == 404
    assert "Deze link werkt niet (meer)" in visible(response.get_data(as_text=True))

    # With a longer configured period the same kind of link still works.
    add_functionary(app, name="Bas Verhoeven", email="bas.verhoeven@hilversum.example")
    later = add_functionary(app, name="Nadia Bouali", email="nadia.bouali@hilversum.example")
    escalate_at(
        app,
        reference,
        later,
        now=asked,
        reply_by=local_date(asked) + timedelta(days=2),
        link_days=60,
    )
    [mail] = smtp.to("nadia.bouali@hilversum.example")
    assert client.get(link_in(mail)).status_code == 200


def test_closing_an_escalation_records_its_outcome_and_ends_the_link(app: Flask, smtp) -> None:
    functionary_id = add_functionary(app)
    reference = resident_signal(app)
    anna = logged_in(app, ANNA)
    assert escalate(anna, app, reference, functionary_id).status_code == 303
    path = link_in(mails_to(smtp, FUNCTIONARY)[0])
    with db_session(app) as session:
        escalation_id = session.scalars(select(Escalation.id)).one()
    close = f"escalaties/{escalation_id}/afsluiten"

    refused = post_to(anna, app, reference, close, {"outcome": ""})
    assert refused.status_code == 422
    assert "Schrijf de uitkomst van de escalatie." in visible(refused.get_data(as_text=True))
    outcome = "Opgelost buiten de functionaris om: de wijkbeheerder ruimt het op."
    assert post_to(anna, app, reference, close, {"outcome": outcome}).status_code == 303
    assert app.test_client().get(path).status_code == 404

    again = post_to(anna, app, reference, close, {"outcome": "Nog eens."})
    assert again.status_code == 422
    assert "Deze escalatie is al afgesloten." in visible(again.get_data(as_text=True))
    # Another signal's page cannot close it.
    other = resident_signal(app)
    assert post_to(anna, app, other, close, {"outcome": outcome}).status_code == 404

    with db_session(app) as session:
        escalation = session.get(Escalation, escalation_id)
        assert escalation is not None and escalation.outcome == outcome
        assert escalation.closed_by_id == user_id(app, ANNA)
        assert escalations.state_of(escalation, today()) == escalations.CLOSED
        step = signal_of(session, reference).events[-1]
        assert (step.kind, step.message, step.is_public) == ("escalation_closed", outcome, False)
    page = visible(anna.get(page_url(reference)).get_data(as_text=True))
    assert "Afgesloten door Anna de Vries" in page and outcome in page


# --- reminders and overdue -----------------------------------------------------------------


def test_one_reminder_on_the_reply_by_date_with_a_fresh_link(app: Flask, smtp) -> None:
    functionary_id = add_functionary(app)
    reference = resident_signal(app)
    now = datetime.now(UTC)
    escalate_at(app, reference, functionary_id, now=now - timedelta(days=2), reply_by=today())
    first_link = link_in(mails_to(smtp, FUNCTIONARY)[0])
    mail = intake_settings(app).mail

    def remind(at: datetime) -> str:
        with db_session(app) as session:
            line = escalations.remind_due(session, now=at, mail=mail)
            session.commit()
            return line

    assert remind(now - timedelta(days=1)) == "0 escalation reminder(s) sent"  # not due yet
    assert remind(now) == "1 escalation reminder(s) sent"
    assert remind(now) == "0 escalation reminder(s) sent"  # once
    assert remind(now + timedelta(days=1)) == "0 escalation reminder(s) sent"

    messages = smtp.wait_for(3)
    reminders = [m for m in smtp.to(FUNCTIONARY) if "Herinnering" in str(m["Subject"])]
    assert len(reminders) == 1
    reminder = reminders[0]
    assert str(reminder["Subject"]) == (
        f"Herinnering: wij wachten op uw antwoord over melding {reference}"
    )
    assert QUESTION in plain(reminder)
    assert "de link uit onze eerste e-mail werkt niet meer" in plain(reminder)
    assert_no_personal_data(reminder)
    fresh_link = link_in(reminder)
    assert fresh_link != first_link
    client = app.test_client()
    assert client.get(first_link).status_code == 404
    assert client.get(fresh_link).status_code == 200
    assert messages  # delivered over SMTP
    with db_session(app) as session:
        escalation = session.scalars(select(Escalation)).one()
        assert escalation.reminded_at is not None
        kinds = [e.kind for e in signal_of(session, reference).events]
        assert kinds.count("escalation_reminded") == 1


def test_jobs_run_sends_the_reminders_that_are_due(app: Flask, runner, smtp) -> None:  # type: ignore[no-untyped-def]
    functionary_id = add_functionary(app)
    reference = resident_signal(app)
    escalate_at(
        app,
        reference,
        functionary_id,
        now=datetime.now(UTC) - timedelta(days=3),
        reply_by=today(),
    )
    result = runner.invoke(args=["jobs", "run"])
    assert "escalation-reminders: 1 escalation reminder(s) sent" in result.output, result.output
    again = runner.invoke(args=["jobs", "run"])
    assert "escalation-reminders: 0 escalation reminder(s) sent" in again.output
    smtp.wait_for(2)
    assert len([m for m in smtp.to(FUNCTIONARY) if "Herinnering" in str(m["Subject"])]) == 1


def test_no_reminder_for_an_answered_or_closed_escalation_or_on_the_day_it_was_asked(
    app: Flask, smtp
) -> None:
    first = add_functionary(app)
    reference = resident_signal(app)
    now = datetime.now(UTC)
    escalate_at(app, reference, first, now=now, reply_by=today())  # asked for today, today
    mail = intake_settings(app).mail
    with db_session(app) as session:
        assert escalations.remind_due(session, now=now, mail=mail).startswith("0 ")
    closed = add_functionary(app, name="Bas Verhoeven", email="bas.verhoeven@hilversum.example")
    escalate_at(app, reference, closed, now=now - timedelta(days=3), reply_by=today())
    with db_session(app) as session:
        signal = signal_of(session, reference)
        escalation = session.scalars(
            select(Escalation).where(Escalation.functionary_id == closed)
        ).one()
        escalations.close_escalation(
            session,
            signal,
            escalation.id,
            outcome="Niet meer nodig.",
            seen_version=signal.version,
            actor=Actor(user_id(app, ANNA), now),
        )
        session.commit()
        assert escalations.remind_due(session, now=now, mail=mail).startswith("0 ")


def test_an_unanswered_escalation_past_its_date_is_overdue(app: Flask, smtp) -> None:
    functionary_id = add_functionary(app)
    reference = resident_signal(app)
    other = resident_signal(app)
    now = datetime.now(UTC)
    escalate_at(
        app,
        reference,
        functionary_id,
        now=now - timedelta(days=10),
        reply_by=today() - timedelta(days=3),
    )
    escalate_at(app, other, functionary_id, now=now, reply_by=today() + timedelta(days=3))

    page = visible(logged_in(app, ANNA).get(page_url(reference)).get_data(as_text=True))
    assert "1 escalatie te laat" in page and "Te laat" in page
    calm = visible(logged_in(app, ANNA).get(page_url(other)).get_data(as_text=True))
    assert "te laat" not in calm.lower()

    anna, sanne = user_id(app, ANNA), user_id(app, SANNE)
    with db_session(app) as session:
        waiting = session.scalars(escalations.open_escalations_query()).all()
        assert len(waiting) == 2
        late = session.scalars(escalations.open_escalations_query(overdue_on=today())).all()
        assert [signal_of(session, reference).id] == [e.signal_id for e in late]
        mine = session.scalars(
            escalations.open_escalations_query(owner_id=anna, overdue_on=today())
        ).all()
        assert len(mine) == 1
        assert session.scalars(escalations.open_escalations_query(owner_id=sanne)).all() == []
        # As the inbox would use it: signals with an overdue escalation.
        ids = escalations.open_escalations_query(overdue_on=today()).with_only_columns(
            Escalation.signal_id
        )
        found = session.scalars(select(Signal.reference).where(Signal.id.in_(ids))).all()
        assert found == [reference]
        # The day after the reply-by date of the other one, it is overdue too.
        later = today() + timedelta(days=4)
        assert len(session.scalars(escalations.open_escalations_query(overdue_on=later)).all()) == 2


def test_the_answer_pages_are_rate_limited(app_config, smtp) -> None:  # type: ignore[no-untyped-def]
    limited = create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "ANSWER_RATE_LIMIT": "2 per minute"}
    )
    client = limited.test_client()
    codes = [client.get("/antwoord/escalatie/onbekend-token").status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    with limited.app_context():
        db.engine().dispose()


def test_several_escalations_per_signal(app: Flask, smtp) -> None:
    first = add_functionary(app)
    second = add_functionary(app, name="Bas Verhoeven", email="bas.verhoeven@hilversum.example")
    reference = resident_signal(app)
    anna = logged_in(app, ANNA)
    assert escalate(anna, app, reference, first).status_code == 303
    assert (
        escalate(anna, app, reference, second, question="Handhaving, kunt u kijken?").status_code
        == 303
    )
    with db_session(app) as session:
        signal = signal_of(session, reference)
        assert len(escalations.escalations_of(session, signal)) == 2
        assert [e.kind for e in signal.events].count("escalated") == 2
        assert session.scalars(select(SignalEvent).where(SignalEvent.kind == "escalated")).all()
    assert len(smtp.to(FUNCTIONARY)) == 1 and len(smtp.to("bas.verhoeven@hilversum.example")) == 1


def test_an_answer_during_the_owners_absence_reaches_the_stand_in(app: Flask, smtp) -> None:
    from tests.factories import SANNE
    from tests.test_absences import record

    functionary_id = add_functionary(app)
    reference, _token = make_signal(app)
    anna = logged_in(app, ANNA)
    assert escalate(anna, app, reference, functionary_id).status_code == 303
    path = link_in(mails_to(smtp, FUNCTIONARY)[0])
    record(app, ANNA, SANNE)  # Anna goes on leave before the answer comes

    outsider = app.test_client()
    token = csrf_token(outsider, path)
    assert outsider.post(path, data={"csrf_token": token, "answer": ANSWER}).status_code == 303

    answered = [m for m in mails_to(smtp, SANNE) if "Antwoord van" in str(m["Subject"])]
    assert len(answered) == 1
    body = answered[0].get_body(("plain",)).get_content()
    assert "Beste Sanne Bakker," in body and "waarneemt voor Anna de Vries" in body
    assert not [m for m in mails_to(smtp, ANNA) if "Antwoord van" in str(m["Subject"])]


def test_the_inbox_marks_and_filters_waiting_and_late_escalations(app: Flask, smtp) -> None:
    functionary_id = add_functionary(app)
    waiting, _t = make_signal(app, title="Wacht op de functionaris")
    late, _t = make_signal(app, title="Functionaris te laat")
    answered, _t = make_signal(app, title="Al beantwoord")
    quiet, _t = make_signal(app, title="Nooit geëscaleerd")
    now = datetime.now(UTC)
    escalate_at(app, waiting, functionary_id, now=now, reply_by=today() + timedelta(days=5))
    escalate_at(
        app,
        late,
        functionary_id,
        now=now - timedelta(days=10),
        reply_by=today() - timedelta(days=2),
    )
    escalate_at(app, answered, functionary_id, now=now, reply_by=today() + timedelta(days=5))
    with db_session(app) as session:
        escalation = session.scalars(
            select(Escalation).join(Signal).where(Signal.reference == answered)
        ).one()
        escalation.answered_at, escalation.answer = now, "Geregeld."
        session.commit()
    anna = logged_in(app, ANNA)

    def listed(**args: str) -> set[str]:
        page = anna.get("/backoffice/signalen", query_string={"scope": "mine", **args}).text
        return {r for r in (waiting, late, answered, quiet) if r in page}

    assert listed(escalation_open="1") == {waiting, late}
    assert listed(escalation_overdue="1") == {late}
    html = anna.get("/backoffice/signalen?scope=mine").get_data(as_text=True)
    assert html.count("portal-mark-escalation") == 2
    page = visible(html)
    assert page.count("Escalatie te laat") == 1 and page.count("Geëscaleerd") == 1
