"""Organisations and businesses as submitters (issue 10): the rules for the name and the KvK
number, the public form on behalf of an organisation (stored, checked, nothing typed lost, the
same without JavaScript since every post here is a plain form post), the confirmation mail's
greeting, and how the back office shows how a signal came in and who sent it.

Tests with ``app``/``client`` run on SQLite and on PostgreSQL."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.domain import organisations
from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.organisations import Problem, check_organisation, normalise_kvk
from portal.domain.routing import LocationInput
from portal.extensions import db
from portal.models import AuditRecord
from portal.vocabulary import Channel, Kind, Theme
from tests.factories import ANNA, KERKELANDEN, MANAGEMENT, db_session, intake_settings, login
from tests.factories import user_id as staff_id
from tests.fixtures.mailserver import SMTPServer
from tests.test_report_form import (
    FormState,
    assert_error,
    assert_values_kept,
    only_signal,
    post_report,
    signal_count,
    submit,
    valid_form,
)

BAKKERIJ = "Bakkerij De Korenschoof"
ON_BEHALF = {"submitter": "organisation", "organisation_name": BAKKERIJ, "kvk_number": "1234 5678"}


# --- arranging (shared with tests/test_inbox_submitter_filters.py) --------------------------


def organisation_signal(
    app: Flask,
    *,
    organisation: str | None = BAKKERIJ,
    kvk: str | None = "12345678",
    contact: str | None = "Jan Jansen",
    email: str | None = "jan@korenschoof.example",
    channel: Channel = Channel.WEB,
    registrar: str | None = None,
    buurt: str | None = KERKELANDEN,
    title: str = "Afval bij de glasbak",
    description: str = "Er ligt al dagen afval naast de glasbak op de hoek.",
) -> str:
    """A signal through the intake operation, by an organisation unless ``organisation`` is
    None; ``registrar`` (an email address) registers it as staff."""
    registrar_id = staff_id(app, registrar) if registrar else None
    with app.app_context():
        result = submit_signal(
            db.session,
            Submission(
                kind=Kind.KNELPUNT,
                themes=[Theme.SCHOON],
                title=title,
                description=description,
                location=LocationInput(buurt_code=buurt),
                reporter=ReporterInput(
                    name=contact,
                    email=email,
                    may_contact=True,
                    organisation_name=organisation,
                    kvk_number=kvk if organisation else None,
                ),
                channel=channel,
                registrar_id=registrar_id,
            ),
            intake_settings(app),
        )
        db.session.commit()
        return result.signal.reference


def summary_pairs(page: str) -> dict[str, str]:
    """The signal page's "Wat de melder stuurde" list, as {term: text}."""
    section = re.search(r'<dl class="portal-summary">(.*?)</dl>', page, re.S)
    assert section, "no summary list on the signal page"
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", section.group(1), re.S)
    return {
        html.unescape(dt).strip(): html.unescape(re.sub(r"<[^>]+>", "", dd)).strip()
        for dt, dd in pairs
    }


def contact_pairs(page: str) -> dict[str, str]:
    section = re.search(r'<dl class="portal-summary portal-contact">(.*?)</dl>', page, re.S)
    if not section:
        return {}
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", section.group(1), re.S)
    return {
        html.unescape(dt).strip(): html.unescape(re.sub(r"<[^>]+>", "", dd)).strip()
        for dt, dd in pairs
    }


def signal_page(client: FlaskClient, reference: str) -> str:
    response = client.get(f"/backoffice/signalen/{reference}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def input_tag(page: str, field_id: str) -> str:
    found = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page)
    assert found, f"no input #{field_id}"
    return found.group(0)


def greeting(smtp: SMTPServer, address: str) -> str:
    """Who the one mail to ``address`` greets ("Beste ...,"), in its plain text."""
    smtp.wait_for(1)
    mails = smtp.to(address)
    assert len(mails) == 1, [m["To"] for m in smtp.messages]
    body = mails[0].get_body(preferencelist=("plain",)).get_content()
    found = re.findall(r"^Beste (.+),\r?$", body, re.M)
    assert len(found) == 1, body
    return found[0]


