"""Email alerts per wijk over real SMTP: double opt-in (opening the link never confirms, the
button does), one-click unsubscribe (RFC 8058, without a CSRF token) and by the page, and
the weekly job: once, with the wijk's news and newly handled public signals, never to
unconfirmed or unsubscribed addresses, never with anyone's personal data. SQLite and
PostgreSQL."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.domain import alerts, sensitive, wijk_news
from portal.domain.tokens import hash_token
from portal.extensions import db
from portal.models import AuditRecord, OutboxMessage, Signal, User, WijkAlert
from portal.vocabulary import Status, Theme
from tests.conftest import csrf_token
from tests.factories import ANNA, db_session, make_signal
from tests.fixtures.mailserver import SMTPServer
from tests.test_backoffice_inbox import actor, move
from tests.test_wijk_news import ZUIDWEST, anna_posts, visible

CENTRUM = "WK040201"
RESIDENT = "buurvrouw@voorbeeld.nl"
SAME_ANSWER = "Als het adres klopt, krijgt u een e-mail om uw aanmelding te bevestigen."
LINK = re.compile(r"http://portal\.test/attendering/(bevestigen|afmelden)/[A-Za-z0-9_-]+")


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    # Due at once: the job's "at least a week since the last mail" is tested on its own.
    return {**app_config, "ALERT_INTERVAL_DAYS": 0}


def subscribe(client: FlaskClient, email: str, wijk: str = ZUIDWEST):  # type: ignore[no-untyped-def]
    page = f"/wijken/{wijk}/attendering"
    return client.post(page, data={"csrf_token": csrf_token(client, page), "email": email})


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


def link(message: EmailMessage, kind: str) -> str:
    found = [m.group(0) for m in LINK.finditer(text_of(message)) if m.group(1) == kind]
    assert found, f"no {kind} link in:\n{text_of(message)}"
    return found[0]


def path(url: str) -> str:
    return url.removeprefix("http://portal.test")


def alert_row(app: Flask, email: str = RESIDENT, wijk: str = ZUIDWEST) -> WijkAlert | None:
    with db_session(app) as session:
        return session.scalars(
            select(WijkAlert).where(WijkAlert.email == email, WijkAlert.wijk_code == wijk)
        ).first()


def new_mail_to(smtp: SMTPServer, address: str, seen: int) -> EmailMessage:
    """The first mail to ``address`` after the ``seen`` it had, waiting a little for it."""
    deadline = time.monotonic() + 10
    while len(smtp.to(address)) <= seen and time.monotonic() < deadline:
        smtp.wait_for(len(smtp.messages) + 1, timeout=0.1)
    return smtp.to(address)[seen]


def confirmed_subscriber(
    app: Flask, smtp: SMTPServer, email: str = RESIDENT, wijk: str = ZUIDWEST
) -> str:
    """Subscribes and confirms like a person; returns the confirmation link."""
    client = app.test_client()
    seen = len(smtp.to(email))
    assert subscribe(client, email, wijk).status_code == 303
    confirm = link(new_mail_to(smtp, email, seen), "bevestigen")
    token = csrf_token(client, path(confirm))
    assert client.post(path(confirm), data={"csrf_token": token}).status_code == 303
    return confirm


def weekly_mails(smtp: SMTPServer, count: int, timeout: float = 10) -> list[EmailMessage]:
    """The weekly alert mails received, waiting up to ``timeout`` for ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in smtp.messages if str(m["Subject"]).startswith("Nieuws uit wijk")]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        smtp.wait_for(len(smtp.messages) + 1, timeout=0.1)


def run_jobs(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("wijk-alerts:")]
    return line


# --- double opt-in ----------------------------------------------------------------------------


