"""The wijk budget in the back office: the overview and the budget page (every staff member
reads, only an admin sets the amount), the grant form on an initiative's signal page, the
second person's approval, withdrawal and correction on the grant's page, what the initiators
see on their status page, and that every page's figures are the rows added up. Authorisation
beyond the URL-map matrix: management posts nothing, an accountmanager sets no budget, never
approves their own grant and cannot grant on a signal they cannot open. SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from portal.domain import sensitive
from portal.domain.initiatives import ledger
from portal.domain.tokens import issue_status_token
from portal.models import BudgetChange, Grant, Signal
from portal.seeding_initiatives import KINDERBOERDERIJ, seed_demo_initiatives
from portal.vocabulary import Kind, Rung
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    MANAGEMENT,
    db_session,
    intake_settings,
    login,
    make_signal,
)
from tests.test_budget import (
    KEES,
    MEENT,
    MEENT_BUURT,
    TODAY,
    YEAR,
    actor,
    decline,
    figures,
    grant,
    initiative,
    set_amount,
    signal_of,
)

BUDGET_PAGE = f"/backoffice/budget/{MEENT}/{YEAR}"
NBSP = "\xa0"


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    """The page's text as a reader sees it: tags out, entities and spaces normalised."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)).replace(NBSP, " "))


def version(app: Flask, reference: str) -> int:
    with db_session(app) as session:
        return signal_of(session, reference).version


def post_grant(client: FlaskClient, app: Flask, reference: str, **fields: str):  # type: ignore[no-untyped-def]
    url = f"/backoffice/signalen/{reference}"
    data = {
        "csrf_token": csrf_token(client, url),
        "version": str(version(app, reference)),
        "amount": "750",
        "purpose": "Hekwerk en voer voor de dieren",
        "decided_on": TODAY.isoformat(),
    }
    data.update(fields)
    return client.post(f"{url}/steun", data=data)


def grant_id(app: Flask, reference: str) -> int:
    with db_session(app) as session:
        signal = signal_of(session, reference)
        return session.scalars(
            select(Grant.id).where(Grant.signal_id == signal.id).order_by(Grant.id.desc())
        ).first()


def post(client: FlaskClient, url: str, page: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf_token(client, page), **fields})


# --- pages everyone on staff reads ----------------------------------------------------------


@pytest.mark.parametrize("email", [ADMIN, ANNA, KEES, MANAGEMENT])
def test_every_staff_member_reads_the_overview_and_every_wijk_budget(
    app: Flask, client: FlaskClient, email: str
) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    with db_session(app) as session:
        grant(session, app, reference, 75_000)
        session.commit()
    login(client, email)
    overview = client.get("/backoffice/budget")
    assert overview.status_code == 200
    text = text_of(overview)
    assert f"Wijkbudgetten voor initiatieven {YEAR}" in text
    assert "Hilversumse Meent € 5.000,00 € 750,00 € 0,00 € 4.250,00" in text
    assert "Zuidwest Nog geen budget vastgesteld" in text
    page = client.get(BUDGET_PAGE)
    assert page.status_code == 200
    text = text_of(page)
    assert "Nog beschikbaar € 4.250,00" in text
    assert "Kinderboerderij in de Meent" in text and "Hekwerk en voer" in text
    assert "Vastgesteld door het college." in text  # the history, with the reason
    assert ("Bewaar budget" in text) == (email == ADMIN)
    assert client.get("/backoffice/budget/WK040299/2026").status_code == 404
    assert client.get(f"/backoffice/budget/{MEENT}/1").status_code == 404


def test_the_overview_chooses_a_year_and_speaks_english(app: Flask, client: FlaskClient) -> None:
    set_amount(app, 300_000, year=YEAR - 1)
    login(client, ANNA)
    last_year = text_of(client.get(f"/backoffice/budget?jaar={YEAR - 1}"))
    assert "Hilversumse Meent € 3.000,00" in last_year
    assert "€ 3.000,00" not in text_of(client.get("/backoffice/budget"))
    english = text_of(client.get(f"/backoffice/budget/{MEENT}/{YEAR - 1}?lang=en"))
    assert "€3,000.00" in english


