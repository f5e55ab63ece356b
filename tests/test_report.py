"""The monthly report for the college (issue 13): the page and the PDF against the
hand-computed October story (tests/test_steering.py), with a notable case an accountmanager
chose through the signal page, the support granted and an escalation and how it ended; a
sensitive signal counted but never shown; the CLI writes the same PDF. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from portal.domain import sensitive
from portal.domain.casework import Actor
from portal.domain.initiatives import budget
from portal.domain.steering import highlights
from portal.domain.working_days import local_date
from portal.models import AuditRecord, Escalation, Functionary, Signal, User
from portal.vocabulary import Kind
from tests.factories import ADMIN, ANNA, MANAGEMENT, db_session, login, make_signal, user_id
from tests.test_deadlines import admin_actor, local
from tests.test_steering import story  # noqa: F401 - the fixture

REPORT = "/backoffice/cijfers/verslag?periode=2026-10"
SUMMARY = "Bewoners en de corporatie ruimden samen het hofje op; de gemeente haalde het grofvuil."


def text(response) -> str:  # type: ignore[no-untyped-def]
    body = response.get_data(as_text=True).split("<main", 1)[-1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def signal_of(session, reference: str) -> Signal:  # type: ignore[no-untyped-def]
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


@pytest.fixture
def october(app: Flask, story: dict[str, str]) -> dict[str, str]:  # noqa: F811
    """The story, and: A chosen for October's report; an initiative supported with € 250 on
    20 October; an escalation about B raised 6 October (reply by 13 October), answered on
    the 9th and closed on the 15th; D marked sensitive (counted, never shown)."""
    now = datetime.now(UTC)
    with db_session(app) as session:
        signal = signal_of(session, story["A"])
        signal.highlight_summary, signal.highlight_month = SUMMARY, date(2026, 10, 1)
        sensitive.mark(
            session,
            signal_of(session, story["D"]),
            reason="Zorg",
            seen_version=signal_of(session, story["D"]).version,
            actor=admin_actor(app),
        )
        budget.set_budget(
            session,
            "WK040203",
            2026,
            500_000,
            reason="Wijkbudget",
            actor=Actor(user_id(app, ADMIN), now),
        )
        session.commit()
    initiative, _token = make_signal(app, kind=Kind.INITIATIEF, now=local(date(2026, 10, 14)))
    with db_session(app) as session:
        item = signal_of(session, initiative)
        budget.record_grant(
            session,
            item,
            amount_cents=25_000,
            purpose="Buurtfeest",
            decided_on=date(2026, 10, 20),
            show_amount=False,
            override_reason=None,
            actor=Actor(user_id(app, ADMIN), now),
            seen_version=item.version,
            threshold_cents=app.config["BUDGET_APPROVAL_THRESHOLD_CENTS"],
        )
        functionary = Functionary(
            name="Karin Smit",
            role_title="Teamleider",
            department="Openbare Ruimte",
            email="karin.smit@hilversum.example",
        )
        session.add(functionary)
        session.flush()
        # The escalation's row as the escalation operations leave it (their own tests
        # cover how it gets there).
        session.add(
            Escalation(
                signal_id=signal_of(session, story["B"]).id,
                functionary_id=functionary.id,
                question="Wanneer wordt de stoep hersteld?",
                urgency="normal",
                reply_by=date(2026, 10, 13),
                created_at=local(date(2026, 10, 6)),
                created_by_id=user_id(app, ANNA),
                token_hash="0" * 64,
                link_expires_at=local(date(2026, 11, 6)),
                answered_at=local(date(2026, 10, 9)),
                answer="In week 43.",
                closed_at=local(date(2026, 10, 15)),
                outcome="Stoep hersteld in week 43.",
            )
        )
        session.commit()
    return {**story, "initiative": initiative}


@pytest.mark.usefixtures("october")
def test_the_report_for_october_against_the_story(app, client) -> None:
    login(client, MANAGEMENT)
    page = client.get(REPORT)
    assert page.status_code == 200
    shown = text(page)
    assert "Maandverslag oktober 2026" in shown
    # The headline figures: the dashboard's as management sees them (D, sensitive, left
    # out; counted once for the city, and fewer than five), with the initiative that came
    # in on 14 October.
    assert "Binnengekomen 5 2 +3" in shown
    assert "Afgesloten 3 1 +2" in shown
    assert "Open aan het eind van de periode 3 1 +2" in shown
    assert "Er kwamen er in deze periode minder dan 5 binnen." in shown
    assert "Afgehandeld binnen de termijn 67% (2 van 3) 100% (1 van 1)" in shown
    assert "Doorlooptijd tot afsluiten (mediaan) 11,0 dagen 10,0 dagen +1" in shown
    assert "Bewoners tevreden over de afhandeling 50% (1 tevreden, 1 niet)" in shown
    assert "kreeg 1 initiatief steun uit een wijkbudget, samen € 250,00" in shown
    assert SUMMARY in shown and "Wijk Zuidwest: Knelpunt, schoon" in shown
    assert "1 gesteld, 1 beantwoord en 1 afgesloten in deze periode; 0 stonden" in shown
    assert "Openbare Ruimte Zuidwest 6 okt op tijd, 9 okt Stoep hersteld in week 43." in shown
    # Nothing of a resident: the story's names, addresses and texts are not in it.
    assert "Jan Jansen" not in shown and "bewoner@example.nl" not in shown
    assert "Afval bij de glasbak" not in shown


@pytest.mark.usefixtures("october")
def test_the_pdf_holds_the_same_report(app, client) -> None:
    login(client, MANAGEMENT)
    response = client.get(REPORT.replace("verslag?", "verslag.pdf?"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert 'filename="verslag-wijkzaken-2026-10.pdf"' in response.headers["Content-Disposition"]
    found = pdf_text(response.data)
    assert "Maandverslag oktober 2026" in found and SUMMARY in found
    assert "Binnengekomen 5 2 +3" in found
    assert "Stoep hersteld in week 43." in found


@pytest.mark.usefixtures("october")
def test_the_cli_writes_the_pdf(app, runner, tmp_path) -> None:
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["report", "monthly", "--month", "2026-10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2026-10-01 to 2026-10-31" in result.output
    found = pdf_text(out.read_bytes())
    assert "Maandverslag oktober 2026" in found and "Binnengekomen 5 2 +3" in found
    quarter = tmp_path / "q.pdf"
    result = runner.invoke(
        args=["report", "quarterly", "--quarter", "2026-K4", "--out", str(quarter)]
    )
    assert result.exit_code == 0, result.output
    assert "Kwartaalverslag 4e kwartaal 2026" in pdf_text(quarter.read_bytes())
    bad = runner.invoke(args=["report", "monthly", "--month", "2026-13", "--out", str(out)])
    assert bad.exit_code != 0 and "is not a month that has begun" in bad.output


def test_a_case_is_chosen_on_the_signal_page_and_a_sensitive_one_refused(app, client) -> None:
    reference, _token = make_signal(app)
    login(client, ANNA)
    page = client.get(f"/backoffice/signalen/{reference}").get_data(as_text=True)
    assert "In het maandverslag" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    this_month = local_date(datetime.now(UTC)).replace(day=1)
    url = f"/backoffice/signalen/{reference}/uitlichten"
    form = {"csrf_token": token, "version": version, "month": this_month.isoformat()}
    # Without a summary: the page comes back with the error and the month kept.
    empty = client.post(url, data={**form, "summary": "  "})
    assert empty.status_code == 422
    assert "Schrijf een korte samenvatting" in empty.get_data(as_text=True)
    # A month that is not offered (two months back).
    old = (this_month - timedelta(days=40)).replace(day=1).isoformat()
    wrong = client.post(url, data={**form, "month": old, "summary": SUMMARY})
    assert wrong.status_code == 422 and "vorige maand" in wrong.get_data(as_text=True)
    done = client.post(url, data={**form, "summary": SUMMARY})
    assert done.status_code == 303
    with db_session(app) as session:
        signal = signal_of(session, reference)
        assert (signal.highlight_summary, signal.highlight_month) == (SUMMARY, this_month)
        assert (
            session.scalars(
                select(AuditRecord.action).where(AuditRecord.signal_id == signal.id)
            ).all()[-1]
            == "signal.highlighted"
        )
        # Marked sensitive afterwards: out of every report, and it cannot be chosen again.
        sensitive.mark(
            session, signal, reason="Zorg", seen_version=signal.version, actor=admin_actor(app)
        )
        session.commit()
        assert not highlights.may_highlight(signal.owner, signal)  # type: ignore[arg-type]
    page = client.get(f"/backoffice/signalen/{reference}").get_data(as_text=True)
    assert 'id="actie-highlight"' not in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    refused = client.post(url, data={**form, "version": version, "summary": "Nog eens."})
    assert refused.status_code == 422
    assert "Deze melding komt niet in het maandverslag: ze is gevoelig" in unescape(
        refused.get_data(as_text=True)
    )


@pytest.mark.usefixtures("october")
def test_no_days_of_ones_own_choosing_and_no_escalation_of_a_sensitive_signal(app, client):
    """Days of one's own choosing, next to one's own dashboard, could single a sensitive
    signal out: the report covers a month, a quarter or a year. An escalation about a
    sensitive signal is counted, not listed."""
    login(client, MANAGEMENT)
    chosen = text(client.get("/backoffice/cijfers/verslag?van=2026-10-05&tot=2026-10-05"))
    assert "Maandverslag " in chosen and "Verslag 5 oktober" not in chosen
    with db_session(app) as session:
        b = session.scalars(select(Signal).where(Signal.title == "B")).one()
        sensitive.mark(session, b, reason="Zorg", seen_version=b.version, actor=admin_actor(app))
        session.commit()
    shown = text(client.get(REPORT))
    assert "Stoep hersteld" not in shown and "Openbare Ruimte" not in shown
    assert "1 afgesloten escalatie ging over een vertrouwelijke melding" in shown
    assert "1 gesteld, 1 beantwoord en 1 afgesloten" in shown  # still counted


@pytest.mark.usefixtures("october")
def test_who_may_read_the_report(app, client) -> None:
    assert client.get(REPORT).status_code in (302, 303)  # to the login
    login(client, ANNA)
    assert client.get(REPORT).status_code == 200


def test_an_initiative_kept_off_the_wijk_page_is_not_chosen(app) -> None:
    references = [make_signal(app, kind=Kind.INITIATIEF)[0] for _ in range(2)]
    with db_session(app) as session:
        kept, shared = (signal_of(session, r) for r in references)
        kept.public_display, shared.public_display = False, True
        session.commit()
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        assert not highlights.may_highlight(anna, kept)
        assert highlights.may_highlight(anna, shared)
