"""Demo content for the wijk pages: accountmanager profiles (and initiatives shown there).
Made-up work numbers and addresses in the demo's own domain (hilversum.example)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.profiles import ProfileInput, update_profile
from portal.models import Role, Signal, StaffProfile, User
from portal.seeding import DEMO_ACCOUNTMANAGERS, demo_email
from portal.vocabulary import Kind

# name -> (introduction, work phone); the work email is the demo account's own address.
DEMO_PROFILES = {
    "Anna de Vries": (
        "Ik ben Anna, uw accountmanager voor Zuidwest. Ik fiets elke week door Kerkelanden, "
        "Zeverijn, het Havenkwartier en Het Rode Dorp, en ken veel bewoners al.\n"
        "Loopt u ergens tegenaan in de buurt, of wilt u samen met buren iets organiseren? "
        "Laat het me weten. Ik zoek uit wie u kan helpen en houd het in de gaten tot het "
        "geregeld is.",
        "035 629 22 11",
    ),
    "Sanne Bakker": (
        "Ik ben Sanne, accountmanager voor het Centrum. Van de Sint Vitusbuurt tot de markt: "
        "ik help bewoners en ondernemers met wat er speelt in hun straat.",
        "035 629 22 12",
    ),
}


def seed_demo_profiles(session: Session) -> int:
    """Public profiles for the demo accountmanagers, and the demo initiatives shown on their
    wijk page (as if the initiators ticked the box); returns how many profiles were added.
    A profile that exists (perhaps changed by its owner) is left alone, so this can run
    again."""
    added = 0
    for name in DEMO_PROFILES:
        if name not in DEMO_ACCOUNTMANAGERS.values():
            continue
        user = session.scalar(
            select(User).where(User.email == demo_email(name), User.role == Role.ACCOUNTMANAGER)
        )
        if user is None or session.get(StaffProfile, user.id) is not None:
            continue
        intro, phone = DEMO_PROFILES[name]
        update_profile(
            session, user, ProfileInput(intro=intro, phone=phone, email=user.email), actor_id=None
        )
        added += 1
    _show_demo_initiatives(session)
    session.flush()
    return added


def _show_demo_initiatives(session: Session) -> None:
    """The demo's sample initiatives (``seed_demo_signals``) on their wijk page."""
    for signal in session.scalars(
        select(Signal).where(
            Signal.kind == Kind.INITIATIEF.value,
            Signal.submission_key.like("demo-%"),
            Signal.sensitive.is_(False),
            Signal.public_display.is_(False),
        )
    ):
        signal.public_display = True