# --- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("12345678", "12345678"),
        ("1234 5678", "12345678"),
        (" 12.34.56.78 ", "12345678"),
        ("1234-5678", "12345678"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_kvk_numbers_are_taken_as_people_type_them(typed: str | None, stored: str | None) -> None:
    assert normalise_kvk(typed) == stored


@pytest.mark.parametrize("typed", ["1234567", "123456789", "1234567a", "١٢٣٤٥٦٧٨", "12/345678"])
def test_a_kvk_number_is_eight_digits(typed: str) -> None:
    with pytest.raises(organisations.InvalidKvkNumber):
        normalise_kvk(typed)


@pytest.mark.parametrize(
    ("on_behalf", "name", "kvk", "expected"),
    [
        (True, "  Bakkerij   De Korenschoof ", "1234 5678", (BAKKERIJ, "12345678", ())),
        (True, BAKKERIJ, "", (BAKKERIJ, None, ())),
        (True, "", "12345678", (None, None, (Problem.NAME_MISSING,))),
        (True, "   ", None, (None, None, (Problem.NAME_MISSING,))),
        (True, "x" * 201, None, (None, None, (Problem.NAME_TOO_LONG,))),
        (True, "x" * 200, None, ("x" * 200, None, ())),
        (True, "", "1234", (None, None, (Problem.NAME_MISSING, Problem.KVK_INVALID))),
        (False, "", "", (None, None, ())),
        (False, None, None, (None, None, ())),
        (False, BAKKERIJ, "", (None, None, (Problem.NOT_ON_BEHALF,))),
        (False, "", "12345678", (None, None, (Problem.NOT_ON_BEHALF,))),
    ],
)
def test_the_organisation_part_of_a_form(on_behalf, name, kvk, expected) -> None:  # type: ignore[no-untyped-def]
    found = check_organisation(on_behalf, name, kvk)
    assert (found.name, found.kvk_number, found.problems) == expected
    assert found.ok is (not expected[2])


def test_every_problem_has_a_message() -> None:
    assert set(organisations.PROBLEM_MESSAGES) == set(Problem)


# --- the public form ------------------------------------------------------------------------


def test_an_organisation_reports_with_its_kvk_number_and_contact_person(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    data = valid_form(**{**ON_BEHALF, "organisation_name": "  Bakkerij   De Korenschoof "})
    reference = submit(client, data)

    with db_session(app) as session:
        signal = only_signal(session)
        assert signal.reference == reference
        assert signal.submitter_kind == "organisation"
        assert (signal.channel, signal.registered_by_id) == ("web", None)
        reporter = signal.reporter
        assert reporter is not None
        assert (reporter.organisation_name, reporter.kvk_number) == (BAKKERIJ, "12345678")
        assert (reporter.name, reporter.email) == ("Jan Jansen", "jan.jansen@example.nl")
        audit = session.scalars(select(AuditRecord).where(AuditRecord.signal_id == signal.id)).one()
        assert audit.details["submitter_kind"] == "organisation"
        assert audit.details["channel"] == "web"
    # The contact person is greeted, as a resident would be.
    assert greeting(smtp, "jan.jansen@example.nl") == "Jan Jansen"


def test_without_a_contact_name_the_mail_greets_the_organisation(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    submit(client, valid_form(**ON_BEHALF, name=""))
    with db_session(app) as session:
        reporter = only_signal(session).reporter
        assert reporter is not None and reporter.name is None
    assert greeting(smtp, "jan.jansen@example.nl") == BAKKERIJ


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"submitter": "resident"},
        {"submitter": "resident", "organisation_name": "", "kvk_number": " "},
    ],
    ids=["no-choice-sent", "resident", "resident-empty-fields"],
)
def test_a_resident_stores_no_organisation(app: Flask, client: FlaskClient, extra) -> None:  # type: ignore[no-untyped-def]
    submit(client, valid_form(**extra))
    with db_session(app) as session:
        signal = only_signal(session)
        assert signal.submitter_kind == "resident"
        assert signal.reporter is not None
        assert (signal.reporter.organisation_name, signal.reporter.kvk_number) == (None, None)