def test_subscribing_sends_a_link_whose_get_does_not_confirm_and_whose_button_does(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    response = subscribe(client, "  Buurvrouw@Voorbeeld.nl ")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/wijken/{ZUIDWEST}/attendering/verstuurd")
    assert SAME_ANSWER in visible(client.get(response.headers["Location"]).get_data(as_text=True))

    [mail] = smtp.wait_for(1)
    assert mail["To"] == RESIDENT  # stored and mailed as one address, in lower case
    assert mail["Subject"] == "Bevestig uw aanmelding voor het nieuws uit wijk Zuidwest"
    confirm = link(mail, "bevestigen")
    assert confirm in html_of(mail)
    assert mail["List-Unsubscribe"] is None  # not a mailing yet: nothing to unsubscribe from

    # A mail scanner (or a person) opening the link: a page with a button, nothing confirmed.
    for _ in range(2):
        opened = client.get(path(confirm))
        assert opened.status_code == 200
        assert "no-store" in opened.headers["Cache-Control"]
        assert "Bevestig mijn aanmelding" in visible(opened.get_data(as_text=True))
    assert alert_row(app).confirmed_at is None  # type: ignore[union-attr]

    token = csrf_token(client, path(confirm))
    pressed = client.post(path(confirm), data={"csrf_token": token})
    assert pressed.status_code == 303
    assert alert_row(app).confirmed_at is not None  # type: ignore[union-attr]
    done = visible(client.get(path(confirm)).get_data(as_text=True))
    assert "U krijgt voortaan het nieuws uit wijk Zuidwest per e-mail." in done
    with db_session(app) as session:
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.action.like("wijk_alert.%"))
        )
        assert list(actions) == ["wijk_alert.confirmed"]
        details = session.scalars(select(AuditRecord.details)).all()
        assert RESIDENT not in repr(details)  # consent recorded without the address


def test_the_confirm_button_needs_a_csrf_token(app, client, smtp) -> None:
    assert subscribe(client, RESIDENT).status_code == 303
    confirm = link(smtp.wait_for(1)[0], "bevestigen")
    assert client.post(path(confirm)).status_code == 400
    assert alert_row(app).confirmed_at is None  # type: ignore[union-attr]


def test_the_same_answer_whoever_subscribes_and_no_second_mail_when_confirmed(app, smtp) -> None:
    confirmed_subscriber(app, smtp)
    assert len(smtp.to(RESIDENT)) == 1
    client = app.test_client()
    again = subscribe(client, RESIDENT)
    stranger = subscribe(client, "nieuw@voorbeeld.nl")
    assert again.status_code == stranger.status_code == 303
    assert again.headers["Location"] == stranger.headers["Location"]
    smtp.wait_for(2)
    assert len(smtp.to(RESIDENT)) == 1  # subscribed already: nothing new
    assert len(smtp.to("nieuw@voorbeeld.nl")) == 1


def test_asking_again_before_confirming_sends_the_same_working_link(app, client, smtp) -> None:
    subscribe(client, RESIDENT)
    subscribe(client, RESIDENT)
    first, second = smtp.wait_for(2)
    assert link(first, "bevestigen") == link(second, "bevestigen")


def test_a_wrong_address_is_explained_on_the_form(app, client, smtp) -> None:
    response = subscribe(client, "buurvrouw@")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<title>Fout: " in html
    assert "Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl." in visible(html)
    assert 'value="buurvrouw@"' in html
    empty = subscribe(client, "")
    assert "Vul uw e-mailadres in." in visible(empty.get_data(as_text=True))
    assert alert_row(app, "buurvrouw@") is None and smtp.messages == []


def test_subscribing_is_rate_limited(app_config, smtp) -> None:
    from portal import create_app

    limited = create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "STATUS_LOOKUP_RATE_LIMIT": "2 per hour"}
    )
    client = limited.test_client()
    assert subscribe(client, "een@voorbeeld.nl").status_code == 303
    assert subscribe(client, "twee@voorbeeld.nl").status_code == 303
    assert subscribe(client, "drie@voorbeeld.nl").status_code == 429
    assert alert_row(limited, "drie@voorbeeld.nl") is None


