"""The status link policy (findings 13 and 14 of the security review): the link is shown once
on the confirmation page, asking for a new one revokes the others, only the newest few of the
links mailed stay valid, and all of them expire some time after the signal was closed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from portal.domain.tokens import LINK_DAYS_AFTER_CLOSING, MAX_LINKS_PER_SIGNAL
from portal.models import Signal, StatusToken
from tests.factories import ANNA, db_session, make_signal
from tests.test_backoffice_signal import logged_in, post_action
from tests.test_report_form import submit

STATUS_LINK = re.compile(r"/status/[A-Za-z0-9_-]{20,}")


def test_the_confirmation_shows_the_link_once(app: Flask, client) -> None:
    reference = submit(client)  # reads the confirmation page once
    again = client.get("/melden/bedankt").get_data(as_text=True)
    assert reference in again
    assert not STATUS_LINK.search(again)
    assert "niet nog een keer" in again
    assert "bewoner" not in again  # nor the address it was sent to
    cookie = client.get_cookie("session")
    assert cookie is not None
    # The signed cookie (readable by anyone at the computer) holds no token any more.
    from itsdangerous import base64_decode

    payload = cookie.value.lstrip(".").split(".")[0]
    decoded = base64_decode(payload)
    if cookie.value.startswith("."):
        import zlib

        decoded = zlib.decompress(decoded)
    submitted = json.loads(decoded)["submitted"]
    assert "token" not in submitted and submitted["reference"] == reference
    # Besides the reference only the wording flag for the page: nothing about the resident.
    assert set(submitted) <= {"reference", "for_wijk"}


def token_count(app: Flask, reference: str) -> int:
    with db_session(app) as session:
        return session.scalar(
            select(func.count(StatusToken.id)).join(Signal).where(Signal.reference == reference)
        )


def test_only_the_newest_links_stay_valid(app: Flask, client, smtp) -> None:
    reference, first_token = make_signal(app)
    anna = logged_in(app, ANNA)
    for n in range(MAX_LINKS_PER_SIGNAL + 2):
        response = post_action(anna, app, reference, "reply", {"message": f"Bericht {n}."})
        assert response.status_code == 303
    assert token_count(app, reference) == MAX_LINKS_PER_SIGNAL
    assert client.get(f"/status/{first_token}").status_code == 404
    mails = [m for m in smtp.wait_for(MAX_LINKS_PER_SIGNAL + 4) if "bewoner" in str(m["To"])]
    newest = STATUS_LINK.search(mails[-1].get_body(("plain",)).get_content())
    assert newest is not None
    page = client.get(newest.group(0))
    assert page.status_code == 200
    assert "alle oude links niet meer" in page.get_data(as_text=True)


def test_links_expire_after_the_signal_was_closed(app: Flask, client) -> None:
    reference, token = make_signal(app)
    anna = logged_in(app, ANNA)
    response = post_action(
        anna, app, reference, "status", {"status": "declined", "message": "Dit is particulier."}
    )
    assert response.status_code == 303
    page = client.get(f"/status/{token}")
    assert page.status_code == 200
    assert "Deze link werkt tot en met" in page.get_data(as_text=True)
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        assert signal.closed_at is not None
        signal.closed_at = datetime.now(UTC) - timedelta(days=LINK_DAYS_AFTER_CLOSING, hours=1)
        session.commit()
    expired = client.get(f"/status/{token}")
    assert expired.status_code == 404
    assert f"{LINK_DAYS_AFTER_CLOSING} dagen" in expired.get_data(as_text=True)


def test_reopening_clears_the_closing_moment(app: Flask) -> None:
    reference, _token = make_signal(app)
    anna = logged_in(app, ANNA)
    post_action(anna, app, reference, "status", {"status": "declined", "message": "Nee."})
    post_action(anna, app, reference, "status", {"status": "reopened", "message": "Toch wel."})
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        assert signal.status == "reopened"
        assert signal.closed_at is None


def test_an_open_signal_with_an_old_closing_moment_keeps_its_links(app: Flask, client) -> None:
    """Only closed signals expire: a reopened one (closing moment from before) stays open."""
    reference, token = make_signal(app)
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        signal.closed_at = datetime.now(UTC) - timedelta(days=LINK_DAYS_AFTER_CLOSING + 1)
        session.commit()
    assert client.get(f"/status/{token}").status_code == 200


def test_a_new_link_for_one_signal_leaves_other_signals_alone(app: Flask, client, smtp) -> None:
    reference, _token = make_signal(app)
    _other, other_token = make_signal(app, title="Een andere melding")
    anna = logged_in(app, ANNA)
    assert post_action(anna, app, reference, "reply", {"message": "Bericht."}).status_code == 303
    assert client.get(f"/status/{other_token}").status_code == 200


def test_a_message_keeps_its_paragraphs_on_the_status_page(app: Flask, client) -> None:
    reference, token = make_signal(app)
    anna = logged_in(app, ANNA)
    message = "Bedankt voor uw melding.\nWe gaan er deze week naar kijken."
    assert post_action(anna, app, reference, "reply", {"message": message}).status_code == 303
    page = client.get(f"/status/{token}").get_data(as_text=True)
    assert '<p class="utrecht-paragraph">Bedankt voor uw melding.</p>' in page
    assert '<p class="utrecht-paragraph">We gaan er deze week naar kijken.</p>' in page


def test_a_reference_is_found_as_people_type_it(app: Flask, client, smtp) -> None:
    from portal.domain.references import normalise_reference
    from tests.conftest import csrf_token

    reference, _token = make_signal(app)
    number = int(reference.rsplit("-", 1)[1])
    typed = f"hlv {reference.split('-')[1]} {number}"
    assert normalise_reference(typed) == reference
    before = len(smtp.wait_for(2))
    token = csrf_token(client, "/status/opvragen")
    response = client.post(
        "/status/opvragen",
        data={"csrf_token": token, "reference": typed, "email": "bewoner@example.nl"},
    )
    assert response.status_code == 303
    [mail] = smtp.wait_for(before + 1)[before:]
    assert reference in str(mail["Subject"])
