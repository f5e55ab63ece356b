"""Finding 4 of the security review: an accountmanager took a colleague's signal, read the
resident's email and phone, and gave it back, and only an audit row knew. Now the previous
owner is mailed, the timeline says who took it, and the owner sees every look at the
contact details by someone who was not the owner at that moment."""

from __future__ import annotations

from flask import Flask

from tests.factories import ANNA, SANNE, SINT_VITUSBUURT, make_signal, user_id
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

    # Sanne hears of it at once.
    mails = smtp.wait_for(before + 1)[before:]
    [to_sanne] = [m for m in mails if SANNE in str(m["To"])]
    assert "overgenomen door Anna de Vries" in str(to_sanne["Subject"])
    assert "Ik neem hem even over." in plain(to_sanne)

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
    # Anna looked while she was the owner, and Sanne's own looks are hers: nothing to list.
    assert "Ingezien door anderen dan de eigenaar" not in sanne_page


def test_a_look_by_someone_other_than_the_owner_is_listed(app: Flask, smtp) -> None:
    from tests.factories import ADMIN

    reference, _token = make_signal(app, buurt=SINT_VITUSBUURT, phone=PHONE)
    admin_page = visible(logged_in(app, ADMIN).get(page_url(reference)).get_data(as_text=True))
    assert PHONE in admin_page
    sanne_page = visible(logged_in(app, SANNE).get(page_url(reference)).get_data(as_text=True))
    assert "Ingezien door anderen dan de eigenaar" in sanne_page
    assert "Beheerder Wijkzaken (eigenaar was Sanne Bakker)" in sanne_page
    # Someone who may not see the details does not see who looked either.
    anna_page = visible(logged_in(app, ANNA).get(page_url(reference)).get_data(as_text=True))
    assert PHONE not in anna_page
    assert "Ingezien door anderen" not in anna_page
