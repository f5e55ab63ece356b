"""What the public wijk pages show: the wijken with their buurten, each wijk's
accountmanager(s) with what they chose to publish, its wijkteam partners (organisations
only) and the initiatives whose initiators allowed them there.

Nothing here is personal data of residents: an initiative is shown by its public title, buurt,
status and month only, and never when it is sensitive."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.domain.intake import load_routing_rules
from portal.domain.routing import choose_owner
from portal.domain.visibility import public_conditions
from portal.models import (
    Buurt,
    Partner,
    Role,
    Signal,
    StaffProfile,
    User,
    Wijk,
    partner_wijken,
    user_wijken,
)
from portal.vocabulary import N_, Kind, Status

INITIATIVES_SHOWN = 10

# How other residents read an initiative's progress (the resident labels speak to the
# reporter: "Wacht op uw reactie" would be wrong here). An initiative "in behandeling" is
# "in gesprek" (DESIGN.md); one that is done was supported or realised.
INITIATIVE_STATUS_LABELS = {
    Status.RECEIVED: N_("Ontvangen"),
    Status.IN_PROGRESS: N_("In gesprek"),
    Status.AWAITING_RESIDENT: N_("In gesprek"),
    Status.FORWARDED: N_("Doorgezet"),
    Status.PLANNED: N_("Ingepland"),
    Status.RESOLVED: N_("Afgerond"),
    Status.DECLINED: N_("Niet in behandeling"),
    Status.REOPENED: N_("Heropend"),
}
# A declined initiative (a duplicate, not for the municipality) is not news for the wijk.
_HIDDEN_STATUSES = (Status.DECLINED.value,)


@dataclass(frozen=True)
class Contact:
    """An accountmanager as residents see them: the name and what they chose to publish."""

    user_id: int
    name: str
    intro: str | None = None
    photo_key: str | None = None
    phone: str | None = None
    email: str | None = None

    @property
    def initials(self) -> str:
        """ "Anna de Vries" -> "AV": the first and last name's first letters (the
        lower-case "de", "van" and "el" in between are skipped), for a photo's stand-in."""
        words = [w for w in self.name.split() if w[:1].isupper()] or self.name.split()
        if not words:
            return ""
        letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
        return letters.upper()


@dataclass(frozen=True)
class WijkPartner:
    organisation: str
    # Works in every wijk (an admin ticked none), rather than in this one in particular.
    citywide: bool


@dataclass(frozen=True)
class WijkSummary:
    wijk: Wijk
    buurten: list[Buurt]
    contacts: list[Contact]


@dataclass(frozen=True)
class WijkPage:
    wijk: Wijk
    buurten: list[Buurt]
    contacts: list[Contact]
    partners: list[WijkPartner]
    initiatives: list[Signal]


def contacts_by_wijk(
    session: Session, codes: Iterable[str] | None = None
) -> dict[str, list[Contact]]:
    """Per wijk code, its active accountmanagers: first the one its signals go to (the
    routing rule's owner, as the confirmation page names them), then the others who have
    the wijk, by name. A wijk without any has an empty list. Stand-ins during an absence
    are not shown: the page names the wijk's own people."""
    wanted = list(codes) if codes is not None else list(session.scalars(select(Wijk.code)))
    rules = load_routing_rules(session)
    linked: dict[str, list[int]] = {}
    for wijk_code, member_id in session.execute(
        select(user_wijken.c.wijk_code, user_wijken.c.user_id).where(
            user_wijken.c.wijk_code.in_(wanted)
        )
    ):
        linked.setdefault(wijk_code, []).append(member_id)
    owners: dict[str, int] = {}
    for code in wanted:
        owner_id, general = choose_owner(rules, code)
        if owner_id is not None and not general:
            owners[code] = owner_id
    ids = {i for members in linked.values() for i in members} | set(owners.values())
    people = _contacts(session, ids)
    result: dict[str, list[Contact]] = {}
    for code in wanted:
        others = sorted(
            (people[i] for i in set(linked.get(code, ())) if i in people and i != owners.get(code)),
            key=lambda c: (c.name.casefold(), c.user_id),
        )
        first = [people[owners[code]]] if owners.get(code) in people else []
        result[code] = first + others
    return result


