"""Guards found by a mutation audit: small, realistic bugs that once left every test green.
Each test here fails with its bug (named in the test) and passes without it; every test runs
on SQLite and on PostgreSQL (the ``app`` fixture)."""

from __future__ import annotations

import hashlib
import re
import threading
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from portal.extensions import db
from portal.models import Signal, StatusToken
from tests.factories import ANNA, SANNE, db_session, make_signal, user_id
from tests.test_backoffice_signal import logged_in, page_url, post_action, visible
from tests.test_report_form import open_form, valid_form

STATUS_LINK = re.compile(r"https?://[^\s\"'<>]+(/status/[A-Za-z0-9_-]+)")
WRITES = ("INSERT", "UPDATE", "DELETE")


# --- status tokens are stored hashed --------------------------------------------------------


def test_status_tokens_are_stored_only_as_their_sha256(app: Flask) -> None:
    """Mutant: ``hash_token`` returning its input. The status page still works then (it
    hashes the same way on lookup), so only the stored value shows the bug."""
    _reference, token = make_signal(app)
    with db_session(app) as session:
        stored = session.scalars(select(StatusToken.token_hash)).all()
    assert stored, "no status token stored"
    assert token not in stored
    assert all(token not in value for value in stored)
    assert hashlib.sha256(token.encode()).hexdigest() in stored


# --- an internal reassignment reason never reaches the resident ----------------------------


def test_a_reassignment_reason_is_never_on_the_residents_status_page(app: Flask, smtp) -> None:
    """Mutant: the "reassigned" timeline event made public. Reassigned through the real
    back-office route, with a reason nobody else would write."""
    reference, token = make_signal(app)
    reason = "Intern: buurman belt elke week, Sanne kent hem al (kenmerk 7f3a-reden)."
    client = logged_in(app, ANNA)
    response = post_action(
        client, app, reference, "reassign", {"owner": str(user_id(app, SANNE)), "reason": reason}
    )
    assert response.status_code == 303
    # It did happen: staff see the reason on the signal page.
    assert reason in visible(client.get(page_url(reference)).get_data(as_text=True))

    status_page = app.test_client().get(f"/status/{token}")
    assert status_page.status_code == 200
    page = visible(status_page.get_data(as_text=True))
    assert reference in page
    assert "7f3a-reden" not in page
    assert "Sanne kent hem" not in page
    for message in smtp.to("bewoner@example.nl"):
        assert "7f3a-reden" not in message.as_string()


# --- the double-submit race: both requests end with a working status link -----------------


def status_link(client: FlaskClient) -> str:
    """The status link on the confirmation page this client's session leads to."""
    page = client.get("/melden/bedankt").get_data(as_text=True)
    match = STATUS_LINK.search(page)
    assert match, "no status link on the confirmation page"
    return urlsplit(match.group(0)).path


def test_a_double_click_race_gives_both_requests_a_working_status_link(app: Flask) -> None:
    """Mutant: the commit dropped from the race branch of ``report()`` (``except
    IntegrityError``): the losing request then shows a status link that was never stored.

    One form, one session cookie, posted twice (a double click). The race is made certain
    rather than left to thread timing: the first request is held at its first write to the
    database - after it found no earlier signal with this submission key - while the second
    request is handled completely; then the first carries on, hits the unique submission key
    and must take the race branch. Holding it before any write keeps SQLite's write lock free
    for the second request."""
    first_click = app.test_client()
    csrf, key = open_form(first_click)
    body = {**valid_form(), "csrf_token": csrf, "submission_key": key}
    cookie = first_click.get_cookie("session")
    assert cookie is not None
    second_click = app.test_client()
    second_click.set_cookie("session", cookie.value)  # the same browser: the same session

    held, release = threading.Event(), threading.Event()
    holder: dict[str, int] = {}

    def hold_first_write(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if threading.get_ident() != holder.get("thread") or held.is_set():
            return
        if statement.lstrip().upper().startswith(WRITES):
            held.set()
            assert release.wait(timeout=60), "the first request was never released"

    responses: dict[str, object] = {}

    def post_first() -> None:
        holder["thread"] = threading.get_ident()
        responses["first"] = first_click.post(
            "/melden", data=body, content_type="multipart/form-data"
        )

    engine = db.engine(app)
    event.listen(engine, "before_cursor_execute", hold_first_write)
    thread = threading.Thread(target=post_first)
    try:
        thread.start()
        assert held.wait(timeout=60), "the first request never reached the database"
        second = second_click.post("/melden", data=body, content_type="multipart/form-data")
        assert second.status_code == 303, second.get_data(as_text=True)[:2000]
        second_link = status_link(second_click)
    finally:
        release.set()
        thread.join(timeout=60)
        event.remove(engine, "before_cursor_execute", hold_first_write)
    assert not thread.is_alive()
    first = responses["first"]
    assert first.status_code == 303, first.get_data(as_text=True)[:2000]  # type: ignore[attr-defined]
    first_link = status_link(first_click)

    with db_session(app) as session:
        assert session.scalar(select(func.count()).select_from(Signal)) == 1
        reference = session.scalars(select(Signal.reference)).one()
    assert first_link != second_link  # each request handed out a token of its own
    for link in (first_link, second_link):
        page = app.test_client().get(link)
        assert page.status_code == 200, f"dead status link {link}"
        assert reference in page.get_data(as_text=True)