def test_an_unknown_or_expired_link_shows_what_to_do(app, client, smtp) -> None:
    missing = client.get("/attendering/bevestigen/" + "x" * 43)
    assert missing.status_code == 404
    assert "Meld u dan opnieuw aan" in visible(missing.get_data(as_text=True))
    assert client.post("/attendering/afmelden/" + "x" * 43).status_code == 404

    subscribe(client, RESIDENT)
    confirm = link(smtp.wait_for(1)[0], "bevestigen")
    later = datetime.now(UTC) + timedelta(days=alerts.CONFIRM_DAYS + 1)
    with app.app_context():
        alert = alerts.alert_for_token(db.session, confirm.rsplit("/", 1)[1])
        assert alert is not None and alerts.confirm_link_expired(alert, later)
        assert not alerts.confirm(db.session, alert, now=later)
        # The weekly job wipes addresses that were never confirmed.
        report = alerts.send_weekly(
            db.session, now=later, interval_days=7, mail=_mail(app), secret="test-secret"
        )
        db.session.commit()
    assert report.unconfirmed_removed == 1
    assert alert_row(app) is None
    assert client.get(path(confirm)).status_code == 404


# --- unsubscribing ----------------------------------------------------------------------------


def test_one_click_unsubscribe_needs_no_csrf_token(app, smtp) -> None:
    confirm = confirmed_subscriber(app, smtp)
    unsubscribe = confirm.replace("/bevestigen/", "/afmelden/")
    # What a mail client sends (RFC 8058): a POST with this body, no cookies, no token.
    response = app.test_client().post(
        path(unsubscribe),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "U krijgt geen e-mail meer over wijk Zuidwest." in visible(
        response.get_data(as_text=True)
    )
    assert alert_row(app).unsubscribed_at is not None  # type: ignore[union-attr]
    # Again: no harm, the same answer.
    assert app.test_client().post(path(unsubscribe)).status_code == 200
    # The address is kept a while after unsubscribing (the link still says so), then wiped.
    with app.app_context():
        soon = datetime.now(UTC) + timedelta(days=alerts.UNSUBSCRIBED_KEEP_DAYS - 1)
        late = datetime.now(UTC) + timedelta(days=alerts.UNSUBSCRIBED_KEEP_DAYS + 1)
        for moment, removed in ((soon, 0), (late, 1)):
            report = alerts.send_weekly(
                db.session, now=moment, interval_days=7, mail=_mail(app), secret="test-secret"
            )
            db.session.commit()
            assert report.unsubscribed_removed == removed
    assert alert_row(app) is None


def test_a_person_unsubscribes_on_the_page_and_a_get_changes_nothing(app, smtp) -> None:
    confirm = confirmed_subscriber(app, smtp)
    unsubscribe = path(confirm.replace("/bevestigen/", "/afmelden/"))
    client = app.test_client()
    page = client.get(unsubscribe)
    assert page.status_code == 200 and "Meld mij af" in visible(page.get_data(as_text=True))
    assert alert_row(app).unsubscribed_at is None  # type: ignore[union-attr]
    token = csrf_token(client, unsubscribe)
    assert client.post(unsubscribe, data={"csrf_token": token}).status_code == 200
    assert alert_row(app).unsubscribed_at is not None  # type: ignore[union-attr]
    assert "U bent afgemeld" in visible(client.get(unsubscribe).get_data(as_text=True))


def test_after_unsubscribing_one_can_subscribe_again_with_a_new_link(app, smtp) -> None:
    first = confirmed_subscriber(app, smtp)
    client = app.test_client()
    client.post(path(first.replace("/bevestigen/", "/afmelden/")))
    assert subscribe(client, RESIDENT).status_code == 303
    mails = smtp.wait_for(2)
    second = link(smtp.to(RESIDENT)[-1], "bevestigen")
    assert len(mails) == 2 and second != first
    assert client.get(path(first)).status_code == 404  # the old link stays dead
    token = csrf_token(client, path(second))
    client.post(path(second), data={"csrf_token": token})
    row = alert_row(app)
    assert row is not None and row.confirmed_at is not None and row.unsubscribed_at is None


# --- the weekly mail ---------------------------------------------------------------------------


def _mail(app: Flask):  # type: ignore[no-untyped-def]
    from tests.factories import intake_settings

    return intake_settings(app).mail


def resolve(app: Flask, reference: str) -> None:
    move(app, reference, Status.IN_PROGRESS, Status.RESOLVED)


def make_sensitive(app: Flask, reference: str) -> None:
    with app.app_context():
        signal = db.session.scalars(select(Signal).where(Signal.reference == reference)).one()
        sensitive.mark(
            db.session, signal, reason="APJ", seen_version=signal.version, actor=actor(app)
        )
        db.session.commit()


def test_the_weekly_job_sends_once_with_news_and_handled_signals(app, smtp) -> None:
    confirmed_subscriber(app, smtp)  # Zuidwest
    confirmed_subscriber(app, smtp, "centrum@voorbeeld.nl", CENTRUM)
    client = app.test_client()
    subscribe(client, "niet-bevestigd@voorbeeld.nl")
    gone = confirmed_subscriber(app, smtp, "afgemeld@voorbeeld.nl")
    client.post(path(gone.replace("/bevestigen/", "/afmelden/")))
    assert alert_row(app, "afgemeld@voorbeeld.nl").unsubscribed_at is not None  # type: ignore[union-attr]

    anna_posts(app, title="Schouw in Kerkelanden", text="We lopen donderdag door de wijk.")
    named, _token = make_signal(app, title="Glasbak bij de school vol")
    resolve(app, named)
    unnamed, _token = make_signal(
        app, title="", description="Mijn buurman Piet gooit afval over de schutting.", name="Kees"
    )
    resolve(app, unnamed)
    secret, _token = make_signal(app, title="Jongeren bij het speelveld", themes=(Theme.VEILIG,))
    make_sensitive(app, secret)
    resolve(app, secret)
    _still_open, _token = make_signal(app, title="Losse stoeptegel")
    elsewhere, _token = make_signal(app, title="Lamp kapot", buurt="BU04020103")  # Centrum
    resolve(app, elsewhere)

    assert run_jobs(app).startswith("wijk-alerts: sent 2,")
    weekly = {str(m["To"]): m for m in weekly_mails(smtp, 2)}
    assert sorted(weekly) == ["buurvrouw@voorbeeld.nl", "centrum@voorbeeld.nl"]
    mail = weekly[RESIDENT]
    assert mail["Subject"] == "Nieuws uit wijk Zuidwest"
    unsubscribe = link(mail, "afmelden")
    assert mail["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = text_of(mail), html_of(mail)
    for part in (text, html):
        assert "Schouw in Kerkelanden" in part and "We lopen donderdag door de wijk." in part
        assert "Glasbak bij de school vol" in part
        assert "Schoon in Kerkelanden" in part  # no public title: theme and buurt
        assert unsubscribe in part
        # Never what residents wrote for the municipality, nor who they are.
        for private in ("Piet", "Kees", "Jan Jansen", "bewoner@example.nl", "Jongeren", "APJ"):
            assert private not in part
        assert "Losse stoeptegel" not in part and "Lamp kapot" not in part
    centrum = text_of(weekly["centrum@voorbeeld.nl"])
    assert "Lamp kapot" in centrum and "Schouw" not in centrum

    # Again: nothing new since, so nothing sent.
    assert run_jobs(app).startswith("wijk-alerts: sent 0, nothing new 2,")
    assert len(weekly_mails(smtp, 3, timeout=0.5)) == 2
    with db_session(app) as session:
        kept = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "alert_weekly")
        ).all()
        assert [m.list_unsubscribe for m in kept] == [None, None]  # dropped once delivered

    # The one-click link of the mail works, and the next news reaches nobody there.
    app.test_client().post(path(unsubscribe), data="List-Unsubscribe=One-Click")
    anna_posts(app, title="Nog een bericht", text="Voor wie nog meeleest.")
    assert run_jobs(app).startswith("wijk-alerts: sent 0,")


