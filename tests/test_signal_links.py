"""Linking signals as related and marking one as a duplicate of another
(portal/domain/dossiers/links.py and link_views.py, portal/backoffice/signal_links.py,
portal/public/duplicate_views.py), on SQLite and PostgreSQL, with mail read back from a real
SMTP server (aiosmtpd).

Covers: one row per pair, both timelines and audit records; every refusal; a sensitive
signal the user may not open answered exactly as one that does not exist; the duplicate
declined through the one status operation (the resident's mail with a working status link,
the followers' mail); the resident's status page pointing at the other signal's public face
only (never its description, reporter or photos), or at nothing when it is not public;
following it from there; and who may do what in the back office."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.domain import following
from portal.domain.casework import (
    Actor,
    CaseworkError,
    StaleSignal,
    change_status,
    public_reply,
)
from portal.domain.dossiers import link_views, links
from portal.models import AuditRecord, Signal, SignalEvent, SignalFollower, SignalLink
from portal.vocabulary import Kind, Status, Theme
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    MANAGEMENT,
    SANNE,
    SINT_VITUSBUURT,
    db_session,
    intake_settings,
    make_signal,
    user_id,
)
from tests.fixtures.mailserver import SMTPServer
from tests.test_backoffice_access import is_login_redirect
from tests.test_backoffice_signal import logged_in, page_url, plain, token_for, version_of, visible
from tests.test_following import mails_to, text_of
from tests.test_translations import CATALOGUE

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
GHOST = "HLV-2026-999999"
RESIDENT = "bewoner@example.nl"  # make_signal's reporter
FIRST = "eerste.melder@example.nl"
FOLLOWER = "buurman@example.nl"
STATUS_URL = re.compile(r"http://portal\.test(/status/[A-Za-z0-9_-]+)")
ORIGINAL_TITLE = "Kapotte lantaarnpaal bij basisschool De Regenboog"
ORIGINAL_TEXT = (
    "Sinds vrijdag brandt de lantaarnpaal voor nummer 14 niet meer; het is er pikdonker."
)
STAFF_TEXT = "Wij hebben de lantaarnpaal doorgegeven aan de afdeling Openbare Verlichting."


# --- helpers --------------------------------------------------------------------------------


def signal_of(session, reference: str) -> Signal:  # type: ignore[no-untyped-def]
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def two_signals(app: Flask, **original: object) -> tuple[tuple[str, str], tuple[str, str]]:
    """An earlier signal by another resident (without a public title) and a later one about
    the same; each (reference, status token)."""
    first = make_signal(
        app,
        themes=(Theme.HEEL,),
        title=ORIGINAL_TITLE,
        description=ORIGINAL_TEXT,
        email=FIRST,
        name="Petra Pieters",
        phone="06 11112222",
        **original,  # type: ignore[arg-type]
    )
    second = make_signal(app, themes=(Theme.HEEL,), title="Lamp stuk")
    with db_session(app) as session:
        # The title typed on the form is shown to neighbours; staff took this one away (it
        # named a school), so other residents read "<theme> in <buurt>".
        signal_of(session, first[0]).public_title = None
        session.commit()
    return first, second


def actor(app: Flask, email: str = ANNA) -> Actor:
    return Actor(user_id(app, email), NOW)


def mark_sensitive(app: Flask, reference: str) -> None:
    from tests.test_sensitive_signals import mark

    mark(app, reference)  # by Anna, the owner of Kerkelanden signals


def link_rows(app: Flask) -> list[tuple[int, int, str]]:
    with db_session(app) as session:
        return [
            (link.signal_id, link.other_id, link.kind)
            for link in session.scalars(select(SignalLink).order_by(SignalLink.id))
        ]


def kinds(session, signal: Signal) -> list[tuple[str, bool]]:  # type: ignore[no-untyped-def]
    events = session.scalars(
        select(SignalEvent).where(SignalEvent.signal_id == signal.id).order_by(SignalEvent.id)
    )
    return [(e.kind, e.is_public) for e in events]


def audits(session, action: str) -> list[AuditRecord]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
        )
    )


def mark_duplicate(app: Flask, duplicate: str, original: str, message: str | None = None):  # type: ignore[no-untyped-def]
    with db_session(app) as session:
        signal = signal_of(session, duplicate)
        other = links.find_other(session, signal, original, actor(app))
        links.mark_duplicate(
            session,
            signal,
            other,
            message=message,
            seen_version=signal.version,
            actor=actor(app),
            mail=intake_settings(app).mail,
        )
        session.commit()


def refusal(app: Flask, operation, reference: str, typed: str, by: str = ANNA) -> str:  # type: ignore[no-untyped-def]
    """The code an operation on ``reference`` with the typed other reference is refused with."""
    with db_session(app) as session:
        signal = signal_of(session, reference)
        with pytest.raises(CaseworkError) as raised:
            other = links.find_other(session, signal, typed, actor(app, by))
            operation(session, signal, other, actor(app, by))
        session.rollback()
        return raised.value.code


def relate_op(session, signal, other, who):  # type: ignore[no-untyped-def]
    links.relate(session, signal, other, reason=None, seen_version=signal.version, actor=who)


def duplicate_op(app: Flask):  # type: ignore[no-untyped-def]
    def operation(session, signal, other, who):  # type: ignore[no-untyped-def]
        links.mark_duplicate(
            session,
            signal,
            other,
            message=None,
            seen_version=signal.version,
            actor=who,
            mail=intake_settings(app).mail,
        )

    return operation


def close(app: Flask, reference: str, status: str = "resolved") -> None:
    with db_session(app) as session:
        signal = signal_of(session, reference)
        change_status(
            session,
            signal,
            status,
            message="Afgehandeld.",
            seen_version=signal.version,
            actor=actor(app),
            mail=intake_settings(app).mail,
        )
        session.commit()


# --- related --------------------------------------------------------------------------------


def test_a_related_pair_is_one_row_with_a_step_and_an_audit_record_on_both(app: Flask) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    with db_session(app) as session:
        signal = signal_of(session, second)  # the higher id relates to the lower
        # Typed as people type it from a letter.
        other = links.find_other(session, signal, first.lower().replace("-", " "), actor(app))
        links.relate(
            session,
            signal,
            other,
            reason="Zelfde straat, samen oppakken.",
            seen_version=signal.version,
            actor=actor(app),
        )
        session.commit()
    with db_session(app) as session:
        low, high = signal_of(session, first), signal_of(session, second)
        assert link_rows(app) == [(low.id, high.id, "related")]
        for here, there in ((low, high), (high, low)):
            assert kinds(session, here)[-1] == ("linked", False)
            assert here.events[-1].message == f"{there.reference}\n\nZelfde straat, samen oppakken."
            assert [(r.role, r.other.reference) for r in link_views.links_of(session, here)] == [
                ("related", there.reference)
            ]
        records = audits(session, "signal.linked")
        assert sorted(r.signal_id for r in records) == sorted([low.id, high.id])
        assert {r.details["reason"] for r in records} == {"Zelfde straat, samen oppakken."}


def test_relating_is_refused_for_itself_an_unknown_reference_and_a_linked_pair(
    app: Flask,
) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    assert refusal(app, relate_op, second, second) == "same_signal"
    assert refusal(app, relate_op, second, GHOST) == "unknown_reference"
    assert refusal(app, relate_op, second, "geen nummer") == "unknown_reference"
    assert refusal(app, relate_op, second, "  ") == "reference_required"
    with db_session(app) as session:
        signal = signal_of(session, second)
        with pytest.raises(CaseworkError) as too_long:
            links.relate(
                session,
                signal,
                signal_of(session, first),
                reason="x" * (links.REASON_MAX + 1),
                seen_version=signal.version,
                actor=actor(app),
            )
        assert too_long.value.code == "reason_too_long"
        session.rollback()
        signal = signal_of(session, second)
        with pytest.raises(StaleSignal):
            links.relate(
                session,
                signal,
                signal_of(session, first),
                reason=None,
                seen_version=signal.version - 1,
                actor=actor(app),
            )
        session.rollback()
    with db_session(app) as session:
        relate_op(session, signal_of(session, second), signal_of(session, first), actor(app))
        session.commit()
    # Either way round, and as a duplicate too: one link per pair.
    assert refusal(app, relate_op, first, second) == "already_linked"
    assert refusal(app, relate_op, second, first) == "already_linked"
    assert len(link_rows(app)) == 1


def test_unrelating_removes_the_link_with_a_step_on_both(app: Flask) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    third, _t3 = make_signal(app, title="Iets anders")
    with db_session(app) as session:
        relate_op(session, signal_of(session, second), signal_of(session, first), actor(app))
        session.commit()
        link_id = session.scalars(select(SignalLink.id)).one()
    with db_session(app) as session:
        stranger = signal_of(session, third)
        with pytest.raises(CaseworkError) as raised:
            links.unrelate(
                session, stranger, link_id, seen_version=stranger.version, actor=actor(app)
            )
        assert raised.value.code == "unknown_link"
        signal = signal_of(session, first)
        other = links.unrelate(
            session, signal, link_id, seen_version=signal.version, actor=actor(app)
        )
        assert other.reference == second
        session.commit()
    assert link_rows(app) == []
    with db_session(app) as session:
        for reference in (first, second):
            assert kinds(session, signal_of(session, reference))[-1] == ("unlinked", False)
        assert len(audits(session, "signal.unlinked")) == 2


# --- duplicates in the domain ---------------------------------------------------------------


def test_a_duplicate_is_declined_with_our_sentence_and_the_staff_text(app: Flask) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    mark_duplicate(app, second, first, STAFF_TEXT)
    with db_session(app) as session:
        duplicate, original = signal_of(session, second), signal_of(session, first)
        assert duplicate.status == "declined" and original.status == "received"
        assert link_rows(app) == [(duplicate.id, original.id, "duplicate")]
        step = duplicate.events[-1]
        assert (step.kind, step.is_public, step.to_status) == ("status_changed", True, "declined")
        assert step.message == f"{links.NOTICE_FOLLOW}\n\n{STAFF_TEXT}"
        # The original hears of it on its staff timeline, with the duplicate's reference.
        assert kinds(session, original)[-1] == ("duplicate_received", False)
        assert original.events[-1].message == second
        assert link_views.original_of(session, duplicate).id == original.id  # type: ignore[union-attr]
        assert [r.role for r in link_views.links_of(session, original)] == ["repeated_by"]
        assert [r.role for r in link_views.links_of(session, duplicate)] == ["duplicate_of"]
        (marked,) = audits(session, "signal.marked_duplicate")
        assert (marked.signal_id, marked.details["original_id"]) == (duplicate.id, original.id)
        assert marked.details["status_event_id"] == step.id  # until the next status change
        (received,) = audits(session, "signal.duplicate_received")
        assert (received.signal_id, received.details["duplicate_id"]) == (original.id, duplicate.id)
        changed = [
            r for r in audits(session, "signal.status_changed") if r.signal_id == duplicate.id
        ]
        assert changed[-1].details["to_status"] == "declined"


def test_the_sentence_depends_on_the_original_and_is_in_the_residents_language(
    app: Flask,
) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    with db_session(app) as session:
        duplicate, original = signal_of(session, second), signal_of(session, first)
        assert links.resident_notice("nl", original) == links.NOTICE_FOLLOW
        original.status = "resolved"
        assert links.resident_notice("nl", original) == links.NOTICE_CLOSED
        original.sensitive = True
        assert links.resident_notice("nl", original) == links.NOTICE_PRIVATE
        original.sensitive, original.kind, original.status = False, "initiatief", "received"
        assert links.resident_notice("nl", original) == links.NOTICE_PRIVATE  # not on the wijk page
        original.public_display = True
        assert links.resident_notice("nl", original) == links.NOTICE_FOLLOW
        # Our sentence as the resident reads it, then the staff member's text.
        assert links.duplicate_message(duplicate, original, " Extra. ") == (
            "Een andere bewoner heeft hetzelfde al bij ons gemeld. Wij behandelen het verder "
            "bij die melding, en daarom niet apart bij de uwe. Op uw statuspagina ziet u hoe "
            "het met die melding staat. Daar kunt u haar ook volgen: dan hoort u het als er "
            "iets verandert.\n\nExtra."
        )
        original.status = "resolved"
        assert links.duplicate_message(duplicate, original, None) == (
            "Een andere bewoner heeft hetzelfde al bij ons gemeld. Die melding is al "
            "afgesloten. Op uw statuspagina ziet u hoe het ermee staat. Is het probleem er "
            "nog, of is het terug? Doe dan een nieuwe melding."
        )
        original.sensitive = True
        assert links.duplicate_message(duplicate, original, "  ") == (
            "Wat u meldt, is al eerder bij ons gemeld. Wij behandelen uw melding samen met die "
            "eerdere melding, en daarom niet apart."
        )
        session.rollback()


# What an English-speaking resident reads: proposed for translations/en/LC_MESSAGES/messages.po.
ENGLISH_NOTICES = {
    links.NOTICE_FOLLOW: (
        "Another resident has already reported the same thing to us. We are dealing with it "
        "under that report, so not separately under yours. Your status page shows how that "
        "report is doing. You can also follow it there: then you will hear from us when "
        "something changes."
    ),
    links.NOTICE_CLOSED: (
        "Another resident has already reported the same thing to us. That report has already "
        "been closed. Your status page shows how it stands. Is the problem still there, or has "
        "it come back? Then please make a new report."
    ),
    links.NOTICE_PRIVATE: (
        "What you report has already been reported to us before. We are dealing with your "
        "report together with that earlier report, so not separately."
    ),
}


def test_an_english_resident_gets_the_notices_from_the_english_catalogue(app: Flask) -> None:
    """Tied to the catalogue: each notice has its English msgstr in messages.po (this fails
    until it is there, and compiled), and that is the text an English resident is sent."""
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    for source, english in ENGLISH_NOTICES.items():
        entry = catalogue.get(source)
        assert entry is not None and entry.string and not entry.fuzzy, (
            f"messages.po has no English for: {source[:60]}…"
        )
        assert entry.string == english
        assert links.in_language("en", source) == english
    (first, _t1), (second, _t2) = two_signals(app)
    with db_session(app) as session:
        duplicate, original = signal_of(session, second), signal_of(session, first)
        assert links.in_language("en", "Ontvangen") == "Received"  # the mail's catalogue
        duplicate.locale = "en"
        for status, sensitive, source in (
            ("received", False, links.NOTICE_FOLLOW),
            ("resolved", False, links.NOTICE_CLOSED),
            ("resolved", True, links.NOTICE_PRIVATE),
        ):
            original.status, original.sensitive = status, sensitive
            expected = f"{ENGLISH_NOTICES[source]}\n\nExtra."
            assert links.duplicate_message(duplicate, original, " Extra. ") == expected
        session.rollback()


def test_marking_a_duplicate_is_refused_where_it_would_make_no_sense(app: Flask) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    third, _t3 = make_signal(app, title="Nog een lamp")
    fourth, _t4 = make_signal(app, title="En nog een")
    duplicate = duplicate_op(app)
    assert refusal(app, duplicate, second, second) == "same_signal"
    assert refusal(app, duplicate, second, GHOST) == "unknown_reference"
    mark_duplicate(app, second, first)
    # Declined already: closed.
    assert refusal(app, duplicate, second, third) == "duplicate_closed"
    # The original the wrong way round: they are linked already.
    assert refusal(app, duplicate, first, second) == "already_linked"
    # A duplicate of a duplicate: choose its original (named when the user may open it).
    with db_session(app) as session:
        signal = signal_of(session, third)
        with pytest.raises(links.OtherIsDuplicate) as raised:
            duplicate(session, signal, signal_of(session, second), actor(app))
        assert raised.value.original_reference == first
        session.rollback()
    # A signal others repeat cannot itself be a duplicate.
    assert refusal(app, duplicate, first, fourth) == "has_duplicates"
    # Reopened, it is still marked: remove that link first.
    with db_session(app) as session:
        signal = signal_of(session, second)
        change_status(
            session,
            signal,
            "reopened",
            message="Toch apart bekijken.",
            seen_version=signal.version,
            actor=actor(app),
            mail=intake_settings(app).mail,
        )
        session.commit()
    assert refusal(app, duplicate, second, fourth) == "already_duplicate"
    # A staff text too long together with our sentence.
    with db_session(app) as session:
        signal = signal_of(session, fourth)
        with pytest.raises(CaseworkError) as too_long:
            links.check_duplicate(
                session, signal, signal_of(session, third), "x" * 5000, actor(app)
            )
        assert too_long.value.code == "message_too_long"


def test_marking_a_related_pair_as_duplicate_replaces_the_related_link(app: Flask) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    with db_session(app) as session:
        # The lower id is the one marked duplicate: the same pair of columns.
        relate_op(session, signal_of(session, first), signal_of(session, second), actor(app))
        session.commit()
    mark_duplicate(app, first, second)
    with db_session(app) as session:
        ids = (signal_of(session, first).id, signal_of(session, second).id)
        assert link_rows(app) == [(*ids, "duplicate")]
        (marked,) = audits(session, "signal.marked_duplicate")
        assert marked.details["replaced_related"] is True


def test_the_original_may_be_closed_and_then_cannot_be_followed(app: Flask) -> None:
    (first, _t1), (second, token) = two_signals(app)
    close(app, first)
    mark_duplicate(app, second, first)
    with db_session(app) as session:
        duplicate = signal_of(session, second)
        assert duplicate.events[-1].message == links.NOTICE_CLOSED
        pointer = link_views.pointer_for(session, duplicate)
        assert pointer is not None and pointer.other is not None
        assert pointer.other.status == "resolved" and not pointer.followable
    page = visible(app.test_client().get(f"/status/{token}").get_data(as_text=True))
    assert "Dezelfde melding is al gedaan" in page and "Die melding is al afgesloten." in page
    assert "Volg die melding" not in page


def test_a_sensitive_signal_is_answered_as_one_that_does_not_exist(app: Flask) -> None:
    """Sanne (Centrum) may not open Anna's sensitive signal: typing its reference gets what a
    reference that does not exist gets; Anna, its owner, and an admin can link to it."""
    (first, _t1), (second, _t2) = two_signals(app)
    mark_sensitive(app, first)
    for operation in (relate_op, duplicate_op(app)):
        assert refusal(app, operation, second, first, by=SANNE) == "unknown_reference"
        assert refusal(app, operation, second, GHOST, by=SANNE) == "unknown_reference"
    with db_session(app) as session:
        signal = signal_of(session, second)
        assert links.find_other(session, signal, first, actor(app, ANNA)).reference == first
        assert links.find_other(session, signal, first, actor(app, ADMIN)).reference == first
        # Handed a signal object directly, the operation checks as well.
        with pytest.raises(CaseworkError) as raised:
            relate_op(session, signal, signal_of(session, first), actor(app, SANNE))
        assert raised.value.code == "unknown_reference"


# --- the resident's side --------------------------------------------------------------------


def test_the_resident_is_mailed_a_working_link_to_a_page_with_the_public_face_only(
    app: Flask, smtp: SMTPServer
) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    mark_duplicate(app, second, first, STAFF_TEXT)
    mails = mails_to(smtp, RESIDENT, 2)  # the confirmation, then the decline
    decline = mails[-1]
    assert decline["Subject"] == f"Uw melding {second}: Niet in behandeling"
    body = " ".join(plain(decline).split())
    assert " ".join(links.NOTICE_FOLLOW.split()) in body and STAFF_TEXT in body
    assert ORIGINAL_TEXT not in body and ORIGINAL_TITLE not in body
    link = STATUS_URL.search(plain(decline))
    assert link, plain(decline)
    page = app.test_client().get(link.group(1))
    assert page.status_code == 200
    html_page = page.get_data(as_text=True)
    text = visible(html_page)
    assert "Dezelfde melding is al gedaan" in text
    # Its public face: the public title (theme in buurt), reference, theme, place, status.
    assert "Heel in Kerkelanden" in text and first in text
    assert "Wijk Zuidwest, buurt Kerkelanden" in text
    assert "Volg die melding" in text
    # Never its own title, description, reporter, contact data or photos.
    for private in (ORIGINAL_TITLE, ORIGINAL_TEXT, "Petra Pieters", FIRST, "06 11112222"):
        assert private not in html_page
    box = re.findall(r'id="dubbel".*?</section>', html_page, re.S)[0]
    assert "<img" not in box and "/foto/" not in box


def test_a_public_title_is_shown_and_a_not_public_original_gets_no_pointer(app: Flask) -> None:
    (first, _t1), (second, token) = two_signals(app)
    with db_session(app) as session:
        signal_of(session, first).public_title = "Lantaarnpaal Kerkelandenlaan"
        session.commit()
    mark_duplicate(app, second, first)
    text = visible(app.test_client().get(f"/status/{token}").get_data(as_text=True))
    assert "Lantaarnpaal Kerkelandenlaan" in text
    # Then the original turns sensitive: the pointer goes, a sentence stays.
    mark_sensitive(app, first)
    page = app.test_client().get(f"/status/{token}").get_data(as_text=True)
    text = visible(page)
    assert "Dezelfde melding is al gedaan" in text
    assert "Anna de Vries behandelt uw melding samen met die eerdere melding." in text
    for hidden in (first, "Lantaarnpaal Kerkelandenlaan", "Volg die melding", ORIGINAL_TITLE):
        assert hidden not in text


def test_an_initiative_kept_off_the_wijk_page_gets_no_pointer(app: Flask) -> None:
    initiative, _t1 = make_signal(app, kind=Kind.INITIATIEF, title="Buurtmoestuin achter de kerk")
    duplicate, token = make_signal(app, kind=Kind.INITIATIEF, title="Moestuin")
    mark_duplicate(app, duplicate, initiative)
    with db_session(app) as session:
        assert signal_of(session, duplicate).events[-1].message == links.NOTICE_PRIVATE
    text = visible(app.test_client().get(f"/status/{token}").get_data(as_text=True))
    assert "samen met die eerdere melding" in text
    assert initiative not in text and "Volg die melding" not in text


def test_followers_of_the_duplicate_hear_of_it_as_of_any_status(
    app: Flask, smtp: SMTPServer
) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    with db_session(app) as session:
        following.start_following(
            session,
            signal_of(session, second),
            email=FOLLOWER,
            locale="nl",
            mail=intake_settings(app).mail,
        )
        session.commit()
    mark_duplicate(app, second, first, STAFF_TEXT)
    mails = mails_to(smtp, FOLLOWER, 2)  # the follow link, then the new status
    assert "Niet in behandeling" in text_of(mails[-1])
    assert STAFF_TEXT not in text_of(mails[-1])  # followers never get the messages


def test_the_resident_follows_the_original_from_the_status_page(
    app: Flask, smtp: SMTPServer
) -> None:
    (first, _t1), (second, token) = two_signals(app)
    mark_duplicate(app, second, first)
    client = app.test_client()
    page_token = csrf_token(client, f"/status/{token}")
    response = client.post(
        f"/status/{token}/andere-melding-volgen", data={"csrf_token": page_token}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/melden/volgen/bedankt"
    thanks = visible(client.get("/melden/volgen/bedankt").get_data(as_text=True))
    assert "U volgt deze melding" in thanks and first in thanks
    with db_session(app) as session:
        original_id = signal_of(session, first).id
        followers = session.scalars(
            select(SignalFollower).where(SignalFollower.signal_id == original_id)
        ).all()
        assert [f.email for f in followers] == [RESIDENT]
    # The follow link by mail, to the address they gave with their own signal.
    subjects = [str(m["Subject"]) for m in mails_to(smtp, RESIDENT, 3)]
    assert f"U volgt melding {first}" in subjects, subjects
    again = visible(client.get(f"/status/{token}").get_data(as_text=True))
    assert "U volgt die melding al." in again and "Volg die melding" not in again
    # Once the original is closed there is nothing to follow; the button says so.
    close(app, first)
    response = client.post(
        f"/status/{token}/andere-melding-volgen", data={"csrf_token": page_token}
    )
    assert response.status_code == 303 and response.headers["Location"].startswith(
        f"/status/{token}"
    )
    # An unknown status link opens nothing.
    missing = client.post(
        "/status/onbekend-token-1234567890/andere-melding-volgen", data={"csrf_token": page_token}
    )
    assert missing.status_code == 404


def change(app: Flask, reference: str, status: str, message: str) -> None:
    with db_session(app) as session:
        signal = signal_of(session, reference)
        change_status(
            session,
            signal,
            status,
            message=message,
            seen_version=signal.version,
            actor=actor(app),
            mail=intake_settings(app).mail,
        )
        session.commit()


def test_a_reopened_duplicate_no_longer_points_away_even_when_declined_again(
    app: Flask,
) -> None:
    """Reopened, the signal is no longer handled as a repeat; declined later for another
    reason, it must not point to the other signal again (the link stays for staff)."""
    (first, _t1), (second, token) = two_signals(app)
    mark_duplicate(app, second, first)
    client = app.test_client()
    assert "Dezelfde melding is al gedaan" in visible(client.get(f"/status/{token}").text)
    earlier_page_token = csrf_token(client, f"/status/{token}")  # with its follow button
    # A message to the resident is no status change: the relation still holds.
    with db_session(app) as session:
        signal = signal_of(session, second)
        public_reply(
            session,
            signal,
            message="Dank voor uw melding.",
            seen_version=signal.version,
            actor=actor(app),
            mail=intake_settings(app).mail,
        )
        session.commit()
    assert "Volg die melding" in visible(client.get(f"/status/{token}").text)
    change(app, second, "reopened", "Wij bekijken uw melding toch apart.")
    text = visible(client.get(f"/status/{token}").get_data(as_text=True))
    assert "Dezelfde melding is al gedaan" not in text
    # Every step in the same second (NOW): only the order of the steps can tell.
    change(app, second, "declined", "Dit valt buiten wat de gemeente doet.")
    text = visible(client.get(f"/status/{token}").get_data(as_text=True))
    assert "Dit valt buiten wat de gemeente doet." in text
    assert "Dezelfde melding is al gedaan" not in text and "Volg die melding" not in text
    with db_session(app) as session:
        assert link_views.pointer_for(session, signal_of(session, second)) is None
        assert len(link_rows(app)) == 1  # still listed for staff, with its history
    reopened = "De dubbele melding is na het markeren heropend."
    for reference in (second, first):  # both signal pages say so
        page = visible(logged_in(app, ANNA).get(page_url(reference)).get_data(as_text=True))
        assert reopened in page, reference
    # Nor can it be followed from there with a page loaded before.
    response = client.post(
        f"/status/{token}/andere-melding-volgen",
        data={"csrf_token": earlier_page_token},
    )
    assert response.status_code == 303 and "/melden/volgen" not in response.headers["Location"]
    with db_session(app) as session:
        original_id = signal_of(session, first).id
        assert not session.scalars(
            select(SignalFollower).where(SignalFollower.signal_id == original_id)
        ).all()


# --- the back office ------------------------------------------------------------------------


def post(client: FlaskClient, app: Flask, reference: str, path: str, /, **data: str):  # type: ignore[no-untyped-def]
    """A form on the signal page of ``reference``, posted as the browser would."""
    form = {
        "csrf_token": token_for(client, reference),
        "version": str(version_of(app, reference)),
        **data,
    }
    return client.post(f"{page_url(reference)}/{path}", data=form)


def error_text(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'id="foutmeldingen".*?</ul>', response.get_data(as_text=True), re.S)
    assert found, response.get_data(as_text=True)[:3000]
    return visible(found.group(0))


def test_staff_relate_and_unrelate_on_the_signal_page(app: Flask) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    anna = logged_in(app, ANNA)
    page = visible(anna.get(page_url(second)).get_data(as_text=True))
    assert "Koppel aan een andere melding" in page and "nog niet aan andere meldingen" in page
    response = post(anna, app, second, "koppelen", reference=first.lower(), reason="Zelfde plek.")
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    page = visible(anna.get(page_url(second)).get_data(as_text=True))
    assert f"De melding is gekoppeld aan {first}." in page
    assert f"Verwante melding: {first} {ORIGINAL_TITLE}" in page and "Waarom: Zelfde plek." in page
    other_page = visible(anna.get(page_url(first)).get_data(as_text=True))
    assert f"Verwante melding: {second} Lamp stuk" in other_page
    assert "Gekoppeld aan een andere melding" in other_page  # its timeline
    with db_session(app) as session:
        link_id = session.scalars(select(SignalLink.id)).one()
    response = post(anna, app, second, "ontkoppelen", link=str(link_id))
    assert response.status_code == 303
    assert link_rows(app) == []
    gone = post(anna, app, second, "ontkoppelen", link=str(link_id))
    assert gone.status_code == 422
    assert "Deze koppeling bestaat niet (meer)." in error_text(gone)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Vul het meldnummer van de andere melding in."),
        (GHOST, f"Wij vinden geen melding met meldnummer {GHOST}. Controleer het nummer."),
        ("SELF", "Dit is het meldnummer van deze melding zelf."),
    ],
)
def test_a_refused_link_comes_back_with_what_was_typed(
    app: Flask, typed: str, message: str
) -> None:
    (_first, _t1), (second, _t2) = two_signals(app)
    anna = logged_in(app, ANNA)
    typed = second if typed == "SELF" else typed
    response = post(anna, app, second, "koppelen", reference=typed, reason="Mijn eigen reden.")
    assert response.status_code == 422
    assert message in error_text(response)
    page = response.get_data(as_text=True)
    assert "Mijn eigen reden." in page and f'value="{typed}"' in page
    assert link_rows(app) == []


def test_the_duplicate_form_previews_then_sends(app: Flask, smtp: SMTPServer) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    anna = logged_in(app, ANNA)
    page = visible(anna.get(page_url(second)).get_data(as_text=True))
    assert "Markeer als dubbel van" in page and "Wij sturen de melder deze tekst:" in page
    assert " ".join(links.NOTICE_FOLLOW.split()) in page
    preview = post(
        anna, app, second, "dubbel", reference=first, message=STAFF_TEXT, action="preview"
    )
    assert preview.status_code == 200
    shown = visible(preview.get_data(as_text=True))
    assert "Voorbeeld: dit krijgt de melder" in shown
    assert f"Uw melding {second}: Niet in behandeling" in shown and STAFF_TEXT in shown
    with db_session(app) as session:
        assert signal_of(session, second).status == "received"  # nothing changed yet
    assert link_rows(app) == []
    sent = post(anna, app, second, "dubbel", reference=first, message=STAFF_TEXT, action="send")
    assert sent.status_code == 303
    page = visible(anna.get(page_url(second)).get_data(as_text=True))
    assert (
        f"De melding is gemarkeerd als dubbel van {first} en heeft nu de status "
        "‘Niet in behandeling’. De melder krijgt een e-mail."
    ) in page
    assert f"Deze melding is dubbel van: {first}" in page
    assert "na het markeren heropend" not in page
    assert "Deze melding is al als dubbel gemarkeerd." in page  # no second form
    original_page = visible(anna.get(page_url(first)).get_data(as_text=True))
    assert f"Als dubbel van deze melding gemarkeerd: {second}" in original_page
    assert "Een andere melding is als dubbel van deze gemarkeerd" in original_page
    assert mails_to(smtp, RESIDENT, 2)[-1]["Subject"] == f"Uw melding {second}: Niet in behandeling"


def test_the_duplicate_form_names_the_original_of_a_duplicate(app: Flask) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    third, _t3 = make_signal(app, title="Lamp nog steeds stuk")
    mark_duplicate(app, second, first)
    anna = logged_in(app, ANNA)
    response = post(
        anna, app, third, "dubbel", reference=second, message="Mijn tekst.", action="send"
    )
    assert response.status_code == 422
    assert (
        f"Melding {second} is zelf een dubbele melding van {first}. Markeer deze melding als "
        f"dubbel van {first}."
    ) in error_text(response)
    assert "Mijn tekst." in response.get_data(as_text=True)
    # Seen on a page older than a colleague's change: nothing happens, the text stays.
    old = str(version_of(app, third) - 1)
    stale = post(anna, app, third, "dubbel", reference=first, message="Mijn tekst.", version=old)
    assert stale.status_code == 409
    assert "Iemand anders heeft deze melding net gewijzigd" in error_text(stale)
    assert "Mijn tekst." in stale.get_data(as_text=True)
    assert signal_status(app, third) == "received"


def test_management_reads_the_links_but_cannot_change_them(app: Flask) -> None:
    (first, _t1), (second, _t2) = two_signals(app)
    mark_duplicate(app, second, first)
    manager = logged_in(app, MANAGEMENT)
    page = visible(manager.get(page_url(second)).get_data(as_text=True))
    assert f"Deze melding is dubbel van: {first}" in page
    for form in ("Koppel aan een andere melding", "Markeer als dubbel", "Koppeling verwijderen"):
        assert form not in page
    with db_session(app) as session:
        link_id = session.scalars(select(SignalLink.id)).one()
    anonymous = app.test_client()
    anonymous_token = csrf_token(anonymous, "/backoffice/login")
    for path, data in (
        ("koppelen", {"reference": first}),
        ("dubbel", {"reference": first, "action": "send"}),
        ("ontkoppelen", {"link": str(link_id)}),
    ):
        assert post(manager, app, second, path, **data).status_code == 403
        response = anonymous.post(
            f"{page_url(second)}/{path}", data={"csrf_token": anonymous_token, **data}
        )
        assert is_login_redirect(response), response.status_code
    assert len(link_rows(app)) == 1


def test_a_colleague_gets_the_same_answer_for_a_sensitive_signal_as_for_none(app: Flask) -> None:
    """Sanne (Centrum) on a Sint Vitusbuurt signal types the reference of Anna's sensitive
    Kerkelanden signal: the same words as for a reference that does not exist."""
    (first, _t1), (_second, _t2) = two_signals(app)
    mark_sensitive(app, first)
    centrum, _t3 = make_signal(app, buurt=SINT_VITUSBUURT, title="Fietswrakken bij het station")
    sanne = logged_in(app, SANNE)
    answers = {}
    for typed in (first, GHOST):
        for path, extra in (("koppelen", {}), ("dubbel", {"action": "send"})):
            response = post(sanne, app, centrum, path, reference=typed, **extra)
            assert response.status_code == 422
            answers[(typed, path)] = error_text(response).replace(typed, "NUMMER")
    assert answers[(first, "koppelen")] == answers[(GHOST, "koppelen")]
    assert answers[(first, "dubbel")] == answers[(GHOST, "dubbel")]
    assert link_rows(app) == []
    # Anna links them; Sanne then sees that there is a link, never to what.
    anna = logged_in(app, ANNA)
    assert (
        post(anna, app, first, "koppelen", reference=centrum, reason="Vertrouwelijk").status_code
        == 303
    )
    page = sanne.get(page_url(centrum)).get_data(as_text=True)
    text = visible(page)
    assert "Verwante melding: een melding die u niet mag inzien" in text
    assert first not in page and "Vertrouwelijk" not in page
    assert "Koppeling verwijderen" not in text
    with db_session(app) as session:
        link_id = session.scalars(select(SignalLink.id)).one()
    refused = post(sanne, app, centrum, "ontkoppelen", link=str(link_id))
    assert refused.status_code == 422 and len(link_rows(app)) == 1
    # Her timeline says a link was made, without the sensitive reference.
    with db_session(app) as session:
        step = signal_of(session, centrum).events[-1]
        assert step.kind == "linked" and step.message is None
    assert Status(signal_status(app, first)) == Status.RECEIVED


def signal_status(app: Flask, reference: str) -> str:
    with db_session(app) as session:
        return signal_of(session, reference).status
