"""Sharing a signal with wijkteam partners ("Delen met partner"), through HTTP and the real
domain operations, on SQLite and PostgreSQL, with mail read back from a real SMTP server.

Covers: the register of partners (admin only), what the form offers and says about consent,
the server refusing contact details without consent whatever is posted, the mail holding
only the chosen parts (the resident's name, e-mail address and phone number only with consent
and when chosen), each share on the timeline and in the audit log, the partner's one-time
link (answer once, expiry after the configured days, revocation, wrong token: 404), the
shared photos behind the link, and who may share."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from portal.domain import partners
from portal.domain.casework import Actor, CaseworkError
from portal.domain.partners import ShareRequest, save_partner
from portal.domain.working_days import local_date
from portal.models import AuditRecord, Partner, PartnerShare, Signal
from tests.conftest import csrf_token
from tests.factories import ADMIN, ANNA, MANAGEMENT, db_session, intake_settings, login, user_id
from tests.test_backoffice_access import signal_with_photo
from tests.test_backoffice_signal import logged_in, page_url, plain, post_action, rich, visible
from tests.test_escalations import (
    PERSONAL,
    RESIDENT_EMAIL,
    RESIDENT_NAME,
    RESIDENT_PHONE,
    assert_no_personal_data,
    link_in,
    mails_to,
    post_to,
    resident_signal,
    signal_of,
)

VERSA = "m.jansen@versawelzijn.example"
DUDOK = "e.dewit@dudokwonen.example"
PURPOSE = "Kunt u een buurtgesprek organiseren met de bewoners rond het veld?"
ANSWER = "Wij nemen contact op en plannen een gesprek in het buurthuis."
CONTACT_OPTION = "Naam, e-mailadres en telefoonnummer van de melder"


def add_partner(
    app: Flask,
    organisation: str = "Versa Welzijn",
    email: str = VERSA,
    wijken: tuple[str, ...] = (),
    active: bool = True,
) -> int:
    with db_session(app) as session:
        partner = save_partner(
            session,
            None,
            organisation=organisation,
            contact_name="Marieke Jansen",
            email=email,
            wijk_codes=list(wijken),
            active=active,
            actor_id=user_id(app, ADMIN),
        )
        session.commit()
        return partner.id


def share(client, app: Flask, reference: str, partner_ids, shared, purpose: str = PURPOSE):  # type: ignore[no-untyped-def]
    return post_to(
        client,
        app,
        reference,
        "delen",
        {"partners": [str(i) for i in partner_ids], "purpose": purpose, "shared": list(shared)},
    )


def share_at(app: Flask, reference: str, partner_id: int, *, now: datetime, link_days: int) -> None:
    with db_session(app) as session:
        signal = signal_of(session, reference)
        partners.share(
            session,
            signal,
            ShareRequest([partner_id], PURPOSE, ["description"]),
            seen_version=signal.version,
            actor=Actor(user_id(app, ANNA), now),
            mail=intake_settings(app).mail,
            link_days=link_days,
        )
        session.commit()


# --- the register --------------------------------------------------------------------------


def test_an_admin_keeps_the_register_of_partners(app: Flask, smtp) -> None:
    client = login(app.test_client(), ADMIN)
    token = csrf_token(client, "/backoffice/beheer/partners/nieuw")
    refused = client.post(
        "/backoffice/beheer/partners/nieuw",
        data={"csrf_token": token, "organisation": "Dudok Wonen", "wijken": ["WK040299"]},
    )
    assert refused.status_code == 422
    page = visible(refused.get_data(as_text=True))
    assert "Vul de naam van de contactpersoon in." in page and "Vul het e-mailadres in." in page

    unknown_wijk = client.post(
        "/backoffice/beheer/partners/nieuw",
        data={
            "csrf_token": token,
            "organisation": "Dudok Wonen",
            "contact_name": "Ellen de Wit",
            "email": DUDOK,
            "wijken": ["WK040299"],
            "active": "y",
        },
    )
    assert unknown_wijk.status_code == 422
    assert "Kies wijken uit de lijst." in visible(unknown_wijk.get_data(as_text=True))

    created = client.post(
        "/backoffice/beheer/partners/nieuw",
        data={
            "csrf_token": token,
            "organisation": "Dudok Wonen",
            "contact_name": "Ellen de Wit",
            "email": DUDOK,
            "wijken": ["WK040203", "WK040206"],
            "active": "y",
        },
    )
    assert created.status_code == 303
    listing = visible(client.get("/backoffice/beheer/partners").get_data(as_text=True))
    assert "Dudok Wonen Ellen de Wit e.dewit@dudokwonen.example Zuidwest, Oost Ja" in listing
    with db_session(app) as session:
        partner = session.scalars(select(Partner)).one()
        assert [w.code for w in partner.wijken] == ["WK040203", "WK040206"]
    edit = f"/backoffice/beheer/partners/{partner.id}"
    response = client.post(
        edit,
        data={
            "csrf_token": token,
            "organisation": "Dudok Wonen",
            "contact_name": "Ellen de Wit",
            "email": DUDOK,
            "wijken": ["WK040203"],
        },
    )
    assert response.status_code == 303
    with db_session(app) as session:
        partner = session.scalars(select(Partner)).one()
        assert (partner.active, [w.code for w in partner.wijken]) == (False, ["WK040203"])
        assert session.scalars(
            select(AuditRecord).where(AuditRecord.action == "partner.updated")
        ).one()
    for email in (ANNA, MANAGEMENT):
        assert logged_in(app, email).get("/backoffice/beheer/partners").status_code == 403


# --- the form and consent ------------------------------------------------------------------


def test_without_consent_the_form_says_so_and_offers_no_contact_details(app: Flask, smtp) -> None:
    add_partner(app, wijken=("WK040203",))
    add_partner(app, "Het Gooi en Omstreken", "t.bakker@gooienomstreken.example", ("WK040201",))
    reference = resident_signal(app)  # may_share_with_partners is False
    page = logged_in(app, ANNA).get(page_url(reference)).get_data(as_text=True)
    text = visible(page)
    assert "De melder heeft geen toestemming gegeven om naam, e-mailadres en telefoonnummer" in text
    assert CONTACT_OPTION not in text
    assert 'value="contact"' not in page
    # The partner of this wijk comes first and says so.
    assert text.index("Versa Welzijn") < text.index("Het Gooi en Omstreken")
    assert "Werkt in deze wijk" in text


def test_contact_details_are_refused_without_consent_whatever_is_posted(app: Flask, smtp) -> None:
    partner_id = add_partner(app)
    reference = resident_signal(app)
    anna = logged_in(app, ANNA)
    response = share(anna, app, reference, [partner_id], ["description", "contact"])
    assert response.status_code == 422
    assert "De melder heeft geen toestemming gegeven" in visible(response.get_data(as_text=True))
    assert PURPOSE in response.get_data(as_text=True)  # what was typed comes back
    with db_session(app) as session:
        assert session.scalars(select(PartnerShare)).all() == []
        signal = signal_of(session, reference)
        with pytest.raises(CaseworkError) as refused:  # the domain itself, without the form
            partners.check_share(session, signal, ShareRequest([partner_id], PURPOSE, ["contact"]))
        assert refused.value.code == "no_consent"
    assert smtp.to(VERSA) == []


def test_a_share_needs_a_partner_a_purpose_and_something_to_share(app: Flask, smtp) -> None:
    partner_id = add_partner(app)
    gone = add_partner(app, "Oude Partner", "oud@partner.example", active=False)
    reference = resident_signal(app)
    anna = logged_in(app, ANNA)
    cases = [
        (([], ["description"], PURPOSE), "Kies minstens één partner."),
        (([gone], ["description"], PURPOSE), "Kies een partner uit de lijst."),
        (([partner_id], ["description"], " "), "Schrijf waarom u de melding deelt."),
        (([partner_id], ["description"], "x" * 1001), "Dit is te lang"),
        (([partner_id], [], PURPOSE), "Kies wat u deelt."),
        (([partner_id], ["password"], PURPOSE), "Kies uit de lijst wat u deelt."),
    ]
    for (ids, shared, purpose), message in cases:
        response = share(anna, app, reference, ids, shared, purpose)
        assert response.status_code == 422, message
        assert message in visible(response.get_data(as_text=True)), message
    with db_session(app) as session:
        assert session.scalars(select(PartnerShare)).all() == []


# --- what the partner receives -------------------------------------------------------------


def test_the_partner_gets_only_what_was_chosen_and_no_personal_data(app: Flask, smtp) -> None:
    partner_id = add_partner(app)
    reference = resident_signal(app, may_share=True)  # consent, but contact not chosen
    anna = logged_in(app, ANNA)
    public = "Wij hebben de afdeling gevraagd het veld te bekijken."
    assert post_action(anna, app, reference, "reply", {"message": public}).status_code == 303
    response = share(anna, app, reference, [partner_id], ["description"])
    assert response.status_code == 303, visible(response.get_data(as_text=True))[:600]

    [message] = mails_to(smtp, VERSA)
    assert (
        str(message["Subject"]) == f"Bureau Wijkzaken deelt melding {reference} met Versa Welzijn"
    )
    text = plain(message)
    assert "Beste Marieke Jansen," in text and PURPOSE in text
    assert "Het veld achter de school ligt al maanden vol afval." in text
    assert "Wijk: Zuidwest" in text and f"Meldnummer: {reference}" in text
    assert public not in text and public not in rich(message)  # the timeline was not chosen
    assert "Adres:" not in text
    assert_no_personal_data(message)
    link_in(message)


def test_with_consent_and_chosen_the_contact_details_go_along(app: Flask, smtp) -> None:
    partner_id = add_partner(app)
    reference = resident_signal(app, may_share=True)
    anna = logged_in(app, ANNA)
    page = visible(anna.get(page_url(reference)).get_data(as_text=True))
    assert "De melder heeft toestemming gegeven om naam, e-mailadres en telefoonnummer" in page
    assert CONTACT_OPTION in page
    response = share(anna, app, reference, [partner_id], ["description", "timeline", "contact"])
    assert response.status_code == 303

    [message] = mails_to(smtp, VERSA)
    for part in (plain(message), rich(message)):
        assert RESIDENT_NAME in part and RESIDENT_EMAIL in part and RESIDENT_PHONE in part
    assert "Groet, Jan Jansen" in plain(message)  # nothing cut out: they may know
    path = link_in(message)
    shown = visible(app.test_client().get(path).get_data(as_text=True))
    assert RESIDENT_NAME in shown and RESIDENT_PHONE in shown
    assert "Contactgegevens van de melder" in shown


def test_each_share_is_recorded_on_the_timeline_and_in_the_audit_log(app: Flask, smtp) -> None:
    versa = add_partner(app)
    dudok = add_partner(app, "Dudok Wonen", DUDOK)
    reference = resident_signal(app)
    anna = logged_in(app, ANNA)
    response = share(anna, app, reference, [versa, dudok, versa], ["description", "timeline"])
    assert response.status_code == 303
    done = visible(anna.get(page_url(reference)).get_data(as_text=True))
    assert "De melding is gedeeld met Versa Welzijn, Dudok Wonen." in done

    smtp.wait_for(2)
    [to_versa], [to_dudok] = smtp.to(VERSA), smtp.to(DUDOK)
    assert link_in(to_versa) != link_in(to_dudok)  # each its own link
    with db_session(app) as session:
        signal = signal_of(session, reference)
        shares = session.scalars(select(PartnerShare).order_by(PartnerShare.id)).all()
        assert [s.partner_id for s in shares] == [versa, dudok]
        assert all(s.fields == ["description", "timeline"] for s in shares)
        assert all(s.created_by_id == user_id(app, ANNA) for s in shares)
        steps = [e for e in signal.events if e.kind == "partner_shared"]
        assert [(e.message, e.is_public, e.author_id) for e in steps] == [
            (PURPOSE, False, user_id(app, ANNA))
        ] * 2
        records = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "signal.shared_with_partner")
            .order_by(AuditRecord.id)
        ).all()
        assert [
            (r.details["partner_id"], r.details["fields"], r.details["purpose"]) for r in records
        ] == [
            (versa, ["description", "timeline"], PURPOSE),
            (dudok, ["description", "timeline"], PURPOSE),
        ]
        assert all(r.actor_id == user_id(app, ANNA) for r in records)
        token = link_in(to_versa).rsplit("/", 1)[1]
        assert shares[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    page = visible(anna.get(page_url(reference)).get_data(as_text=True))
    assert "Gedeeld door Anna de Vries" in page
    assert "De beschrijving: titel en tekst van de melder; De openbare tijdlijn" in page


# --- the partner's link --------------------------------------------------------------------


def test_the_partner_answers_once_and_the_owner_hears_of_it(app: Flask, smtp) -> None:
    partner_id = add_partner(app)
    reference = resident_signal(app)
    anna = logged_in(app, ANNA)
    assert share(anna, app, reference, [partner_id], ["description"]).status_code == 303
    path = link_in(mails_to(smtp, VERSA)[0])
    outsider = app.test_client()
    page = outsider.get(path)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    shown = visible(page.get_data(as_text=True))
    assert PURPOSE in shown and "Het veld achter de school" in shown
    for value in PERSONAL:
        assert value not in shown
    token = csrf_token(outsider, path)
    assert outsider.post(path, data={"csrf_token": token, "answer": ""}).status_code == 422
    answered = outsider.post(path, data={"csrf_token": token, "answer": ANSWER})
    assert answered.status_code == 303
    used = outsider.get(path)
    assert used.status_code == 404
    assert "Deze vraag is al beantwoord" in visible(used.get_data(as_text=True))
    assert outsider.post(path, data={"csrf_token": token, "answer": "Nog iets"}).status_code == 404

    [owner_mail] = [m for m in smtp.to(ANNA) if "Reactie van" in str(m["Subject"])]
    assert str(owner_mail["Subject"]) == f"Reactie van Versa Welzijn op melding {reference}"
    assert ANSWER in plain(owner_mail)
    with db_session(app) as session:
        signal = signal_of(session, reference)
        answers = [e for e in signal.events if e.kind == "partner_answered"]
        assert [(e.message, e.is_public, e.author_id) for e in answers] == [(ANSWER, False, None)]
    assert ANSWER in visible(anna.get(page_url(reference)).get_data(as_text=True))


def test_the_link_expires_after_the_configured_days(app: Flask, smtp) -> None:
    partner_id = add_partner(app)
    reference = resident_signal(app)
    shared = datetime.now(UTC) - timedelta(days=15)
    share_at(app, reference, partner_id, now=shared, link_days=14)
    share_at(app, reference, partner_id, now=shared, link_days=30)
    smtp.wait_for(2)
    expired, longer = (link_in(m) for m in smtp.to(VERSA))
    client = app.test_client()
    assert client.get(expired).status_code == 404
    assert "Deze link werkt niet (meer)" in visible(client.get(expired).get_data(as_text=True))
    assert client.get(longer).status_code == 200
    assert app.config["PARTNER_LINK_DAYS"] == 14


def test_the_configured_days_reach_the_link(app_config, smtp) -> None:  # type: ignore[no-untyped-def]
    from portal import create_app

    app = create_app({**app_config, "PARTNER_LINK_DAYS": 3})
    partner_id = add_partner(app)
    reference = resident_signal(app)
    assert (
        share(logged_in(app, ANNA), app, reference, [partner_id], ["description"]).status_code
        == 303
    )
    with db_session(app) as session:
        item = session.scalars(select(PartnerShare)).one()
        assert partners.last_link_day(item) - local_date(item.created_at) == timedelta(days=3)
    assert "tot en met" in plain(mails_to(smtp, VERSA)[0])


def test_a_revoked_share_opens_nothing(app: Flask, smtp) -> None:
    partner_id = add_partner(app)
    reference, photo_id = signal_with_photo(app)
    anna = logged_in(app, ANNA)
    assert share(anna, app, reference, [partner_id], ["description", "photos"]).status_code == 303
    path = link_in(mails_to(smtp, VERSA)[0])
    client = app.test_client()
    page = client.get(path).get_data(as_text=True)
    photo = f"{path}/foto/{photo_id}"
    assert f'src="{photo}"' in page
    served = client.get(photo)
    assert served.status_code == 200 and served.mimetype.startswith("image/")
    assert "no-store" in served.headers["Cache-Control"]

    with db_session(app) as session:
        share_id = session.scalars(select(PartnerShare.id)).one()
    revoke = f"delen/{share_id}/intrekken"
    assert post_to(anna, app, reference, revoke, {}).status_code == 303
    assert client.get(path).status_code == 404
    assert client.get(photo).status_code == 404
    assert (
        client.post(
            path, data={"csrf_token": csrf_token(client, "/melden"), "answer": "x"}
        ).status_code
        == 404
    )
    again = post_to(anna, app, reference, revoke, {})
    assert again.status_code == 422
    assert "Dit delen is al beëindigd" in visible(again.get_data(as_text=True))

    with db_session(app) as session:
        item = session.get(PartnerShare, share_id)
        assert item is not None and item.revoked_at is not None
        assert partners.state_of(item, datetime.now(UTC)) == partners.REVOKED
        steps = [e.kind for e in signal_of(session, reference).events]
        assert steps.count("partner_share_revoked") == 1
        assert session.scalars(
            select(AuditRecord).where(AuditRecord.action == "signal.partner_share_revoked")
        ).one().actor_id == user_id(app, ANNA)
    assert "Ingetrokken" in visible(anna.get(page_url(reference)).get_data(as_text=True))


def test_photos_stay_behind_the_link_unless_shared(app: Flask, smtp) -> None:
    partner_id = add_partner(app)
    reference, photo_id = signal_with_photo(app)
    anna = logged_in(app, ANNA)
    assert share(anna, app, reference, [partner_id], ["description"]).status_code == 303
    path = link_in(mails_to(smtp, VERSA)[0])
    client = app.test_client()
    assert "/foto/" not in client.get(path).get_data(as_text=True)
    assert client.get(f"{path}/foto/{photo_id}").status_code == 404
    assert client.get(f"/antwoord/partner/verkeerd/foto/{photo_id}").status_code == 404


def test_a_wrong_partner_token_finds_nothing(app: Flask, smtp) -> None:
    client = app.test_client()
    for path in ("/antwoord/partner/niet-echt", "/antwoord/partner/" + "b" * 43):
        response = client.get(path)
        assert response.status_code == 404
        assert "Deze link werkt niet (meer)" in visible(response.get_data(as_text=True))


def test_management_cannot_share_or_revoke(app: Flask, smtp) -> None:
    partner_id = add_partner(app)
    reference = resident_signal(app)
    assert (
        share(logged_in(app, ANNA), app, reference, [partner_id], ["description"]).status_code
        == 303
    )
    with db_session(app) as session:
        share_id = session.scalars(select(PartnerShare.id)).one()
    management = logged_in(app, MANAGEMENT)
    assert "Deel met partner" not in management.get(page_url(reference)).get_data(as_text=True)
    assert share(management, app, reference, [partner_id], ["description"]).status_code == 403
    assert post_to(management, app, reference, f"delen/{share_id}/intrekken", {}).status_code == 403
    with db_session(app) as session:
        assert len(session.scalars(select(PartnerShare)).all()) == 1
        assert session.scalars(select(PartnerShare.revoked_at)).one() is None
    # Another signal's page cannot revoke it.
    other = resident_signal(app)
    anna = logged_in(app, ANNA)
    assert post_to(anna, app, other, f"delen/{share_id}/intrekken", {}).status_code == 404
    with db_session(app) as session:
        assert session.scalars(select(Signal.id)).all()
