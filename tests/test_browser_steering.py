"""The dashboard in a real browser: management picks October 2026, reads the figures, opens
the list behind one, and comes back; an accountmanager on a phone sees their own wijk. axe-core
checks every state (and the Nu checker every page the session saved)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.factories import ADMIN, ANNA, MANAGEMENT
from tests.fixtures.browser import assert_accessible
from tests.test_browser_backoffice import log_in
from tests.test_steering import story  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.mark.usefixtures("story")
def test_management_reads_october_and_opens_the_signals_behind_a_figure(
    live_server: str,
    page: Page,
) -> None:
    log_in(page, live_server, MANAGEMENT)
    page.get_by_role("link", name="Cijfers", exact=True).click()
    expect(page.locator("h1")).to_have_text("Cijfers")
    assert_accessible(page)

    page.get_by_label("Periode", exact=True).select_option(label="oktober 2026")
    page.get_by_role("button", name="Toon de cijfers").click()
    expect(page.locator(".utrecht-paragraph--lead")).to_contain_text(
        "Oktober 2026, vergeleken met september 2026."
    )
    came_in = page.locator("#cijfer-came-in")
    expect(came_in).to_contain_text("Binnengekomen")
    assert_accessible(page)
    # The table under the chart, opened.
    page.get_by_text("Tabel bij de grafiek").click()
    expect(page.locator("#cijfers-weken")).to_be_visible()
    assert_accessible(page)

    # "Came in" is the inbox's own date filter; "closed" one the form has no field for.
    came_in.get_by_role("link", name="5").click()
    expect(page.get_by_label("Binnengekomen vanaf")).to_have_value("2026-10-01")
    expect(page.locator("table caption")).to_contain_text("van 5,")
    page.go_back()
    page.locator("#cijfer-closed").get_by_role("link", name="3").click()
    expect(page.locator("#cijfer")).to_contain_text("Afgesloten van 1 oktober 2026 tot en met")
    expect(page.locator("table caption")).to_contain_text("van 3,")
    assert_accessible(page)
    page.go_back()

    # An own period: the two dates, the custom option in the period list.
    page.get_by_label("Periode", exact=True).select_option(label="Eigen periode (hieronder)")
    page.get_by_text("Eigen periode", exact=True).click()
    page.get_by_label("Van").fill("2026-10-05")
    page.get_by_label("Tot en met").fill("2026-10-11")
    page.get_by_role("button", name="Toon de cijfers").click()
    expect(page.locator(".utrecht-paragraph--lead")).to_contain_text(
        "5 oktober 2026 tot en met 11 oktober 2026"
    )
    expect(page.locator("#cijfer-came-in td").first).to_have_text("2")  # B and G
    assert_accessible(page)


@pytest.mark.usefixtures("story")
def test_an_accountmanager_on_a_phone_sees_her_own_wijk(
    live_server: str,
    page: Page,
) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, live_server, ANNA)
    page.goto(f"{live_server}/backoffice/cijfers?periode=2026-10")
    expect(page.locator(".utrecht-paragraph--lead")).to_contain_text("uw eigen signalen")
    expect(page.locator("#cijfers-wijken tbody tr")).to_have_count(1)
    assert_accessible(page)


@pytest.mark.usefixtures("story")
def test_an_admin_exports_the_list_behind_a_figure_with_personal_data_and_a_reason(
    live_server: str, page: Page
) -> None:
    log_in(page, live_server, ADMIN)
    page.goto(f"{live_server}/backoffice/cijfers?periode=2026-10")
    page.locator("#cijfer-closed").get_by_role("link", name="3").click()
    page.get_by_role("link", name="Exporteer deze lijst als CSV-bestand").click()
    expect(page.locator("main")).to_contain_text("Het bestand krijgt 3 signalen")
    assert_accessible(page)
    # The plain file first: no personal data.
    with page.expect_download() as plain:
        page.get_by_role("button", name="Download het bestand").click()
    assert "E-mailadres melder" not in plain.value.path().read_bytes().decode("utf-8-sig")
    # With the reporters' details: only with a reason, and what was chosen stays.
    page.get_by_role("button", name="Download met de gegevens van de melders").click()
    expect(page.locator("#foutmeldingen")).to_contain_text("Schrijf op waarom")
    assert_accessible(page)
    page.get_by_label("Waarom heeft u de gegevens van de melders nodig?").fill(
        "Verzoek om inzage, zaak 2026-118"
    )
    with page.expect_download() as download:
        page.get_by_role("button", name="Download met de gegevens van de melders").click()
    saved = download.value
    assert saved.suggested_filename.endswith("-met-persoonsgegevens.csv")
    text = saved.path().read_bytes().decode("utf-8-sig")
    assert text.count("\r\n") == 1 + 3 and "E-mailadres melder" in text


@pytest.mark.usefixtures("story")
@pytest.mark.parametrize("width", [375, 1280])
def test_management_opens_the_report_for_the_college_and_its_pdf(
    live_server: str, page: Page, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server, MANAGEMENT)
    page.goto(f"{live_server}/backoffice/cijfers?periode=2026-10")
    page.locator("#naar-verslag").click()
    expect(page.locator("h1")).to_have_text("Maandverslag oktober 2026")
    expect(page.locator("#verslag-cijfers")).to_contain_text("Binnengekomen")
    assert_accessible(page)
    # Another month from the list.
    page.get_by_label("Periode", exact=True).select_option(label="september 2026")
    page.get_by_role("button", name="Toon het verslag").click()
    expect(page.locator("h1")).to_have_text("Maandverslag september 2026")
    assert_accessible(page)
    with page.expect_download() as download:
        page.locator("#verslag-pdf").click()
    assert download.value.suggested_filename == "verslag-wijkzaken-2026-09.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
