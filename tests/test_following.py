"""'Dit is mijn melding ook': following someone else's signal (portal/domain/following.py and
portal/public/follow_views.py) - the page reached from the form, the link shown once, mail
over real SMTP at every new status with a one-click unsubscribe (RFC 8058), and never the
reporter's data or the messages to them. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.domain import following
from portal.domain.tokens import LINK_DAYS_AFTER_CLOSING
from portal.models import OutboxMessage, Signal, SignalFollower
from tests.factories import ANNA, KERKELANDEN, db_session
from tests.fixtures.mailserver import SMTPServer
from tests.test_backoffice_signal import logged_in, post_action
from tests.test_nearby import PIN, close, mark_sensitive, signal_at
from tests.test_report_form import open_form

FOLLOWER = "buurvrouw@example.nl"
FOLLOW_LINK = re.compile(r"http://portal\.test/volgen/[A-Za-z0-9_-]{40,}")
TYPED = "Bij de speeltuin liggen de tegels los, mijn zoon is er gevallen."
STAFF_MESSAGE = "Beste Jan, wij hebben de stoep laten herstellen. Groet, Anna."


def from_the_form(client: FlaskClient, **fields: object) -> dict[str, object]:
    """What the report form posts when "Dit is mijn melding ook" is pressed."""
    token, key = open_form(client)
    return {
        "csrf_token": token,
        "submission_key": key,
        "kind": "knelpunt",
        "themes": ["heel", "veilig"],
        "description": TYPED,
        "buurt": KERKELANDEN,
        "name": "Karin de Wit",
        "email": FOLLOWER,
        **fields,
    }


def follow(client: FlaskClient, reference: str, email: str | None = FOLLOWER) -> str:
    """Follows ``reference`` the way a resident does; returns the follow link shown."""
    data = from_the_form(client, email=email or "", volg="ja")
    response = client.post(f"/melden/volgen/{reference}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"] == "/melden/volgen/bedankt"
    page = client.get("/melden/volgen/bedankt").get_data(as_text=True)
    link = FOLLOW_LINK.search(page)
    assert link, page
    return link.group(0)


def mails_to(smtp: SMTPServer, address: str, count: int) -> list[EmailMessage]:
    smtp.wait_for(len(smtp.messages) + 1, timeout=0.5)
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while len(smtp.to(address)) < count and datetime.now(UTC) < deadline:
        smtp.wait_for(len(smtp.messages) + 1, timeout=0.1)
    return smtp.to(address)


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def path(link: str) -> str:
    return link.removeprefix("http://portal.test")


def rows(app: Flask, reference: str) -> list[SignalFollower]:
    with db_session(app) as session:
        signal_id = session.scalar(select(Signal.id).where(Signal.reference == reference))
        return list(
            session.scalars(select(SignalFollower).where(SignalFollower.signal_id == signal_id))
        )


# --- from the form to a follow link ----------------------------------------------------------


def test_the_follow_page_fills_in_the_email_and_carries_the_form(app: Flask, client) -> None:
    reference = signal_at(app, PIN, title="Losse tegels bij de speeltuin", name="Jan Jansen")
    response = client.post(f"/melden/volgen/{reference}", data=from_the_form(client))
    assert response.status_code == 200
    text = html.unescape(response.get_data(as_text=True))
    assert '<h1 class="utrecht-heading-1">Deze melding volgen</h1>' in text
    assert "Losse tegels bij de speeltuin" in text and reference in text
    assert "Wijk Zuidwest, buurt Kerkelanden" in text
    assert f'value="{FOLLOWER}"' in text  # typed on the form, filled in here
    assert "Er ging iets mis" not in text  # arriving is not submitting
    # The followed signal's own words and reporter stay hidden.
    assert "Geheime details" not in text and "Jan Jansen" not in text
    # What the resident typed travels along for "Terug naar het formulier".
    assert f'<input type="hidden" name="description" value="{TYPED}">' in text
    assert '<input type="hidden" name="themes" value="veilig">' in text
    assert 'name="stap" value="in-de-buurt"' in text
    assert rows(app, reference) == []


def test_back_to_the_form_keeps_what_was_typed(app: Flask, client) -> None:
    reference = signal_at(app, PIN, title="Losse tegels")
    page = client.post(f"/melden/volgen/{reference}", data=from_the_form(client))
    text = html.unescape(page.get_data(as_text=True))
    data: dict[str, list[str]] = {}
    for tag in re.findall(r'<input[^>]*type="hidden"[^>]*>', text):
        name = re.search(r'name="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
        value = re.search(r'value="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
        data.setdefault(name, []).append(value)
    assert "csrf_token" in data and "submission_key" in data
    data |= {"email": ["nieuw@example.nl"], "stap": ["in-de-buurt"]}
    back = client.post("/melden", data=data)
    assert back.status_code == 200
    form = html.unescape(back.get_data(as_text=True))
    assert TYPED in form and 'value="nieuw@example.nl"' in form
    assert "Losse tegels" in form  # the list again, by the buurt that came back
    assert "Er ging iets mis" not in form


def test_following_with_an_email_shows_the_link_once_and_mails_it(
    app: Flask, client, smtp: SMTPServer
) -> None:
    reference = signal_at(app, PIN, title="Losse tegels bij de speeltuin")
    link = follow(client, reference)
    again = client.get("/melden/volgen/bedankt").get_data(as_text=True)
    assert reference in again and not FOLLOW_LINK.search(again)
    [mail] = mails_to(smtp, FOLLOWER, 1)
    assert mail["Subject"] == f"U volgt melding {reference}"
    body = text_of(mail)
    assert link in body and "Losse tegels bij de speeltuin" in body
    unsubscribe = f"{link}/afmelden"
    assert mail["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in body
    for private in ("Geheime details", "Jan Jansen", "melder@example.nl", TYPED):
        assert private not in body
    [row] = rows(app, reference)
    assert row.email == FOLLOWER and row.token_hash != path(link).rsplit("/", 1)[1]
    page = client.get(path(link))
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "Losse tegels bij de speeltuin" in text and "Ontvangen" in text
    assert "Geheime details" not in text and "Jan Jansen" not in text


def test_following_without_an_email_sends_nothing(app: Flask, client, smtp: SMTPServer) -> None:
    reference = signal_at(app, PIN, title="Losse tegels")
    before = len(smtp.wait_for(1))
    link = follow(client, reference, email=None)
    text = client.get(path(link)).get_data(as_text=True)
    assert "Losse tegels" in text
    assert len(smtp.wait_for(before + 1, timeout=0.5)) == before
    [row] = rows(app, reference)
    assert row.email is None


def test_a_wrong_email_is_refused_and_nothing_stored(app: Flask, client) -> None:
    reference = signal_at(app, PIN, title="Losse tegels")
    data = from_the_form(client, email="geen-adres", volg="ja")
    response = client.post(f"/melden/volgen/{reference}", data=data)
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert "Er ging iets mis" in text
    assert "Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl." in text
    assert f'<input type="hidden" name="description" value="{TYPED}">' in text
    assert rows(app, reference) == []


def test_sensitive_closed_and_unknown_signals_cannot_be_followed(app: Flask, client) -> None:
    hidden = signal_at(app, PIN, title="Jongeren bij het bankje")
    closed = signal_at(app, PIN, title="Al opgelost")
    mark_sensitive(app, hidden)
    close(app, closed)
    for reference in (hidden, closed, "HLV-2026-999999", "x" * 40):
        response = client.post(f"/melden/volgen/{reference}", data=from_the_form(client, volg="ja"))
        assert response.status_code == 404
        text = html.unescape(response.get_data(as_text=True))
        assert "Deze melding kunt u niet (meer) volgen." in text
        assert "Jongeren" not in text
        # Going back to the form keeps what was typed here too.
        assert f'<input type="hidden" name="description" value="{TYPED}">' in text
        assert f'<input type="hidden" name="email" value="{FOLLOWER}">' in text
    with db_session(app) as session:
        assert session.scalar(select(func.count(SignalFollower.id))) == 0


def test_following_needs_the_csrf_token(app: Flask, client) -> None:
    reference = signal_at(app, PIN, title="Losse tegels")
    data = from_the_form(client, volg="ja")
    del data["csrf_token"]
    assert client.post(f"/melden/volgen/{reference}", data=data).status_code == 400
    assert rows(app, reference) == []


# --- status mail -----------------------------------------------------------------------------


def test_a_new_status_mails_followers_without_the_message(
    app: Flask, client, smtp: SMTPServer
) -> None:
    reference = signal_at(app, PIN, title="Losse tegels bij de speeltuin")
    first_link = follow(client, reference)
    follow(app.test_client(), reference, email="overbuurman@example.nl")
    mails_to(smtp, FOLLOWER, 1)
    anna = logged_in(app, ANNA)
    response = post_action(
        anna, app, reference, "status", {"status": "resolved", "message": STAFF_MESSAGE}
    )
    assert response.status_code == 303
    mails = mails_to(smtp, FOLLOWER, 2)
    assert len(mails) == 2
    mail = mails[-1]
    assert mail["Subject"] == f"Melding {reference} heeft een nieuwe status: Afgehandeld"
    body = text_of(mail)
    assert (
        "De melding ‘Losse tegels bij de speeltuin’ heeft een nieuwe status: Afgehandeld." in body
    )
    assert STAFF_MESSAGE not in body and "Jan" not in body and "Geheime details" not in body
    html_part = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert STAFF_MESSAGE not in html_part
    new_link = FOLLOW_LINK.search(body)
    assert new_link and new_link.group(0) != first_link
    assert mail["List-Unsubscribe"] == f"<{new_link.group(0)}/afmelden>"
    # Both links work; the page shows the step, with dates and statuses only.
    for link in (first_link, new_link.group(0)):
        page = client.get(path(link)).get_data(as_text=True)
        assert "Nieuwe status: Afgehandeld" in page and STAFF_MESSAGE not in page
        assert "De melding ontvangen" not in page and "De melding is ontvangen." in page
    assert len(mails_to(smtp, "overbuurman@example.nl", 2)) == 2
    # The reporter's own mail is as before, with the message.
    reporter = smtp.to("melder@example.nl")
    assert any(STAFF_MESSAGE in text_of(m) for m in reporter)
    with db_session(app) as session:
        kept = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "follow_status")
        ).all()
        assert len(kept) == 2
        assert all(m.list_unsubscribe is None for m in kept)  # dropped once sent
        # The copy kept of a sent mail opens nothing: its follow links are redacted.
        for message in kept:
            assert not FOLLOW_LINK.search(message.body_text)
            assert not FOLLOW_LINK.search(message.body_html or "")
            assert "/volgen/[verwijderd]" in message.body_text


def test_one_address_gets_one_mail_and_keeps_only_the_newest_links(
    app: Flask, client, smtp: SMTPServer
) -> None:
    reference = signal_at(app, PIN, title="Losse tegels")
    follow(client, reference)
    follow(client, reference, email=FOLLOWER.upper())  # the same person, twice
    mails_to(smtp, FOLLOWER, 2)
    anna = logged_in(app, ANNA)
    moves = ["in_progress", "planned"] * ((following.MAX_LINKS_PER_ADDRESS + 1) // 2)
    for status in moves:
        assert post_action(anna, app, reference, "status", {"status": status}).status_code == 303
    mails = mails_to(smtp, FOLLOWER, 2 + len(moves))
    assert len(mails) == 2 + len(moves)  # one per change, not two
    assert len(rows(app, reference)) == following.MAX_LINKS_PER_ADDRESS
    newest = FOLLOW_LINK.search(text_of(mails[-1]))
    assert newest and client.get(path(newest.group(0))).status_code == 200


# --- stopping --------------------------------------------------------------------------------


def test_one_click_unsubscribe_from_a_mail_program(app: Flask, client, smtp: SMTPServer) -> None:
    reference = signal_at(app, PIN, title="Losse tegels")
    follow(client, reference)
    [mail] = mails_to(smtp, FOLLOWER, 1)
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    # A scanner or a person opening the link stops nothing: the page has a button.
    page = client.get(path(unsubscribe))
    assert page.status_code == 200
    assert ">Stop met volgen</button>" in page.get_data(as_text=True)
    assert rows(app, reference)[0].unsubscribed_at is None
    # The mail program: a POST without any session or CSRF token (RFC 8058).
    mail_program = app.test_client()
    response = mail_program.post(path(unsubscribe), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "U volgt deze melding niet meer" in response.get_data(as_text=True)
    assert (
        mail_program.post(path(unsubscribe), data={"List-Unsubscribe": "One-Click"}).status_code
        == 200
    )
    [row] = rows(app, reference)
    assert row.unsubscribed_at is not None and row.email is None  # the address is forgotten
    anna = logged_in(app, ANNA)
    assert post_action(anna, app, reference, "status", {"status": "in_progress"}).status_code == 303
    assert len(mails_to(smtp, FOLLOWER, 2)) == 1
    assert "U volgt deze melding niet meer" in client.get(path(unsubscribe)).get_data(as_text=True)


def test_stop_following_on_the_follow_page_needs_the_csrf_token(
    app: Flask, client, smtp: SMTPServer
) -> None:
    reference = signal_at(app, PIN, title="Losse tegels")
    link = follow(client, reference)
    assert client.post(f"{path(link)}/stoppen").status_code == 400
    assert rows(app, reference)[0].unsubscribed_at is None
    page = client.get(path(link)).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(f"{path(link)}/stoppen", data={"csrf_token": token})
    assert response.status_code == 303
    stopped = client.get(path(link)).get_data(as_text=True)
    assert "U volgt deze melding niet meer" in stopped and "Losse tegels" not in stopped
    assert rows(app, reference)[0].email is None


def test_a_signal_that_turns_sensitive_is_no_longer_shown_or_mailed(
    app: Flask, client, smtp: SMTPServer
) -> None:
    reference = signal_at(app, PIN, title="Jongeren bij het bankje")
    link = follow(client, reference)
    mails_to(smtp, FOLLOWER, 1)
    mark_sensitive(app, reference)
    page = client.get(path(link))
    assert page.status_code == 404
    assert "Jongeren" not in page.get_data(as_text=True)
    anna = logged_in(app, ANNA)
    assert post_action(anna, app, reference, "status", {"status": "in_progress"}).status_code == 303
    assert len(mails_to(smtp, FOLLOWER, 2)) == 1
    # Stopping still works.
    one_click = app.test_client().post(f"{path(link)}/afmelden")
    assert one_click.status_code == 200


def test_links_expire_and_are_forgotten_after_closing(app: Flask, client, smtp: SMTPServer) -> None:
    reference = signal_at(app, PIN, title="Losse tegels")
    link = follow(client, reference)
    close(app, reference)
    page = client.get(path(link)).get_data(as_text=True)
    assert "Deze link werkt tot en met" in page
    now = datetime.now(UTC)
    with db_session(app) as session:
        assert following.forget_followers(session, now) == 0
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        signal.closed_at = now - timedelta(days=LINK_DAYS_AFTER_CLOSING, hours=1)
        session.commit()
    assert client.get(path(link)).status_code == 404
    with db_session(app) as session:
        # The link shown and the one in the mail that said "Afgehandeld".
        assert following.forget_followers(session, now) == 2
        session.commit()
    assert rows(app, reference) == []


def test_unknown_follow_links(app: Flask, client) -> None:
    for url in ("/volgen/onbekend", "/volgen/" + "a" * 200, "/volgen/onbekend/afmelden"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Met deze link kunnen we geen melding vinden." in response.get_data(as_text=True)
    assert app.test_client().post("/volgen/onbekend/afmelden").status_code == 404


def test_the_reporters_answer_moves_the_status_and_followers_hear_it(
    app: Flask, client, smtp: SMTPServer
) -> None:
    """Answering a question puts the signal back in progress without a staff action: the
    followers get that step too (and never the answer itself)."""
    from tests.factories import make_signal
    from tests.test_resident_dialogue import ask, post_message

    reference, token = make_signal(app)
    follow(client, reference)
    ask(app, reference)
    assert len(mails_to(smtp, FOLLOWER, 2)) == 2  # started, then "Wacht op reactie ..."
    response = post_message(app.test_client(), token, "Het is bij nummer 12, naast de bank.")
    assert response.status_code == 303
    mails = mails_to(smtp, FOLLOWER, 3)
    assert len(mails) == 3
    assert mails[-1]["Subject"] == f"Melding {reference} heeft een nieuwe status: In behandeling"
    assert "nummer 12" not in text_of(mails[-1])


def test_a_title_with_markup_arrives_as_text_in_the_follow_mails(
    app: Flask, client, smtp: SMTPServer
) -> None:
    """Anyone can type a signal's title: in the HTML part of a follower's mail it is text,
    never a link or tag in a mail sent under the municipality's name."""
    reference = signal_at(app, PIN, title='<a href="http://evil.example">klik</a>')
    follow(client, reference)
    [mail] = mails_to(smtp, FOLLOWER, 1)
    html_part = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert '<a href="http://evil.example">' not in html_part
    assert "&lt;a href=" in html_part
    assert '<a href="http://evil.example">klik</a>' in text_of(mail)  # plain text stays as typed


def test_staff_never_see_a_followers_address_and_it_is_gone_after_stopping(
    app: Flask, client, smtp: SMTPServer
) -> None:
    reference = signal_at(app, PIN, title="Losse tegels")
    follow(client, reference)
    [mail] = mails_to(smtp, FOLLOWER, 1)
    anna = logged_in(app, ANNA)
    page = anna.get(f"/backoffice/signalen/{reference}").get_data(as_text=True)
    assert FOLLOWER not in page and "Een volger" in page
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    assert app.test_client().post(path(unsubscribe)).status_code == 200
    with db_session(app) as session:
        kept = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose.startswith("follow_"))
        ).all()
        assert kept and all(m.recipient != FOLLOWER for m in kept)
        assert (
            session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.recipient == FOLLOWER)
            )
            == 0
        )