def test_a_sensitive_initiative_shows_only_its_amounts_to_others(
    app: Flask, client: FlaskClient
) -> None:
    set_amount(app, 500_000)
    reference = initiative(app, title="Woonplek voor Lisa")
    with db_session(app) as session:
        grant(session, app, reference, 60_000, purpose="Notaris voor de stichting van Lisa")
        signal = signal_of(session, reference)
        sensitive.mark(
            session,
            signal,
            reason="Gaat over een gezin met een kwetsbaar kind.",
            seen_version=signal.version,
            actor=actor(app, KEES),
        )
        session.commit()
    login(client, ANNA)
    text = text_of(client.get(BUDGET_PAGE))
    assert "Afgeschermd initiatief" in text and "€ 600,00" in text
    assert "Lisa" not in text and reference not in text
    assert (
        client.get(f"/backoffice/budget/toekenningen/{grant_id(app, reference)}").status_code == 404
    )
    assert "Nog beschikbaar € 4.400,00" in text  # the figures still add up


# --- setting the yearly amount --------------------------------------------------------------


def test_an_admin_sets_the_budget_with_a_reason(app: Flask, client: FlaskClient) -> None:
    login(client, ADMIN)
    response = post(client, BUDGET_PAGE, BUDGET_PAGE, amount="5.000", reason="Begroting")
    assert response.status_code == 303
    assert "Het wijkbudget" in text_of(client.get(response.headers["Location"]))
    with db_session(app) as session:
        assert figures(session).budget_cents == 500_000
        change = session.scalars(select(BudgetChange)).one()
        assert change.reason == "Begroting" and change.previous_cents == 0


def test_a_budget_form_with_errors_keeps_what_was_typed(app: Flask, client: FlaskClient) -> None:
    set_amount(app, 100_000)
    reference = initiative(app)
    with db_session(app) as session:
        grant(session, app, reference, 80_000)
        session.commit()
    login(client, ADMIN)
    no_reason = post(client, BUDGET_PAGE, BUDGET_PAGE, amount="2000", reason="")
    assert no_reason.status_code == 422
    html = no_reason.get_data(as_text=True)
    assert "Er ging iets mis" in html and 'value="2000"' in html
    assert "Schrijf waarom het budget dit bedrag is" in html
    garbled = post(client, BUDGET_PAGE, BUDGET_PAGE, amount="veel", reason="Meer")
    assert garbled.status_code == 422 and "Vul het bedrag in euro" in text_of(garbled)
    lower = post(client, BUDGET_PAGE, BUDGET_PAGE, amount="500", reason="Bezuiniging")
    assert lower.status_code == 422
    text = text_of(lower)
    assert "Er is al € 800,00 toegekend of aangevraagd" in text and "Bezuiniging" in text
    with db_session(app) as session:
        assert figures(session).budget_cents == 100_000


@pytest.mark.parametrize("email", [KEES, MANAGEMENT])
def test_only_an_admin_posts_a_budget(app: Flask, client: FlaskClient, email: str) -> None:
    login(client, email)
    response = post(client, BUDGET_PAGE, BUDGET_PAGE, amount="5000", reason="Zelf geregeld")
    assert response.status_code == 403
    with db_session(app) as session:
        assert ledger.budget_for(session, MEENT, YEAR) is None


# --- granting on the signal page ------------------------------------------------------------