def _contacts(session: Session, user_ids: set[int]) -> dict[int, Contact]:
    """Only active accountmanagers: an admin or a departed colleague is nobody's contact."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(User, StaffProfile)
        .outerjoin(StaffProfile, StaffProfile.user_id == User.id)
        .where(
            User.id.in_(user_ids),
            User.active.is_(True),
            User.role == Role.ACCOUNTMANAGER.value,
        )
    )
    return {
        user.id: Contact(
            user_id=user.id,
            name=user.name,
            intro=profile.intro if profile else None,
            photo_key=profile.photo_key if profile else None,
            phone=profile.public_phone if profile else None,
            email=profile.public_email if profile else None,
        )
        for user, profile in rows
    }


def wijk_index(session: Session) -> list[WijkSummary]:
    """Every wijk by name, with its buurten by name and its accountmanagers."""
    wijken = list(session.scalars(select(Wijk).order_by(Wijk.name, Wijk.code)))
    buurten: dict[str, list[Buurt]] = {w.code: [] for w in wijken}
    for buurt in session.scalars(select(Buurt).order_by(Buurt.name, Buurt.code)):
        buurten.setdefault(buurt.wijk_code, []).append(buurt)
    contacts = contacts_by_wijk(session, [w.code for w in wijken])
    return [WijkSummary(w, buurten[w.code], contacts[w.code]) for w in wijken]


def wijk_page(session: Session, code: str) -> WijkPage | None:
    """Everything the page of one wijk shows; None for a code that is no wijk."""
    wijk = session.get(Wijk, code)
    if wijk is None:
        return None
    buurten = list(
        session.scalars(
            select(Buurt).where(Buurt.wijk_code == code).order_by(Buurt.name, Buurt.code)
        )
    )
    return WijkPage(
        wijk=wijk,
        buurten=buurten,
        contacts=contacts_by_wijk(session, [code])[code],
        partners=partners_for_wijk(session, code),
        initiatives=public_initiatives(session, code),
    )


def partners_for_wijk(session: Session, code: str) -> list[WijkPartner]:
    """The active wijkteam partners for this wijk and those for all wijken, by name. Only
    the organisation: its contact person and address are for staff."""
    in_wijk = set(
        session.scalars(
            select(partner_wijken.c.partner_id).where(partner_wijken.c.wijk_code == code)
        )
    )
    with_any_wijk = select(partner_wijken.c.partner_id)
    partners = session.scalars(
        select(Partner)
        .where(
            Partner.active.is_(True),
            or_(Partner.id.in_(in_wijk), Partner.id.not_in(with_any_wijk)),
        )
        .order_by(Partner.organisation, Partner.id)
    )
    return [WijkPartner(p.organisation, citywide=p.id not in in_wijk) for p in partners]


def public_initiatives(
    session: Session, code: str, *, limit: int = INITIATIVES_SHOWN
) -> list[Signal]:
    """The wijk's newest initiatives whose initiators allowed them on the wijk page: never
    a knelpunt, never a sensitive signal, not a declined one. The caller shows their public
    title, buurt, status and month, and nothing else."""
    return list(
        session.scalars(
            select(Signal)
            .where(
                Signal.wijk_code == code,
                Signal.kind == Kind.INITIATIEF.value,
                *public_conditions(),
                Signal.status.not_in(_HIDDEN_STATUSES),
            )
            .options(joinedload(Signal.buurt), selectinload(Signal.themes))
            .order_by(Signal.created_at.desc(), Signal.id.desc())
            .limit(limit)
        )
    )


def photo_in_use(session: Session, name: str) -> bool:
    """Whether an active accountmanager's public profile shows this photo: the only photos
    the public photo route serves."""
    return (
        session.scalar(
            select(StaffProfile.user_id)
            .join(User, User.id == StaffProfile.user_id)
            .where(
                StaffProfile.photo_key == name,
                User.active.is_(True),
                User.role == Role.ACCOUNTMANAGER.value,
            )
        )
        is not None
    )
