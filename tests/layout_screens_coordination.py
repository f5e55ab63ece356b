"""The issue-10 screens for tests/test_browser_layout.py (budgets, dossiers, duplicates, staff
intake and schouw): each brings a browser page into the state to look at."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.domain.casework import Actor
from portal.domain.dossiers import dossiers, links
from portal.domain.initiatives import budget
from portal.domain.tokens import issue_status_token
from portal.domain.working_days import local_date
from portal.models import Signal
from portal.seeding import demo_email
from portal.seeding_initiatives import KINDERBOERDERIJ, seed_demo_initiatives
from portal.vocabulary import Channel
from tests.factories import (
    ADMIN,
    ANNA,
    SANNE,
    SINT_VITUSBUURT,
    db_session,
    intake_settings,
    make_signal,
    user_id,
)
from tests.test_browser_backoffice import log_in
from tests.test_organisations import organisation_signal

KEES = demo_email("Kees Mulder")


def _signal(session, reference: str) -> Signal:  # type: ignore[no-untyped-def]
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


# --- budgets ----------------------------------------------------------------------------------


def _budget_demo(app: Flask) -> tuple[str, str, int]:
    """The demo budgets and kinderboerderij with a grant of EUR 750 and a request of EUR 1,500
    waiting for a second person: (reference, status token, the request's id)."""
    now = datetime.now(UTC)
    with db_session(app) as session:
        seed_demo_initiatives(session, intake_settings(app))
        farm = session.scalars(select(Signal).where(Signal.title == KINDERBOERDERIJ)).one()
        kees = Actor(user_id(app, KEES), now)
        grants = [
            budget.record_grant(
                session,
                farm,
                amount_cents=cents,
                purpose="Hekwerk en voer voor de dieren in het eerste jaar",
                decided_on=local_date(now),
                show_amount=True,
                override_reason=None,
                actor=kees,
                seen_version=farm.version,
                threshold_cents=app.config["BUDGET_APPROVAL_THRESHOLD_CENTS"],
            )
            for cents in (75_000, 150_000)
        ]
        token = issue_status_token(session, farm)
        session.commit()
        return farm.reference, token, grants[1].id


def budgets(app: Flask, page: Page, base: str) -> None:
    _budget_demo(app)
    log_in(page, base, ANNA)
    page.goto(f"{base}/backoffice/budget")


def wijk_budget(app: Flask, page: Page, base: str) -> None:
    _budget_demo(app)
    log_in(page, base, ADMIN)
    page.goto(f"{base}/backoffice/budget/WK040208/{local_date(datetime.now(UTC)).year}")


def grant(app: Flask, page: Page, base: str) -> None:
    _reference, _token, request_id = _budget_demo(app)
    log_in(page, base, ANNA)
    page.goto(f"{base}/backoffice/budget/toekenningen/{request_id}")


def initiative_grants(app: Flask, page: Page, base: str) -> None:
    reference, _token, _id = _budget_demo(app)
    log_in(page, base, KEES)
    page.goto(f"{base}/backoffice/signalen/{reference}")


def support_status(app: Flask, page: Page, base: str) -> None:
    _reference, token, _id = _budget_demo(app)
    page.goto(f"{base}/status/{token}")


# --- dossiers ---------------------------------------------------------------------------------


def _dossier(app: Flask) -> str:
    references = [
        make_signal(app, buurt=SINT_VITUSBUURT, title="Fietswrakken bij de Sint-Vitusstraat")[0],
        make_signal(app, buurt=SINT_VITUSBUURT, email=None, name=None)[0],
    ]
    actor = Actor(user_id(app, SANNE), datetime.now(UTC))
    with db_session(app) as session:
        dossier = dossiers.create_dossier(
            session,
            title="Integrale handhaving Sint Vitusbuurt",
            description="Aanpak na de schouw met bewoners en raadsleden.",
            owner_id=actor.user_id,
            wijk_code="WK040201",
            actor=actor,
            reference_prefix="DOS",
        )
        for reference in references:
            dossiers.add_signal(session, dossier, _signal(session, reference), actor=actor)
        session.commit()
        return dossier.reference


def dossier_list(app: Flask, page: Page, base: str) -> None:
    _dossier(app)
    log_in(page, base, SANNE)
    page.goto(f"{base}/backoffice/dossiers")


def dossier_page(app: Flask, page: Page, base: str) -> None:
    reference = _dossier(app)
    log_in(page, base, SANNE)
    page.goto(f"{base}/backoffice/dossiers/{reference}")


# --- duplicates -------------------------------------------------------------------------------


def _duplicate_pair(app: Flask) -> tuple[str, str, str]:
    """A signal marked as a duplicate of an earlier one: (original, duplicate, its token)."""
    original, _token = make_signal(app, title="Kapotte lantaarnpaal aan de Kerkelandenlaan")
    duplicate, token = make_signal(app, title="Lamp stuk")
    with db_session(app) as session:
        signal = _signal(session, duplicate)
        who = Actor(user_id(app, ANNA), datetime.now(UTC))
        links.mark_duplicate(
            session,
            signal,
            links.find_other(session, signal, original, who),
            message="Wij hebben de lamp doorgegeven aan de afdeling Openbare Verlichting.",
            seen_version=signal.version,
            actor=who,
            mail=intake_settings(app).mail,
        )
        session.commit()
    return original, duplicate, token


def duplicate_signal(app: Flask, page: Page, base: str) -> None:
    _original, duplicate, _token = _duplicate_pair(app)
    log_in(page, base, ANNA)
    page.goto(f"{base}/backoffice/signalen/{duplicate}")


def duplicate_status(app: Flask, page: Page, base: str) -> None:
    _original, _duplicate, token = _duplicate_pair(app)
    page.goto(f"{base}/status/{token}")


# --- schouw -----------------------------------------------------------------------------------


def schouw_running(app: Flask, page: Page, base: str) -> None:
    log_in(page, base, SANNE)
    page.goto(f"{base}/backoffice/schouw")
    page.get_by_label("In welke buurt is de schouw?").select_option(label="Sint Vitusbuurt")
    page.get_by_label("Zet alle meldingen van deze schouw in één nieuw dossier").check()
    page.get_by_label("Titel van het dossier").fill("Integrale handhaving Sint Vitusbuurt")
    page.get_by_role("button", name="Start de schouw").click()
    page.get_by_label("Veilig", exact=True).check()
    page.get_by_label("Wat is er aan de hand?").fill("Fietsen op de stoep bij de kerk.")
    page.get_by_role("button", name="Opslaan en volgende").click()
    expect(page.get_by_role("status").filter(has_text="Opgeslagen als")).to_be_visible()


# --- organisations ----------------------------------------------------------------------------


def report_as_organisation_with_errors(app: Flask, page: Page, base: str) -> None:
    page.goto(f"{base}/melden")
    page.get_by_label("Ik meld namens een organisatie of bedrijf").check()
    page.get_by_label("KvK-nummer (niet verplicht)").fill("1234")
    page.locator("#verstuur").click()
    expect(page.locator("#foutmeldingen")).to_be_visible()


def organisation_signal_page(app: Flask, page: Page, base: str) -> None:
    reference = organisation_signal(app, channel=Channel.PHONE, registrar=ANNA)
    log_in(page, base, ANNA)
    page.goto(f"{base}/backoffice/signalen/{reference}")


def inbox_of_organisations(app: Flask, page: Page, base: str) -> None:
    organisation_signal(app, organisation="Woningcorporatie Het Gooi en Omstreken Vastgoed B.V.")
    log_in(page, base, ANNA)
    page.goto(f"{base}/backoffice/signalen?scope=all&submitter=organisation&channel=web")
