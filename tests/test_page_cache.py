"""The page cache (portal/page_cache.py): the report form and the status page are rendered once
and filled in per visitor, and a cached status page never shows less than a fresh render
would. Real SQLite and PostgreSQL, the real app; changes made through the domain operations."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import casework
from portal.domain.casework import Actor
from portal.models import AuditRecord, Signal, SignalEvent, User
from portal.page_cache import punch
from tests.conftest import CSRF_INPUT
from tests.factories import ANNA, db_session, intake_settings, make_signal, user_id

SUBMISSION_KEY = re.compile(r'name="submission_key"[^>]*value="([^"]+)"')
TOKEN = "0123456789abcdefghij"


# --- punching holes -------------------------------------------------------------------------


def test_every_occurrence_becomes_a_hole_and_is_filled_escaped() -> None:
    page = f'<a href="/s/{TOKEN}">x</a><form action="/s/{TOKEN}/b"><input value="{"c" * 20}">'
    punched = punch(page, {"token": TOKEN, "csrf": "c" * 20})
    assert punched is not None
    assert punched.holes == ("token", "token", "csrf")
    assert punched.fill({"token": TOKEN, "csrf": "c" * 20}) == page
    filled = punched.fill({"token": "t" * 20, "csrf": '"><script>'})
    assert filled == (
        f'<a href="/s/{"t" * 20}">x</a><form action="/s/{"t" * 20}/b">'
        '<input value="&#34;&gt;&lt;script&gt;">'
    )


@pytest.mark.parametrize("value", ["absent-from-the-page-0123", "short"])
def test_a_value_missing_or_too_short_is_not_cached(value: str) -> None:
    assert punch("<p>short page</p>", {"value": value}) is None


# --- the report form --------------------------------------------------------------------------


def _form_values(client: FlaskClient, url: str = "/melden") -> tuple[str, str, str]:
    page = client.get(url).get_data(as_text=True)
    token, key = CSRF_INPUT.search(page), SUBMISSION_KEY.search(page)
    assert token and key
    return page, token.group(1), key.group(1)


def test_each_visitor_gets_their_own_token_and_key_and_can_send(app: Flask) -> None:
    first, second = app.test_client(), app.test_client()
    page_one, token_one, key_one = _form_values(first)
    page_two, token_two, key_two = _form_values(second)
    assert token_one != token_two and key_one != key_two
    # The same page apart from the two values: it came from the cache.
    assert page_one.replace(token_one, "T").replace(key_one, "K") == page_two.replace(
        token_two, "T"
    ).replace(key_two, "K")
    response = second.post(
        "/melden",
        data={
            "csrf_token": token_two,
            "submission_key": key_two,
            "kind": "knelpunt",
            "themes": ["schoon"],
            "title": "Glasbak kapot",
            "description": "De glasbak op de hoek is kapot.",
            "wijk": "WK040203",
            "buurt": "BU04020304",
        },
    )
    assert response.status_code == 303
    # The other visitor's token is not valid in this browser.
    stolen = first.post("/melden", data={"csrf_token": token_two, "submission_key": key_two})
    assert stolen.status_code == 422
    assert "Uw formulier is verlopen" in stolen.get_data(as_text=True)


def _chosen_wijk(page: str) -> str | None:
    select_box = re.search(r'<select[^>]*name="wijk".*?</select>', page, flags=re.S)
    assert select_box
    chosen = re.search(
        r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_box.group(0)
    )
    return (chosen.group(1) or chosen.group(2)) if chosen else None


def test_a_wijk_from_the_link_is_chosen_and_an_unknown_one_is_not(client: FlaskClient) -> None:
    assert _chosen_wijk(_form_values(client, "/melden?wijk=WK040203")[0]) == "WK040203"
    assert _chosen_wijk(_form_values(client, "/melden?wijk=WK040201")[0]) == "WK040201"
    for url in ("/melden?wijk=WK999999", "/melden"):
        assert _chosen_wijk(_form_values(client, url)[0]) in (None, "")


def test_the_cached_form_follows_the_language(client: FlaskClient) -> None:
    dutch, _t, _k = _form_values(client)
    english, _t, _k = _form_values(client, "/melden?lang=en")
    again, _t, _k = _form_values(client, "/melden?lang=nl")
    assert '<html lang="nl"' in dutch and '<html lang="en"' in english
    assert "Verstuur melding" in dutch and "Verstuur melding" not in english
    assert '<html lang="nl"' in again


# --- the status page ----------------------------------------------------------------------------


def _status(client: FlaskClient, token: str) -> str:
    response = client.get(f"/status/{token}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _signal(session: Session, reference: str) -> Signal:
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def _reply(app: Flask, reference: str, message: str) -> None:
    with db_session(app) as session:
        signal = _signal(session, reference)
        casework.public_reply(
            session,
            signal,
            message=message,
            seen_version=signal.version,
            actor=Actor(user_id(app, ANNA), datetime.now(UTC)),
            mail=intake_settings(app).mail,
        )
        session.commit()


def test_a_change_after_caching_shows_on_the_next_visit(app: Flask, client: FlaskClient) -> None:
    reference, token = make_signal(app)
    before = _status(client, token)
    # The same page again but for the CSRF token (signed anew on every request).
    assert CSRF_INPUT.sub("", _status(client, token)) == CSRF_INPUT.sub("", before)
    _reply(app, reference, "We komen donderdag kijken.")
    assert "We komen donderdag kijken." in _status(client, token)


def test_two_links_to_one_signal_each_show_their_own(app: Flask, client: FlaskClient) -> None:
    reference, token = make_signal(app)
    with db_session(app) as session:
        from portal.domain.tokens import issue_status_token

        second = issue_status_token(session, _signal(session, reference))
        session.commit()
    one, two = _status(client, token), _status(client, second)
    assert token in one and second not in one
    assert second in two and token not in two


def test_the_owners_new_name_shows(app: Flask, client: FlaskClient) -> None:
    _reference, token = make_signal(app)
    assert "Anna de Vries" in _status(client, token)
    with db_session(app) as session:
        anna = session.get(User, user_id(app, ANNA))
        anna.name = "Anna de Vries-Bakker"
        session.commit()
    assert "Anna de Vries-Bakker" in _status(client, token)


# --- what raises a signal's page_version ------------------------------------------------------


def _versions(app: Flask, reference: str) -> tuple[int, int]:
    with db_session(app) as session:
        signal = _signal(session, reference)
        return signal.version, signal.page_version


def test_a_new_timeline_step_raises_it_and_an_audit_line_does_not(app: Flask) -> None:
    reference, _token = make_signal(app)
    version, page_version = _versions(app, reference)
    with db_session(app) as session:
        signal = _signal(session, reference)
        session.add(AuditRecord(action="signal.viewed", signal_id=signal.id))
        session.commit()
    assert _versions(app, reference) == (version, page_version)
    with db_session(app) as session:
        signal = _signal(session, reference)
        session.add(SignalEvent(signal_id=signal.id, kind="note", is_public=False))
        session.commit()
    assert _versions(app, reference) == (version, page_version + 1)


def test_a_change_to_a_signal_raises_those_that_point_to_it(app: Flask) -> None:
    from portal.models import SignalLink

    original, _t = make_signal(app, title="Het origineel")
    duplicate, _t = make_signal(app, title="De herhaling")
    with db_session(app) as session:
        session.add(
            SignalLink(
                signal_id=_signal(session, duplicate).id,
                other_id=_signal(session, original).id,
                kind="duplicate",
            )
        )
        session.commit()
    before = _versions(app, duplicate)
    with db_session(app) as session:
        _signal(session, original).title = "Het origineel, nieuwe titel"
        session.commit()
    version, page_version = _versions(app, duplicate)
    assert (version, page_version) == (before[0], before[1] + 1)


def test_a_renamed_wijk_shows_on_the_form_and_the_status_page(
    app: Flask, client: FlaskClient
) -> None:
    from portal.domain import routing_admin
    from tests.factories import ADMIN

    _reference, token = make_signal(app)
    assert "Zuidwest" in _form_values(client)[0] and "Zuidwest" in _status(client, token)
    with db_session(app) as session:
        routing_admin.rename_wijk(session, "WK040203", "Hilversum Zuidwest", user_id(app, ADMIN))
        session.commit()
    assert "Hilversum Zuidwest" in _form_values(client)[0]
    assert "Hilversum Zuidwest" in _status(client, token)
    assert _chosen_wijk(_form_values(client, "/melden?wijk=WK040203")[0]) == "WK040203"


def test_intake_does_not_raise_the_new_signals_page_version(app: Flask) -> None:
    # Created, tokened, mailed in one transaction: no page of it can be cached yet.
    reference, _token = make_signal(app)
    assert _versions(app, reference) == (1, 0)
