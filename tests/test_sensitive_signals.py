"""Sensitive signals (an APJ youth-group case, a care signal): only the owner, admins and
colleagues let in see them, in the inbox list, search by words and by reference, counts per
status, the signal page, its photos and the mail original; for everyone else they do not
exist (404, exactly as a reference that was never handed out). Marking, unmarking and letting
in are audited and on the staff timeline. THE MATRIX walks every signal route from the URL map
for every role. On SQLite and PostgreSQL (the ``app`` fixture); the browser test on SQLite."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.routing import Rule

from portal.domain import absences, sensitive, visibility
from portal.domain.casework import Actor
from portal.domain.dialogue import reply_addresses
from portal.domain.inbound.receive import InboundSettings, receive_message
from portal.domain.inbox import Deadlines, InboxFilter, search_signals
from portal.domain.photos import PhotoStore
from portal.extensions import db
from portal.models import Absence, AuditRecord, Signal, SignalAccess, SignalEvent, User
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    EVA,
    MANAGEMENT,
    SANNE,
    db_session,
    intake_settings,
    login,
    make_signal,
    user_id,
)
from tests.fixtures.browser import assert_accessible
from tests.test_absences import log_in, record, today
from tests.test_backoffice_access import (
    SAFE_METHODS,
    backoffice_rules,
    is_login_redirect,
    signal_with_photo,
)

REASON = "APJ-jeugdgroep: gedeeld met politie en Versa Welzijn."
TITLE_WORD = "Brommerhangplek"
TITLE = f"Jongeren bij de {TITLE_WORD}"
GHOST = "HLV-2026-999999"  # a reference that was never handed out
VERSION_INPUT = re.compile(r'name="version" value="(\d+)"')
# Who plays which part: the owner (Anna, Zuidwest), a colleague she let in (Eva), another
# accountmanager (Sanne), an admin, management, and nobody logged in.
ROLES = {
    "owner": ANNA,
    "colleague": EVA,
    "other": SANNE,
    "admin": ADMIN,
    "management": MANAGEMENT,
    "anonymous": None,
}
SEES = {"owner", "colleague", "admin"}


def visible(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def lists(response, reference: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether an inbox page has a row for ``reference`` (a search box may echo it)."""
    return f'href="/backoffice/signalen/{reference}"' in response.get_data(as_text=True)


def sensitive_mark(response) -> str | None:  # type: ignore[no-untyped-def]
    """The first line of the mark under the page header, as it reads."""
    found = re.search(
        r'class="[^"]*portal-sensitive[^"]*">\s*<p[^>]*>(.*?)</p>', response.get_data(as_text=True)
    )
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else None


def signal_of(session, reference: str) -> Signal:  # type: ignore[no-untyped-def]
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def mark(app: Flask, reference: str, *, by: str = ANNA, let_in: tuple[str, ...] = ()) -> None:
    """Marks the signal sensitive and lets colleagues in, through the domain operations."""
    with app.app_context():
        signal = signal_of(db.session, reference)
        actor = Actor(user_id(app, by), datetime.now(UTC))
        sensitive.mark(db.session, signal, reason=REASON, seen_version=signal.version, actor=actor)
        for email in let_in:
            sensitive.let_in(
                db.session,
                signal,
                user_id=user_id(app, email),
                seen_version=signal.version,
                actor=actor,
            )
        db.session.commit()


def sensitive_case(app: Flask) -> tuple[str, int, str]:
    """A sensitive signal of Anna's with a photo and Eva let in, next to an ordinary one.
    Returns (sensitive reference, its photo id, ordinary reference)."""
    reference, photo_id = signal_with_photo(app)
    with app.app_context():
        signal = signal_of(db.session, reference)
        signal.title = TITLE
        db.session.commit()
    mark(app, reference, let_in=(EVA,))
    ordinary, _token = make_signal(app, title="Afval bij de glasbak")
    return reference, photo_id, ordinary


