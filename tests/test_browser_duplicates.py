"""Duplicates in a real browser: the accountmanager types a wrong reference (and is told so),
previews what the resident gets, and marks the signal as a duplicate of an earlier one; the
resident opens the status link from their mail, sees the other signal's public face only,
and follows it with one click. axe-core checks every state on the way, the error included."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.models import Signal
from portal.vocabulary import Theme
from tests.factories import ANNA, db_session, make_signal
from tests.fixtures.browser import assert_accessible
from tests.fixtures.mailserver import SMTPServer
from tests.test_browser_backoffice import log_in
from tests.test_browser_resident import mail_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

RESIDENT = "tweede.melder@voorbeeld.nl"
ORIGINAL_TITLE = "Kapotte lantaarnpaal bij basisschool De Regenboog"
ORIGINAL_TEXT = "De lantaarnpaal voor nummer 14 brandt sinds vrijdag niet meer."
STAFF_TEXT = "Wij hebben de lantaarnpaal doorgegeven aan Openbare Verlichting."


def declined_mail(smtp: SMTPServer) -> EmailMessage:
    """The resident's mail about the new status (delivered right after the commit)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [m for m in mail_to(smtp, RESIDENT) if "Niet in behandeling" in str(m["Subject"])]
        if found:
            return found[-1]
        smtp.wait_for(len(smtp.messages) + 1, timeout=0.1)
    raise AssertionError([str(m["Subject"]) for m in smtp.to(RESIDENT)])


def test_staff_mark_a_duplicate_and_the_resident_follows_the_other_signal(
    app: Flask, live_server: str, new_page: Callable[..., Page], smtp: SMTPServer
) -> None:
    original, _token = make_signal(
        app,
        themes=(Theme.HEEL,),
        title=ORIGINAL_TITLE,
        description=ORIGINAL_TEXT,
        email="eerste.melder@voorbeeld.nl",
        name="Petra Pieters",
    )
    duplicate, _token = make_signal(app, themes=(Theme.HEEL,), title="Lamp stuk", email=RESIDENT)
    with db_session(app) as session:
        # Staff took the typed title off the public face (it named a school).
        session.scalars(
            select(Signal).where(Signal.reference == original)
        ).one().public_title = None
        session.commit()

    anna = new_page()
    log_in(anna, live_server, ANNA)
    anna.goto(f"{live_server}/backoffice/signalen/{duplicate}")
    assert_accessible(anna)
    form = anna.locator("#actie-duplicate")
    expect(form).to_contain_text("Wij sturen de melder deze tekst:")

    # A reference that does not exist: the error summary, the field, what was typed kept.
    form.get_by_label("Meldnummer van de eerdere melding").fill("HLV-2026-999999")
    form.get_by_label("Uw eigen bericht aan de melder (niet verplicht)").fill(STAFF_TEXT)
    form.get_by_role("button", name="Markeer als dubbel").click()
    summary = anna.locator("#foutmeldingen")
    expect(summary).to_contain_text("Wij vinden geen melding met meldnummer HLV-2026-999999.")
    expect(anna).to_have_title(re.compile("^Fout: "))
    assert_accessible(anna)
    form = anna.locator("#actie-duplicate")
    expect(form.get_by_label("Uw eigen bericht aan de melder (niet verplicht)")).to_have_value(
        STAFF_TEXT
    )

    # The preview: exactly the mail, nothing sent yet.
    form.get_by_label("Meldnummer van de eerdere melding").fill(original.lower())
    form.get_by_role("button", name="Bekijk voorbeeld").click()
    preview = anna.locator("#voorbeeld")
    expect(preview).to_contain_text(f"Uw melding {duplicate}: Niet in behandeling")
    expect(preview).to_contain_text("Een andere bewoner heeft hetzelfde al bij ons gemeld.")
    expect(preview).to_contain_text(STAFF_TEXT)
    assert_accessible(anna)
    assert len(mail_to(smtp, RESIDENT, timeout=0.5)) == 1  # only the confirmation

    anna.locator("#actie-duplicate").get_by_role("button", name="Markeer als dubbel").click()
    expect(anna.locator("main")).to_contain_text(
        f"De melding is gemarkeerd als dubbel van {original}"
    )
    expect(anna.locator("#koppelingen-titel")).to_be_visible()
    expect(anna.get_by_role("link", name=original)).to_be_visible()
    assert_accessible(anna)

    # The resident's mail, its status link, the pointer.
    decline = declined_mail(smtp)
    text = decline.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    status_url = re.search(re.escape(live_server) + r"/status/[\w-]+", text)
    assert status_url, text

    resident = new_page()
    resident.goto(status_url.group(0))
    box = resident.locator("#dubbel")
    expect(box.get_by_role("heading", name="Dezelfde melding is al gedaan")).to_be_visible()
    expect(box).to_contain_text("Heel in Kerkelanden")
    expect(box).to_contain_text(original)
    for private in (ORIGINAL_TITLE, ORIGINAL_TEXT, "Petra Pieters"):
        expect(resident.locator("body")).not_to_contain_text(private)
    assert_accessible(resident)
    box.get_by_role("button", name="Volg die melding").click()
    expect(resident.get_by_role("heading", level=1)).to_have_text("U volgt deze melding")
    expect(resident.locator("main")).to_contain_text(original)
    assert_accessible(resident)

    resident.goto(status_url.group(0))
    expect(resident.locator("#dubbel")).to_contain_text("U volgt die melding al.")
    assert_accessible(resident)
