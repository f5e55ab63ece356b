"""Seed data: the CBS geography (always) and demo accounts and signals (local use only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import sensitive
from portal.domain.casework import Actor
from portal.domain.geography import Geography
from portal.domain.intake import IntakeSettings, Submission, submit_signal
from portal.domain.routing import LocationInput
from portal.domain.users import create_user
from portal.domain.working_days import LOCAL_TIMEZONE, working_days_before
from portal.models import (
    GENERAL_INBOX,
    Buurt,
    Role,
    RoutingRule,
    Signal,
    StandardText,
    User,
    Wijk,
)
from portal.vocabulary import Kind, Status, Theme

DEMO_PASSWORD = "gooi-en-vecht-demo"  # documented in the README; demo data is never for production
DEMO_ACCOUNTMANAGERS = {
    "WK040201": "Sanne Bakker",
    "WK040202": "Mohamed el Amrani",
    "WK040203": "Anna de Vries",
    "WK040204": "Pieter Jansen",
    "WK040205": "Fatma Yilmaz",
    "WK040206": "Joris van Dijk",
    "WK040207": "Lotte Visser",
    "WK040208": "Kees Mulder",
    "WK040209": "Ingrid Smit",
}
DEMO_GENERAL = "Eva de Boer"
DEMO_ADMIN = "Beheerder Wijkzaken"
DEMO_MANAGEMENT = "Marco Hendriks"


def seed_geography(session: Session, geo: Geography) -> tuple[int, int]:
    """Inserts missing wijken/buurten; existing rows keep an admin's renamed names.
    Returns (created, already there)."""
    created = existing = 0
    for wijk in geo.wijken.values():
        if session.get(Wijk, wijk.code) is None:
            session.add(Wijk(code=wijk.code, name=wijk.name))
            created += 1
        else:
            existing += 1
    session.flush()
    for buurt in geo.buurten.values():
        if session.get(Buurt, buurt.code) is None:
            session.add(Buurt(code=buurt.code, name=buurt.name, wijk_code=buurt.wijk_code))
            created += 1
        else:
            existing += 1
    session.flush()
    return created, existing


def demo_email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@hilversum.example"


def seed_demo_data(session: Session) -> Iterator[str]:
    """Demo staff (idempotent) with the routing rules that make them own their wijken."""
    if session.scalar(select(Wijk.code).limit(1)) is None:
        raise RuntimeError("No wijken yet: run `flask --app portal seed wijken` first.")
    accounts = [(DEMO_ADMIN, Role.ADMIN, ()), (DEMO_MANAGEMENT, Role.MANAGEMENT, ())]
    accounts.append((DEMO_GENERAL, Role.ACCOUNTMANAGER, ()))
    accounts += [(n, Role.ACCOUNTMANAGER, (code,)) for code, n in DEMO_ACCOUNTMANAGERS.items()]
    yield f"Demo accounts (local use only), password for all: {DEMO_PASSWORD}"
    for name, role, wijken in accounts:
        email = demo_email(name)
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(
                session,
                email=email,
                name=name,
                role=role,
                password=DEMO_PASSWORD,
                wijk_codes=wijken,
            )
        scope = wijken[0] if wijken else (GENERAL_INBOX if name == DEMO_GENERAL else None)
        if scope and session.get(RoutingRule, scope) is None:
            session.add(RoutingRule(scope=scope, owner_id=user.id))
        label = f"{role}" + (f" {wijken[0]}" if wijken else "")
        if name == DEMO_GENERAL:
            label += " (algemene inbox)"
        yield f"  {email:<40} {name:<22} {label}"
    session.flush()


# The middle of buurt Kerkelanden (lon, lat): the demo's nearby signals lie within 100 m.
KERKELANDEN_DEMO_POINT = (5.140466, 52.215599)

DEMO_SIGNALS = [
    (
        Kind.KNELPUNT,
        [Theme.SCHOON],
        "Afval naast de containers",
        "Al een week staan er vuilniszakken naast de ondergrondse containers. "
        "Er komen ratten op af.",
        # Kerkelanden: a pin near here lists this one and the next as "Is dit al gemeld?".
        LocationInput(lon=KERKELANDEN_DEMO_POINT[0], lat=KERKELANDEN_DEMO_POINT[1]),
    ),
    (
        Kind.KNELPUNT,
        [Theme.HEEL],
        "Losse stoeptegels bij de speeltuin",
        "Bij de ingang van de speeltuin liggen drie stoeptegels los. Kinderen struikelen erover.",
        LocationInput(lon=5.141200, lat=52.216300),  # about 90 m from the one above
    ),
    (
        Kind.KNELPUNT,
        [Theme.HEEL, Theme.VEILIG],
        "Lantaarnpaal kapot bij het fietspad",
        "De lantaarnpaal bij het fietspad is al drie weken kapot. 's Avonds is het er erg donker.",
        LocationInput(buurt_code="BU04020103"),
    ),
    (
        Kind.INITIATIEF,
        [Theme.SOCIAAL],
        "Buurtmaaltijd voor ouderen",
        "Wij willen één keer per maand een maaltijd voor ouderen in de buurt organiseren. "
        "We zoeken een ruimte en een klein budget voor de boodschappen.",
        LocationInput(wijk_code="WK040208"),
    ),
    (
        Kind.INITIATIEF,
        [Theme.SCHOON, Theme.SOCIAAL],
        "Samen de speeltuin opknappen",
        "Met een paar ouders willen we in het voorjaar de speeltuin schilderen en nieuwe "
        "planten zetten. We zoeken verf, gereedschap en buren die een zaterdag meedoen.",
        LocationInput(buurt_code="BU04020304"),
    ),
    (
        Kind.KNELPUNT,
        [Theme.VEILIG],
        "Hard rijden in de straat",
        "Auto's rijden veel te hard door onze straat, waar veel kinderen spelen.",
        LocationInput(postcode="1217 AB"),
    ),
]


# Sensitive from the start (marked by their owner right after intake): never listed as nearby,
# never on a wijk page, only for the owner and admins. (kind, themes, title, text, place, reason)
DEMO_SENSITIVE_SIGNALS = [
    (
        Kind.KNELPUNT,
        [Theme.VEILIG],
        "Overlast van een groep jongeren",
        "Elke avond staat er een groep jongeren bij het bankje. Ze roepen naar voorbijgangers.",
        LocationInput(lon=5.140900, lat=52.215900),
        "Jeugdgroep: gedeeld in het wijkteam APJ (politie, Versa Welzijn).",
    ),
]


# (title, status, kind, body): answers for the usual steps, in the placeholders of
# portal/domain/standard_texts.py. No greeting or sign-off: the mail adds those itself.
DEMO_STANDARD_TEXTS: list[tuple[str, Status | None, Kind | None, str]] = [
    (
        "We gaan ermee aan de slag",
        Status.IN_PROGRESS,
        Kind.KNELPUNT,
        "Wij hebben uw melding {meldnummer} bekeken en gaan ermee aan de slag. "
        "U hoort van ons wat er gebeurt.",
    ),
    (
        "In gesprek over uw initiatief",
        Status.IN_PROGRESS,
        Kind.INITIATIEF,
        "Wat goed dat u zich inzet voor uw buurt. Ik wil graag met u praten over "
        "‘{titel}’: wat u wilt doen, wat u nodig heeft en wie u daarbij kan helpen. "
        "Ik neem binnenkort contact met u op.",
    ),
    (
        "Vraag: om welk adres gaat het?",
        Status.AWAITING_RESIDENT,
        None,
        "Om uw melding goed op te pakken, willen wij precies weten waar het is. "
        "Om welke straat en welk huisnummer gaat het? Een foto helpt ook.",
    ),
    (
        "Vraag: sinds wanneer speelt het?",
        Status.AWAITING_RESIDENT,
        Kind.KNELPUNT,
        "Sinds wanneer speelt dit probleem? En op welke dagen of tijden merkt u het het meest?",
    ),
    (
        "Doorgezet naar een afdeling of partner",
        Status.FORWARDED,
        None,
        "Uw melding gaat over werk van een afdeling van de gemeente of van een partner. "
        "Wij hebben uw melding daarom aan hen doorgegeven. Bureau Wijkzaken blijft uw "
        "melding volgen: u hoort van ons hoe het verder gaat.",
    ),
    (
        "Het werk is ingepland",
        Status.PLANNED,
        None,
        "Het werk voor uw melding {meldnummer} is ingepland. "
        "Wij laten het u weten als het klaar is.",
    ),
    (
        "Opgelost",
        Status.RESOLVED,
        Kind.KNELPUNT,
        "Het probleem uit uw melding ‘{titel}’ is opgelost. "
        "Bedankt dat u het aan ons doorgaf: zo houden we de buurt samen schoon, heel en veilig.",
    ),
    (
        "Initiatief gesteund",
        Status.RESOLVED,
        Kind.INITIATIEF,
        "Wij hebben uw initiatief ‘{titel}’ gesteund zoals afgesproken. Veel succes! "
        "Heeft u later nog hulp nodig, doe dan een nieuwe melding.",
    ),
    (
        "Dubbele melding",
        Status.DECLINED,
        None,
        "Over dit onderwerp hebben wij al eerder een melding gekregen. Wij pakken het op "
        "onder die melding, daarom sluiten wij melding {meldnummer}. Bedankt dat u het "
        "doorgaf.",
    ),
    (
        "Particulier terrein",
        Status.DECLINED,
        Kind.KNELPUNT,
        "Het probleem uit uw melding ligt op particulier terrein. Daar gaat de gemeente "
        "niet over: de eigenaar van het terrein moet het oplossen. Daarom sluiten wij uw "
        "melding {meldnummer}.",
    ),
    (
        "Opnieuw bekeken",
        Status.REOPENED,
        None,
        "Wij hebben uw melding opnieuw geopend en kijken er nog een keer naar. "
        "{accountmanager} laat u weten wat er gebeurt.",
    ),
]


def seed_demo_texts(session: Session) -> int:
    """The demo's standard texts, by title: one that is there already (perhaps changed by an
    admin) is left alone, so this can run again. Returns how many were added."""
    existing = set(session.scalars(select(StandardText.title)))
    added = 0
    for title, status, kind, body in DEMO_STANDARD_TEXTS:
        if title in existing:
            continue
        session.add(StandardText(title=title, body=body, status=status, kind=kind, active=True))
        added += 1
    session.flush()
    return added


def seed_demo_signals(session: Session, settings: IntakeSettings) -> int:
    """The demo's example content: its standard texts (``seed_demo_texts``) and a few
    example signals so the inboxes are not empty (skipped when signals exist). Returns how
    many signals were added."""
    seed_demo_texts(session)
    if session.scalar(select(Signal.id).limit(1)) is not None:
        return 0
    for i, (kind, themes, title, description, location) in enumerate(DEMO_SIGNALS):
        submit_signal(
            session,
            Submission(
                kind=kind,
                themes=themes,
                title=title,
                description=description,
                location=location,
                submission_key=f"demo-{i}",
            ),
            # The first one came in DEMO_UNTOUCHED_WORKING_DAYS ago and nobody answered it:
            # the demo inbox shows what "reactie te laat" looks like.
            replace(settings, now=_untouched_since(settings.now)) if i == 0 else settings,
        )
    for i, (kind, themes, title, description, location, reason) in enumerate(
        DEMO_SENSITIVE_SIGNALS
    ):
        result = submit_signal(
            session,
            Submission(
                kind=kind,
                themes=themes,
                title=title,
                description=description,
                location=location,
                submission_key=f"demo-sensitive-{i}",
            ),
            settings,
        )
        signal = result.signal
        if signal.owner_id is not None:
            sensitive.mark(
                session,
                signal,
                reason=reason,
                seen_version=signal.version,
                actor=Actor(signal.owner_id, settings.now),
            )
    return len(DEMO_SIGNALS) + len(DEMO_SENSITIVE_SIGNALS)


DEMO_UNTOUCHED_WORKING_DAYS = 4


def _untouched_since(now: datetime) -> datetime:
    """The same time of day, DEMO_UNTOUCHED_WORKING_DAYS working days (holidays skipped) ago."""
    local = now.astimezone(LOCAL_TIMEZONE)
    day = working_days_before(local.date(), DEMO_UNTOUCHED_WORKING_DAYS)
    return datetime.combine(day, local.timetz()).astimezone(now.tzinfo)