def test_the_weekly_mail_waits_for_the_interval(app, smtp) -> None:
    confirmed_subscriber(app, smtp)
    anna_posts(app, title="Buurtcafé", text="Elke eerste woensdag.")
    now = datetime.now(UTC)

    def run(at: datetime) -> alerts.WeeklyReport:
        with app.app_context():
            report = alerts.send_weekly(
                db.session, now=at, interval_days=7, mail=_mail(app), secret="test-secret"
            )
            db.session.commit()
            return report

    assert (run(now).sent, run(now).not_due) == (0, 1)  # confirmed just now
    assert run(now + timedelta(days=7, minutes=1)).sent == 1
    post_at(app, now + timedelta(days=9), "Nog iets")
    assert run(now + timedelta(days=10)).not_due == 1  # three days after the last mail
    # A run a few minutes earlier in the hour than last week's still sends (an hourly cron
    # would otherwise push the mail an hour later every week).
    assert run(now + timedelta(days=14, minutes=-3)).sent == 1
    assert run(now + timedelta(days=30)).nothing_new == 1  # nothing since: no mail


def post_at(app: Flask, moment: datetime, title: str) -> None:
    """News as Anna posts it, at a later moment than the test runs."""
    with app.app_context():
        anna = db.session.scalars(select(User).where(User.email == ANNA)).one()
        data = wijk_news.NewsInput(wijk_code=ZUIDWEST, title=title, text="Meer nieuws.")
        wijk_news.post_news(db.session, anna, data, now=moment)
        db.session.commit()