def test_the_accountmanager_grants_from_the_signal_page(app: Flask, client: FlaskClient) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    login(client, KEES)
    page = text_of(client.get(f"/backoffice/signalen/{reference}"))
    assert f"Nog beschikbaar in het wijkbudget {YEAR}: € 5.000,00" in page
    assert "plus deze toekenning. Komt dat totaal boven € 1.000,00, dan telt" in page
    assert f"Dit initiatief heeft in {YEAR} al € 0,00 toegekend gekregen of aangevraagd." in page
    assert "Reden om meer toe te kennen" not in page  # the override is for admins
    response = post_grant(client, app, reference, show_amount="y")
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]))
    assert f"€ 750,00 toegekend. Nog beschikbaar in het wijkbudget {YEAR}: € 4.250,00." in page
    assert f"Nog beschikbaar in het wijkbudget {YEAR}: € 4.250,00" in page
    assert "Steun uit het wijkbudget" in page  # the timeline step too
    assert f"€ 750,00 Toegekend · wijkbudget {YEAR}" in page
    assert f"Dit initiatief heeft in {YEAR} al € 750,00 toegekend gekregen" in page
    assert "Nog beschikbaar € 4.250,00" in text_of(client.get(BUDGET_PAGE))
    with db_session(app) as session:
        made = session.get(Grant, grant_id(app, reference))
        assert made is not None and made.show_amount and made.state == "granted"


def test_a_grant_above_what_remains_comes_back_with_what_was_typed(
    app: Flask, client: FlaskClient
) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    login(client, KEES)
    response = post_grant(client, app, reference, amount="7.500", purpose="Een hele stal")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="foutmeldingen"' in html and 'href="#grant-amount"' in html
    assert 'value="7.500"' in html and "Een hele stal" in html
    assert f"Er is nog € 5.000,00 beschikbaar in het wijkbudget {YEAR}" in text_of(response)
    future = post_grant(client, app, reference, decided_on="2999-01-01")
    assert future.status_code == 422 and "niet in de toekomst" in text_of(future)
    typo = post_grant(client, app, reference, amount="zeven")
    assert typo.status_code == 422 and "Vul het bedrag in euro" in text_of(typo)
    with db_session(app) as session:
        assert figures(session).granted_cents == 0


def test_an_admin_may_override_with_a_reason(app: Flask, client: FlaskClient) -> None:
    set_amount(app, 50_000)
    reference = initiative(app)
    login(client, ADMIN)
    page = text_of(client.get(f"/backoffice/signalen/{reference}"))
    assert "Reden om meer toe te kennen dan er nog beschikbaar is" in page
    refused = post_grant(client, app, reference, amount="750")
    assert refused.status_code == 422
    assert "Of schrijf waarom u het budget bewust overschrijdt." in text_of(refused)
    done = post_grant(client, app, reference, amount="750", override_reason="Besluit wethouder")
    assert done.status_code == 303
    with db_session(app) as session:
        assert figures(session).remaining_cents == -25_000


def test_without_a_budget_the_page_says_an_admin_must_set_it(
    app: Flask, client: FlaskClient
) -> None:
    reference = initiative(app)
    knelpunt, _token = make_signal(app, buurt=MEENT_BUURT)
    login(client, KEES)
    page = text_of(client.get(f"/backoffice/signalen/{reference}"))
    assert f"Voor wijk Hilversumse Meent is voor {YEAR} nog geen budget vastgesteld" in page
    assert "Ken steun toe" not in page
    refused = post_grant(client, app, reference)
    assert refused.status_code == 422
    assert "Een beheerder moet dat eerst doen." in text_of(refused)
    assert 'id="grant-amount"' in refused.get_data(as_text=True)  # the summary's link lands
    assert "Steun uit het wijkbudget" not in text_of(client.get(f"/backoffice/signalen/{knelpunt}"))


def test_management_reads_the_grants_but_cannot_post(app: Flask, client: FlaskClient) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    with db_session(app) as session:
        grant(session, app, reference, 75_000)
        session.commit()
    login(client, MANAGEMENT)
    page = text_of(client.get(f"/backoffice/signalen/{reference}"))
    assert "Hekwerk en voer" in page and "Ken steun toe" not in page
    token = csrf_token(client, "/backoffice/")
    data = {"csrf_token": token, "version": str(version(app, reference)), "amount": "10"}
    assert client.post(f"/backoffice/signalen/{reference}/steun", data=data).status_code == 403
    made = grant_id(app, reference)
    for action in ("beoordelen", "intrekken", "corrigeren"):
        url = f"/backoffice/budget/toekenningen/{made}/{action}"
        assert client.post(url, data={"csrf_token": token}).status_code == 403
    with db_session(app) as session:
        assert figures(session).granted_cents == 75_000


