"""Making test data through the real domain operations (never by hand-written rows)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.geography import default_geography
from portal.domain.intake import IntakeSettings, ReporterInput, Submission, submit_signal
from portal.domain.mail import Links
from portal.domain.notifications import MailContext
from portal.domain.photos import StoredPhoto
from portal.domain.routing import LocationInput
from portal.extensions import db
from portal.models import User
from portal.seeding import DEMO_PASSWORD, demo_email
from portal.vocabulary import Kind, Theme

ANNA = demo_email("Anna de Vries")  # accountmanager Zuidwest (WK040203)
SANNE = demo_email("Sanne Bakker")  # accountmanager Centrum (WK040201)
EVA = demo_email("Eva de Boer")  # general inbox
ADMIN = demo_email("Beheerder Wijkzaken")
MANAGEMENT = demo_email("Marco Hendriks")
KERKELANDEN = "BU04020304"
SINT_VITUSBUURT = "BU04020103"


def intake_settings(app: Flask, now: datetime | None = None) -> IntakeSettings:
    return IntakeSettings(
        geography=default_geography(),
        mail=MailContext(
            renderer=app.extensions["portal.mail_renderer"],
            links=Links(app.config["PUBLIC_BASE_URL"] or "http://portal.test"),
            response_working_days=app.config["RESPONSE_WORKING_DAYS"],
            reply_to=app.config["REPLY_TO_ADDRESS"],
            satisfaction_days=app.config["SATISFACTION_DAYS"],
            handle_working_days=app.config["HANDLE_WORKING_DAYS"],
            pause_while_awaiting_resident=app.config["PAUSE_WHILE_AWAITING_RESIDENT"],
            digest_hour=app.config["DIGEST_HOUR"],
        ),
        reference_prefix=app.config["REFERENCE_PREFIX"],
        now=now or datetime.now(UTC),
    )


def make_signal(
    app: Flask,
    *,
    buurt: str | None = KERKELANDEN,
    kind: Kind = Kind.KNELPUNT,
    themes: tuple[Theme, ...] = (Theme.SCHOON,),
    title: str = "Afval bij de glasbak",
    description: str = "Er ligt al dagen afval naast de glasbak op de hoek.",
    email: str | None = "bewoner@example.nl",
    name: str | None = "Jan Jansen",
    phone: str | None = None,
    now: datetime | None = None,
    may_share: bool = False,
    photos: Sequence[StoredPhoto] = (),
    organisation_name: str | None = None,
    kvk_number: str | None = None,
) -> tuple[str, str]:
    """A signal submitted through the intake operation; returns (reference, status token)."""
    with app.app_context():
        result = submit_signal(
            db.session,
            Submission(
                kind=kind,
                themes=list(themes),
                title=title,
                description=description,
                location=LocationInput(buurt_code=buurt),
                photos=list(photos),
                reporter=ReporterInput(
                    name=name,
                    email=email,
                    phone=phone,
                    may_contact=True,
                    may_share_with_partners=may_share,
                    organisation_name=organisation_name,
                    kvk_number=kvk_number,
                ),
            ),
            intake_settings(app, now),
        )
        db.session.commit()
        return result.signal.reference, result.status_token


def login(client: FlaskClient, email: str, password: str = DEMO_PASSWORD) -> FlaskClient:
    from tests.conftest import csrf_token

    token = csrf_token(client, "/backoffice/login")
    response = client.post(
        "/backoffice/login", data={"csrf_token": token, "email": email, "password": password}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


@contextmanager
def db_session(app: Flask) -> Iterator[Session]:
    """A session of its own (not a request's), to arrange and check what requests stored."""
    with app.app_context(), app.extensions["portal.db"]() as session:
        yield session


def user_id(app: Flask, email: str) -> int:
    with db_session(app) as session:
        found = session.scalar(select(User.id).where(User.email == email))
        assert found is not None, email
        return found
