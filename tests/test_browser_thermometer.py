"""The public wijk thermometer in a real browser: a resident on a phone follows the footer to
/cijfers, reads Zuidwest's figures and Centrum's small numbers left out, and goes on to the
Zuidwest page and its own figures; the same at 1280 px. axe-core checks every page (the Nu
checker every page the session saved)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.domain.working_days import local_date
from portal.vocabulary import Status, Theme
from tests.factories import KERKELANDEN, SINT_VITUSBUURT, make_signal
from tests.fixtures.browser import assert_accessible
from tests.test_deadlines import local, move

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def last_month(app: Flask) -> None:
    """Six signals in Zuidwest in the first week of last month, each closed two days later
    (in time); two in Centrum."""
    from datetime import UTC, datetime

    first = (local_date(datetime.now(UTC)).replace(day=1) - timedelta(days=1)).replace(day=1)
    for n in range(6):
        day = first + timedelta(days=n)
        reference, _token = make_signal(
            app, buurt=KERKELANDEN, themes=(Theme.SCHOON,), now=local(day)
        )
        move(app, reference, Status.RESOLVED, at=local(day + timedelta(days=2)))
    for n in range(2):
        make_signal(app, buurt=SINT_VITUSBUURT, now=local(first + timedelta(days=n)))


@pytest.mark.usefixtures("last_month")
@pytest.mark.parametrize("width", [375, 1280])
def test_a_resident_reads_the_figures_of_the_wijken_and_of_their_own(
    live_server: str, page: Page, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_server}/")
    page.get_by_role("contentinfo").get_by_role("link", name="Cijfers per wijk").click()
    expect(page.locator("h1")).to_have_text("Cijfers per wijk")
    zuidwest = page.locator("#thermometer-WK040203")
    expect(zuidwest).to_contain_text("6")  # came in
    expect(zuidwest).to_contain_text("100%")  # all closed within the target
    expect(zuidwest).to_contain_text("2,0 dagen")
    expect(page.locator("#thermometer-WK040201")).to_contain_text("minder dan 5")
    # Centrum's two would follow from the city's total: left out.
    expect(page.locator("#thermometer-hilversum")).to_contain_text("niet getoond")
    expect(page.get_by_text("Kleine aantallen laten wij niet zien")).to_be_visible()
    assert_accessible(page)

    zuidwest.get_by_role("link", name="Zuidwest").click()
    figures = page.locator("#wijk-thermometer")
    expect(figures).to_contain_text("Gemeld")
    expect(figures).to_contain_text("6")
    expect(figures).to_contain_text("2,0 dagen")
    assert_accessible(page)