def client_for(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    email = ROLES[role]
    return login(client, email) if email else client


def version_on_page(client: FlaskClient, reference: str) -> str:
    page = client.get(f"/backoffice/signalen/{reference}").get_data(as_text=True)
    found = VERSION_INPUT.search(page)
    assert found, "no version on the page"
    return found.group(1)


def post(client: FlaskClient, reference: str, path: str, **data: str):  # type: ignore[no-untyped-def]
    base = f"/backoffice/signalen/{reference}"
    data.setdefault("version", version_on_page(client, reference))
    token = csrf_token(client, base)
    return client.post(f"{base}/{path}", data={"csrf_token": token, **data})


# --- lists, search and counts ---------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_the_inbox_lists_searches_and_counts_it_only_for_who_may_see_it(
    app: Flask, role: str
) -> None:
    reference, _photo, ordinary = sensitive_case(app)
    client = client_for(app, role)
    listed = client.get("/backoffice/signalen", query_string={"scope": "all"})
    by_word = client.get("/backoffice/signalen", query_string={"scope": "all", "q": TITLE_WORD})
    by_reference = client.get("/backoffice/signalen", query_string={"scope": "all", "q": reference})
    sees = role in SEES
    assert lists(listed, reference) is sees
    assert lists(listed, ordinary)  # everything else stays where it was
    assert lists(by_word, reference) is sees
    assert lists(by_reference, reference) is sees

    # The counts per status (the inbox's counts, and what management reports will reuse).
    with db_session(app) as session:
        user = session.scalars(select(User).where(User.email == ROLES[role])).one()
        deadlines = Deadlines.at(datetime.now(UTC), 3)
        page = search_signals(session, user, InboxFilter(scope="all"), 50, deadlines=deadlines)
        everything = session.scalars(select(Signal.id)).all()
        shown = {row.signal.reference for row in page.rows}
    assert page.all_count == len(everything) - (0 if sees else 1)
    assert page.status_counts["received"] == page.all_count
    assert (reference in shown) is sees


def test_a_sensitive_signal_in_her_wijk_owned_by_someone_else_is_not_in_mijn_signalen(
    app: Flask,
) -> None:
    # Eva (general inbox) owns a sensitive signal about Kerkelanden, Anna's wijk.
    reference, _token = make_signal(app)
    with app.app_context():
        signal = signal_of(db.session, reference)
        signal.owner_id = user_id(app, EVA)
        db.session.commit()
    mark(app, reference, by=EVA)
    anna = login(app.test_client(), ANNA)
    assert not lists(anna.get("/backoffice/signalen?scope=mine"), reference)
    eva = login(app.test_client(), EVA)
    assert lists(eva.get("/backoffice/signalen?scope=mine"), reference)


# --- the page, the photos, the mail original ------------------------------------------------


def test_the_page_shows_the_mark_and_who_sees_it(app: Flask) -> None:
    reference, photo_id, _ordinary = sensitive_case(app)
    for role in ("owner", "colleague", "admin"):
        client = client_for(app, role)
        response = client.get(f"/backoffice/signalen/{reference}")
        assert response.status_code == 200, role
        page = visible(response.get_data(as_text=True))
        assert sensitive_mark(response) == f"Gevoelige melding: {REASON}"
        assert "Wie ziet deze gevoelige melding? De eigenaar (Anna de Vries) en beheerders." in page
        assert "Eva de Boer" in page
        managing = role != "colleague"
        assert ("Toegang intrekken" in page) is managing
        assert ("Maak weer zichtbaar voor iedereen" in page) is managing
        photo = client.get(f"/backoffice/signalen/{reference}/foto/{photo_id}")
        assert photo.status_code == 200 and photo.mimetype.startswith("image/")


@pytest.mark.parametrize("role", ["other", "management"])
def test_for_everyone_else_the_page_and_photos_do_not_exist(app: Flask, role: str) -> None:
    reference, photo_id, ordinary = sensitive_case(app)
    client = client_for(app, role)
    for path in (
        f"/backoffice/signalen/{reference}",
        f"/backoffice/signalen/{reference}/foto/{photo_id}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert REASON not in response.get_data(as_text=True)
        # Word for word what a reference that was never handed out gives (its own path in
        # the language link aside, and the logout form's CSRF token, which carries the second
        # it was made in).
        ghost = client.get(path.replace(reference, GHOST)).get_data(as_text=True)
        assert without_csrf_tokens(response.get_data(as_text=True)) == without_csrf_tokens(
            ghost.replace(GHOST, reference)
        )
    assert client.get(f"/backoffice/signalen/{ordinary}").status_code == 200


def without_csrf_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)


