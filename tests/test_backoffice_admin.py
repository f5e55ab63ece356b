"""The admin screens: users, routing rules, standard texts, names of wijken and buurten. Every
test runs on SQLite and on PostgreSQL (the ``app`` fixture), through the real pages."""

from __future__ import annotations

import html
import re
import subprocess
import sys

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.backoffice.access import allowed_roles
from portal.domain.users import verify_password
from portal.models import (
    GENERAL_INBOX,
    AuditRecord,
    Buurt,
    Role,
    RoutingRule,
    Signal,
    StandardText,
    User,
    Wijk,
)
from portal.seeding import DEMO_PASSWORD
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    EVA,
    KERKELANDEN,
    MANAGEMENT,
    SANNE,
    db_session,
    login,
    make_signal,
    user_id,
)

ZUIDWEST = "WK040203"  # Anna's wijk; Kerkelanden lies in it
ZUID = "WK040204"
NEW_PASSWORD = "een-heel-nieuw-wachtwoord"
ERROR_SUMMARY = re.compile(r'<div class="[^"]*portal-error-summary.*?</div>', re.S)


# --- helpers --------------------------------------------------------------------------------


def get_user(app: Flask, email: str) -> User:
    with db_session(app) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        _ = user.wijken  # loaded before the session closes
        return user


def audit_records(app: Flask, action: str) -> list[AuditRecord]:
    with db_session(app) as session:
        return list(
            session.scalars(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
            )
        )


def signal_by_reference(app: Flask, reference: str) -> Signal:
    with db_session(app) as session:
        return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def admin_client(app: Flask) -> FlaskClient:
    return login(app.test_client(), ADMIN)


def post(client: FlaskClient, url: str, data: dict[str, object], form_page: str | None = None):
    """Posts like a browser: with the CSRF token of the page the form is on."""
    token = csrf_token(client, form_page or url)
    return client.post(url, data={"csrf_token": token, **data})