def test_no_grant_on_a_signal_the_accountmanager_cannot_open(
    app: Flask, client: FlaskClient
) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    with db_session(app) as session:
        signal = signal_of(session, reference)
        sensitive.mark(
            session,
            signal,
            reason="Kwetsbaar gezin.",
            seen_version=signal.version,
            actor=actor(app, KEES),
        )
        session.commit()
    login(client, ANNA)
    token = csrf_token(client, "/backoffice/")
    data = {
        "csrf_token": token,
        "version": str(version(app, reference)),
        "amount": "750",
        "purpose": "Voer",
        "decided_on": TODAY.isoformat(),
    }
    assert client.post(f"/backoffice/signalen/{reference}/steun", data=data).status_code == 404
    with db_session(app) as session:
        assert figures(session).granted_cents == 0


# --- the second person, withdrawal and correction -------------------------------------------


def requested_grant(app: Flask, client: FlaskClient) -> tuple[str, int]:
    set_amount(app, 500_000)
    reference = initiative(app)
    login(client, KEES)
    response = post_grant(client, app, reference, amount="1.500", purpose="Een stal")
    assert response.status_code == 303
    assert "€ 1.500,00 aangevraagd" in text_of(client.get(response.headers["Location"]))
    return reference, grant_id(app, reference)


def test_the_decider_cannot_approve_their_own_grant(app: Flask, client: FlaskClient) -> None:
    _reference, made = requested_grant(app, client)
    page = f"/backoffice/budget/toekenningen/{made}"
    text = text_of(client.get(page))
    assert "Goedkeuren of afwijzen" not in text and "Trek aanvraag in" in text
    assert "Keur goed" not in text_of(client.get(BUDGET_PAGE))
    own = post(client, f"{page}/beoordelen", page, decision="approve")
    assert own.status_code == 422
    assert "U heeft deze toekenning zelf besloten" in text_of(own)
    with db_session(app) as session:
        row = session.get(Grant, made)
        assert row is not None and row.state == "requested"
        assert figures(session).requested_cents == 150_000


def test_another_accountmanager_approves_from_the_budget_page(
    app: Flask, client: FlaskClient
) -> None:
    reference, made = requested_grant(app, client)
    other = login(app.test_client(), ANNA)
    assert "Keur goed" in text_of(other.get(BUDGET_PAGE))
    page = f"/backoffice/budget/toekenningen/{made}"
    response = post(other, f"{page}/beoordelen", BUDGET_PAGE, decision="approve", back="budget")
    assert response.status_code == 303 and response.headers["Location"].endswith(BUDGET_PAGE)
    text = text_of(other.get(BUDGET_PAGE))
    assert "De toekenning van € 1.500,00 is goedgekeurd." in text
    assert "Goedgekeurd door Anna de Vries" in text
    with db_session(app) as session:
        shown = figures(session)
        assert (shown.granted_cents, shown.requested_cents) == (150_000, 0)
    again = post(other, f"{page}/beoordelen", page, decision="approve")
    assert again.status_code == 422 and "Over deze aanvraag is al besloten" in text_of(again)
    signal_page = text_of(client.get(f"/backoffice/signalen/{reference}"))
    assert f"€ 1.500,00 Toegekend · wijkbudget {YEAR}" in signal_page
    assert "Goedgekeurd door Anna de Vries" in signal_page


def test_a_refusal_needs_a_reason(app: Flask, client: FlaskClient) -> None:
    _reference, made = requested_grant(app, client)
    admin = login(app.test_client(), ADMIN)
    page = f"/backoffice/budget/toekenningen/{made}"
    empty = post(admin, f"{page}/beoordelen", page, decision="refuse", reason="")
    assert empty.status_code == 422 and "Schrijf de reden op." in text_of(empty)
    done = post(admin, f"{page}/beoordelen", page, decision="refuse", reason="Te duur")
    assert done.status_code == 303
    text = text_of(admin.get(page))
    assert "Afgewezen door Beheerder Wijkzaken" in text and "Te duur" in text
    with db_session(app) as session:
        assert figures(session).remaining_cents == 500_000