def inbound_mail_id(app: Flask, reference: str) -> int:
    """The resident answers by mail; the original is stored with the signal."""
    with app.app_context():
        signal = signal_of(db.session, reference)
        address = reply_addresses.reply_address_for(db.session, signal, datetime.now(UTC))
        template = app.config["REPLY_TO_ADDRESS"]
        raw = (
            b"From: Jan <jan@example.nl>\r\nTo: wijkzaken@hilversum.example\r\n"
            b"Subject: Re: Uw melding\r\nMessage-ID: <sensitive-1@example.nl>\r\n\r\n"
            b"Ze zijn er vanavond weer.\r\n"
        )
        result = receive_message(
            db.session,
            raw,
            envelope_from="jan@example.nl",
            envelope_to=reply_addresses.format_address(template, address.reply_id),
            settings=InboundSettings(
                reply_template=template,
                photos=PhotoStore(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"]),
                mail=intake_settings(app).mail,
                now=datetime.now(UTC),
            ),
        )
        db.session.commit()
        assert result.signal_id == signal.id
        return result.mail_id


def test_the_mail_original_is_not_found_for_who_may_not_see_the_signal(app: Flask) -> None:
    reference, _photo, _ordinary = sensitive_case(app)
    mail_id = inbound_mail_id(app, reference)
    expected = {"owner": 200, "admin": 200, "colleague": 403, "other": 404, "management": 403}
    for role, status in expected.items():
        client = client_for(app, role)
        response = client.get(f"/backoffice/post/{mail_id}")
        assert response.status_code == status, role
        # The same as for a mail that does not exist (management: no access to mail at all).
        ghost = client.get(f"/backoffice/post/{mail_id + 1000}")
        if role in ("other", "management"):
            assert ghost.status_code == status, role


# --- THE MATRIX: every signal route, every role ---------------------------------------------


def signal_rules(app: Flask) -> list[Rule]:
    return [r for r in backoffice_rules(app) if "reference" in r.arguments]


def build(rule: Rule, reference: str, photo_id: int) -> tuple[str, bool]:
    """The rule's URL and whether every value in it is real. A variable nobody knows here
    (an escalation of this signal, say) gets a placeholder, and a 404 is then accepted for
    who may see the signal: the signal was found, the other thing was not."""
    values: dict[str, object] = {}
    real = True
    for name in rule.arguments:
        if name == "reference":
            values[name] = reference
        elif name == "attachment_id":
            values[name] = photo_id
        else:
            values[name] = 1
            real = False
    built = rule.build(values)
    assert built is not None, rule
    return built[1], real


@pytest.mark.parametrize("role", list(ROLES))
def test_the_sensitive_matrix(app: Flask, role: str) -> None:
    """Each role × each signal route (from the URL map, so later routes are covered) × each
    method, on a sensitive signal: who may see it gets in (never 404); everyone else gets
    exactly what they get for a reference that does not exist (GET: 404), so nothing tells
    them it is there; anonymous visitors go to the login page."""
    reference, photo_id, _ordinary = sensitive_case(app)
    client = client_for(app, role)
    token = csrf_token(client, "/backoffice/" if ROLES[role] else "/backoffice/login")
    rules = signal_rules(app)
    assert {"backoffice.signal_detail", "backoffice.signal_photo"} <= {r.endpoint for r in rules}
    assert "backoffice.signal_mark_sensitive" in {r.endpoint for r in rules}
    problems: list[str] = []
    for rule in rules:
        for method in sorted((rule.methods or set()) & SAFE_METHODS):
            path, real = build(rule, reference, photo_id)
            ghost_path, _real = build(rule, GHOST, photo_id)

            def ask(target: str, method: str = method):  # type: ignore[no-untyped-def]
                if method == "POST":
                    return client.post(target, data={"csrf_token": token})
                return client.get(target)

            response = ask(path)
            where = f"{method} {rule.rule} as {role}: {response.status_code}"
            if role == "anonymous":
                if not is_login_redirect(response):
                    problems.append(f"{where}, expected the login page")
            elif role in SEES:
                if (real and response.status_code == 404) or response.status_code >= 500:
                    problems.append(f"{where}, expected to get in")
                if is_login_redirect(response):
                    problems.append(f"{where}, logged out")
            else:
                ghost = ask(ghost_path)
                if response.status_code != ghost.status_code:
                    problems.append(f"{where}, a reference that does not exist gives {ghost}")
                if method == "GET" and response.status_code != 404:
                    problems.append(f"{where}, expected 404")
    assert not problems, "\n".join(problems)
    with db_session(app) as session:
        assert signal_of(session, reference).sensitive  # no POST above undid it


# --- marking, unmarking, letting in: audited, on the staff timeline -------------------------


def test_the_owner_marks_and_unmarks_and_both_are_audited(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    reference, status_token = make_signal(app)
    anna = login(client, ANNA)
    response = post(anna, reference, "gevoelig", reason=REASON)
    assert response.status_code == 303
    assert "De melding is nu gevoelig." in visible(anna.get(response.headers["Location"]).text)
    assert client_for(app, "other").get(f"/backoffice/signalen/{reference}").status_code == 404

    assert post(anna, reference, "toegang", colleague=str(user_id(app, SANNE))).status_code == 303
    assert client_for(app, "other").get(f"/backoffice/signalen/{reference}").status_code == 200
    unmarked = post(anna, reference, "niet-meer-gevoelig", reason="Zaak is afgesloten.")
    assert unmarked.status_code == 303

    with db_session(app) as session:
        signal = signal_of(session, reference)
        assert not signal.sensitive and signal.sensitive_reason is None
        assert session.scalars(select(SignalAccess)).all() == []  # Sanne is let go
        steps = [(e.kind, e.is_public, e.message) for e in signal.events[1:]]
        assert steps == [
            ("marked_sensitive", False, REASON),
            ("access_granted", False, "Sanne Bakker"),
            ("unmarked_sensitive", False, "Zaak is afgesloten."),
        ]
        audit = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.signal_id == signal.id, AuditRecord.action.like("signal.%"))
            .order_by(AuditRecord.id)
        ).all()
        moves = [
            (a.action, a.actor_id) for a in audit if "sensitive" in a.action or "access" in a.action
        ]
        anna_id = user_id(app, ANNA)
        assert moves == [
            ("signal.marked_sensitive", anna_id),
            ("signal.access_granted", anna_id),
            ("signal.unmarked_sensitive", anna_id),
        ]
        details = {a.action: a.details for a in audit}
        assert details["signal.marked_sensitive"]["reason"] == REASON
        assert details["signal.access_granted"]["user_id"] == user_id(app, SANNE)
        assert details["signal.unmarked_sensitive"]["previous_reason"] == REASON
        assert details["signal.unmarked_sensitive"]["released_user_ids"] == [user_id(app, SANNE)]
    # Unmarked: every colleague sees it again; marked again, Sanne is not silently back in.
    assert client_for(app, "management").get(f"/backoffice/signalen/{reference}").status_code == 200
    mark(app, reference)
    assert client_for(app, "other").get(f"/backoffice/signalen/{reference}").status_code == 404
    # The resident's own page stays theirs, and shows nothing of it.
    resident = app.test_client()
    status_page = visible(resident.get(f"/status/{status_token}").get_data(as_text=True))
    assert "gevoelig" not in status_page.lower() and "APJ" not in status_page


