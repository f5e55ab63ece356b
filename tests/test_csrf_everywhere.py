"""Every state-changing route refuses a request without a CSRF token - derived from the URL
map, like the role matrix, so a route added later is covered without touching this file, and
one ``csrf.exempt`` on one admin form fails here. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html

from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule

from portal.backoffice.access import PUBLIC, allowed_roles
from portal.models import Base, Signal
from portal.seeding import DEMO_PASSWORD
from tests.conftest import csrf_token
from tests.factories import ADMIN, KERKELANDEN, db_session, login, make_signal
from tests.test_backoffice_access import UrlValues, logged_in
from tests.test_report_form import valid_form

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# RFC 8058 one-click unsubscribe: a mail client POSTs without our token, the secret token in
# the URL authorises it (tests/test_alerts.py, tests/test_following.py). Here they must still
# change nothing for a token they do not know.
ONE_CLICK = {"public.alert_unsubscribe", "public.follow_unsubscribe"}
FORM_EXPIRED = "Uw formulier is verlopen"


def state_changing_rules(app: Flask) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if (r.methods or set()) & STATE_CHANGING),
        key=lambda r: (r.rule, r.endpoint),
    )


def anonymous_route(app: Flask, rule: Rule) -> bool:
    """Public pages (and the login page) are tried without logging in; everything else as an
    admin, who may do the most."""
    if not rule.endpoint.startswith("backoffice."):
        return True
    with app.app_context():
        return allowed_roles(rule.endpoint) == PUBLIC


def database_state(app: Flask) -> dict[str, list[str]]:
    """Every row of every table: whatever a refused request might have changed shows here."""
    with db_session(app) as session:
        return {
            table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


class Values(UrlValues):
    """Real URL values (signal, photo, user, standard text, wijk, buurt) and a status token."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.app = app
        _reference, token = make_signal(app)
        self.known["token"] = token

    def body(self) -> dict[str, object]:
        """Everything a form here might want, so that a route whose CSRF check went missing
        would act on it (and change something) rather than stop at an empty form."""
        with db_session(self.app) as session:
            version = session.scalar(
                select(Signal.version).where(Signal.reference == self.known["reference"])
            )
        return {
            **valid_form(),  # the resident's form, and name/email for the staff forms
            "version": str(version),
            "status": "in_progress",
            "message": "Wij pakken het op.",
            "reason": "Hoort bij Centrum.",
            "owner": str(self.known["user_id"]),
            "follow_up_on": "31-12-2099",
            "role": "accountmanager",
            "active": "y",
            "password": "een-heel-lang-wachtwoord-2026",
            "title": "Nieuwe standaardtekst",
            "body": "Bedankt voor uw melding.",
            "wijk-WK040203-name": "Zuidwest Nieuw",
            f"buurt-{KERKELANDEN}-name": "Kerkelanden Nieuw",
        }


def refusals(app: Flask, rules: list[Rule]) -> tuple[list[str], int]:
    """Sends each state-changing method of each rule without a token; what went wrong."""
    values = Values(app)
    admin = login(app.test_client(), ADMIN)
    problems: list[str] = []
    checked = 0
    for rule in rules:
        path, _real = values.path(rule)
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            client = app.test_client() if anonymous_route(app, rule) else admin
            if client is admin and not logged_in(admin):
                login(admin, ADMIN)
            client.get("/melden")  # a session (with a CSRF secret) exists, only the token lacks
            before = database_state(app)
            body = values.body()
            if rule.endpoint == "backoffice.login":
                body |= {"email": ADMIN, "password": DEMO_PASSWORD}
            response = client.open(path, method=method, data=body)
            checked += 1
            where = f"{method} {path} ({rule.endpoint}): {response.status_code}"
            page = html.unescape(response.get_data(as_text=True))
            if rule.endpoint == "public.report":
                # The resident's form comes back with what they typed and an explanation.
                if response.status_code != 422 or FORM_EXPIRED not in page:
                    problems.append(f"{where}, expected the form again (422) saying it expired")
            elif rule.endpoint in ONE_CLICK:
                if response.status_code not in (404, 410):
                    problems.append(f"{where}, expected 404 for a token it does not know")
            elif response.status_code != 400:
                problems.append(f"{where}, expected 400 without a CSRF token")
            if database_state(app) != before:
                problems.append(f"{where}, changed the database without a CSRF token")
            if client is admin and not logged_in(admin):
                problems.append(f"{where}, logged the admin out without a CSRF token")
    return problems, checked


def test_csrf_protection_is_on_in_the_test_app(app: Flask) -> None:
    # TESTING must not switch CSRF off, or the tests below would prove nothing.
    assert app.config["TESTING"] is True
    assert app.config["WTF_CSRF_ENABLED"] is True
    assert app.config.get("WTF_CSRF_CHECK_DEFAULT", True) is True


def test_every_state_changing_route_refuses_a_request_without_a_csrf_token(app: Flask) -> None:
    """Mutant: ``csrf.exempt`` on one view (e.g. the wijk rename)."""
    rules = state_changing_rules(app)
    endpoints = {rule.endpoint for rule in rules}
    # The list is derived, but must have found the forms we know of.
    assert {
        "public.report",
        "public.status_request",
        "backoffice.login",
        "backoffice.logout",
        "backoffice.signal_status",
        "backoffice.signal_reassign",
        "backoffice.admin_wijk_rename",
        "backoffice.admin_buurt_rename",
        *ONE_CLICK,
    } <= endpoints
    problems, checked = refusals(app, rules)
    assert checked >= len(rules)
    assert not problems, "\n".join(problems)


def test_the_same_requests_with_a_token_get_past_the_check(app: Flask) -> None:
    """The control: with a valid token the routes do not answer 400, so the 400 above was
    the CSRF check and not a body the view could not read."""
    values = Values(app)
    answered_400: list[str] = []
    for rule in state_changing_rules(app):
        path, _real = values.path(rule)
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            client = app.test_client()
            if anonymous_route(app, rule):
                token = csrf_token(client, "/backoffice/login")
            else:
                token = csrf_token(login(client, ADMIN), "/backoffice/")
            body = {**values.body(), "csrf_token": token}
            if rule.endpoint == "backoffice.login":
                body |= {"email": ADMIN, "password": DEMO_PASSWORD}
            response = client.open(path, method=method, data=body)
            if response.status_code == 400:
                answered_400.append(f"{method} {path} ({rule.endpoint})")
    assert not answered_400, "\n".join(answered_400)


def test_a_route_added_later_is_covered_too(app: Flask) -> None:
    """CSRF protection is global (not per form): a new view is protected from the start,
    and the derived list above picks it up."""

    def archive(reference: str) -> str:
        return "archived"

    app.add_url_rule(
        "/backoffice/signalen/<reference>/archiveren",
        "backoffice.signal_archive",
        archive,
        methods=["POST", "DELETE"],
    )
    rules = [r for r in state_changing_rules(app) if r.endpoint == "backoffice.signal_archive"]
    assert len(rules) == 1
    problems, checked = refusals(app, rules)
    assert checked == 2
    assert not problems, "\n".join(problems)