def test_only_the_decider_or_an_admin_withdraws(app: Flask, client: FlaskClient) -> None:
    _reference, made = requested_grant(app, client)
    page = f"/backoffice/budget/toekenningen/{made}"
    other = login(app.test_client(), ANNA)
    assert "Trek aanvraag in" not in text_of(other.get(page))
    assert post(other, f"{page}/intrekken", page, reason="Weg ermee").status_code == 403
    empty = post(client, f"{page}/intrekken", page, reason="")
    assert empty.status_code == 422
    assert post(client, f"{page}/intrekken", page, reason="Dubbel").status_code == 303
    with db_session(app) as session:
        row = session.get(Grant, made)
        assert row is not None and row.state == "withdrawn"
        assert figures(session).remaining_cents == 500_000


def test_a_correction_on_the_grant_page(app: Flask, client: FlaskClient) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    login(client, KEES)
    assert post_grant(client, app, reference).status_code == 303
    page = f"/backoffice/budget/toekenningen/{grant_id(app, reference)}"
    too_much = post(client, f"{page}/corrigeren", page, amount="800", reason="Meer")
    assert too_much.status_code == 422
    assert "Van deze toekenning is nog € 750,00 over." in text_of(too_much)
    done = post(client, f"{page}/corrigeren", page, amount="250", reason="Minder voer nodig")
    assert done.status_code == 303
    text = text_of(client.get(page))
    assert "€ 250,00 is teruggezet naar het wijkbudget." in text
    assert "Nog over van deze toekenning: € 500,00" in text and "Minder voer nodig" in text
    budget_text = text_of(client.get(BUDGET_PAGE))
    assert "Nog beschikbaar € 4.500,00" in budget_text


# --- the figures on the page are the rows ---------------------------------------------------


def shown_figures(client: FlaskClient) -> tuple[str, ...]:
    text = text_of(client.get(BUDGET_PAGE))
    found = re.search(
        r"Budget voor \d{4} (€ [\d.,-]+) Toegekend (€ [\d.,-]+) "
        r"Aangevraagd, wacht op goedkeuring (€ [\d.,-]+) Nog beschikbaar (€ [\d.,-]+)",
        text,
    )
    assert found, text[:2000]
    return found.groups()


def euros(cents: int) -> str:
    sign, cents = ("-" if cents < 0 else ""), abs(cents)
    return f"€ {sign}{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"


def test_the_budget_page_always_shows_the_rows_added_up(app: Flask, client: FlaskClient) -> None:
    set_amount(app, 500_000)
    first, second = initiative(app), initiative(app, title="Buurtmoestuin")
    login(client, ADMIN)
    steps = [
        lambda: post_grant(client, app, first, amount="750"),
        lambda: post_grant(client, app, second, amount="1.200,50"),  # requested
        lambda: post_grant(client, app, first, amount="99,99"),
        lambda: post(
            client,
            f"/backoffice/budget/toekenningen/{grant_id(app, first)}/corrigeren",
            BUDGET_PAGE,
            amount="49,99",
            reason="Minder nodig",
        ),
        lambda: post(client, BUDGET_PAGE, BUDGET_PAGE, amount="6000", reason="Meer geld"),
    ]
    for step in steps:
        assert step().status_code == 303
        with db_session(app) as session:
            found = ledger.budget_for(session, MEENT, YEAR)
            assert found is not None
            rows = ledger.recompute(session, found)
        assert shown_figures(client) == (
            euros(rows.budget_cents),
            euros(rows.granted_cents),
            euros(rows.requested_cents),
            euros(rows.remaining_cents),
        )
    assert shown_figures(client) == ("€ 6.000,00", "€ 800,00", "€ 1.200,50", "€ 3.999,50")