def test_the_colleague_let_in_can_be_shut_out(app: Flask) -> None:
    reference, _photo, _ordinary = sensitive_case(app)
    eva = client_for(app, "colleague")
    assert eva.get(f"/backoffice/signalen/{reference}").status_code == 200
    anna = client_for(app, "owner")
    response = post(anna, reference, "toegang-intrekken", colleague=str(user_id(app, EVA)))
    assert response.status_code == 303
    assert "Eva de Boer kan deze melding niet meer zien." in visible(
        anna.get(response.headers["Location"]).text
    )
    assert eva.get(f"/backoffice/signalen/{reference}").status_code == 404
    with db_session(app) as session:
        revoked = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "signal.access_revoked")
        ).one()
        assert revoked.details["user_id"] == user_id(app, EVA)
        assert revoked.actor_id == user_id(app, ANNA)


@pytest.mark.parametrize("role", ["other", "colleague", "management"])
def test_only_the_owner_or_an_admin_may_mark(app: Flask, role: str) -> None:
    reference, _token = make_signal(app)
    if role == "colleague":
        mark(app, reference, let_in=(EVA,))
    client = client_for(app, role)
    path = "niet-meer-gevoelig" if role == "colleague" else "gevoelig"
    data = {"csrf_token": csrf_token(client, "/backoffice/"), "version": "1", "reason": "x"}
    response = client.post(f"/backoffice/signalen/{reference}/{path}", data=data)
    assert response.status_code == 403
    with db_session(app) as session:
        assert signal_of(session, reference).sensitive is (role == "colleague")
    admin = client_for(app, "admin")
    assert post(admin, reference, path, reason="Zorgsignaal.").status_code == 303
    with db_session(app) as session:
        assert signal_of(session, reference).sensitive is (role != "colleague")


