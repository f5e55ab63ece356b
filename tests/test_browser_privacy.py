"""A resident's privacy request at the admin's screen in a real browser: a search that is not
an address, the overview of what is held, the ZIP download, an erasure refused without its
confirmation and then done. Every page, error states included, is checked by axe-core and
(at the end of the session) the Nu checker."""

from __future__ import annotations

import json
import zipfile

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.factories import ADMIN, make_signal
from tests.fixtures.browser import assert_accessible
from tests.fixtures.mailserver import SMTPServer
from tests.test_browser_accounts import log_in
from tests.test_jobs import stored_photo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

EMAIL = "jan.jansen@example.nl"


def test_an_admin_finds_downloads_and_erases_what_is_held(
    app: Flask, smtp: SMTPServer, live_server: str, page: Page, tmp_path
) -> None:
    reference, _token = make_signal(
        app, name="Jan Jansen", email=EMAIL, phone="06-12345678", photos=[stored_photo(app)]
    )
    log_in(page, live_server, ADMIN)
    page.goto(f"{live_server}/backoffice/beheer")
    page.get_by_role("link", name="Privacyverzoek").click()
    assert_accessible(page)

    field = page.get_by_label("E-mailadres of telefoonnummer")
    field.fill("jan@")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_role("alert")).to_contain_text("Vul een e-mailadres in")
    expect(field).to_have_value("jan@")  # what was typed stays
    assert_accessible(page)

    field.fill(EMAIL)
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_role("heading", name=f"Wat wij bewaren over {EMAIL}")).to_be_visible()
    expect(page.get_by_role("rowheader", name=reference)).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download de gegevens (ZIP)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("gegevens-") and saved.suffix == ".zip"
    with zipfile.ZipFile(saved) as archive:
        [signal] = json.loads(archive.read("gegevens.json"))["meldingen"]
        assert signal["meldnummer"] == reference
        assert archive.read(signal["fotos"][0]["bestand"])[:2] == b"\xff\xd8"  # a JPEG

    page.get_by_label("Reden").fill("Verzoek van de bewoner per e-mail")
    page.get_by_role("button", name="Gegevens wissen").click()
    expect(page.get_by_role("alert")).to_contain_text("Vink aan dat u weet")
    expect(page.get_by_label("Reden")).to_have_value("Verzoek van de bewoner per e-mail")
    assert_accessible(page)
    page.get_by_label("Ik weet dat dit niet ongedaan kan worden").check()
    page.get_by_role("button", name="Gegevens wissen").click()
    expect(page.get_by_text("Gewist. Meldingen zonder contactgegevens: 1.")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server}/backoffice/signalen/{reference}")
    expect(page.get_by_text("op verzoek van de melder").first).to_be_visible()
    assert_accessible(page)