# --- the initiators' status page ------------------------------------------------------------


def test_the_initiators_see_the_support_and_the_amount_only_when_shown(
    app: Flask, client: FlaskClient
) -> None:
    set_amount(app, 900_000)
    shown, token = make_signal(app, kind=Kind.INITIATIEF, buurt=MEENT_BUURT)
    hidden, hidden_token = make_signal(app, kind=Kind.INITIATIEF, buurt=MEENT_BUURT)
    with db_session(app) as session:
        grant(session, app, shown, 75_000, show_amount=True)
        grant(session, app, hidden, 20_000)
        grant(session, app, hidden, 200_000, show_amount=True)  # requested: not shown
        session.commit()
    day = f"{TODAY.day} "
    page = text_of(client.get(f"/status/{token}"))
    assert "Steun van de gemeente" in page
    assert "heeft de gemeente uw initiatief gesteund met € 750,00 uit het wijkbudget" in page
    assert day in page and "Kees Mulder" in page  # the owner, as always; not as decider
    page = text_of(client.get(f"/status/{hidden_token}"))
    assert "heeft de gemeente besloten uw initiatief te steunen uit het wijkbudget" in page
    assert "€" not in page and "Hekwerk" not in page
    english = text_of(client.get(f"/status/{token}?lang=en"))
    assert "€750.00" in english


def test_nothing_shows_for_a_knelpunt_or_before_support(app: Flask, client: FlaskClient) -> None:
    set_amount(app, 500_000)
    _reference, token = make_signal(app, buurt=MEENT_BUURT)
    assert "Steun van de gemeente" not in text_of(client.get(f"/status/{token}"))
    reference = initiative(app)
    with db_session(app) as session:
        signal = signal_of(session, reference)
        token = issue_status_token(session, signal)
        grant(session, app, reference, 150_000, show_amount=True)  # requested
        session.commit()
    assert "Steun van de gemeente" not in text_of(client.get(f"/status/{token}"))


# --- the demo -------------------------------------------------------------------------------


def test_the_demo_has_the_kinderboerderij_and_its_budget(app: Flask) -> None:
    settings = intake_settings(app)
    with db_session(app) as session:
        assert seed_demo_initiatives(session, settings) == 4  # two budgets, initiative, rung
        session.commit()
        assert seed_demo_initiatives(session, settings) == 0
        session.commit()
        farm = session.scalars(select(Signal).where(Signal.title == KINDERBOERDERIJ)).one()
        assert farm.participation_rung == Rung.ADVISEREN.value
        assert farm.wijk_code == MEENT and farm.owner is not None
        assert farm.owner.email == KEES
        assert farm.reporter is not None and farm.reporter.email.endswith("@example.org")
        shown = figures(session)
        assert shown.remaining_cents == 500_000
        change = session.scalars(select(BudgetChange)).first()
        assert change is not None and change.reason and change.actor is not None
        assert change.actor.email == ADMIN


