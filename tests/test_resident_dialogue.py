"""The resident's side of the conversation on the status page: answering the
accountmanager's question, adding information while the signal is open, the reminder for an
unanswered question, and the Reply-To every resident mail carries. Mail is read back from a
real SMTP server (aiosmtpd)."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from portal.domain import casework
from portal.domain.casework import Actor
from portal.domain.dialogue import reply_addresses
from portal.domain.dialogue.reminders import REMINDED, UNANSWERED, remind_unanswered
from portal.domain.working_days import add_working_days, end_of_working_days
from portal.extensions import db
from portal.models import Attachment, InboundMail, ReplyAddress, Signal, SignalEvent
from tests.conftest import csrf_token
from tests.factories import ANNA, SANNE, db_session, intake_settings, login, make_signal, user_id

QUESTION = "Om welk huisnummer gaat het?"
RESIDENT = "bewoner@example.nl"


def visible(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def jpeg(color: tuple[int, int, int] = (20, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "JPEG")
    return out.getvalue()


def signal_of(session, reference: str) -> Signal:
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def ask(app: Flask, reference: str, question: str = QUESTION, *, at: datetime | None = None):
    """Anna puts the signal on 'awaiting_resident' with a question, through casework."""
    anna = user_id(app, ANNA)
    with app.app_context():
        signal = signal_of(db.session, reference)
        casework.change_status(
            db.session,
            signal,
            "awaiting_resident",
            message=question,
            seen_version=signal.version,
            actor=Actor(anna, at or datetime.now(UTC)),
            mail=intake_settings(app).mail,
        )
        db.session.commit()


def post_message(client: FlaskClient, token: str, text: str, photos: list[tuple[bytes, str]] = ()):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, f"/status/{token}"),
        "message": text,
    }
    if photos:
        data["photos"] = [(io.BytesIO(content), name) for content, name in photos]
    return client.post(f"/status/{token}/bericht", data=data, content_type="multipart/form-data")


def events(app: Flask, reference: str) -> list[SignalEvent]:
    with db_session(app) as session:
        signal = signal_of(session, reference)
        found = list(signal.events)
        for event in found:
            session.expunge(event)
        return found


# --- answering a question ----------------------------------------------------------------


def test_the_question_is_at_the_top_of_the_status_page_with_an_answer_form(app, client, smtp):
    reference, token = make_signal(app)
    ask(app, reference)

    page = client.get(f"/status/{token}").get_data(as_text=True)
    text = visible(page)
    assert "Wij hebben een vraag aan u" in text
    assert text.index(QUESTION) < text.index("Over uw melding")
    assert "Bericht van Anna de Vries, Bureau Wijkzaken" in text
    assert f'action="/status/{token}/bericht"' in page
    assert "Verstuur antwoord" in text
    # No second form to add information while the question is open: one way to answer.
    assert "Iets toevoegen aan uw melding" not in text
    mail = smtp.to(RESIDENT)[-1]
    assert QUESTION in mail.get_body(("plain",)).get_content()


def test_an_answer_returns_the_signal_to_in_progress_and_reaches_the_owner(app, client, smtp):
    reference, token = make_signal(app)
    ask(app, reference)
    owner_mails = len(smtp.to(ANNA))

    answer = "Het gaat om nummer 12.\nDe glasbak staat voor de deur."
    response = post_message(client, token, answer, [(jpeg(), "glasbak.jpg")])

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/status/{token}#bericht-ontvangen")
    with db_session(app) as session:
        signal = signal_of(session, reference)
        assert signal.status == "in_progress"
        last = signal.events[-1]
        assert (last.kind, last.is_public, last.origin, last.author_id) == (
            "resident_answer",
            True,
            "status_page",
            None,
        )
        assert (last.from_status, last.to_status, last.message) == (
            "awaiting_resident",
            "in_progress",
            answer,
        )
        photos = session.scalars(select(Attachment).where(Attachment.event_id == last.id)).all()
        assert len(photos) == 1 and photos[0].signal_id == signal.id
    mails = smtp.to(ANNA)
    assert len(mails) == owner_mails + 1
    body = mails[-1].get_body(("plain",)).get_content()
    assert "Het gaat om nummer 12." in body and reference in body

    page = client.get(f"/status/{token}").get_data(as_text=True)
    text = visible(page)
    assert "Bedankt voor uw antwoord. Anna de Vries gaat verder met uw melding." in text
    assert "Wij hebben een vraag aan u" not in text
    assert "U heeft de vraag beantwoord. Nieuwe status: In behandeling" in text
    assert "Uw bericht, via deze pagina" in text
    # Paragraphs stay paragraphs, and the photo is shown with the message it came with.
    assert '<p class="utrecht-paragraph">De glasbak staat voor de deur.</p>' in page
    photo_url = re.search(rf'src="(/status/{token}/foto/\d+)"', page)
    assert photo_url and client.get(photo_url.group(1)).status_code == 200
    # The flash is shown once.
    assert "Bedankt voor uw antwoord" not in visible(client.get(f"/status/{token}").text)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("   ", "Schrijf uw bericht."),
        ("x" * 5001, "Uw bericht mag maximaal 5000 tekens lang zijn."),
    ],
    ids=["empty", "too-long"],
)
def test_a_refused_answer_keeps_what_was_typed_and_stores_nothing(app, client, typed, message):
    reference, token = make_signal(app)
    ask(app, reference)
    before = [(e.kind, e.message) for e in events(app, reference)]

    response = post_message(client, token, typed)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in visible(page)
    assert 'href="#message"' in page  # the error summary links to the field
    if typed.strip():
        assert typed in page
    assert [(e.kind, e.message) for e in events(app, reference)] == before


def test_a_refused_photo_keeps_the_text_and_stores_nothing(app, client):
    reference, token = make_signal(app)
    ask(app, reference)

    response = post_message(
        client, token, "Nummer 12.", [(jpeg(), "goed.jpg"), (b"GIF89a not really", "slecht.gif")]
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "slecht.gif is geen foto in JPG, PNG of WebP." in visible(page)
    assert "Nummer 12." in page
    # As on the form: a batch with a refused file stores none of its files.
    assert 'name="kept_photos"' not in page
    with db_session(app) as session:
        assert signal_of(session, reference).status == "awaiting_resident"


def test_at_most_three_photos_with_one_message(app, client):
    reference, token = make_signal(app)
    ask(app, reference)
    response = post_message(
        client, token, "Vier foto's.", [(jpeg((i * 40, 0, 0)), f"foto{i}.jpg") for i in range(4)]
    )
    assert response.status_code == 422
    assert "U kunt maximaal 3 foto's meesturen." in visible(response.get_data(as_text=True))


# --- adding information ------------------------------------------------------------------


def test_information_can_be_added_while_open_and_the_owner_hears_of_it(app, client, smtp):
    reference, token = make_signal(app)
    page = visible(client.get(f"/status/{token}").get_data(as_text=True))
    assert "Iets toevoegen aan uw melding" in page
    owner_mails = len(smtp.to(ANNA))

    response = post_message(client, token, "Er ligt nu ook een kapotte stoel.")

    assert response.status_code == 303
    with db_session(app) as session:
        signal = signal_of(session, reference)
        assert signal.status == "received"  # only an answer changes the status
        last = signal.events[-1]
        assert (last.kind, last.is_public, last.origin) == ("resident_message", True, "status_page")
    assert len(smtp.to(ANNA)) == owner_mails + 1
    text = visible(client.get(f"/status/{token}").get_data(as_text=True))
    assert "Bedankt. Uw bericht is toegevoegd aan uw melding. Anna de Vries leest het." in text


def test_a_closed_signal_takes_no_message_but_keeps_what_was_typed(app, client):
    reference, token = make_signal(app)
    anna = user_id(app, ANNA)
    with app.app_context():
        signal = signal_of(db.session, reference)
        casework.change_status(
            db.session,
            signal,
            "resolved",
            message="De glasbak is geleegd.",
            seen_version=signal.version,
            actor=Actor(anna, datetime.now(UTC)),
            mail=intake_settings(app).mail,
        )
        db.session.commit()
    page = visible(client.get(f"/status/{token}").get_data(as_text=True))
    assert "Iets toevoegen aan uw melding" not in page

    # A page loaded while it was still open, sent after closing.
    token_value = csrf_token(client, f"/status/{token}")
    response = client.post(
        f"/status/{token}/bericht", data={"csrf_token": token_value, "message": "Nog iets."}
    )
    assert response.status_code == 409
    assert "Uw melding is afgehandeld. U kunt hier geen bericht meer sturen." in visible(
        response.get_data(as_text=True)
    )
    assert "Nog iets." in response.get_data(as_text=True)
    assert events(app, reference)[-1].kind == "status_changed"


def test_an_unknown_status_link_cannot_post(client):
    response = client.post("/status/not-a-real-token-at-all/bericht", data={"message": "Hoi"})
    assert response.status_code in (400, 404)


def test_an_expired_form_shows_the_page_again_with_the_typed_text(app, client):
    reference, token = make_signal(app)
    ask(app, reference)
    client.get(f"/status/{token}")
    response = client.post(
        f"/status/{token}/bericht", data={"csrf_token": "verlopen", "message": "Nummer 12."}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Uw formulier is verlopen." in visible(page)
    assert "Nummer 12." in page
    assert QUESTION in visible(page)
    assert events(app, reference)[-1].kind == "status_changed"


def test_too_many_messages_are_refused_with_the_text_kept(app_config, smtp):
    from portal import create_app

    app = create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "RESIDENT_MESSAGE_RATE_LIMIT": "2 per hour"}
    )
    client = app.test_client()
    reference, token = make_signal(app)
    assert post_message(client, token, "Eerste aanvulling.").status_code == 303
    assert post_message(client, token, "Tweede aanvulling.").status_code == 303
    response = post_message(client, token, "Derde aanvulling.")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "U heeft in korte tijd veel berichten verstuurd." in visible(page)
    assert "Derde aanvulling." in page
    messages = [e.message for e in events(app, reference) if e.kind == "resident_message"]
    assert messages == ["Eerste aanvulling.", "Tweede aanvulling."]


# --- the reminder --------------------------------------------------------------------------


def run_reminders(app: Flask, now: datetime):  # type: ignore[no-untyped-def]
    with app.app_context():
        report = remind_unanswered(
            db.session,
            now=now,
            working_days=app.config["QUESTION_REMINDER_WORKING_DAYS"],
            mail=intake_settings(app).mail,
        )
        db.session.commit()
        return report


def test_an_unanswered_question_gets_one_reminder_then_a_note_for_the_owner(app, smtp):
    # Asked on Thursday 24 December 2026: Christmas (25, 26), the weekend and New Year's Day
    # do not count, so the fifth working day is Monday 4 January 2027.
    asked = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    reference, _token = make_signal(app)
    ask(app, reference, at=asked)
    due = end_of_working_days(asked, 5)
    assert due.date() == add_working_days(asked.date(), 5) + timedelta(days=1)
    assert add_working_days(asked.date(), 5) == datetime(2027, 1, 4).date()
    mails = len(smtp.to(RESIDENT))

    assert run_reminders(app, due - timedelta(minutes=1)).reminded == 0
    report = run_reminders(app, due)
    assert (report.reminded, report.noted) == (1, 0)
    reminder = smtp.to(RESIDENT)[-1]
    assert len(smtp.to(RESIDENT)) == mails + 1
    assert QUESTION in reminder.get_body(("plain",)).get_content()
    assert reminder["Reply-To"]  # the reminder can be answered by mail, too
    # Running again sends nothing new.
    assert run_reminders(app, due + timedelta(hours=3)).reminded == 0
    assert len(smtp.to(RESIDENT)) == mails + 1

    kinds = [e.kind for e in events(app, reference)]
    assert kinds.count(REMINDED) == 1 and UNANSWERED not in kinds
    reminded = next(e for e in events(app, reference) if e.kind == REMINDED)
    assert not reminded.is_public

    second_due = end_of_working_days(due, 5)
    assert run_reminders(app, second_due - timedelta(minutes=1)).noted == 0
    assert run_reminders(app, second_due).noted == 1
    assert run_reminders(app, second_due + timedelta(days=30)).noted == 0
    note = events(app, reference)[-1]
    assert (note.kind, note.is_public) == (UNANSWERED, False)
    assert len(smtp.to(RESIDENT)) == mails + 1  # never a second reminder
    with db_session(app) as session:
        assert signal_of(session, reference).status == "awaiting_resident"  # the owner decides


def test_an_answered_question_gets_no_reminder(app, client, smtp):
    asked = datetime.now(UTC) - timedelta(days=30)
    reference, token = make_signal(app)
    ask(app, reference, at=asked)
    assert post_message(client, token, "Nummer 12.").status_code == 303
    assert run_reminders(app, datetime.now(UTC)).reminded == 0


def test_without_an_address_the_owner_is_told_at_once(app, smtp):
    asked = datetime.now(UTC) - timedelta(days=30)
    reference, _token = make_signal(app, email=None, phone="035 123 45 67")
    ask(app, reference, at=asked)
    report = run_reminders(app, datetime.now(UTC))
    assert (report.reminded, report.noted) == (0, 1)
    assert events(app, reference)[-1].kind == UNANSWERED


def test_the_reminder_job_runs_from_the_command_line(app, runner, smtp):
    reference, _token = make_signal(app)
    ask(app, reference, at=datetime.now(UTC) - timedelta(days=30))
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "question-reminders: 1 reminder(s) sent" in result.output
    assert events(app, reference)[-1].kind == REMINDED


# --- Reply-To ------------------------------------------------------------------------------

REPLY_TO = re.compile(r"wijkzaken\+([a-z0-9]{20})@hilversum\.example")


def test_every_resident_mail_carries_the_signal_reply_address_and_staff_mail_none(app, smtp):
    reference, _token = make_signal(app)
    ask(app, reference)
    _other, _ = make_signal(app, email="buurvrouw@example.nl")

    mine = smtp.to(RESIDENT)
    assert len(mine) == 2  # confirmation and the question
    ids = {REPLY_TO.fullmatch(str(m["Reply-To"])).group(1) for m in mine}  # type: ignore[union-attr]
    assert len(ids) == 1
    theirs = REPLY_TO.fullmatch(str(smtp.to("buurvrouw@example.nl")[0]["Reply-To"]))
    assert theirs is not None and theirs.group(1) not in ids
    # The reply id is not the status token and opens nothing.
    reply_id = ids.pop()
    assert client_status(app, reply_id) == 404
    assert all(m["Reply-To"] is None for m in smtp.to(ANNA))
    with db_session(app) as session:
        address = session.scalars(
            select(ReplyAddress).where(ReplyAddress.reply_id == reply_id)
        ).one()
        assert address.signal_id == signal_of(session, reference).id


def client_status(app: Flask, token: str) -> int:
    return app.test_client().get(f"/status/{token}").status_code


def test_without_a_reply_address_configured_mail_has_no_reply_to(app_config, smtp):
    from portal import create_app

    app = create_app({**app_config, "REPLY_TO_ADDRESS": ""})
    make_signal(app)
    assert smtp.to(RESIDENT)[-1]["Reply-To"] is None


def test_the_owner_can_revoke_the_reply_address_and_others_cannot(app, smtp):
    reference, _token = make_signal(app)
    first = REPLY_TO.search(str(smtp.to(RESIDENT)[-1]["Reply-To"])).group(1)  # type: ignore[union-attr]
    page = f"/backoffice/signalen/{reference}"

    sanne = login(app.test_client(), SANNE)  # accountmanager of another wijk, not the owner
    token = csrf_token(sanne, page)
    assert f"wijkzaken+{first}" not in sanne.get(page).get_data(as_text=True)
    assert (
        sanne.post(f"{page}/antwoordadres-intrekken", data={"csrf_token": token}).status_code == 403
    )

    anna = login(app.test_client(), ANNA)
    assert f"wijkzaken+{first}@hilversum.example" in anna.get(page).get_data(as_text=True)
    response = anna.post(
        f"{page}/antwoordadres-intrekken", data={"csrf_token": csrf_token(anna, page)}
    )
    assert response.status_code == 303
    with db_session(app) as session:
        assert reply_addresses.find(session, first).revoked_at is not None  # type: ignore[union-attr]
    ask(app, reference)
    second = REPLY_TO.search(str(smtp.to(RESIDENT)[-1]["Reply-To"])).group(1)  # type: ignore[union-attr]
    assert second != first


def test_reply_ids_are_read_back_from_addresses_case_insensitively():
    template = "wijkzaken+{reply_id}@hilversum.nl"
    reply_id = reply_addresses.new_reply_id()
    address = reply_addresses.format_address(template, reply_id)
    assert reply_addresses.reply_id_from(address, template) == reply_id
    assert reply_addresses.reply_id_from(f"<{address.upper()}>", template) == reply_id
    assert reply_addresses.reply_id_from("wijkzaken@hilversum.nl", template) is None
    assert reply_addresses.reply_id_from(f"wijkzaken+{reply_id}@elders.nl", template) is None
    assert reply_addresses.reply_id_from(address, "wijkzaken@hilversum.nl") is None
    assert InboundMail.__tablename__  # the model the endpoint stores into exists
