"""Demo data for escalation and partner sharing (local use only): a few functionaries with
authority and the wijkteam partners of Hilversum. Made-up people and addresses; the
organisations are the ones the council letter names (police, Versa Welzijn, the housing
corporations)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.functionaries import save_functionary
from portal.domain.partners import save_partner
from portal.models import Functionary, Partner, Role, User, Wijk

# (name, role title, department, e-mail address)
DEMO_FUNCTIONARIES = (
    (
        "Karin van Leeuwen",
        "Afdelingshoofd Openbare Ruimte",
        "Openbare Ruimte",
        "karin.van.leeuwen@hilversum.example",
    ),
    (
        "Bas Verhoeven",
        "Teamleider Toezicht en Handhaving",
        "Veiligheid, Toezicht en Handhaving",
        "bas.verhoeven@hilversum.example",
    ),
    (
        "Nadia Bouali",
        "Programmamanager Sociaal Domein",
        "Samenleving",
        "nadia.bouali@hilversum.example",
    ),
    ("Hans de Graaf", "Gemeentesecretaris", "Concernstaf", "hans.de.graaf@hilversum.example"),
)
# (organisation, contact, e-mail address, wijk codes: none means the whole city)
DEMO_PARTNERS = (
    (
        "Politie Gooi en Vechtstreek",
        "Rachid Kok (wijkagent)",
        "wijkagent.hilversum@politie.example",
        (),
    ),
    ("Versa Welzijn", "Marieke Jansen", "m.jansen@versawelzijn.example", ()),
    (
        "Dudok Wonen",
        "Ellen de Wit",
        "e.dewit@dudokwonen.example",
        ("WK040203", "WK040204", "WK040206"),
    ),
    (
        "Het Gooi en Omstreken",
        "Tom Bakker",
        "t.bakker@gooienomstreken.example",
        ("WK040201", "WK040202", "WK040205", "WK040207", "WK040208"),
    ),
)


def seed_demo_outreach(session: Session) -> int:
    """Adds the demo functionaries and partners that are not there yet (by e-mail address),
    as the demo admin through the real register operations; an entry an admin changed is
    left alone, so this can run again. Needs the wijken and the demo staff
    (``seed_demo_data``). Returns how many entries were added."""
    admin_id = session.scalar(select(User.id).where(User.role == Role.ADMIN).order_by(User.id))
    if admin_id is None:
        raise RuntimeError("No admin yet: run `flask --app portal seed demo` first.")
    known_wijken = set(session.scalars(select(Wijk.code)))
    functionaries = set(session.scalars(select(Functionary.email)))
    partners = set(session.scalars(select(Partner.email)))
    added = 0
    for name, role_title, department, email in DEMO_FUNCTIONARIES:
        if email in functionaries:
            continue
        save_functionary(
            session,
            None,
            name=name,
            role_title=role_title,
            department=department,
            email=email,
            active=True,
            actor_id=admin_id,
        )
        added += 1
    for organisation, contact, email, wijken in DEMO_PARTNERS:
        if email in partners:
            continue
        save_partner(
            session,
            None,
            organisation=organisation,
            contact_name=contact,
            email=email,
            wijk_codes=[code for code in wijken if code in known_wijken],
            active=True,
            actor_id=admin_id,
        )
        added += 1
    return added