def test_seed_demo_adds_the_initiatives_once(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    # Two budgets, the kinderboerderij and its rung, and Zuidwest's grant to the playground.
    assert "Initiative budgets and grants: 5 new." in first.output
    again = runner.invoke(args=["seed", "demo"])
    assert "Initiative budgets and grants: 0 new." in again.output
    with db_session(app) as session:
        zuidwest = figures(session, "WK040203")
        assert (zuidwest.budget_cents, zuidwest.granted_cents) == (400_000, 25_000)


# --- what the reviewer found -------------------------------------------------------------------


LONG = "9" * 5000  # int() refuses text of more than 4300 digits: this was a 500


def test_a_very_long_amount_is_refused_kindly_on_every_form(
    app: Flask, client: FlaskClient
) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    login(client, ADMIN)
    assert post_grant(client, app, reference).status_code == 303
    grant_page = f"/backoffice/budget/toekenningen/{grant_id(app, reference)}"
    too_long = "Dit bedrag is te lang. Vul het in met hoogstens 30 tekens"
    for typed, message in [
        (LONG, too_long),
        ("9" * 31, too_long),
        ("9" * 30, "Dit bedrag is te hoog."),  # short enough to read, far too large
    ]:
        for response in (
            post_grant(client, app, reference, amount=typed),
            post(client, BUDGET_PAGE, BUDGET_PAGE, amount=typed, reason="Begroting"),
            post(client, f"{grant_page}/corrigeren", grant_page, amount=typed, reason="Minder"),
        ):
            assert response.status_code == 422, typed[:40]
            text = text_of(response)
            assert text.count(message) == 2, (typed[:40], text[:1500])  # summary and field
            if message == too_long:  # one message for one mistake
                assert "Dit bedrag is te hoog" not in text
    # The browser is told too: no more can be typed.
    html = client.get(f"/backoffice/signalen/{reference}").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="grant-amount"[^>]*maxlength="30"', html)
    with db_session(app) as session:
        shown = figures(session)
        assert (shown.budget_cents, shown.granted_cents) == (500_000, 75_000)


def test_a_request_for_an_initiative_declined_meanwhile_cannot_be_approved(
    app: Flask, client: FlaskClient
) -> None:
    reference, made = requested_grant(app, client)
    decline(app, reference)
    other = login(app.test_client(), ANNA)
    budget_text = text_of(other.get(BUDGET_PAGE))
    assert "Keur goed" not in budget_text and "Afwijzen of bekijken" in budget_text
    page = f"/backoffice/budget/toekenningen/{made}"
    text = text_of(other.get(page))
    assert "Keur goed" not in text and "Wijs af" in text
    assert "Dit initiatief is niet in behandeling genomen en krijgt geen steun." in text
    approve = post(other, f"{page}/beoordelen", page, decision="approve")
    assert approve.status_code == 422
    assert "U kunt de aanvraag nog afwijzen; wie haar deed kan haar intrekken." in text_of(approve)
    with db_session(app) as session:
        row = session.get(Grant, made)
        assert row is not None and row.state == "requested"
    refuse = post(other, f"{page}/beoordelen", page, decision="refuse", reason="Gaat niet door")
    assert refuse.status_code == 303
    with db_session(app) as session:
        assert figures(session).remaining_cents == 500_000


def test_a_small_grant_on_top_of_others_waits_for_a_second_person(
    app: Flask, client: FlaskClient
) -> None:
    set_amount(app, 500_000)
    reference = initiative(app)
    login(client, KEES)
    assert post_grant(client, app, reference, amount="750").status_code == 303
    second = post_grant(client, app, reference, amount="500")
    assert second.status_code == 303
    text = text_of(client.get(second.headers["Location"]))
    assert "€ 500,00 aangevraagd." in text
    assert "Samen met wat dit initiatief dit jaar al kreeg of aanvroeg is het meer dan" in text
    assert f"Dit initiatief heeft in {YEAR} al € 1.250,00 toegekend gekregen" in text
    with db_session(app) as session:
        shown = figures(session)
        assert (shown.granted_cents, shown.requested_cents) == (75_000, 50_000)


def test_a_grant_whose_initiative_was_removed_says_so(app: Flask, client: FlaskClient) -> None:
    set_amount(app, 500_000)
    reference = initiative(app, title="Speeltuin aan de Heideweg")
    with db_session(app) as session:
        made = grant(session, app, reference, 60_000)
        session.commit()
        session.execute(delete(Signal).where(Signal.reference == reference))
        session.commit()
        row = session.get(Grant, made.id, populate_existing=True)
        assert row is not None and row.signal_id is None  # kept: the ledger adds up
    login(client, ANNA)
    text = text_of(client.get(BUDGET_PAGE))
    assert "Verwijderd initiatief" in text and "€ 600,00" in text
    assert "De melding van dit initiatief is verwijderd." in text
    assert "Afgeschermd initiatief" not in text and "niet openen" not in text
    assert "Nog beschikbaar € 4.400,00" in text
    assert "De melding bestaat niet meer." in text_of(
        client.get(f"/backoffice/budget/toekenningen/{made.id}")
    )
