"""The issue's 'done when' for dossiers, in a real browser: three knelpunten in the Sint
Vitusbuurt from three residents; Sanne Bakker (accountmanager Centrum) groups them into the
dossier "Integrale handhaving Sint Vitusbuurt", sends one public update - each resident sees
it on their own status page and gets exactly one mail - and then moves all three to
"Ingepland" at once. axe-core checks every page state on the way, error states included."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.factories import SANNE, SINT_VITUSBUURT, make_signal
from tests.fixtures.browser import assert_accessible
from tests.fixtures.mailserver import SMTPServer
from tests.test_browser_backoffice import log_in
from tests.test_browser_resident import mail_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

TITLE = "Integrale handhaving Sint Vitusbuurt"
UPDATE = (
    "Na de schouw van 12 november pakken gemeente, politie en de corporatie de overlast samen "
    "aan. Vanaf maandag komen handhavers elke avond langs."
)
RESIDENTS = {
    "m.jansen@voorbeeld.nl": "Drugsoverlast in het portiek aan de Vaartweg",
    "p.devries@voorbeeld.nl": "Fietswrakken bij de Sint-Vitusstraat",
    "a.bos@voorbeeld.nl": "Hangjongeren bij het Achterom, elke avond lawaai",
}


def news_to(smtp: SMTPServer, address: str) -> list[str]:
    return [
        str(m["Subject"])
        for m in mail_to(smtp, address)
        if str(m["Subject"]).startswith("Nieuws over uw melding")
    ]


def test_one_dossier_update_reaches_three_residents_in_the_sint_vitusbuurt(
    app: Flask, live_server: str, new_page: Callable[..., Page], smtp: SMTPServer
) -> None:
    signals = {
        address: make_signal(
            app, buurt=SINT_VITUSBUURT, email=address, name=address.split("@")[0], title=title
        )
        for address, title in RESIDENTS.items()
    }
    references = [reference for reference, _token in signals.values()]

    sanne = new_page()
    log_in(sanne, live_server, SANNE)
    sanne.get_by_role("link", name="Dossiers").click()
    expect(sanne.locator("h1")).to_have_text("Dossiers")
    assert_accessible(sanne)
    sanne.get_by_role("link", name="Nieuw dossier").click()
    expect(sanne.get_by_label("Eigenaar")).to_have_value(
        sanne.locator("#owner option", has_text="Sanne Bakker").get_attribute("value") or ""
    )
    expect(sanne.get_by_label("Wijk (niet verplicht)")).to_have_value("WK040201")
    assert_accessible(sanne)

    # Forgot the title: the form comes back with the description still in it.
    sanne.get_by_label("Beschrijving (niet verplicht)").fill(
        "Aanpak na de schouw met bewoners en raadsleden: handhaving, politie, corporatie."
    )
    sanne.get_by_role("button", name="Maak dossier").click()
    expect(sanne.locator("#foutmeldingen")).to_contain_text("Geef het dossier een titel.")
    expect(sanne).to_have_title("Fout: Nieuw dossier – Wijkzaken Hilversum")
    assert_accessible(sanne)
    sanne.get_by_label("Titel").fill(TITLE)
    sanne.get_by_role("button", name="Maak dossier").click()
    expect(sanne.locator("h1")).to_contain_text(TITLE)
    assert_accessible(sanne)

    # The three knelpunten by their numbers, one typed as from a letter.
    add = sanne.locator("#actie-add")
    add.get_by_label("Meldnummer").fill("HLV-1999-000001")
    add.get_by_role("button", name="Voeg toe aan dossier").click()
    expect(sanne.locator("#foutmeldingen")).to_contain_text("Er is geen melding met dit nummer")
    assert_accessible(sanne)
    for index, reference in enumerate(references):
        typed = reference.lower().replace("-", " ") if index == 0 else reference
        sanne.locator("#actie-add").get_by_label("Meldnummer").fill(typed)
        sanne.locator("#actie-add").get_by_role("button", name="Voeg toe aan dossier").click()
        expect(sanne.locator(".utrecht-alert--ok")).to_contain_text(f"Melding {reference} zit nu")
    table = sanne.locator("#meldingen-titel + .portal-table-scroll table")
    for reference in references:
        expect(table.get_by_role("link", name=reference)).to_be_visible()
    expect(table).to_contain_text("Sint Vitusbuurt")
    update = sanne.locator("#actie-update")
    expect(update).to_contain_text(
        "Het bericht komt op de statuspagina van elk van de 3 meldingen."
    )
    expect(update).to_contain_text("3 melders krijgen het ook per e-mail")
    expect(update).to_contain_text("0 meldingen hebben geen e-mailadres")
    assert_accessible(sanne)

    # An empty message is refused; then the one public update.
    update.get_by_role("button", name="Verstuur naar alle melders").click()
    expect(sanne.locator("#foutmeldingen")).to_contain_text("Schrijf het bericht aan de melders.")
    assert_accessible(sanne)
    sanne.locator("#actie-update").get_by_label("Bericht aan alle melders").fill(UPDATE)
    sanne.locator("#actie-update").get_by_role("button", name="Verstuur naar alle melders").click()
    expect(sanne.locator(".utrecht-alert--ok")).to_contain_text(
        "Uw bericht staat op de statuspagina van 3 meldingen. 3 melders krijgen een e-mail."
    )
    expect(sanne.locator(".portal-timeline")).to_contain_text(UPDATE)
    assert_accessible(sanne)

    # Each resident: exactly one mail, and the message on their own status page.
    for address, (reference, token) in signals.items():
        assert news_to(smtp, address) == [f"Nieuws over uw melding {reference}"], address
        resident = new_page()
        resident.goto(f"{live_server}/status/{token}")
        expect(resident.locator(".portal-timeline")).to_contain_text(UPDATE)
        expect(resident.locator(".portal-timeline")).to_contain_text(
            "Bericht van Sanne Bakker, Bureau Wijkzaken"
        )
        assert_accessible(resident)

    # One status for all three: the message is required for "Afgehandeld"; then "Ingepland".
    status = sanne.locator("#actie-status")
    status.get_by_label("Nieuwe status voor de open meldingen").select_option(value="resolved")
    status.get_by_role("button", name="Wijzig status van alle open meldingen").click()
    expect(sanne.locator("#foutmeldingen")).to_contain_text("is dat verplicht")
    assert_accessible(sanne)
    status = sanne.locator("#actie-status")
    status.get_by_label("Nieuwe status voor de open meldingen").select_option(value="planned")
    status.get_by_label("Bericht bij de nieuwe status").fill(
        "De handhavers beginnen op maandag 7 december."
    )
    status.get_by_role("button", name="Wijzig status van alle open meldingen").click()
    expect(sanne.locator(".utrecht-alert--ok")).to_contain_text(
        "3 meldingen hebben nu de status ‘Ingepland’."
    )
    expect(table.locator(".portal-status--planned")).to_have_count(3)
    assert_accessible(sanne)

    # The signal page names its dossier; the list shows it with its three signals.
    sanne.get_by_role("link", name=references[0]).first.click()
    expect(sanne.locator("#dossier-titel + p")).to_contain_text(TITLE)
    assert_accessible(sanne)
    sanne.get_by_role("link", name="Dossiers").click()
    row = sanne.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text("Sanne Bakker")
    expect(row).to_contain_text("3")
    assert_accessible(sanne)
    for address, (reference, _token) in signals.items():
        subjects = [str(m["Subject"]) for m in mail_to(smtp, address)]
        assert f"Uw melding {reference}: Ingepland" in subjects, subjects
        assert len(news_to(smtp, address)) == 1
