"""Every main page from phone to desktop (issue 9, "Look and polish"), in a real browser: no
sideways scrolling at 320, 375 and 1280 px and accessible at each width (axe-core), with a
screenshot of each kept outside the repository for a person to look at. Then the form
controls: checkboxes and radios of one size, hints right under their labels, red bars on what
needs fixing, a focus you can see on everything the keyboard reaches, the photo field with its
thumbnails, and the header in the configured municipality's name and colours.

Set PORTAL_SCREENSHOTS=/some/folder to keep the screenshots after the run; otherwise they go
to pytest's temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from portal.models import Signal
from portal.seeding import DEMO_PASSWORD
from tests import layout_screens_coordination as coordination
from tests.factories import ADMIN, ANNA, MANAGEMENT, SANNE, db_session, make_signal
from tests.fixtures.browser import assert_accessible
from tests.test_browser_resident import DESCRIPTION, EMAIL, fill_report, make_photo, submit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

WIDTHS = (320, 375, 1280)
HEIGHT = 800
# The Hilversum theme (static/css/theme-hilversum.css) as the browser computes it.
DEEP_BLUE = "rgb(11, 58, 110)"
AMBER = "rgb(245, 163, 0)"
INK = "rgb(26, 26, 26)"
ERROR_RED = "rgb(176, 0, 32)"


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("PORTAL_SCREENSHOTS")
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/backoffice/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()


# --- the pages ------------------------------------------------------------------------------
# A screen brings a browser page into the state to look at. To add a page (the wijk pages, the
# back-office map), write a function like these and add a line to SCREENS.


def visit(path: str) -> Callable[[Flask, Page, str], None]:
    def open_path(app: Flask, page: Page, base: str) -> None:
        page.goto(f"{base}{path}")

    return open_path


def report_form_with_errors(language: str) -> Callable[[Flask, Page, str], None]:
    def open_form(app: Flask, page: Page, base: str) -> None:
        page.goto(f"{base}/melden?lang={language}")
        page.locator("#verstuur").click()
        expect(page.locator("#foutmeldingen")).to_be_visible()

    return open_form


def status_page(app: Flask, page: Page, base: str) -> None:
    _reference, token = make_signal(app)
    page.goto(f"{base}/status/{token}")


def signal_page(app: Flask, page: Page, base: str) -> None:
    reference, _token = make_signal(app, phone="06 12345678")
    log_in(page, base, ANNA)
    page.goto(f"{base}/backoffice/signalen/{reference}")


def _initiative_on_the_ladder(app: Flask) -> tuple[str, str]:
    """An initiative moved to "Zelf organiseren" (so the page shows the ladder's history)."""
    from datetime import UTC, datetime

    from portal.domain.casework import Actor
    from portal.domain.initiatives import ladder
    from portal.vocabulary import Kind
    from tests.factories import user_id

    reference, token = make_signal(app, kind=Kind.INITIATIEF, title="Kinderboerderij")
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        ladder.move(
            session,
            signal,
            "zelf_organiseren",
            reason="De vereniging draait de boerderij nu zelf; wij helpen met contacten.",
            actor=Actor(user_id(app, ANNA), datetime.now(UTC)),
            seen_version=signal.version,
        )
        session.commit()
    return reference, token


def initiative_page(app: Flask, page: Page, base: str) -> None:
    reference, _token = _initiative_on_the_ladder(app)
    log_in(page, base, ANNA)
    page.goto(f"{base}/backoffice/signalen/{reference}")


def initiative_status(app: Flask, page: Page, base: str) -> None:
    _reference, token = _initiative_on_the_ladder(app)
    page.goto(f"{base}/status/{token}")


def inbox(app: Flask, page: Page, base: str) -> None:
    make_signal(app)
    make_signal(app, title="Een lange titel over een kapotte lantaarnpaal aan de Kerkelandenlaan")
    log_in(page, base, ANNA)
    page.goto(f"{base}/backoffice/signalen?scope=all")


def staff_page(path: str, email: str) -> Callable[[Flask, Page, str], None]:
    def open_path(app: Flask, page: Page, base: str) -> None:
        log_in(page, base, email)
        page.goto(f"{base}{path}")

    return open_path


@dataclass(frozen=True)
class Screen:
    name: str
    open: Callable[[Flask, Page, str], None]


SCREENS = [
    Screen("home", visit("/")),
    Screen("home-en", visit("/?lang=en")),
    Screen("report", visit("/melden")),
    Screen("report-errors", report_form_with_errors("nl")),
    Screen("report-errors-en", report_form_with_errors("en")),
    Screen("status", status_page),
    Screen("status-request", visit("/status/opvragen")),
    Screen("privacy", visit("/privacy")),
    Screen("accessibility", visit("/toegankelijkheid")),
    Screen("not-found", visit("/bestaat-niet")),
    Screen("login", visit("/backoffice/login")),
    Screen("inbox", inbox),
    Screen("signal", signal_page),
    Screen("initiative", initiative_page),
    Screen("initiative-status", initiative_status),
    Screen("account", staff_page("/backoffice/account", ANNA)),
    Screen("admin", staff_page("/backoffice/beheer", ADMIN)),
    Screen("users", staff_page("/backoffice/beheer/gebruikers", ADMIN)),
    Screen("wijken", visit("/wijken")),
    Screen("wijk", visit("/wijken/WK040203")),
    Screen("thermometer", visit("/cijfers")),
    Screen("dashboard", staff_page("/backoffice/cijfers", MANAGEMENT)),
    Screen("college-report", staff_page("/backoffice/cijfers/verslag", MANAGEMENT)),
    Screen("inbox-map", staff_page("/backoffice/kaart?scope=all", ANNA)),
    Screen("news", staff_page("/backoffice/wijknieuws", ANNA)),
    Screen("profile", staff_page("/backoffice/profiel", ANNA)),
    Screen("budgets", coordination.budgets),
    Screen("budget", coordination.wijk_budget),
    Screen("budget-grant", coordination.grant),
    Screen("initiative-grants", coordination.initiative_grants),
    Screen("initiative-support-status", coordination.support_status),
    Screen("dossiers", coordination.dossier_list),
    Screen("dossier", coordination.dossier_page),
    Screen("dossier-new", staff_page("/backoffice/dossiers/nieuw", ANNA)),
    Screen("signal-duplicate", coordination.duplicate_signal),
    Screen("duplicate-status", coordination.duplicate_status),
    Screen("intake", staff_page("/backoffice/registreren", ANNA)),
    Screen("schouw-start", staff_page("/backoffice/schouw", SANNE)),
    Screen("schouw", coordination.schouw_running),
    Screen("report-organisation-errors", coordination.report_as_organisation_with_errors),
    Screen("signal-organisation", coordination.organisation_signal_page),
    Screen("inbox-organisations", coordination.inbox_of_organisations),
]


def horizontal_overflow(page: Page) -> dict[str, object]:
    """How much wider the page is than the window, and the innermost elements sticking out."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          const out = el => el.getBoundingClientRect().right > width + 0.5;
          const culprits = [...document.querySelectorAll('body *')]
            .filter(el => out(el) && ![...el.children].some(out))
            .map(el => el.outerHTML.slice(0, 160));
          const scrollWidth = document.documentElement.scrollWidth;
          return {scrollWidth, culprits: culprits.slice(0, 5)};
        }"""
    )