def test_an_odd_choice_counts_as_a_resident(app: Flask, client: FlaskClient) -> None:
    submit(client, valid_form(submitter="ceo"))
    with db_session(app) as session:
        assert only_signal(session).submitter_kind == "resident"


ORGANISATION_MISTAKES = [
    pytest.param(
        {**ON_BEHALF, "organisation_name": ""},
        "organisation_name",
        "Vul de naam van de organisatie of het bedrijf in.",
        id="name-missing",
    ),
    pytest.param(
        {**ON_BEHALF, "organisation_name": "B" * 201},
        "organisation_name",
        "mag maximaal 200 tekens lang zijn",
        id="name-201",
    ),
    *[
        pytest.param(
            {**ON_BEHALF, "kvk_number": kvk},
            "kvk_number",
            "Een KvK-nummer heeft 8 cijfers, bijvoorbeeld 12345678.",
            id=f"kvk-{kvk}",
        )
        for kvk in ["1234 567", "123456789", "1234567a", "KvK 12345678"]
    ],
    pytest.param(
        {"submitter": "resident", "organisation_name": BAKKERIJ, "kvk_number": ""},
        "submitter",
        "U heeft een organisatie of bedrijf ingevuld.",
        id="organisation-typed-as-resident",
    ),
    pytest.param(
        {"organisation_name": "", "kvk_number": "12345678"},
        "submitter",
        "Kies 'Ik meld namens een organisatie of bedrijf'",
        id="kvk-typed-without-choice",
    ),
]


