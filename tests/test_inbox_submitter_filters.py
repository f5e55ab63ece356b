"""The inbox by who sent a signal and how it came in (issue 10): the filters "Ingediend door"
(resident / organisation) and "Binnengekomen via" (the channel), the search finding an
organisation by its name or KvK number (never a person by their name), the mark in the list,
the map with the same filters, and the statements a page costs. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from portal.domain.inbox import InboxFilter
from portal.vocabulary import Channel, Status
from tests.factories import ADMIN, ANNA, MANAGEMENT, SANNE, SINT_VITUSBUURT, login
from tests.test_backoffice_inbox import (
    INBOX,
    REFERENCE_LINK,
    counts,
    move,
    page,
    references,
    statements_for,
)
from tests.test_organisations import BAKKERIJ, organisation_signal
from tests.test_sensitive_signals import mark

STICHTING = "Stichting Buurtkracht"
CORPORATIE = "Woningcorporatie Het Gooi"


def arrange(app: Flask) -> dict[str, str]:
    """Seven signals: three from organisations, four from residents, over four channels.

    ===  =========================  ========  ===========  ========
    key  submitter                  channel   registrar    status
    ===  =========================  ========  ===========  ========
    A    Bakkerij De Korenschoof    web       -            received
    B    Stichting Buurtkracht      phone     Anna         received
    C    Woningcorporatie Het Gooi  email     admin        resolved
    D    resident                   web       -            received
    E    resident                   phone     Anna         received
    F    resident                   schouw    Anna         received
    G    resident Piet Korenschoof  web       -            received
    ===  =========================  ========  ===========  ========
    """
    made = {
        "A": organisation_signal(app, title="Zwerfvuil bij de ingang"),
        "B": organisation_signal(
            app,
            organisation=STICHTING,
            kvk=None,
            contact="Fatima el Amrani",
            channel=Channel.PHONE,
            registrar=ANNA,
            buurt=SINT_VITUSBUURT,
            title="Buurthuis zoekt vrijwilligers",
        ),
        "C": organisation_signal(
            app,
            organisation=CORPORATIE,
            kvk="87654321",
            contact=None,
            channel=Channel.EMAIL,
            registrar=ADMIN,
            title="Portiek verlichting",
        ),
        "D": organisation_signal(app, organisation=None, title="Kapotte stoeptegel"),
        "E": organisation_signal(
            app, organisation=None, channel=Channel.PHONE, registrar=ANNA, title="Lantaarnpaal"
        ),
        "F": organisation_signal(
            app,
            organisation=None,
            channel=Channel.SCHOUW,
            registrar=ANNA,
            buurt=SINT_VITUSBUURT,
            title="Graffiti op de muur",
        ),
        # A person who happens to carry the bakery's name: a resident's name is contact data,
        # which not every colleague may see, so the search never looks at it.
        "G": organisation_signal(
            app, organisation=None, contact="Piet Korenschoof", title="Bankje"
        ),
    }
    move(app, made["C"], Status.RESOLVED)
    return made


def listed(client: FlaskClient, query: dict[str, str]) -> set[str]:
    return set(references(client, {"scope": "all", **query}))


def by_key(made: dict[str, str], keys: str) -> set[str]:
    return {made[k] for k in keys}


# --- the filters ----------------------------------------------------------------------------


FILTERS = [
    ({"submitter": "organisation"}, "ABC"),
    ({"submitter": "resident"}, "DEFG"),
    ({"channel": "web"}, "ADG"),
    ({"channel": "phone"}, "BE"),
    ({"channel": "email"}, "C"),
    ({"channel": "schouw"}, "F"),
    ({"channel": "counter"}, ""),
    ({"submitter": "organisation", "channel": "phone"}, "B"),
    ({"submitter": "resident", "channel": "phone"}, "E"),
    ({"submitter": "organisation", "status": "open"}, "AB"),
    ({"submitter": "ORGANISATION"}, "ABC"),  # lenient about case, as people edit URLs
    ({"submitter": "bedrijf", "channel": "fax"}, "ABCDEFG"),  # nonsense is ignored
]


def test_the_inbox_filters_on_submitter_and_channel(app: Flask, client: FlaskClient) -> None:
    made = arrange(app)  # once for the whole table: arranging is the slow part
    login(client, ADMIN)
    for query, keys in FILTERS:
        assert listed(client, query) == by_key(made, keys), query


def test_the_counts_per_status_count_exactly_the_filtered_signals(
    app: Flask, client: FlaskClient
) -> None:
    arrange(app)
    login(client, ADMIN)
    organisations = counts(page(client, {"scope": "all", "submitter": "organisation"}))
    assert {label: organisations[label][0] for label in ("Alle", "Open", "Gesloten")} == {
        "Alle": 3,
        "Open": 2,
        "Gesloten": 1,
    }
    assert organisations["Ontvangen"][0] == 2
    assert organisations["Afgehandeld"][0] == 1
    # A count link keeps the filter.
    assert "submitter=organisation" in organisations["Gesloten"][1]
    residents = counts(page(client, {"scope": "all", "submitter": "resident"}))
    assert (residents["Alle"][0], residents["Gesloten"][0]) == (4, 0)
    phone = counts(page(client, {"scope": "all", "channel": "phone"}))
    assert (phone["Alle"][0], phone["Open"][0]) == (2, 2)


def test_mine_with_a_channel_filter(app: Flask, client: FlaskClient) -> None:
    made = arrange(app)
    login(client, ANNA)  # Zuidwest: the Kerkelanden signals A, C, D, E, G
    assert set(references(client, {"scope": "mine", "channel": "web"})) == by_key(made, "ADG")
    assert set(references(client, {"scope": "mine", "submitter": "organisation"})) == by_key(
        made, "AC"
    )


def test_the_filter_form_offers_both_and_keeps_what_was_chosen(
    app: Flask, client: FlaskClient
) -> None:
    arrange(app)
    login(client, MANAGEMENT)
    body = page(client, {"scope": "all", "submitter": "organisation", "channel": "phone"})
    form = re.search(r'<form method="get" action="/backoffice/signalen".*?</form>', body, re.S)
    assert form
    markup = form.group(0)
    assert (
        '<label class="utrecht-form-label" for="filter-submitter">Ingediend door</label>' in markup
    )
    assert (
        '<label class="utrecht-form-label" for="filter-channel">Binnengekomen via</label>' in markup
    )
    submitter = re.search(r'<select[^>]*name="submitter">(.*?)</select>', markup, re.S)
    channel = re.search(r'<select[^>]*name="channel">(.*?)</select>', markup, re.S)
    assert submitter and channel
    assert re.findall(r"<option[^>]*>([^<]+)</option>", submitter.group(1)) == [
        "Inwoners en organisaties",
        "Inwoner",
        "Organisatie of bedrijf",
    ]
    assert re.findall(r"<option[^>]*>([^<]+)</option>", channel.group(1)) == [
        "Alle kanalen",
        "Formulier op de website",
        "Telefoon",
        "E-mail",
        "Balie",
        "Sociale media",
        "Schouw",
    ]
    assert '<option value="organisation" selected>' in submitter.group(1)
    assert '<option value="phone" selected>' in channel.group(1)
    # "Meer filters" opens by itself when one of these is in use.
    assert '<details class="portal-inbox-more" open>' in body
    assert '<details class="portal-inbox-more">' in page(client, {"scope": "all"})


def test_the_filters_live_in_the_url() -> None:
    args = MultiDict({"scope": "all", "submitter": " organisation ", "channel": "Schouw"})
    flt = InboxFilter.from_args(args)
    assert (flt.submitter, flt.channel) == ("organisation", "schouw")
    assert flt.is_filtered
    assert flt.to_args() == {"scope": "all", "submitter": "organisation", "channel": "schouw"}
    assert InboxFilter.from_args(flt.to_args()) == flt
    for value in ("", "none", "inwoner", "<script>", "web'--"):
        parsed = InboxFilter.from_args({"submitter": value, "channel": value})
        assert (parsed.submitter, parsed.channel) == (None, None), value
    assert {c.value for c in Channel} == {
        InboxFilter.from_args({"channel": c.value}).channel for c in Channel
    }


# --- the search -----------------------------------------------------------------------------


SEARCHES = [
    ("korenschoof", "A"),  # the organisation, not Piet Korenschoof (G)
    ("KORENSCHOOF", "A"),
    ("Bakkerij zwerfvuil", "A"),  # an organisation's name and a word of its title
    ("buurtkracht", "B"),
    ("Stichting", "B"),
    ("12345678", "A"),
    ("1234 5678", "A"),  # as printed on a letterhead: both halves are in the number
    ("12.34.56.78", "A"),
    ("87654321", "C"),
    ("het gooi", "C"),
    ("Fatima", ""),  # a contact person's name is never searched
    ("jan@korenschoof.example", ""),
    ("kapotte", "D"),  # the ordinary search still works
]


def test_the_search_finds_an_organisation_by_its_name_or_kvk_number(
    app: Flask, client: FlaskClient
) -> None:
    made = arrange(app)
    login(client, ADMIN)
    for q, keys in SEARCHES:
        assert listed(client, {"q": q}) == by_key(made, keys), q


def test_the_search_never_shows_a_sensitive_signal_to_who_may_not_see_it(
    app: Flask, client: FlaskClient
) -> None:
    made = arrange(app)
    mark(app, made["A"])  # by Anna, its owner; nobody let in
    login(client, SANNE)
    assert listed(client, {"q": "korenschoof"}) == set()
    assert listed(client, {"submitter": "organisation"}) == by_key(made, "BC")
    admin = login(app.test_client(), ADMIN)
    assert listed(admin, {"q": "korenschoof"}) == by_key(made, "A")


# --- the list, the map, the cost ------------------------------------------------------------


def test_a_signal_from_an_organisation_carries_its_name_in_the_list(
    app: Flask, client: FlaskClient
) -> None:
    made = arrange(app)
    login(client, MANAGEMENT)
    body = page(client, {"scope": "all"})
    rows = {
        reference: row
        for row in re.findall(r'<tr class="utrecht-table__row">.*?</tr>', body, re.S)
        for _href, reference in REFERENCE_LINK.findall(row)
    }
    assert set(rows) == set(made.values())
    mark_of = {
        key: re.findall(r'portal-mark-organisation">([^<]+)</span>', rows[made[key]])
        for key in made
    }
    assert mark_of == {
        "A": [f"Organisatie: {BAKKERIJ}"],
        "B": [f"Organisatie: {STICHTING}"],
        "C": [f"Organisatie: {CORPORATIE}"],
        "D": [],
        "E": [],
        "F": [],
        "G": [],
    }
    # The contact people's names are not in the list.
    for name in ("Jan Jansen", "Fatima el Amrani", "Piet Korenschoof"):
        assert name not in body


MAP_FILTERS = [
    ({"submitter": "organisation"}, "3 signalen met deze filters."),
    ({"channel": "phone"}, "2 signalen met deze filters."),
    ({"q": "korenschoof"}, "1 signaal met deze filters."),
    ({"submitter": "resident", "channel": "schouw"}, "1 signaal met deze filters."),
]


def test_the_map_shows_the_same_signals(app: Flask, client: FlaskClient) -> None:
    arrange(app)
    login(client, ADMIN)
    for query, sentence in MAP_FILTERS:
        response = client.get("/backoffice/kaart", query_string={"scope": "all", **query})
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert sentence in body, query
        # ... and its way back to the list keeps the filters.
        back = re.search(r'class="utrecht-link portal-map-list-link" href="([^"]+)"', body)
        assert back and all(f"{name}=" in back.group(1) for name in query), query


def test_anonymous_visitors_are_sent_to_the_login(app: Flask, client: FlaskClient) -> None:
    response = client.get(INBOX, query_string={"submitter": "organisation", "q": "korenschoof"})
    assert response.status_code in (302, 303)
    assert "/backoffice/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "query",
    [
        {"scope": "all", "submitter": "organisation", "channel": "web", "q": "korenschoof"},
        {"scope": "mine", "submitter": "resident", "q": "12345678 afval"},
    ],
    ids=["all", "mine"],
)
def test_a_filtered_page_costs_the_same_statements_for_few_or_many_signals(
    app: Flask, client: FlaskClient, query: dict[str, str]
) -> None:
    for _ in range(2):
        organisation_signal(app)
        organisation_signal(app, organisation=None)
    login(client, ANNA)
    few = statements_for(app, client, query)
    for i in range(30):
        organisation_signal(app, organisation=None if i % 3 else f"{BAKKERIJ} {i}")
    many = statements_for(app, client, query)
    assert len(many) == len(few), "\n".join(many)
