"""The privacy statement (/privacy) and the accessibility statement (/toegankelijkheid) say
what the portal really does: contacts, dates and retention periods come from the
configuration, the periods the code works with come from its own constants, and the page
quotes the form's consent question word for word. In Dutch and in English (where English
words depend on the translation, only structure and values are checked)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.domain.tokens import LINK_DAYS_AFTER_CLOSING, MAX_LINKS_PER_SIGNAL
from portal.domain.upload_sweep import LOOSE_UPLOAD_AGE
from portal.extensions import db
from portal.outbox import FAILED_MAIL_RETENTION
from tests.fixtures.browser import assert_accessible

if TYPE_CHECKING:  # Playwright is imported only when the browser test runs
    from playwright.sync_api import Page

# The pages read no data; one backend is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LANGUAGES = ["nl", "en"]
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}


class _ElementText(HTMLParser):
    """The text inside the element with one id, whitespace collapsed."""

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id = element_id
        self.depth = 0
        self.found = False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_ELEMENTS:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in VOID_ELEMENTS:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def text_of(html: str, element_id: str) -> str:
    parser = _ElementText(element_id)
    parser.feed(html)
    assert parser.found, f"no element with id {element_id!r} on the page"
    return " ".join(" ".join(parser.parts).split())


def numbers(text: str) -> set[int]:
    return {int(number) for number in re.findall(r"\d+", text)}


def label_for(html: str, field_id: str) -> str:
    match = re.search(rf'<label[^>]*for="{re.escape(field_id)}"[^>]*>(.*?)</label>', html, re.S)
    assert match, f"no label for {field_id!r}"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


@pytest.fixture
def make_client(app_config: dict[str, object]) -> Iterator[Callable[..., FlaskClient]]:
    """A client of an app with these settings on top of the test configuration."""
    apps: list[Flask] = []

    def make(**overrides: object) -> FlaskClient:
        app = create_app({**app_config, **overrides})
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        with app.app_context():
            db.engine().dispose()


def page_in(client: FlaskClient, path: str, lang: str) -> str:
    response = client.get(f"{path}?lang={lang}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}"' in html
    return html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_privacy_statement_names_the_configured_controller_and_contacts(make_client, lang):
    client = make_client(
        PRIVACY_CONTROLLER="het college van burgemeester en wethouders van Testdorp",
        PRIVACY_OFFICER_EMAIL="fg@testdorp.example",
        PRIVACY_CONTACT_PHONE="0800 123 45 67",
    )
    html = page_in(client, "/privacy", lang)
    assert "het college van burgemeester en wethouders van Testdorp" in text_of(
        html, "verwerkingsverantwoordelijke"
    )
    assert 'href="mailto:fg@testdorp.example"' in html
    contact = text_of(html, "privacy-contact")
    assert "fg@testdorp.example" in contact and "0800 123 45 67" in contact
    rights = text_of(html, "rechten-contact")
    assert "fg@testdorp.example" in rights and "0800 123 45 67" in rights
    assert "14 035" not in html


def test_privacy_statement_defaults_are_those_of_hilversum(client):
    html = page_in(client, "/privacy", "nl")
    assert (
        "Verantwoordelijk voor uw gegevens is het college van burgemeester en wethouders van de "
        "gemeente Hilversum." in text_of(html, "verwerkingsverantwoordelijke")
    )
    assert "14 035" in text_of(html, "privacy-contact")
    assert "365 dagen" in text_of(html, "bewaren-contactgegevens")
    assert "365 dagen" in text_of(html, "bewaren-fotos")
    assert "5 jaar" in text_of(html, "bewaren-melding")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_retention_periods_on_the_page_follow_the_configuration(make_client, lang):
    html = page_in(
        make_client(
            RETENTION_REPORTER_DAYS=412,
            RETENTION_PHOTO_DAYS=133,
            RETENTION_SIGNAL_YEARS=7,
            RETENTION_DECLINED_SIGNAL_YEARS=2,
        ),
        "/privacy",
        lang,
    )
    contact, photos, signal = (
        text_of(html, row)
        for row in ("bewaren-contactgegevens", "bewaren-fotos", "bewaren-melding")
    )
    assert numbers(contact) == {412}
    assert numbers(photos) == {133}
    assert numbers(signal) == {7, 2}
    if lang == "nl":
        assert "412 dagen nadat uw melding is afgesloten" in contact
        assert "7 jaar nadat hij is afgesloten" in signal
        assert "afgewezen? Dan verwijderen wij hem 2 jaar nadat" in signal


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_shorter_period_of_sensitive_signals_is_on_the_page(make_client, lang):
    html = page_in(
        make_client(
            RETENTION_REPORTER_DAYS=412, RETENTION_PHOTO_DAYS=133, RETENTION_SENSITIVE_DAYS=150
        ),
        "/privacy",
        lang,
    )
    # Contact data after 150 days instead of 412; photos go after 133 days anyway.
    assert numbers(text_of(html, "bewaren-gevoelig")) == {150, 133}
    both = page_in(make_client(RETENTION_SENSITIVE_DAYS=150), "/privacy", lang)
    assert numbers(text_of(both, "bewaren-gevoelig")) == {150}  # one period, said once
    same = page_in(make_client(RETENTION_SENSITIVE_DAYS=365), "/privacy", lang)
    assert 'id="bewaren-gevoelig"' not in same


def test_one_day_and_one_year_are_singular(make_client):
    html = page_in(
        make_client(RETENTION_REPORTER_DAYS=1, RETENTION_SIGNAL_YEARS=1), "/privacy", "nl"
    )
    assert "1 dag nadat" in text_of(html, "bewaren-contactgegevens")
    assert "1 jaar nadat" in text_of(html, "bewaren-melding")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_privacy_statement_shows_the_periods_the_code_works_with(client, lang):
    """Not configuration but the code's own rules: status links, loose uploads, failed mail."""
    html = page_in(client, "/privacy", lang)
    assert str(LINK_DAYS_AFTER_CLOSING) in text_of(html, "bewaren-link")
    hours = int(LOOSE_UPLOAD_AGE.total_seconds() // 3600)
    assert str(hours) in text_of(html, "bewaren-losse-fotos")
    assert str(FAILED_MAIL_RETENTION.days) in text_of(html, "bewaren-mislukte-e-mail")
    assert str(MAX_LINKS_PER_SIGNAL) in text_of(html, "link-aantal")
    if lang == "nl":
        assert f"{LINK_DAYS_AFTER_CLOSING} dagen nadat" in text_of(html, "bewaren-link")
        assert f"na {hours} uur" in text_of(html, "bewaren-losse-fotos")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_privacy_statement_quotes_the_consent_question_of_the_form(client, lang):
    form = page_in(client, "/melden", lang)
    statement = page_in(client, "/privacy", lang)
    question = label_for(form, "may_share_with_partners")
    assert "Versa Welzijn" in question
    assert text_of(statement, "toestemming-partners") == question


def test_the_only_cookie_is_the_session_cookie_the_statement_names(make_client):
    client = make_client(SESSION_COOKIE_NAME="wijkzaken_sessie")
    cookies: list[str] = []
    for path in ("/", "/melden", "/privacy?lang=en", "/toegankelijkheid", "/status/opvragen"):
        cookies += client.get(path).headers.getlist("Set-Cookie")
    assert cookies, "the form and the language choice use the session cookie"
    assert {cookie.split("=", 1)[0] for cookie in cookies} == {"wijkzaken_sessie"}
    for cookie in cookies:  # gone when the browser closes, as the statement says
        assert "expires=" not in cookie.lower() and "max-age=" not in cookie.lower()
    html = page_in(client, "/privacy", "nl")
    assert "‘wijkzaken_sessie’" in text_of(html, "cookie-naam")


@pytest.mark.parametrize(
    ("lang", "statement_day", "tested_day"),
    [("nl", "1 december 2026", "17 november 2026"), ("en", "1 December 2026", "17 November 2026")],
)
def test_accessibility_statement_shows_configured_dates_and_contacts(
    make_client, lang, statement_day, tested_day
):
    client = make_client(
        ACCESSIBILITY_STATEMENT_DATE=date(2026, 12, 1),
        ACCESSIBILITY_TESTED_DATE=date(2026, 11, 17),
        ACCESSIBILITY_CONTACT_EMAIL="toegankelijk@testdorp.example",
        PRIVACY_CONTACT_PHONE="0800 123 45 67",
        PUBLIC_BASE_URL="https://wijkzaken.testdorp.example",
    )
    html = page_in(client, "/toegankelijkheid", lang)
    assert text_of(html, "datum-verklaring") == statement_day
    assert text_of(html, "datum-onderzoek") == tested_day
    assert '<time datetime="2026-12-01">' in html and '<time datetime="2026-11-17">' in html
    contact = text_of(html, "toegankelijkheid-contact")
    assert "toegankelijk@testdorp.example" in contact and "0800 123 45 67" in contact
    assert 'href="mailto:toegankelijk@testdorp.example"' in html
    assert "https://wijkzaken.testdorp.example" in text_of(html, "website-adres")
    assert 'href="https://www.nationaleombudsman.nl"' in html


def test_accessibility_dates_given_as_iso_text_are_formatted(
    make_client, monkeypatch: pytest.MonkeyPatch
):
    """A PORTAL_* variable carries a date as text (JSON has no dates): it is read as a date."""
    monkeypatch.setenv("PORTAL_ACCESSIBILITY_STATEMENT_DATE", "2027-03-15")
    html = page_in(make_client(), "/toegankelijkheid", "nl")
    assert text_of(html, "datum-verklaring") == "15 maart 2027"
    assert '<time datetime="2027-03-15">' in html


def test_accessibility_statement_names_the_map_as_a_known_problem(client):
    """The statement's status and known problems describe the form as it is: it has a map
    now, so the statement says what is hard about it and what the equal alternative is."""
    statement = page_in(client, "/toegankelijkheid", "nl")
    assert (
        text_of(statement, "nalevingsstatus") == "Deze website voldoet gedeeltelijk aan de eisen."
    )
    assert text_of(statement, "probleem-kaart") == "De kaart is niet voor iedereen even makkelijk"
    assert "leaflet" in page_in(client, "/melden", "nl").lower()


@pytest.mark.browser
def test_trust_pages_are_accessible_in_dutch_and_english(page: Page, live_server: str) -> None:
    from playwright.sync_api import expect

    for path, heading in (
        ("/privacy", "Privacyverklaring"),
        ("/toegankelijkheid", "Toegankelijkheid"),
    ):
        page.goto(f"{live_server}{path}")
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)

        page.get_by_role("navigation", name="Taal").get_by_role("link", name="English").click()
        expect(page).to_have_url(re.compile(re.escape(f"{live_server}{path}?lang=en") + "$"))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert_accessible(page)
        page.get_by_role("link", name="Nederlands").click()
        expect(page.locator("html")).to_have_attribute("lang", "nl")

    # The periods table is a real table, its rows named by their header cells.
    page.goto(f"{live_server}/privacy")
    table = page.get_by_role("table", name="Bewaartermijnen")
    expect(table.get_by_role("rowheader")).to_have_count(7)
    expect(table.locator("#bewaren-contactgegevens")).to_contain_text("365 dagen")


def test_privacy_statement_gives_the_alert_periods_the_job_keeps(client):
    """What the page promises about wijk alert addresses is read from the code that deletes
    them (portal/domain/alerts.py), so the two cannot drift apart."""
    from portal.domain import alerts

    statement = page_in(client, "/privacy", "nl")
    assert f"niet binnen {alerts.CONFIRM_DAYS} dagen" in statement
    assert f"binnen {alerts.UNSUBSCRIBED_KEEP_DAYS} dagen" in statement