@pytest.mark.parametrize(("extra", "field_id", "message"), ORGANISATION_MISTAKES)
def test_organisation_mistakes_come_back_with_everything_kept(
    app: Flask, client: FlaskClient, extra, field_id: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    sent = valid_form(**extra)
    page = assert_error(post_report(client, sent), field_id, message)

    assert signal_count(app) == 0
    state = assert_values_kept(page, sent)
    assert state.checked.get("submitter") == [sent.get("submitter", "resident")]
    for name in ("organisation_name", "kvk_number"):
        assert state.values.get(name) == str(sent.get(name, "")).strip(), name
    # The only error on the page: the rest of the form was fine.
    assert page.count('class="utrecht-form-field__error-message"') == 1


def test_both_organisation_mistakes_at_once_are_listed_in_page_order(client: FlaskClient) -> None:
    sent = valid_form(**{**ON_BEHALF, "organisation_name": "", "kvk_number": "123"})
    page = assert_error(post_report(client, sent), "kvk_number", "Een KvK-nummer heeft 8 cijfers")
    assert "Vul de naam van de organisatie of het bedrijf in." in page
    order = re.findall(r'<a class="utrecht-link" href="#(organisation_name|kvk_number)">', page)
    assert order == ["organisation_name", "kvk_number"]


def test_a_mistake_elsewhere_keeps_the_organisation(client: FlaskClient) -> None:
    sent = valid_form(**ON_BEHALF, description="kort")
    page = assert_error(post_report(client, sent), "description", "tussen 10 en 5000 tekens")
    state = FormState(page)
    assert state.checked["submitter"] == ["organisation"]
    assert (state.values["organisation_name"], state.values["kvk_number"]) == (
        BAKKERIJ,
        "1234 5678",
    )
    # For an organisation the name field asks for the contact person (no hint needed then).
    assert re.search(
        r'<label class="utrecht-form-label" for="name">Naam van de contactpersoon</label>', page
    )
    assert "aria-describedby" not in input_tag(page, "name")
    assert "Vul dan de naam van de contactpersoon in." not in page


def test_the_organisation_part_is_on_the_page_without_javascript(client: FlaskClient) -> None:
    page = client.get("/melden").get_data(as_text=True)
    # The question, with "als inwoner" chosen: most reports come from residents.
    assert "Meldt u als inwoner of namens een organisatie?" in page
    state = FormState(page)
    assert state.checked["submitter"] == ["resident"]
    # The organisation's fields are there (not hidden: a script hides them, if it runs) and
    # say when to fill them in.
    part = re.search(r'<fieldset[^>]*id="organisatie"[^>]*>(.*?)</fieldset>', page, re.S)
    assert part and " hidden" not in part.group(0).split(">", 1)[0]
    assert "Alleen invullen als u namens een organisatie of bedrijf meldt." in part.group(1)
    assert 'autocomplete="organization"' in input_tag(part.group(1), "organisation_name")
    assert 'inputmode="numeric"' in input_tag(part.group(1), "kvk_number")
    assert re.search(r'<label class="utrecht-form-label" for="name">Naam</label>', page)
    assert "Vul dan de naam van de contactpersoon in." in page
    assert '<script src="/static/js/report-organisation.js" defer></script>' in page
    # In page order: the question, its fields, then the contact details.
    assert (
        page.index('id="submitter-0"')
        < page.index('id="organisation_name"')
        < page.index('id="name"')
    )


# --- the back office: how it came in, who sent it -------------------------------------------


def test_the_signal_page_shows_the_organisation_and_how_it_came_in(
    app: Flask, client: FlaskClient
) -> None:
    reference = organisation_signal(app)
    page = signal_page(login(client, ANNA), reference)  # Anna owns Kerkelanden's signals

    pairs = summary_pairs(page)
    assert pairs["Binnengekomen via"] == "Formulier op de website"
    assert "Geregistreerd door" not in pairs
    assert pairs["Ingediend door"] == "Organisatie of bedrijf"
    assert pairs["Naam organisatie of bedrijf"] == BAKKERIJ
    assert pairs["KvK-nummer"] == "12345678"
    # The contact person stays with the contact details (the owner may see them).
    assert "Jan Jansen" in contact_pairs(page).values()
    assert "Jan Jansen" not in pairs.values()


def test_management_sees_the_organisation_but_not_its_contact_person(
    app: Flask, client: FlaskClient
) -> None:
    reference = organisation_signal(app, kvk=None)
    page = signal_page(login(client, MANAGEMENT), reference)

    pairs = summary_pairs(page)
    assert pairs["Naam organisatie of bedrijf"] == BAKKERIJ
    assert pairs["KvK-nummer"] == "niet opgegeven"
    assert "Jan Jansen" not in page
    assert "jan@korenschoof.example" not in page
    assert contact_pairs(page) == {}


def test_a_signal_staff_registered_names_the_channel_and_the_registrar(
    app: Flask, client: FlaskClient
) -> None:
    reference = organisation_signal(app, organisation=None, channel=Channel.PHONE, registrar=ANNA)
    page = signal_page(login(client, MANAGEMENT), reference)

    pairs = summary_pairs(page)
    assert pairs["Binnengekomen via"] == "Telefoon"
    assert pairs["Geregistreerd door"] == "Anna de Vries"
    assert pairs["Ingediend door"] == "Inwoner"
    assert "Naam organisatie of bedrijf" not in pairs
    assert "KvK-nummer" not in pairs


def test_a_resident_from_the_form_is_an_inwoner(app: Flask, client: FlaskClient) -> None:
    submit(client, valid_form())
    with db_session(app) as session:
        reference = only_signal(session).reference
    pairs = summary_pairs(signal_page(login(client, ANNA), reference))
    assert (pairs["Binnengekomen via"], pairs["Ingediend door"]) == (
        "Formulier op de website",
        "Inwoner",
    )
    assert "Geregistreerd door" not in pairs
