"""Finding 4 of the security review: an accountmanager took a colleague's signal, read the
resident's email and phone, and gave it back, and only an audit row knew. Now the previous
owner is mailed, the timeline says who took it, and the owner sees every look at the
contact details by someone who was not the owner at that moment."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from portal.models import Signal
from tests.factories import ADMIN, ANNA, SANNE, SINT_VITUSBUURT, db_session, make_signal, user_id
from tests.test_backoffice_signal import logged_in, page_url, plain, post_action, visible

PHONE = "06-12345678"


def test_taking_a_signal_over_and_back_is_visible_to_its_owner(app: Flask, smtp) -> None:
    # A Centrum signal: Sanne Bakker owns it.
    reference, _token = make_signal(app, buurt=SINT_VITUSBUURT, phone=PHONE)
    smtp.wait_for(2)
    before = len(smtp.messages)
    anna = logged_in(app, ANNA)
    taken = post_action(
        anna,
        app,
        reference,
        "reassign",
        {"owner": str(user_id(app, ANNA)), "reason": "Ik neem hem even over."},
    )
    assert taken.status_code == 303
    page = visible(anna.get(page_url(reference)).get_data(as_text=True))
    assert "Sanne Bakker krijgt een e-mail." in page  # not "Anna ...": she did it herself
    assert PHONE in page  # now the owner, Anna sees the details (and that look is recorded)

    # Sanne hears of it at once; Anna is not mailed about what she did herself.
    mails = smtp.wait_for(before + 1)[before:]
    [to_sanne] = [m for m in mails if SANNE in str(m["To"])]
    assert "overgenomen door Anna de Vries" in str(to_sanne["Subject"])
    assert "Ik neem hem even over." in plain(to_sanne)
    assert "Dit is gedaan door" not in plain(to_sanne)  # the taker says it in the subject
    assert not [m for m in mails if ANNA in str(m["To"])]

    given_back = post_action(
        anna,
        app,
        reference,
        "reassign",
        {"owner": str(user_id(app, SANNE)), "reason": "Toch niet."},
    )
    assert given_back.status_code == 303

    sanne_page = visible(logged_in(app, SANNE).get(page_url(reference)).get_data(as_text=True))
    assert "Anna de Vries heeft de melding overgenomen" in sanne_page
    # Taking it is a takeover; giving it back is an ordinary reassignment.
    assert event_kinds(app, reference) == ["created", "taken_over", "reassigned"]
    # Anna looked while she was the owner, and Sanne's own looks are hers: nothing to list.
    assert "Ingezien door anderen dan de eigenaar" not in sanne_page


def test_someone_else_moving_your_signal_is_named_in_the_mail(app: Flask, smtp) -> None:
    reference, _token = make_signal(app, buurt=SINT_VITUSBUURT)
    before = len(smtp.wait_for(2))
    admin = logged_in(app, ADMIN)
    moved = post_action(
        admin, app, reference, "reassign", {"owner": str(user_id(app, ANNA)), "reason": "Drukte."}
    )
    assert moved.status_code == 303
    assert event_kinds(app, reference) == ["created", "reassigned"]  # not the admin's own
    mails = smtp.wait_for(before + 2)[before:]
    [to_sanne] = [m for m in mails if SANNE in str(m["To"])]
    assert "Dit is gedaan door Beheerder Wijkzaken." in plain(to_sanne)
    assert [m for m in mails if ANNA in str(m["To"])]  # the new owner is told, as before


def event_kinds(app: Flask, reference: str) -> list[str]:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        return [event.kind for event in signal.events]


def test_a_look_by_someone_other_than_the_owner_is_listed(app: Flask, smtp) -> None:
    reference, _token = make_signal(app, buurt=SINT_VITUSBUURT, phone=PHONE)
    other, _ = make_signal(app, buurt=SINT_VITUSBUURT, phone=PHONE, title="Een andere melding")
    admin = logged_in(app, ADMIN)
    admin.get(page_url(other))
    untouched = visible(logged_in(app, SANNE).get(page_url(reference)).get_data(as_text=True))
    assert "Ingezien door anderen" not in untouched  # a look at another signal is not this one's
    admin_page = visible(admin.get(page_url(reference)).get_data(as_text=True))
    assert PHONE in admin_page
    sanne_page = visible(logged_in(app, SANNE).get(page_url(reference)).get_data(as_text=True))
    assert "Ingezien door anderen dan de eigenaar" in sanne_page
    assert "Beheerder Wijkzaken (eigenaar was Sanne Bakker)" in sanne_page
    # Someone who may not see the details does not see who looked either.
    anna_page = visible(logged_in(app, ANNA).get(page_url(reference)).get_data(as_text=True))
    assert PHONE not in anna_page
    assert "Ingezien door anderen" not in anna_page