@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_page_fits_every_screen_without_sideways_scrolling(
    screen: Screen, app: Flask, live_server: str, page: Page, screenshots: Path
) -> None:
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    screen.open(app, page, live_server)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.screenshot(path=screenshots / f"{screen.name}-{width}.png", full_page=True)
        overflow = horizontal_overflow(page)
        assert overflow["scrollWidth"] <= width, (screen.name, width, overflow)
        assert_accessible(page)


# --- form controls --------------------------------------------------------------------------


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found, f"{locator} is not shown"
    return found


def test_checkboxes_and_radios_are_the_same_size_and_style(live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/melden")
    sizes = page.eval_on_selector_all(
        "input[type=checkbox], input[type=radio]",
        """inputs => inputs.map(input => {
          const box = input.getBoundingClientRect(), style = getComputedStyle(input);
          return {type: input.type, width: box.width, height: box.height,
                  appearance: style.appearance, border: style.borderTopWidth};
        })""",
    )
    assert {s["type"] for s in sizes} == {"checkbox", "radio"}
    assert len(sizes) >= 6
    # The design system's own drawing (no browser default), one size for both.
    assert {(s["width"], s["height"]) for s in sizes} == {(24, 24)}, sizes
    assert {s["appearance"] for s in sizes} == {"none"}, sizes
    assert len({s["border"] for s in sizes}) == 1, sizes
    # Each label's first line is centred on its box.
    offsets = page.eval_on_selector_all(
        "input[type=checkbox], input[type=radio]",
        """inputs => inputs.map(input => {
          const label = document.querySelector(`label[for="${input.id}"]`);
          const box = input.getBoundingClientRect();
          const text = label.closest(".utrecht-form-field__label").getBoundingClientRect();
          const line = parseFloat(getComputedStyle(label).lineHeight);
          return Math.abs((box.top + box.height / 2) - (text.top + line / 2));
        })""",
    )
    assert max(offsets) <= 1, offsets
    # Ticking draws the theme's blue behind the tick.
    kind = page.get_by_label("Een probleem in mijn buurt")
    theme = page.get_by_label("Schoon", exact=True)
    kind.check()
    theme.check()
    for control in (kind, theme):
        colour = control.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == DEEP_BLUE, colour


def test_hints_sit_right_under_their_labels(live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/melden")
    pairs = [
        (page.locator("label[for=postcode]"), page.locator("#postcode-hint")),
        (page.locator("label[for=kind-0]"), page.locator("#kind-0-hint")),
        (page.locator("label[for=themes-0]"), page.locator("#themes-0-hint")),
    ]
    for label, hint in pairs:
        gap = box(hint)["y"] - (box(label)["y"] + box(label)["height"])
        assert 0 <= gap <= 8, (label, gap)
        assert abs(box(hint)["x"] - box(label)["x"]) < 1, "a hint lines up with its label"


def test_errors_have_a_red_bar_and_no_empty_band_above_the_summary(
    live_server: str, page: Page
) -> None:
    page.goto(f"{live_server}/melden")
    page.get_by_role("button", name="Verstuur melding").click()
    summary = page.locator("#foutmeldingen")
    expect(summary).to_be_focused()
    title = page.locator("#foutmeldingen-titel")
    # Only the summary's border and padding above its title.
    band = box(title)["y"] - box(summary)["y"]
    padding = summary.evaluate(
        "e => parseFloat(getComputedStyle(e).borderTopWidth)"
        " + parseFloat(getComputedStyle(e).paddingTop)"
    )
    assert band <= padding + 1, (band, padding)
    # A red bar beside each invalid group of options and each invalid field.
    invalid = page.locator(".utrecht-form-fieldset--invalid, .utrecht-form-field--invalid")
    assert invalid.count() >= 3
    for index in range(invalid.count()):
        bar = invalid.nth(index).evaluate(
            "e => [getComputedStyle(e).borderLeftWidth, getComputedStyle(e).borderLeftStyle,"
            " getComputedStyle(e).borderLeftColor]"
        )
        assert bar == ["4px", "solid", ERROR_RED], (index, bar)
    assert_accessible(page)


def focus_style(page: Page) -> dict[str, str]:
    """What shows where the keyboard focus is: the focused element's outline and shadow, or,
    for the photo field (its input is hidden behind its button-like label), the label's."""
    return page.evaluate(
        """() => {
          let el = document.activeElement;
          const focusVisible = el.matches(':focus-visible');
          if (el.id === 'photos' && el.closest('.portal-file--enhanced')) {
            el = document.querySelector("label[for='photos']");
          }
          const style = getComputedStyle(el);
          return {tag: el.tagName.toLowerCase(), type: el.type || '', id: el.id,
                  classes: el.className || '',
                  focusVisible, outline: style.outlineStyle, outlineWidth: style.outlineWidth,
                  outlineColor: style.outlineColor, shadow: style.boxShadow};
        }"""
    )


def tab_through(page: Page, limit: int = 80) -> list[dict[str, str]]:
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        style = focus_style(page)
        if style["tag"] == "body":
            break
        seen.append(style)
    return seen


@pytest.mark.parametrize(
    ("path", "staff", "kinds"),
    [
        # div: the map; label: the photo field's button (its input is hidden behind it)
        ("/melden", None, {"a", "input", "select", "textarea", "button", "div", "label"}),
        ("/backoffice/login", None, {"a", "input", "button"}),
        ("/privacy", None, {"a", "div"}),  # div: the table that scrolls on a phone
        ("/backoffice/signalen?scope=all", ANNA, {"a", "input", "select", "button", "summary"}),
    ],
)
def test_the_keyboard_focus_is_visible_on_every_link_field_and_button(
    path: str, staff: str | None, kinds: set[str], app: Flask, live_server: str, page: Page
) -> None:
    make_signal(app)
    if staff:
        log_in(page, live_server, staff)
    page.goto(f"{live_server}{path}")
    # The skip link comes first, and shows itself.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Direct naar de inhoud")).to_be_focused()
    expect(page.get_by_role("link", name="Direct naar de inhoud")).to_be_in_viewport()
    seen = [focus_style(page), *tab_through(page)]
    assert {s["tag"] for s in seen} == kinds, seen
    for style in seen:
        assert style["focusVisible"], style
        # One style: the theme's dark outline around its amber ring.
        assert style["outline"] == "solid" and style["outlineWidth"] == "3px", style
        assert style["outlineColor"] == INK, style
        assert AMBER in style["shadow"], style
    if path == "/melden":  # the map takes the focus too, and shows it the same way
        assert any("portal-map" in s["classes"] for s in seen), seen


# --- the photo field ------------------------------------------------------------------------


def chosen_names(page: Page) -> list[str]:
    return page.eval_on_selector("#photos", "input => Array.from(input.files).map(f => f.name)")


def listed_photos(page: Page) -> Locator:
    return page.locator("#photos-list .portal-file-list__item")


def test_chosen_photos_are_listed_with_a_thumbnail_and_can_be_taken_out(
    app: Flask, live_server: str, page: Page, tmp_path: Path
) -> None:
    photos = [make_photo(tmp_path, name) for name in ("stoep.jpg", "lamp.jpg", "bank.jpg")]
    page.set_viewport_size({"width": 320, "height": HEIGHT})
    page.goto(f"{live_server}/melden")
    button = page.locator("label[for=photos]")
    expect(button).to_have_text("Kies foto's")
    assert button.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"  # a button
    expect(listed_photos(page)).to_have_count(0)

    page.get_by_label("Kies foto's").set_input_files(photos[:2])
    expect(listed_photos(page)).to_have_count(2)
    status = page.locator("#photos-status")
    expect(status).to_have_text("Gekozen foto's: 2 van de 3.")
    for index, name in enumerate(("stoep.jpg", "lamp.jpg")):
        item = listed_photos(page).nth(index)
        expect(item.locator(".portal-file-list__name")).to_have_text(name)
        size = photos[index].stat().st_size
        expect(item.locator(".portal-file-list__size")).to_have_text(dutch_size(size))
        thumbnail = item.locator("img")
        assert (thumbnail.get_attribute("src") or "").startswith("blob:")
        loaded = "img => img.complete && img.naturalWidth > 0"
        page.wait_for_function(loaded, arg=thumbnail.element_handle())
        assert thumbnail.evaluate("img => img.naturalWidth") == 400  # the photo itself
        assert box(thumbnail)["width"] == box(thumbnail)["height"] == 48
    expect(button).to_have_text("Nog een foto kiezen")
    assert_accessible(page)

    # Choosing again adds, up to the maximum; what does not fit is said.
    page.locator("#photos").set_input_files([photos[2], photos[0].parent / "stoep.jpg"])
    expect(listed_photos(page)).to_have_count(3)
    assert chosen_names(page) == ["stoep.jpg", "lamp.jpg", "bank.jpg"]
    fourth = make_photo(tmp_path, "boom.jpg")
    page.locator("#photos").set_input_files(fourth)
    expect(status).to_have_text(
        "U kunt maximaal 3 foto's meesturen. Niet toegevoegd: boom.jpg. Gekozen foto's: 3 van de 3."
    )
    assert chosen_names(page) == ["stoep.jpg", "lamp.jpg", "bank.jpg"]

    # Taking one out, with the keyboard: the field then holds the other two.
    remove = page.get_by_role("button", name="Verwijderen lamp.jpg")
    remove.focus()
    page.keyboard.press("Enter")
    expect(listed_photos(page)).to_have_count(2)
    expect(status).to_have_text("lamp.jpg is weggehaald. Gekozen foto's: 2 van de 3.")
    assert chosen_names(page) == ["stoep.jpg", "bank.jpg"]
    expect(page.get_by_role("button", name="Verwijderen bank.jpg")).to_be_focused()
    assert_accessible(page)

    # What is sent is what the list shows.
    fill_report(page, description=DESCRIPTION, email=EMAIL, photo=None)
    submit(page)
    expect(page).to_have_url(f"{live_server}/melden/bedankt")
    with db_session(app) as session:
        [signal] = session.scalars(select(Signal)).all()
        assert len(signal.attachments) == 2


def test_photos_kept_from_an_earlier_try_count_towards_the_maximum(
    live_server: str, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{live_server}/melden")
    page.get_by_label("Kies foto's").set_input_files(make_photo(tmp_path, "eerste.jpg"))
    page.get_by_role("button", name="Verstuur melding").click()  # nothing else filled in
    expect(page.locator("#foutmeldingen")).to_be_visible()
    kept = page.get_by_label("eerste.jpg")
    expect(kept).to_be_checked()
    expect(page.locator("label[for=photos]")).to_have_text("Nog een foto kiezen")

    more = [make_photo(tmp_path, name) for name in ("twee.jpg", "drie.jpg", "vier.jpg")]
    page.locator("#photos").set_input_files(more)
    expect(listed_photos(page)).to_have_count(2)
    status = page.locator("#photos-status")
    expect(status).to_have_text(
        "U kunt maximaal 3 foto's meesturen. Niet toegevoegd: vier.jpg. Gekozen foto's: 3 van de 3."
    )
    kept.uncheck()
    expect(status).to_have_text("Gekozen foto's: 2 van de 3.")
    assert_accessible(page)


def test_the_list_shows_the_smaller_photo_once_it_is_made_smaller(
    live_server: str, page: Page, tmp_path: Path
) -> None:
    from tests.test_browser_photos import camera_photo

    photo = camera_photo(tmp_path, (4000, 3000))
    page.goto(f"{live_server}/melden")
    page.get_by_label("Kies foto's").set_input_files(photo)
    page.wait_for_function(
        "size => document.getElementById('photos').files[0].size < size",
        arg=photo.stat().st_size,
    )
    expect(listed_photos(page)).to_have_count(1)
    item = listed_photos(page).first
    expect(item.locator(".portal-file-list__name")).to_have_text("IMG_2024.jpg")
    # photo-resize.js said so (portal:photos-resized): the thumbnail is of the smaller file.
    thumbnail = item.locator("img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 2048", arg=thumbnail.element_handle()
    )
    sent = page.eval_on_selector("#photos", "input => input.files[0].size")
    assert sent < photo.stat().st_size
    expect(item.locator(".portal-file-list__size")).to_have_text(dutch_size(sent))


def dutch_size(size: int) -> str:
    """A file size as the list shows it in Dutch: "870 kB", "1,4 MB"."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} kB"
    megabytes = f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0")
    return f"{megabytes} MB"


def test_without_javascript_the_photo_field_is_the_browsers_own(
    live_server: str, new_page: Callable[..., Page]
) -> None:
    # Nothing here may run a script in the page: with scripts off, Playwright's evaluate hangs.
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_server}/melden")
    field = page.get_by_label("Kies foto's")
    expect(field).to_be_visible()
    assert box(field)["width"] > 100  # the browser's own field, not hidden behind a button
    expect(page.locator(".portal-file--enhanced")).to_have_count(0)
    expect(page.locator("#photos-list li")).to_have_count(0)


# --- the header -----------------------------------------------------------------------------


def test_header_shows_the_configured_municipality_in_the_themes_colours(
    app: Flask, live_server: str, page: Page
) -> None:
    app.config["ORGANISATION_NAME"] = "Gemeente Gooise Meren"
    page.set_viewport_size({"width": 320, "height": HEIGHT})
    page.goto(f"{live_server}/")
    header = page.locator("header.portal-header")
    expect(header.locator(".portal-brand__org")).to_have_text("Gemeente Gooise Meren")
    expect(header.locator(".portal-brand__unit")).to_have_text("Wijkzaken")
    expect(page.get_by_role("link", name="Gemeente Gooise Meren Wijkzaken")).to_have_attribute(
        "href", "/"
    )
    # The theme's stylesheet is loaded after the design system's, and its colours are used.
    sheets = page.eval_on_selector_all(
        "link[rel=stylesheet]", "links => links.map(l => new URL(l.href).pathname)"
    )
    assert "/static/css/theme-hilversum.css" in sheets
    assert sheets.index("/static/css/theme-hilversum.css") > sheets.index(
        "/static/vendor/utrecht/component-library.css"
    )
    colours = header.evaluate(
        "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).borderBottomColor]"
    )
    assert colours == [DEEP_BLUE, AMBER]
    # It spans the window, and its name and the language switch fit on a phone.
    assert box(header)["width"] == 320
    for part in (header.locator(".portal-brand"), page.get_by_role("link", name="English")):
        found = box(part)
        assert found["x"] >= 0 and found["x"] + found["width"] <= 320
    assert_accessible(page)

    # English: the unit's name translated, the configured name as written.
    page.get_by_role("link", name="English").click()
    expect(header.locator(".portal-brand__org")).to_have_text("Gemeente Gooise Meren")
    assert_accessible(page)


def test_phone_numbers_are_links_that_do_not_wrap(live_server: str, page: Page) -> None:
    page.set_viewport_size({"width": 320, "height": HEIGHT})
    for path in ("/privacy", "/toegankelijkheid", "/bestaat-niet"):
        page.goto(f"{live_server}{path}")
        links = page.locator("a[href='tel:14035']")
        assert links.count() >= 1, path
        for index in range(links.count()):
            link = links.nth(index)
            expect(link).to_have_text("14 035")
            assert link.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
            lines = link.evaluate("e => e.getClientRects().length")
            assert lines == 1, f"{path}: the number is split over {lines} lines"