def test_links_keep_working_in_every_mail_of_a_subscription(app, smtp) -> None:
    """The token is derived, not stored: the confirmation link and the unsubscribe link of
    every weekly mail lead to the same subscription."""
    confirm = confirmed_subscriber(app, smtp)
    anna_posts(app, title="Eerste", text="Een.")
    run_jobs(app)
    anna_posts(app, title="Tweede", text="Twee.")
    run_jobs(app)
    weekly = [m for m in smtp.to(RESIDENT) if m["Subject"] == "Nieuws uit wijk Zuidwest"]
    assert len(weekly) == 2
    tokens = {link(m, "afmelden").rsplit("/", 1)[1] for m in weekly}
    assert tokens == {confirm.rsplit("/", 1)[1]}
    with db_session(app) as session:
        assert session.scalar(select(WijkAlert.token_hash)) == hash_token(tokens.pop())


def test_two_runs_at_the_same_moment_send_one_mail(app, smtp) -> None:
    """The other run read the subscription before this one moved it on: its claim (a
    conditional UPDATE) finds it taken, so it sends nothing."""
    confirmed_subscriber(app, smtp)
    anna_posts(app, title="Buurtcafé", text="Elke eerste woensdag.")
    now = datetime.now(UTC)
    with db_session(app) as first:
        [early] = first.scalars(select(WijkAlert)).all()  # what the other run read
        assert early.last_sent_at is None
        with db_session(app) as second:
            report = alerts.send_weekly(
                second, now=now, interval_days=0, mail=_mail(app), secret="test-secret"
            )
            second.commit()
        assert report.sent == 1
        late = alerts.send_weekly(
            first, now=now, interval_days=0, mail=_mail(app), secret="test-secret"
        )
        first.commit()
        assert late.sent == 0
    with db_session(app) as session:
        purposes = session.scalars(select(OutboxMessage.purpose)).all()
        assert purposes.count("alert_weekly") == 1


def test_the_kept_copies_of_alert_mail_hold_no_working_link(app, smtp) -> None:
    """A copy in the outbox (shown to staff, kept for resending) must not unsubscribe or
    confirm anyone: the links are cut out once sent, the List-Unsubscribe URL too."""
    confirmed_subscriber(app, smtp)
    anna_posts(app, title="Schouw in Kerkelanden", text="We lopen donderdag door de wijk.")
    run_jobs(app)
    [weekly] = weekly_mails(smtp, 1)
    assert weekly["List-Unsubscribe"]
    with db_session(app) as session:
        kept = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose.like("alert%"))
        ).all()
        assert {m.status for m in kept} == {"sent"}
        assert len(kept) >= 2  # the confirmation and the weekly mail
        for message in kept:
            assert message.list_unsubscribe is None
            for body in (message.body_text, message.body_html or ""):
                assert not LINK.search(body), body
                assert "[verwijderd]" in body
