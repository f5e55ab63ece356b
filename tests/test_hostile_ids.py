"""Finding 11 of the security review: huge or strange numbers in URLs, forms and filters
answered 500 on SQLite and PostgreSQL. Every one must be a 4xx (or be ignored), never 5xx."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.factories import ADMIN, ANNA, login, make_signal
from tests.test_backoffice_signal import page_url, post_action, token_for

HUGE = "9999999999999999999999999"
STRANGE = [HUGE, "2147483648", "-1", "0", "²", "１２", "1e9", " 7", "7 ", "0x10", ""]


def test_huge_ids_in_urls_are_not_found(app: Flask, client) -> None:
    reference, token = make_signal(app)
    assert client.get(f"/status/AAAA/foto/{HUGE}").status_code == 404
    assert client.get(f"/status/{token}/foto/{HUGE}").status_code == 404
    assert client.get(f"/status/{token}/foto/2147483648").status_code == 404
    login(client, ADMIN)
    for path in (
        f"/backoffice/signalen/{reference}/foto/{HUGE}",
        f"/backoffice/beheer/gebruikers/{HUGE}",
        "/backoffice/beheer/gebruikers/2147483648",
        f"/backoffice/beheer/standaardteksten/{HUGE}",
    ):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("value", STRANGE)
def test_strange_owners_in_inbox_filters_are_ignored(app: Flask, client, value: str) -> None:
    login(client, ANNA)
    response = client.get("/backoffice/", query_string={"scope": "all", "owner": value})
    assert response.status_code == 200


@pytest.mark.parametrize("value", [HUGE, "2147483648", "²", "-3"])
def test_strange_owners_in_a_reassignment_are_refused(app: Flask, client, value: str) -> None:
    reference, _token = make_signal(app)
    login(client, ANNA)
    response = post_action(client, app, reference, "reassign", {"owner": value, "reason": "x"})
    assert response.status_code == 422
    assert "Kies een eigenaar uit de lijst" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", [HUGE, "²", "-1", "0", "abc"])
def test_strange_versions_are_a_stale_form_not_an_error(app: Flask, client, value: str) -> None:
    reference, _token = make_signal(app)
    login(client, ANNA)
    response = client.post(
        f"{page_url(reference)}/notitie",
        data={"csrf_token": token_for(client, reference), "version": value, "message": "x"},
    )
    assert response.status_code == 409


@pytest.mark.parametrize("value", [HUGE, "²"])
def test_strange_owners_in_routing_rules_are_refused(app: Flask, client, value: str) -> None:
    from tests.conftest import csrf_token

    login(client, ADMIN)
    token = csrf_token(client, "/backoffice/beheer/routering")
    response = client.post(
        "/backoffice/beheer/routering", data={"csrf_token": token, "owner_WK040203": value}
    )
    assert response.status_code == 422
