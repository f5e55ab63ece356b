"""Found by trying the portal as a new user would: a signal in a wijk without a routing rule
went to nobody. It now goes to the wijk's accountmanager (who is mailed), else the general
inbox; the confirmation always names the wijk; admins are warned about wijken without owner."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import delete, select

from portal.models import RoutingRule, Signal, User, user_wijken
from tests.factories import ADMIN, EVA, db_session, login
from tests.test_report_form import submit, valid_form

LANDELIJK = "WK040209"
LANDELIJK_91 = "BU04020901"
HENK = "henk.de.wit@hilversum.example"


def landelijk_gebied_without_anyone(app: Flask) -> None:
    with db_session(app) as session:
        session.execute(delete(RoutingRule).where(RoutingRule.scope == LANDELIJK))
        session.execute(delete(user_wijken).where(user_wijken.c.wijk_code == LANDELIJK))
        session.commit()


def landelijk_signal(client) -> str:  # type: ignore[no-untyped-def]
    return submit(client, valid_form(wijk=LANDELIJK, buurt=LANDELIJK_91, postcode="1218 AA"))


def owner_of(app: Flask, reference: str) -> str | None:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        return signal.owner.email if signal.owner else None


def test_a_wijk_without_a_rule_goes_to_its_accountmanager(app: Flask, client, runner, smtp):
    landelijk_gebied_without_anyone(app)
    result = runner.invoke(
        args=[
            "users", "create", "--email", HENK, "--name", "Henk de Wit",
            "--role", "accountmanager", "--wijk", LANDELIJK,
            "--password", "Heide-en-bos-bij-de-Meent",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    reference = landelijk_signal(client)
    assert owner_of(app, reference) == HENK
    assert any(HENK in str(m["To"]) for m in smtp.wait_for(2))
    page = client.get("/melden/bedankt").get_data(as_text=True)
    assert "Henk de Wit, accountmanager voor wijk Landelijk Gebied" in page


def test_a_wijk_without_anyone_goes_to_the_general_inbox_and_is_named(app: Flask, client, smtp):
    landelijk_gebied_without_anyone(app)
    reference = landelijk_signal(client)
    assert owner_of(app, reference) == EVA
    page = client.get("/melden/bedankt").get_data(as_text=True)
    # Eva is not Landelijk Gebied's accountmanager, and the page does not say she is.
    assert "Eva de Boer van Bureau Wijkzaken bekijkt uw melding over wijk Landelijk Gebied" in page
    assert "accountmanager voor wijk" not in page


def test_admins_are_warned_about_wijken_without_an_owner(app: Flask, client):
    login(client, ADMIN)
    assert "Wijken zonder eigenaar" not in client.get("/backoffice/beheer").get_data(as_text=True)
    landelijk_gebied_without_anyone(app)
    for path in ("/backoffice/beheer", "/backoffice/beheer/routering"):
        page = client.get(path).get_data(as_text=True)
        assert "Wijken zonder eigenaar" in page, path
        assert "Landelijk Gebied." in page, path


def test_an_inactive_accountmanager_is_no_fallback(app: Flask, client):
    landelijk_gebied_without_anyone(app)
    with db_session(app) as session:
        ingrid = session.scalars(select(User).where(User.email.like("ingrid%"))).one()
        session.execute(user_wijken.insert().values(user_id=ingrid.id, wijk_code=LANDELIJK))
        ingrid.active = False
        session.commit()
    assert owner_of(app, landelijk_signal(client)) == EVA