def edit_data(user: User, **changes: object) -> dict[str, object]:
    """The edit form as the page fills it, with ``changes`` made by the admin."""
    data: dict[str, object] = {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "wijken": [w.code for w in user.wijken],
        "active": "y" if user.active else None,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def edit_user(client: FlaskClient, app: Flask, who: str, **changes: object):
    user = get_user(app, who)
    url = f"/backoffice/beheer/gebruikers/{user.id}"
    return post(client, url, edit_data(user, **changes))


def can_log_in(app: Flask, email: str, password: str = DEMO_PASSWORD) -> bool:
    client = app.test_client()
    token = csrf_token(client, "/backoffice/login")
    response = client.post(
        "/backoffice/login", data={"csrf_token": token, "email": email, "password": password}
    )
    return response.status_code == 303


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def error_summary(response) -> str:  # type: ignore[no-untyped-def]
    match = ERROR_SUMMARY.search(response.get_data(as_text=True))
    assert match, "no error summary on the page"
    return html.unescape(match.group(0))


def set_routing(client: FlaskClient, **owners: int | str) -> object:
    """Posts the routing page with only the given selects (scope=user id or "")."""
    data = {f"owner_{scope}": str(owner) for scope, owner in owners.items()}
    return post(client, "/backoffice/beheer/routering", data)


def owner_of(app: Flask, scope: str) -> int | None:
    with db_session(app) as session:
        rule = session.get(RoutingRule, scope)
        return rule.owner_id if rule else None


# --- users ----------------------------------------------------------------------------------


def set_password_link(smtp, email: str, before: int = 0) -> str:
    """The set-password link in the newest mail to ``email``."""
    mails = [m for m in smtp.wait_for(before + 1)[before:] if email in str(m["To"])]
    assert mails, f"no mail to {email}"
    match = re.search(r"/backoffice/wachtwoord/[A-Za-z0-9_-]{20,}", plain_body(mails[-1]))
    assert match, plain_body(mails[-1])
    return match.group(0)


def plain_body(mail) -> str:  # type: ignore[no-untyped-def]
    return mail.get_body(("plain",)).get_content()


def choose_password(app: Flask, link: str, password: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = csrf_token(client, link)
    return client.post(
        link, data={"csrf_token": token, "new_password": password, "repeat_password": password}
    )


def test_admin_creates_a_user_who_chooses_a_password_and_logs_in(app: Flask, smtp) -> None:
    client = admin_client(app)
    response = post(
        client,
        "/backoffice/beheer/gebruikers/nieuw",
        {
            "name": "Nieuwe Collega",
            "email": "Nieuwe.Collega@Hilversum.example",
            "role": "accountmanager",
            "wijken": [ZUIDWEST, ZUID],
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/backoffice/beheer/gebruikers")
    listing = page_text(client.get(response.headers["Location"]))
    assert "Het account van Nieuwe Collega is aangemaakt." in listing
    assert "nieuwe.collega@hilversum.example" in listing
    user = get_user(app, "nieuwe.collega@hilversum.example")
    assert (user.name, user.role, user.active) == ("Nieuwe Collega", "accountmanager", True)
    assert [w.code for w in user.wijken] == [ZUIDWEST, ZUID]
    [created] = [r for r in audit_records(app, "user.created") if r.details["user_id"] == user.id]
    assert created.actor_id == user_id(app, ADMIN)

    # No password yet: nothing logs in, not even an empty one.
    assert not can_log_in(app, "nieuwe.collega@hilversum.example", "")
    link = set_password_link(smtp, "nieuwe.collega@hilversum.example")
    weak = choose_password(app, link, "nieuwecollega1")
    assert weak.status_code == 422
    assert "niet uw naam of uw e-mailadres" in weak.get_data(as_text=True)
    assert choose_password(app, link, NEW_PASSWORD).status_code == 303
    assert can_log_in(app, "nieuwe.collega@hilversum.example", NEW_PASSWORD)
    # The link works once.
    assert app.test_client().get(link).status_code == 404


def test_admin_edits_name_role_and_wijken(app: Flask) -> None:
    client = admin_client(app)
    response = edit_user(
        client, app, SANNE, name="Sanne Bakker-de Wit", role="admin", wijken=["WK040201", ZUID]
    )

    assert response.status_code == 303
    assert "zijn opgeslagen" in page_text(client.get(response.headers["Location"]))
    sanne = get_user(app, SANNE)
    assert (sanne.name, sanne.role) == ("Sanne Bakker-de Wit", "admin")
    assert [w.code for w in sanne.wijken] == ["WK040201", ZUID]
    [record] = audit_records(app, "user.updated")
    assert record.actor_id == user_id(app, ADMIN)
    assert record.details["user_id"] == sanne.id
    assert record.details["changes"] == {
        "name": ["Sanne Bakker", "Sanne Bakker-de Wit"],
        "role": ["accountmanager", "admin"],
        "wijken": [["WK040201"], ["WK040201", ZUID]],
    }
    listing = page_text(client.get("/backoffice/beheer/gebruikers"))
    assert "Sanne Bakker-de Wit" in listing


@pytest.mark.parametrize("email", [ANNA, ANNA.upper()])
def test_a_duplicate_email_is_refused(app: Flask, email: str) -> None:
    client = admin_client(app)
    created = post(
        client,
        "/backoffice/beheer/gebruikers/nieuw",
        {"name": "Anna Twee", "email": email, "role": "admin"},
    )
    assert created.status_code == 422
    assert "Er is al een account met dit e-mailadres." in error_summary(created)
    assert 'value="Anna Twee"' in created.get_data(as_text=True)

    edited = edit_user(client, app, SANNE, email=email)
    assert edited.status_code == 422
    assert "Er is al een account met dit e-mailadres." in error_summary(edited)
    assert get_user(app, SANNE).email == SANNE
    with db_session(app) as session:
        assert session.scalars(select(User.name).where(User.email == ANNA)).all() == [
            "Anna de Vries"
        ]


def test_deactivating_keeps_history_and_stops_login(app: Flask) -> None:
    reference, _token = make_signal(app, buurt=KERKELANDEN)  # routed to Anna
    anna_id = user_id(app, ANNA)
    anna = login(app.test_client(), ANNA)  # writes her "user.logged_in" audit record
    client = admin_client(app)

    # She still owns Zuidwest in the routing: hand it over first, or new signals land nowhere.
    refused = edit_user(client, app, ANNA, active=None)
    assert refused.status_code == 422
    assert "eigenaar van wijk Zuidwest in de routering" in error_summary(refused)
    assert get_user(app, ANNA).active
    assert set_routing(client, **{ZUIDWEST: user_id(app, SANNE)}).status_code == 303

    page = page_text(client.get(f"/backoffice/beheer/gebruikers/{anna_id}"))
    assert "nog 1 open signaal" in page
    response = edit_user(client, app, ANNA, active=None)

    assert response.status_code == 303
    assert not get_user(app, ANNA).active
    assert not can_log_in(app, ANNA)
    # A session she had open ends at her next request.
    assert anna.get("/backoffice/").status_code == 302
    # Her signal and her audit trail are still there, still hers.
    assert signal_by_reference(app, reference).owner_id == anna_id
    assert any(r.actor_id == anna_id for r in audit_records(app, "user.logged_in"))
    [record] = audit_records(app, "user.deactivated")
    assert record.details["user_id"] == anna_id
    assert record.details["changes"] == {"active": [True, False]}
    listing = page_text(client.get("/backoffice/beheer/gebruikers"))
    assert "Nee, gedeactiveerd" in listing

    # And back: reactivated, she can log in again.
    assert edit_user(client, app, ANNA, active="y").status_code == 303
    assert can_log_in(app, ANNA)
    assert len(audit_records(app, "user.reactivated")) == 1


@pytest.mark.parametrize("changes", [{"active": None}, {"role": "management"}])
def test_an_admin_cannot_deactivate_or_demote_themselves(
    app: Flask, changes: dict[str, object]
) -> None:
    client = admin_client(app)
    response = edit_user(client, app, ADMIN, **changes)

    assert response.status_code == 422
    assert "U kunt uw eigen account niet deactiveren" in error_summary(response)
    admin = get_user(app, ADMIN)
    assert (admin.role, admin.active) == ("admin", True)
    assert audit_records(app, "user.updated") == []
    assert audit_records(app, "user.deactivated") == []


def test_a_routing_owner_cannot_become_management(app: Flask) -> None:
    client = admin_client(app)
    response = edit_user(client, app, EVA, role="management")  # owns the general inbox
    assert response.status_code == 422
    assert "eigenaar van de algemene inbox" in error_summary(response)
    assert get_user(app, EVA).role == "accountmanager"


def test_an_admin_reset_sends_a_link_and_ends_the_old_password(app: Flask, smtp) -> None:
    client = admin_client(app)
    anna_id = user_id(app, ANNA)
    anna_browser = app.test_client()
    assert can_log_in(app, ANNA)
    from tests.factories import login

    login(anna_browser, ANNA)
    before = len(smtp.messages)
    url = f"/backoffice/beheer/gebruikers/{anna_id}/wachtwoord"
    response = post(client, url, {}, f"/backoffice/beheer/gebruikers/{anna_id}")
    assert response.status_code == 303
    assert "krijgt een e-mail met een link" in page_text(client.get(response.headers["Location"]))
    # At once: the old password is dead and Anna is logged out everywhere.
    assert not can_log_in(app, ANNA, DEMO_PASSWORD)
    assert anna_browser.get("/backoffice/").status_code == 302
    link = set_password_link(smtp, ANNA, before)
    assert choose_password(app, link, NEW_PASSWORD).status_code == 303
    assert verify_password(get_user(app, ANNA), NEW_PASSWORD)
    assert can_log_in(app, ANNA, NEW_PASSWORD)
    [record] = audit_records(app, "user.password_link_reset")
    assert record.actor_id == user_id(app, ADMIN)
    assert record.details == {"user_id": anna_id}  # never a password, hash or token


def test_an_expired_or_replaced_link_does_not_work(app: Flask, smtp) -> None:
    from datetime import UTC, datetime, timedelta

    from portal.models import PasswordLink

    client = admin_client(app)
    anna_id = user_id(app, ANNA)
    url = f"/backoffice/beheer/gebruikers/{anna_id}/wachtwoord"
    form_page = f"/backoffice/beheer/gebruikers/{anna_id}"
    post(client, url, {}, form_page)
    first = set_password_link(smtp, ANNA)
    count = len(smtp.messages)
    post(client, url, {}, form_page)
    second = set_password_link(smtp, ANNA, count)
    assert app.test_client().get(first).status_code == 404  # only the newest works
    with db_session(app) as session:
        link = session.scalars(select(PasswordLink)).one()
        link.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.commit()
    expired = app.test_client().get(second)
    assert expired.status_code == 404
    assert "werkt niet (meer)" in expired.get_data(as_text=True)


# --- routing --------------------------------------------------------------------------------


def test_a_routing_change_sends_new_signals_to_the_new_owner(app: Flask) -> None:
    anna_id, sanne_id = user_id(app, ANNA), user_id(app, SANNE)
    old_reference, _ = make_signal(app, buurt=KERKELANDEN)
    client = admin_client(app)

    page = client.get("/backoffice/beheer/routering").get_data(as_text=True)
    assert f'<option selected value="{anna_id}">Anna de Vries</option>' in page
    response = set_routing(client, **{ZUIDWEST: sanne_id})
    assert response.status_code == 303
    assert "signalen die er al zijn houden hun eigenaar" in page_text(
        client.get(response.headers["Location"])
    )

    new_reference, _ = make_signal(app, buurt=KERKELANDEN, title="Nog meer afval")
    assert signal_by_reference(app, new_reference).owner_id == sanne_id
    assert signal_by_reference(app, old_reference).owner_id == anna_id
    [record] = audit_records(app, "routing.changed")
    assert record.actor_id == user_id(app, ADMIN)
    assert record.details == {"scope": ZUIDWEST, "from_owner_id": anna_id, "to_owner_id": sanne_id}

    # No rule for a wijk: its new signals go to the wijk's accountmanager (Anna has Zuidwest).
    assert set_routing(client, **{ZUIDWEST: ""}).status_code == 303
    assert owner_of(app, ZUIDWEST) is None
    third, _ = make_signal(app, buurt=KERKELANDEN, title="Weer afval")
    assert signal_by_reference(app, third).owner_id == anna_id
    assert len(audit_records(app, "routing.removed")) == 1
    # And a rule for it again.
    assert set_routing(client, **{ZUIDWEST: anna_id}).status_code == 303
    [created] = audit_records(app, "routing.created")
    assert created.details == {"scope": ZUIDWEST, "from_owner_id": None, "to_owner_id": anna_id}


def test_the_general_inbox_owner_can_change_but_never_be_empty(app: Flask) -> None:
    sanne_id = user_id(app, SANNE)
    client = admin_client(app)

    assert set_routing(client, **{GENERAL_INBOX: sanne_id}).status_code == 303
    assert owner_of(app, GENERAL_INBOX) == sanne_id
    reference, _ = make_signal(app, buurt=None)  # no location: the general inbox
    assert signal_by_reference(app, reference).owner_id == sanne_id

    refused = set_routing(client, **{GENERAL_INBOX: ""})
    assert refused.status_code == 422
    assert "De algemene inbox heeft altijd een eigenaar nodig." in error_summary(refused)
    assert '<option selected value="">Kies een eigenaar</option>' in refused.get_data(as_text=True)
    assert owner_of(app, GENERAL_INBOX) == sanne_id


def test_routing_to_management_or_an_inactive_user_is_refused(app: Flask) -> None:
    client = admin_client(app)
    anna_id = user_id(app, ANNA)
    refused = set_routing(client, **{ZUIDWEST: user_id(app, MANAGEMENT), ZUID: user_id(app, SANNE)})

    assert refused.status_code == 422
    assert "Alleen een accountmanager of beheerder kan eigenaar zijn" in error_summary(refused)
    assert 'href="#owner_WK040203"' in error_summary(refused)
    # All or nothing: the valid change in the same form was not made either.
    assert owner_of(app, ZUIDWEST) == anna_id
    assert owner_of(app, ZUID) == user_id(app, "pieter.jansen@hilversum.example")

    # Someone who left cannot receive signals.
    sanne = get_user(app, SANNE)
    assert set_routing(client, WK040201=anna_id).status_code == 303  # Sanne hands over
    assert edit_user(client, app, SANNE, active=None).status_code == 303
    inactive = set_routing(client, **{ZUIDWEST: sanne.id})
    assert inactive.status_code == 422
    assert "Deze persoon is niet actief." in error_summary(inactive)
    assert owner_of(app, ZUIDWEST) == anna_id
    assert audit_records(app, "routing.changed")[-1].details["scope"] == "WK040201"


# --- standard texts -------------------------------------------------------------------------


def text_form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Doorgezet naar de gemeentewerf",
        "body": "Uw melding {meldnummer} over {titel} in {wijk} is doorgezet.",
        "status": "forwarded",
        "kind": "knelpunt",
        "active": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_and_edits_a_standard_text(app: Flask) -> None:
    client = admin_client(app)
    new = client.get("/backoffice/beheer/standaardteksten/nieuw").get_data(as_text=True)
    for placeholder in ("{meldnummer}", "{titel}", "{wijk}", "{buurt}", "{accountmanager}"):
        assert placeholder in new
    assert "Alle statussen" in new and "Alle soorten" in new

    response = post(client, "/backoffice/beheer/standaardteksten/nieuw", text_form())
    assert response.status_code == 303
    listing = page_text(client.get(response.headers["Location"]))
    assert "Doorgezet naar de gemeentewerf" in listing
    with db_session(app) as session:
        text = session.scalars(select(StandardText)).one()
        assert (text.status, text.kind, text.active) == ("forwarded", "knelpunt", True)

    url = f"/backoffice/beheer/standaardteksten/{text.id}"
    edit_page = client.get(url).get_data(as_text=True)
    assert '<option selected value="forwarded">' in edit_page
    changed = post(client, url, text_form(title="Voor iedereen", status="", kind="", active=None))
    assert changed.status_code == 303
    with db_session(app) as session:
        text = session.get(StandardText, text.id)
        assert text is not None
        assert (text.title, text.status, text.kind, text.active) == (
            "Voor iedereen",
            None,
            None,
            False,
        )
    assert [r.details["standard_text_id"] for r in audit_records(app, "standard_text.created")] == [
        text.id
    ]
    [updated] = audit_records(app, "standard_text.updated")
    assert updated.actor_id == user_id(app, ADMIN)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Uw melding {melnummer} is ontvangen.", "Deze plaatshouder kennen we niet: {melnummer}"),
        ("Voor {titel:>20} en {wijk!r}.", "{titel:>20}, {wijk!r}"),
        ("Een losse { accolade.", "Er staat een losse { of } in de tekst."),
    ],
)
def test_an_unknown_placeholder_is_refused(app: Flask, body: str, message: str) -> None:
    client = admin_client(app)
    response = post(client, "/backoffice/beheer/standaardteksten/nieuw", text_form(body=body))

    assert response.status_code == 422
    summary = error_summary(response)
    assert message in summary
    assert 'href="#body"' in summary
    assert html.escape(body, quote=False) in response.get_data(as_text=True)
    with db_session(app) as session:
        assert session.scalars(select(StandardText)).all() == []


# --- wijken and buurten ---------------------------------------------------------------------


def test_renaming_a_wijk_shows_everywhere_and_keeps_the_code(app: Flask) -> None:
    reference, token = make_signal(app, buurt=KERKELANDEN)
    client = admin_client(app)
    wijken_page = page_text(client.get("/backoffice/beheer/wijken"))
    assert "Buurten van wijk Zuidwest" in wijken_page

    response = post(
        client,
        f"/backoffice/beheer/wijken/{ZUIDWEST}",
        {f"wijk-{ZUIDWEST}-name": "Hilversum Zuidwest"},
        "/backoffice/beheer/wijken",
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/backoffice/beheer/wijken#wijk-{ZUIDWEST}")
    renamed = post(
        client,
        f"/backoffice/beheer/buurten/{KERKELANDEN}",
        {f"buurt-{KERKELANDEN}-name": "Kerkelanden-Noord"},
        "/backoffice/beheer/wijken",
    )
    assert renamed.status_code == 303

    status_page = page_text(app.test_client().get(f"/status/{token}"))
    assert "Wijk Hilversum Zuidwest, buurt Kerkelanden-Noord" in status_page
    signal = signal_by_reference(app, reference)
    assert (signal.wijk_code, signal.buurt_code) == (ZUIDWEST, KERKELANDEN)
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        assert [(w.code, w.name) for w in anna.wijken] == [(ZUIDWEST, "Hilversum Zuidwest")]
    [record] = audit_records(app, "wijk.renamed")
    assert record.actor_id == user_id(app, ADMIN)
    assert record.details == {"code": ZUIDWEST, "old": "Zuidwest", "new": "Hilversum Zuidwest"}
    assert audit_records(app, "buurt.renamed")[0].details["new"] == "Kerkelanden-Noord"


def test_a_wijk_name_must_be_given_and_be_unique(app: Flask) -> None:
    client = admin_client(app)
    for name, message in [("  ", "Vul een naam in."), ("zuid", "Deze naam is al in gebruik.")]:
        response = post(
            client,
            f"/backoffice/beheer/wijken/{ZUIDWEST}",
            {f"wijk-{ZUIDWEST}-name": name},
            "/backoffice/beheer/wijken",
        )
        assert response.status_code == 422
        assert message in error_summary(response)
        assert f'href="#wijk-{ZUIDWEST}-name"' in error_summary(response)
    with db_session(app) as session:
        assert session.get(Wijk, ZUIDWEST).name == "Zuidwest"  # type: ignore[union-attr]
    assert audit_records(app, "wijk.renamed") == []


def test_seeding_wijken_again_keeps_a_new_name(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(app)
    post(
        client,
        f"/backoffice/beheer/buurten/{KERKELANDEN}",
        {f"buurt-{KERKELANDEN}-name": "Kerkelanden-Noord"},
        "/backoffice/beheer/wijken",
    )
    post(
        client,
        f"/backoffice/beheer/wijken/{ZUIDWEST}",
        {f"wijk-{ZUIDWEST}-name": "Hilversum Zuidwest"},
        "/backoffice/beheer/wijken",
    )

    result = runner.invoke(args=["seed", "wijken"])

    assert result.exit_code == 0, result.output
    assert "0 new" in result.output
    with db_session(app) as session:
        assert session.get(Wijk, ZUIDWEST).name == "Hilversum Zuidwest"  # type: ignore[union-attr]
        assert session.get(Buurt, KERKELANDEN).name == "Kerkelanden-Noord"  # type: ignore[union-attr]


# --- who may use the admin screens ----------------------------------------------------------


def admin_urls(app: Flask) -> list[tuple[str, str]]:
    """Every (method, url) of the admin screens, found in the URL map (none forgotten)."""
    values = {"user_id": 1, "text_id": 1, "mail_id": 1, "code": ZUIDWEST}
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if not getattr(view, "__module__", "").startswith("portal.backoffice.admin"):
                continue
            url = rule.build({name: values.get(name, 1) for name in rule.arguments})[1]
            found += [(m, url) for m in sorted(rule.methods or ()) if m in ("GET", "POST")]
    return found


def test_every_admin_screen_is_for_admins_only(app: Flask) -> None:
    urls = admin_urls(app)
    assert len(urls) >= 16
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if app.view_functions[rule.endpoint].__module__.startswith("portal.backoffice.admin"):
                assert allowed_roles(rule.endpoint) == frozenset({Role.ADMIN}), rule.endpoint
    admin = admin_client(app)
    for method, url in urls:
        if method == "GET":
            assert admin.get(url).status_code in (200, 404), url


@pytest.mark.parametrize("email", [ANNA, MANAGEMENT])
def test_accountmanager_and_management_get_403(app: Flask, email: str) -> None:
    client = login(app.test_client(), email)
    token = csrf_token(client, "/melden")  # a valid token: the refusal is about the role
    audit_before = len(_all_audit(app))
    for method, url in admin_urls(app):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(
                url, data={"csrf_token": token, "name": "X", f"owner_{ZUIDWEST}": "1"}
            )
        assert response.status_code == 403, (method, url)
    # Nothing changed on the way.
    assert owner_of(app, ZUIDWEST) == user_id(app, ANNA)
    assert len(_all_audit(app)) == audit_before


def test_unknown_or_absurd_ids_are_404(app: Flask) -> None:
    client = admin_client(app)
    for url in (
        "/backoffice/beheer/gebruikers/999999",
        "/backoffice/beheer/gebruikers/99999999999999999999",
        "/backoffice/beheer/standaardteksten/99999999999999999999",
    ):
        assert client.get(url).status_code == 404, url
    bogus = set_routing(client, **{ZUIDWEST: "99999999999999999999"})
    assert bogus.status_code == 422
    assert "Deze persoon bestaat niet (meer)." in error_summary(bogus)
    assert (
        post(client, "/backoffice/beheer/wijken/WK999999", {}, "/backoffice/beheer/wijken")
    ).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login(app: Flask) -> None:
    client = app.test_client()
    for method, url in admin_urls(app):
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302, url
            assert "/backoffice/login" in response.headers["Location"]


def _all_audit(app: Flask) -> list[AuditRecord]:
    with db_session(app) as session:
        return list(session.scalars(select(AuditRecord)))


def test_the_admin_operations_need_no_flask() -> None:
    """Domain operations are plain Python: usable from the CLI, jobs and tests alike."""
    code = (
        "import sys, portal.domain.users, portal.domain.routing_admin, "
        "portal.domain.standard_texts; sys.exit('flask' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- the CLI still works --------------------------------------------------------------------


def test_the_cli_still_creates_users(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Cli.Gebruiker@Hilversum.example",
            "--name",
            "Cli Gebruiker",
            "--role",
            "accountmanager",
            "--wijk",
            ZUID,
            "--password",
            NEW_PASSWORD,
        ]
    )

    assert result.exit_code == 0, result.output
    assert "Created accountmanager cli.gebruiker@hilversum.example" in result.output
    user = get_user(app, "cli.gebruiker@hilversum.example")
    assert [w.code for w in user.wijken] == [ZUID]
    assert can_log_in(app, "cli.gebruiker@hilversum.example", NEW_PASSWORD)
    record = audit_records(app, "user.created")[-1]
    assert (record.actor_id, record.details["user_id"]) == (None, user.id)
    # And the admin screens show the account, ready to be edited.
    client = admin_client(app)
    assert "Cli Gebruiker" in page_text(client.get("/backoffice/beheer/gebruikers"))
    assert edit_user(client, app, "cli.gebruiker@hilversum.example", name="Cli G.").status_code == (
        303
    )

    duplicate = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            ANNA,
            "--name",
            "A",
            "--role",
            "admin",
            "--password",
            NEW_PASSWORD,
        ]
    )
    assert duplicate.exit_code != 0
    assert f"Er bestaat al een account met e-mailadres {ANNA}" in duplicate.output


# --- accessibility (a real browser with axe-core) -------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_admin_screens_are_accessible(app: Flask, live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    from tests.fixtures.browser import assert_accessible

    page.goto(f"{live_server}/backoffice/login")
    page.get_by_label("E-mailadres").fill(ADMIN)
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()
    anna_id = user_id(app, ANNA)
    for path in (
        "/backoffice/beheer",
        "/backoffice/beheer/gebruikers",
        "/backoffice/beheer/gebruikers/nieuw",
        f"/backoffice/beheer/gebruikers/{anna_id}",
        "/backoffice/beheer/routering",
        "/backoffice/beheer/standaardteksten",
        "/backoffice/beheer/standaardteksten/nieuw",
        "/backoffice/beheer/wijken",
    ):
        page.goto(f"{live_server}{path}")
        assert_accessible(page)

    # The pages that come back with errors, too.
    page.goto(f"{live_server}/backoffice/beheer/gebruikers/nieuw")
    page.get_by_role("button", name="Account aanmaken").click()
    assert page.locator(".portal-error-summary").is_visible()
    assert_accessible(page)

    page.goto(f"{live_server}/backoffice/beheer/gebruikers/{anna_id}")
    page.get_by_label("Actief: deze persoon kan inloggen").uncheck()
    page.get_by_role("button", name="Gegevens opslaan").click()
    assert "eigenaar van wijk Zuidwest" in page.locator(".portal-error-summary").inner_text()
    assert_accessible(page)

    page.goto(f"{live_server}/backoffice/beheer/routering")
    page.get_by_label("Eigenaar van de algemene inbox").select_option(label="Sanne Bakker")
    page.get_by_role("button", name="Routering opslaan").click()
    assert "De routering is opgeslagen." in page.locator(".utrecht-alert--ok").inner_text()
    assert owner_of(app, GENERAL_INBOX) == user_id(app, SANNE)
    assert_accessible(page)

    page.goto(f"{live_server}/backoffice/beheer/standaardteksten/nieuw")
    page.get_by_label("Titel", exact=True).fill("Met een typfout")
    page.get_by_label("Tekst", exact=True).fill("Uw melding {melnummer}")
    page.get_by_role("button", name="Standaardtekst opslaan").click()
    assert "{melnummer}" in page.locator(".portal-error-summary").inner_text()
    assert_accessible(page)

    page.goto(f"{live_server}/backoffice/beheer/wijken")
    page.get_by_label("Naam van wijk Zuidwest").fill("")
    page.get_by_role("button", name="Naam opslaan (wijk Zuidwest)").click()
    assert "Vul een naam in." in page.locator(".portal-error-summary").inner_text()
    assert_accessible(page)
