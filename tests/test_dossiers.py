"""Dossiers in the domain: numbering, adding signals by a typed reference (one dossier per
signal), taking them out, editing with a version check, closing and reopening, notes, and
the public update that reaches every resident in it exactly once - through the outbox and a
real SMTP server (aiosmtpd). SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import following, sensitive
from portal.domain.casework import Actor, CaseworkError
from portal.domain.dossiers import bulk, dossiers
from portal.models import (
    AuditRecord,
    Dossier,
    DossierEvent,
    OutboxMessage,
    Signal,
    SignalEvent,
    User,
)
from tests.factories import (
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

TITLE = "Integrale handhaving Sint Vitusbuurt"
UPDATE = "Vanaf maandag controleren handhavers elke avond op de Vaartweg en het Achterom."
LINK = re.compile(r"http://portal\.test/status/[A-Za-z0-9_-]+")


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    # Mail waits in the outbox until `outbox send`, as with a separate mail worker.
    return {**app_config, "OUTBOX_DELIVERY": "off"}


def now() -> datetime:
    return datetime.now(UTC)


def actor(app: Flask, email: str = SANNE) -> Actor:
    return Actor(user_id(app, email), now())


def signal_of(session: Session, reference: str) -> Signal:
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def vitus(app: Flask, email: str | None, name: str | None = "Bewoner", **fields) -> str:  # type: ignore[no-untyped-def]
    reference, _token = make_signal(
        app, buurt=SINT_VITUSBUURT, email=email, name=name, title=f"Overlast ({email})", **fields
    )
    return reference


def new_dossier(app: Flask, references: list[str], email: str = SANNE) -> str:
    with db_session(app) as session:
        dossier = dossiers.create_dossier(
            session,
            title=TITLE,
            description="Een aanpak met handhaving, politie en de corporatie.",
            owner_id=user_id(app, email),
            wijk_code="WK040201",
            actor=actor(app, email),
            reference_prefix=app.config["DOSSIER_REFERENCE_PREFIX"],
        )
        for reference in references:
            dossiers.add_signal(session, dossier, signal_of(session, reference), actor=actor(app))
        session.commit()
        return dossier.reference


def dossier_of(session: Session, reference: str) -> Dossier:
    return session.scalars(select(Dossier).where(Dossier.reference == reference)).one()


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))


# --- the dossier and its signals -------------------------------------------------------------


def test_a_dossier_is_numbered_and_starts_its_own_timeline(app: Flask) -> None:
    first = new_dossier(app, [])
    second = new_dossier(app, [])
    year = now().year
    assert first == f"DOS-{year}-000001"
    assert second == f"DOS-{year}-000002"
    with db_session(app) as session:
        dossier = dossier_of(session, first)
        assert (dossier.title, dossier.state, dossier.wijk_code) == (TITLE, "open", "WK040201")
        assert dossier.owner_id == user_id(app, SANNE)
        assert [e.kind for e in dossier.events] == ["created"]
        assert audit_actions(session).count("dossier.created") == 2


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"title": "  "}, "title_required"),
        ({"title": "x" * 121}, "title_too_long"),
        ({"description": "x" * 5001}, "description_too_long"),
        ({"owner": MANAGEMENT}, "unknown_owner"),
        ({"wijk_code": "WK999999"}, "unknown_wijk"),
    ],
)
def test_a_dossier_needs_a_title_a_working_owner_and_a_real_wijk(
    app: Flask, fields: dict[str, str], code: str
) -> None:
    with db_session(app) as session, pytest.raises(CaseworkError) as refused:
        dossiers.create_dossier(
            session,
            title=fields.get("title", TITLE),
            description=fields.get("description", ""),
            owner_id=user_id(app, fields.get("owner", SANNE)),
            wijk_code=fields.get("wijk_code"),
            actor=actor(app),
            reference_prefix="DOS",
        )
    assert refused.value.code == code


def test_a_signal_is_added_by_its_typed_reference_and_both_timelines_say_so(app: Flask) -> None:
    reference = vitus(app, "a@example.nl")
    dossier_ref = new_dossier(app, [])
    year, number = reference.split("-")[1], int(reference.split("-")[2])
    with db_session(app) as session:
        dossier = dossier_of(session, dossier_ref)
        found = dossiers.add_signal_by_reference(
            session, dossier, f" hlv {year} {number} ", actor=actor(app)
        )
        session.commit()
        assert found.reference == reference
    with db_session(app) as session:
        signal = signal_of(session, reference)
        dossier = dossier_of(session, dossier_ref)
        assert signal.dossier_id == dossier.id
        joined = [e for e in signal.events if e.kind == "dossier_joined"]
        assert len(joined) == 1 and not joined[0].is_public and joined[0].message == TITLE
        added = [e for e in dossier.events if e.kind == "signal_added"]
        assert [e.signal_id for e in added] == [signal.id]
        assert "dossier.signal_added" in audit_actions(session)


def test_a_signal_is_in_one_dossier_at_most(app: Flask) -> None:
    reference = vitus(app, "a@example.nl")
    first = new_dossier(app, [reference])
    second = new_dossier(app, [])
    with db_session(app) as session:
        for target, code in ((first, "already_in_dossier"), (second, "in_other_dossier")):
            with pytest.raises(CaseworkError) as refused:
                dossiers.add_signal(
                    session,
                    dossier_of(session, target),
                    signal_of(session, reference),
                    actor=actor(app),
                )
            assert refused.value.code == code
        for typed, code in (("", "reference_required"), ("HLV-1999-000001", "signal_not_found")):
            with pytest.raises(CaseworkError) as refused:
                dossiers.add_signal_by_reference(
                    session, dossier_of(session, second), typed, actor=actor(app)
                )
            assert refused.value.code == code


def make_sensitive(app: Flask, reference: str) -> None:
    """Marked sensitive by its owner, Sanne: Anna may no longer open it."""
    with db_session(app) as session:
        signal = signal_of(session, reference)
        sensitive.mark(
            session,
            signal,
            reason="Jeugdgroep (APJ)",
            seen_version=signal.version,
            actor=actor(app, SANNE),
        )
        session.commit()


def test_a_signal_the_user_may_not_open_is_not_found_for_them(app: Flask) -> None:
    reference = vitus(app, "a@example.nl")
    make_sensitive(app, reference)
    dossier_ref = new_dossier(app, [])
    with db_session(app) as session:
        dossier = dossier_of(session, dossier_ref)
        with pytest.raises(CaseworkError) as refused:
            dossiers.add_signal_by_reference(session, dossier, reference, actor=actor(app, ANNA))
        assert refused.value.code == "signal_not_found"
        # Its owner may put it in.
        dossiers.add_signal_by_reference(session, dossier, reference, actor=actor(app, SANNE))
        session.commit()
    with db_session(app) as session:
        members = dossiers.membership(
            session, dossier_of(session, dossier_ref), session.get_one(User, user_id(app, ANNA))
        )
        assert (members.visible, members.hidden_count) == ([], 1)
        with pytest.raises(CaseworkError) as refused:
            dossiers.remove_signal(
                session,
                dossier_of(session, dossier_ref),
                signal_of(session, reference),
                actor=actor(app, ANNA),
            )
        assert refused.value.code == "not_in_dossier"


def test_taking_a_signal_out_is_on_both_timelines(app: Flask) -> None:
    reference = vitus(app, "a@example.nl")
    dossier_ref = new_dossier(app, [reference])
    with db_session(app) as session:
        dossiers.remove_signal(
            session,
            dossier_of(session, dossier_ref),
            signal_of(session, reference),
            actor=actor(app),
        )
        session.commit()
    with db_session(app) as session:
        signal = signal_of(session, reference)
        assert signal.dossier_id is None
        assert [e.kind for e in signal.events][-1] == "dossier_left"
        assert [e.kind for e in dossier_of(session, dossier_ref).events][-1] == "signal_removed"
        with pytest.raises(CaseworkError) as refused:
            dossiers.remove_signal(
                session, dossier_of(session, dossier_ref), signal, actor=actor(app)
            )
        assert refused.value.code == "not_in_dossier"


def test_editing_checks_the_version_the_user_saw(app: Flask) -> None:
    dossier_ref = new_dossier(app, [])
    anna = user_id(app, ANNA)
    with db_session(app) as session:
        dossier = dossier_of(session, dossier_ref)
        seen = dossier.version
        dossiers.edit_dossier(
            session,
            dossier,
            title="Handhaving Sint Vitusbuurt",
            description=dossier.description,
            owner_id=anna,
            wijk_code=dossier.wijk_code,
            seen_version=seen,
            actor=actor(app),
        )
        session.commit()
        with pytest.raises(CaseworkError) as refused:  # a second save on the old page
            dossiers.edit_dossier(
                session,
                dossier,
                title="Iets anders",
                description="",
                owner_id=anna,
                wijk_code=None,
                seen_version=seen,
                actor=actor(app),
            )
        assert refused.value.code == "stale"
        with pytest.raises(CaseworkError) as refused:
            dossiers.edit_dossier(
                session,
                dossier,
                title=dossier.title,
                description=dossier.description,
                owner_id=anna,
                wijk_code=dossier.wijk_code,
                seen_version=dossier.version,
                actor=actor(app),
            )
        assert refused.value.code == "nothing_changed"
    with db_session(app) as session:
        dossier = dossier_of(session, dossier_ref)
        assert (dossier.title, dossier.owner_id) == ("Handhaving Sint Vitusbuurt", anna)
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "dossier.edited")
        ).one()
        assert record.details["before"] == {"owner_id": user_id(app, SANNE), "title": TITLE}


def test_a_closed_dossier_only_takes_notes_until_it_is_reopened(app: Flask) -> None:
    reference = vitus(app, "a@example.nl")
    dossier_ref = new_dossier(app, [])
    with db_session(app) as session:
        dossier = dossier_of(session, dossier_ref)
        dossiers.close_dossier(
            session,
            dossier,
            reason="Aanpak afgerond.",
            seen_version=dossier.version,
            actor=actor(app),
        )
        for step in (
            lambda: dossiers.add_signal(
                session, dossier, signal_of(session, reference), actor=actor(app)
            ),
            lambda: bulk.public_update(
                session,
                dossier,
                message=UPDATE,
                seen_version=dossier.version,
                actor=actor(app),
                mail=intake_settings(app).mail,
            ),
        ):
            with pytest.raises(CaseworkError) as refused:
                step()
            assert refused.value.code == "dossier_closed"
        dossiers.add_note(session, dossier, message="Evaluatie in januari.", actor=actor(app))
        dossiers.reopen_dossier(
            session, dossier, reason=None, seen_version=dossier.version, actor=actor(app)
        )
        dossiers.add_signal(session, dossier, signal_of(session, reference), actor=actor(app))
        session.commit()
    with db_session(app) as session:
        kinds = [e.kind for e in dossier_of(session, dossier_ref).events]
        assert kinds == ["created", "closed", "note", "reopened", "signal_added"]


# --- the public update --------------------------------------------------------------------------


def deliver(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output


def updates_to(smtp: SMTPServer, address: str) -> list[EmailMessage]:
    return [m for m in smtp.to(address) if str(m["Subject"]).startswith("Nieuws over uw melding")]


def text_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


@pytest.fixture
def neighbourhood(app: Flask) -> Iterator[dict[str, str]]:
    """Three residents with an address, one of them with two signals (typed once in capitals),
    one signal without an address; all in one dossier."""
    signals = {
        "ans": vitus(app, "ans@example.nl", "Ans"),
        "bram": vitus(app, "bram@example.nl", "Bram"),
        "cor": vitus(app, "cor@example.nl", "Cor"),
        "ans-again": vitus(app, "Ans@Example.nl ", "Ans"),
        "anonymous": vitus(app, None, None),
    }
    signals["dossier"] = new_dossier(app, list(signals.values()))
    yield signals


def test_a_public_update_reaches_each_resident_exactly_once(
    app: Flask, client, smtp: SMTPServer, neighbourhood: dict[str, str]
) -> None:
    with db_session(app) as session:
        # A neighbour follows one of them: followers hear of status changes only.
        following.start_following(
            session,
            signal_of(session, neighbourhood["bram"]),
            email="buurman@example.nl",
            locale="nl",
            mail=intake_settings(app).mail,
        )
        session.commit()
    deliver(app)  # the confirmations and the follow mail
    before = len(smtp.messages)

    with db_session(app) as session:
        dossier = dossier_of(session, neighbourhood["dossier"])
        reached = bulk.public_update(
            session,
            dossier,
            message=UPDATE,
            seen_version=dossier.version,
            actor=actor(app),
            mail=intake_settings(app).mail,
        )
        session.commit()
        assert sorted(r.address for r in reached.recipients) == [
            "ans@example.nl",
            "bram@example.nl",
            "cor@example.nl",
        ]
        assert [s.reference for s in reached.page_only] == [neighbourhood["anonymous"]]
        # Nothing is sent before the outbox is delivered.
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "public_dossier_update")
        ).all()
        assert len(queued) == 3 and {m.status for m in queued} == {"pending"}
    assert len(smtp.messages) == before

    deliver(app)
    smtp.wait_for(before + 3)
    assert len(smtp.messages) == before + 3
    for address in ("ans@example.nl", "bram@example.nl", "cor@example.nl"):
        assert len(updates_to(smtp, address)) == 1, address
    assert smtp.to("buurman@example.nl") and not updates_to(smtp, "buurman@example.nl")

    # Ans reported two of them: one mail names both, each with its own working link.
    ans = updates_to(smtp, "ans@example.nl")[0]
    first, second = neighbourhood["ans"], neighbourhood["ans-again"]
    assert ans["Subject"] == f"Nieuws over uw meldingen {first}, {second}"
    body = text_of(ans)
    assert UPDATE in body and "Beste Ans," in body
    links = LINK.findall(body)
    assert len(links) == 2
    for link, reference in zip(links, (first, second), strict=True):
        page = client.get(link.removeprefix("http://portal.test")).get_data(as_text=True)
        assert reference in page and UPDATE in page
    bram = updates_to(smtp, "bram@example.nl")[0]
    assert bram["Subject"] == f"Nieuws over uw melding {neighbourhood['bram']}"

    with db_session(app) as session:
        for key in ("ans", "bram", "cor", "ans-again", "anonymous"):
            steps = [
                e
                for e in signal_of(session, neighbourhood[key]).events
                if e.kind == "dossier_update"
            ]
            assert len(steps) == 1 and steps[0].is_public and steps[0].message == UPDATE, key
        dossier = dossier_of(session, neighbourhood["dossier"])
        assert [e.kind for e in dossier.events][-1] == "public_update"
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "dossier.public_update")
        ).one()
        assert (record.details["mails"], record.details["page_only"]) == (3, 1)
        assert audit_actions(session).count("signal.dossier_update") == 5


def test_the_resident_without_an_address_reads_it_on_the_status_page(app: Flask, client) -> None:
    reference, token = make_signal(app, buurt=SINT_VITUSBUURT, email=None, name=None)
    dossier_ref = new_dossier(app, [reference])
    with db_session(app) as session:
        dossier = dossier_of(session, dossier_ref)
        reached = bulk.public_update(
            session,
            dossier,
            message=UPDATE,
            seen_version=dossier.version,
            actor=actor(app),
            mail=intake_settings(app).mail,
        )
        session.commit()
        assert (reached.recipients, len(reached.page_only)) == ([], 1)
        resident_mail = select(func.count(OutboxMessage.id)).where(
            OutboxMessage.purpose.startswith("public_")
        )
        assert session.scalar(resident_mail) == 0
    page = client.get(f"/status/{token}").get_data(as_text=True)
    assert UPDATE in page and "Bericht van Sanne Bakker, Bureau Wijkzaken" in page


def test_a_public_update_needs_a_message_signals_and_every_signal_open_to_the_sender(
    app: Flask,
) -> None:
    empty = new_dossier(app, [])
    hidden = vitus(app, "a@example.nl")
    other = vitus(app, "b@example.nl")
    with_hidden = new_dossier(app, [hidden, other])
    make_sensitive(app, hidden)
    mail = intake_settings(app).mail
    with db_session(app) as session:
        for reference, message, who, code in (
            (empty, UPDATE, SANNE, "no_signals"),
            (with_hidden, "  ", SANNE, "message_required"),
            (with_hidden, "x" * 5001, SANNE, "message_too_long"),
            (with_hidden, UPDATE, ANNA, "hidden_signals"),
        ):
            dossier = dossier_of(session, reference)
            with pytest.raises(CaseworkError) as refused:
                bulk.public_update(
                    session,
                    dossier,
                    message=message,
                    seen_version=dossier.version,
                    actor=actor(app, who),
                    mail=mail,
                )
            assert refused.value.code == code
        session.rollback()
        assert (
            session.scalar(
                select(func.count(SignalEvent.id)).where(SignalEvent.kind == "dossier_update")
            )
            == 0
        )
        # Its owner may open both: the update goes to both.
        dossier = dossier_of(session, with_hidden)
        reached = bulk.public_update(
            session,
            dossier,
            message=UPDATE,
            seen_version=dossier.version,
            actor=actor(app),
            mail=mail,
        )
        assert reached.mailed_signals == 2
        # A stale page (the dossier changed since) sends nothing.
        with pytest.raises(CaseworkError) as refused:
            bulk.public_update(
                session,
                dossier,
                message=UPDATE,
                seen_version=dossier.version - 1,
                actor=actor(app),
                mail=mail,
            )
        assert refused.value.code == "stale"
        assert (
            session.scalar(
                select(func.count(DossierEvent.id)).where(DossierEvent.kind == "public_update")
            )
            == 1
        )
