"""Wijk news and alerts in a real browser: Anna de Vries posts news with a photo in the back
office (first forgetting to describe the photo); it is on the Zuidwest wijk page, on its own
page and in the feed; a resident subscribes to the wijk's mail (first with a wrong address),
confirms with the button behind the mail's link and unsubscribes from the weekly mail's link.
axe-core checks every state, the Nu checker every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.factories import ANNA
from tests.fixtures.browser import assert_accessible
from tests.fixtures.mailserver import SMTPServer
from tests.test_alerts import text_of, weekly_mails
from tests.test_browser_backoffice import log_in
from tests.test_browser_resident import mail_to, make_photo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

ZUIDWEST = "WK040203"
TITLE = "Schouw in Kerkelanden: loopt u mee?"
TEXT = "Donderdagavond lopen we door Kerkelanden.\nWe beginnen om 19.00 uur bij het winkelcentrum."
ALT = "Bewoners en de wijkagent op het plein"
RESIDENT = "buurvrouw@voorbeeld.nl"


def link_in(text: str, kind: str, base: str) -> str:
    """The confirm or unsubscribe link in a mail's text (links lead to the live server)."""
    match = re.search(re.escape(base) + f"/attendering/{kind}/[A-Za-z0-9_-]+", text)
    assert match, text
    return match.group(0)


def post_news(page: Page, photo: Path, *, alt: str, title: str = TITLE) -> None:
    page.get_by_label("Titel").fill(title)
    page.get_by_label("Tekst").fill(TEXT)
    page.get_by_label("Foto (niet verplicht)").set_input_files(photo)
    page.get_by_label("Wat staat er op de foto?").fill(alt)
    page.get_by_role("button", name="Plaats bericht").click()


def test_anna_posts_news_and_a_resident_follows_the_wijk(
    app: Flask, live_server: str, page: Page, smtp: SMTPServer, tmp_path: Path
) -> None:
    app.config["ALERT_INTERVAL_DAYS"] = 0  # the weekly mail at once, for this test
    photo = make_photo(tmp_path, "plein.jpg")

    log_in(page, live_server, ANNA)
    page.goto(f"{live_server}/backoffice/wijknieuws")
    expect(page.locator("h1")).to_have_text("Wijknieuws")
    assert_accessible(page)
    page.get_by_role("link", name="Nieuw bericht").click()
    expect(page.get_by_label("Wijk")).to_have_value(ZUIDWEST)  # her only wijk, chosen
    assert_accessible(page)

    post_news(page, photo, alt="")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Beschrijf wat er op de foto staat")
    expect(page.get_by_label("Titel")).to_have_value(TITLE)
    assert_accessible(page)

    post_news(page, photo, alt=ALT)
    expect(page.get_by_role("status").first).to_contain_text(
        f"Uw bericht ‘{TITLE}’ staat op de pagina van wijk Zuidwest."
    )
    assert_accessible(page)
    page.get_by_role("link", name=TITLE, exact=True).click()
    expect(page.get_by_role("img", name=ALT)).to_be_visible()
    expect(page.get_by_label("Haal de foto weg")).not_to_be_checked()
    assert_accessible(page)

    # As a resident on the wijk page: the news with its photo, and the way to follow it.
    page.get_by_role("button", name="Uitloggen").click()
    page.goto(f"{live_server}/wijken/{ZUIDWEST}")
    news = page.get_by_role("article").filter(has_text=TITLE)
    expect(news).to_contain_text("Donderdagavond lopen we door Kerkelanden.")
    image = news.get_by_role("img", name=ALT)
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    assert_accessible(page)

    feed = page.request.get(f"{live_server}/wijken/{ZUIDWEST}/nieuws.atom")
    assert feed.ok and feed.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert TITLE in feed.text()

    news.get_by_role("link", name=TITLE).click()
    expect(page.locator("h1")).to_have_text(TITLE)
    assert_accessible(page)

    # Subscribing, first with an address that cannot be right.
    page.get_by_label("E-mailadres").fill("buurvrouw@")
    page.get_by_role("button", name="Meld mij aan").click()
    expect(page.get_by_role("alert")).to_contain_text("Vul een geldig e-mailadres in")
    assert_accessible(page)
    page.get_by_label("E-mailadres").fill(RESIDENT)
    page.get_by_role("button", name="Meld mij aan").click()
    expect(page.locator("main")).to_contain_text(
        "Als het adres klopt, krijgt u een e-mail om uw aanmelding te bevestigen."
    )
    assert_accessible(page)

    [confirmation] = mail_to(smtp, RESIDENT)
    page.goto(link_in(text_of(confirmation), "bevestigen", live_server))
    expect(page.locator("h1")).to_have_text("Bevestig uw aanmelding")
    assert_accessible(page)
    page.get_by_role("button", name="Bevestig mijn aanmelding").click()
    expect(page.locator("h1")).to_have_text("U bent aangemeld")
    assert_accessible(page)

    # Anna posts again; the weekly job mails it, with a link to stop.
    log_in(page, live_server, ANNA)
    page.goto(f"{live_server}/backoffice/wijknieuws/nieuw")
    post_news(page, photo, alt=ALT, title="Buurtcafé elke eerste woensdag")
    expect(page.get_by_role("status").first).to_contain_text("Buurtcafé")
    page.get_by_role("button", name="Uitloggen").click()
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert "wijk-alerts: sent 1," in result.output, result.output
    [weekly] = weekly_mails(smtp, 1)
    assert "Buurtcafé elke eerste woensdag" in text_of(weekly)

    page.goto(link_in(text_of(weekly), "afmelden", live_server))
    expect(page.locator("h1")).to_have_text("Afmelden")
    assert_accessible(page)
    page.get_by_role("button", name="Meld mij af").click()
    expect(page.locator("h1")).to_have_text("U bent afgemeld")
    assert_accessible(page)