def test_a_reason_is_required_and_a_stale_form_is_refused(app: Flask) -> None:
    reference, _token = make_signal(app)
    anna = client_for(app, "owner")
    empty = post(anna, reference, "gevoelig", reason="  ")
    assert empty.status_code == 422
    assert "Schrijf waarom deze melding gevoelig is." in visible(empty.get_data(as_text=True))
    too_long = post(anna, reference, "gevoelig", reason="x" * (sensitive.REASON_MAX + 1))
    assert too_long.status_code == 422
    assert "Deze reden is te lang" in visible(too_long.get_data(as_text=True))
    stale = post(anna, reference, "gevoelig", reason=REASON, version="99")
    assert stale.status_code == 409
    assert REASON in html.unescape(stale.get_data(as_text=True))  # what she typed is kept
    nobody = post(anna, reference, "gevoelig", reason=REASON)
    assert nobody.status_code == 303
    management_id = str(user_id(app, MANAGEMENT))
    refused = post(anna, reference, "toegang", colleague=management_id)
    assert refused.status_code == 422
    assert "Kies een collega uit de lijst." in visible(refused.get_data(as_text=True))
    with db_session(app) as session:
        signal = signal_of(session, reference)
        assert [e.kind for e in signal.events] == ["created", "marked_sensitive"]
        assert session.scalars(select(SignalAccess)).all() == []


# --- the stand-in during an absence ---------------------------------------------------------


def test_the_stand_in_may_open_the_absent_owners_sensitive_signals_during_the_absence(
    app: Flask,
) -> None:
    reference, _photo, _ordinary = sensitive_case(app)
    sanne = client_for(app, "other")
    assert sanne.get(f"/backoffice/signalen/{reference}").status_code == 404
    absence_id = record(app, ANNA, SANNE, today() - timedelta(days=1), today() + timedelta(days=2))
    assert sanne.get(f"/backoffice/signalen/{reference}").status_code == 200
    assert lists(sanne.get("/backoffice/signalen?scope=all"), reference)
    with db_session(app) as session:
        absence = session.get(Absence, absence_id)
        absences.end_absence(session, absence, actor_id=user_id(app, ADMIN), today=today())
        session.commit()
    assert sanne.get(f"/backoffice/signalen/{reference}").status_code == 404


# --- public views ---------------------------------------------------------------------------


def test_public_conditions_leave_sensitive_signals_out(app: Flask) -> None:
    reference, _photo, ordinary = sensitive_case(app)
    with db_session(app) as session:
        public = set(
            session.scalars(select(Signal.reference).where(*visibility.public_conditions()))
        )
        events = session.scalars(
            select(SignalEvent.kind).join(Signal).where(Signal.reference == reference)
        ).all()
    assert ordinary in public and reference not in public
    assert "marked_sensitive" in events


# --- in a browser ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_owner_marks_a_signal_sensitive_and_lets_a_colleague_in(
    app: Flask, live_server: str, new_page: Callable[..., Page]
) -> None:
    reference, _token = make_signal(app)
    page = new_page()
    log_in(page, live_server, ANNA)
    page.goto(f"{live_server}/backoffice/signalen/{reference}")
    assert_accessible(page)
    page.get_by_role("button", name="Markeer als gevoelig").click()
    expect(page.locator(".portal-error-summary")).to_contain_text(
        "Schrijf waarom deze melding gevoelig is."
    )
    assert_accessible(page)
    page.get_by_label("Waarom is deze melding gevoelig?").fill(REASON)
    page.get_by_role("button", name="Markeer als gevoelig").click()
    expect(page.locator(".portal-sensitive")).to_contain_text(f"Gevoelige melding: {REASON}")
    page.get_by_label("Collega").select_option(label="Eva de Boer")
    page.get_by_role("button", name="Geef toegang").click()
    expect(page.get_by_text("Eva de Boer kan deze melding nu zien.")).to_be_visible()
    expect(page.get_by_role("button", name="Toegang intrekken voor Eva de Boer")).to_be_visible()
    assert_accessible(page)
