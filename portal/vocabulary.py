"""The words of the domain as data: kinds, themes and statuses. Labels are Dutch source
texts; the web layer translates them (they are marked for extraction with ``N_``).

Shared by the models and the domain operations, so it sits below both (models never import
from ``portal.domain``)."""

from __future__ import annotations

from enum import StrEnum


def N_(text: str) -> str:
    """Marks a text for translation without translating it here (no Flask in the domain)."""
    return text


class Kind(StrEnum):
    KNELPUNT = "knelpunt"
    INITIATIEF = "initiatief"


class Theme(StrEnum):
    SCHOON = "schoon"
    HEEL = "heel"
    VEILIG = "veilig"
    SOCIAAL = "sociaal"


class Status(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    AWAITING_RESIDENT = "awaiting_resident"
    FORWARDED = "forwarded"
    PLANNED = "planned"
    RESOLVED = "resolved"
    DECLINED = "declined"
    REOPENED = "reopened"

    @property
    def is_open(self) -> bool:
        return self not in CLOSED_STATUSES


CLOSED_STATUSES = frozenset({Status.RESOLVED, Status.DECLINED})

KIND_LABELS = {
    Kind.KNELPUNT: N_("Een probleem in mijn buurt"),
    Kind.INITIATIEF: N_("Een idee of initiatief voor mijn buurt"),
}
KIND_NAMES = {Kind.KNELPUNT: N_("Knelpunt"), Kind.INITIATIEF: N_("Initiatief")}
# What residents call them (the form asks "a problem or an idea"): on their pages and mail.
RESIDENT_KIND_NAMES = {Kind.KNELPUNT: N_("Probleem"), Kind.INITIATIEF: N_("Initiatief")}
KIND_HINTS = {
    Kind.KNELPUNT: N_(
        "Er is iets mis in uw straat of wijk, bijvoorbeeld afval, een kapotte stoep of overlast."
    ),
    Kind.INITIATIEF: N_("U wilt zelf iets doen of organiseren en zoekt hulp van de gemeente."),
}
THEME_LABELS = {
    Theme.SCHOON: N_("Schoon"),
    Theme.HEEL: N_("Heel"),
    Theme.VEILIG: N_("Veilig"),
    Theme.SOCIAAL: N_("Sociaal"),
}
THEME_HINTS = {
    Theme.SCHOON: N_("afval, zwerfvuil"),
    Theme.HEEL: N_("kapotte stoep, verlichting, speeltoestel"),
    Theme.VEILIG: N_("onveilige plek, overlast"),
    Theme.SOCIAAL: N_("eenzaamheid, samen iets doen"),
}
STATUS_LABELS = {
    Status.RECEIVED: N_("Ontvangen"),
    Status.IN_PROGRESS: N_("In behandeling"),
    Status.AWAITING_RESIDENT: N_("Wacht op uw reactie"),
    Status.FORWARDED: N_("Doorgezet"),
    Status.PLANNED: N_("Ingepland"),
    Status.RESOLVED: N_("Afgehandeld"),
    Status.DECLINED: N_("Niet in behandeling"),
    Status.REOPENED: N_("Heropend"),
}
# Staff screens say whose turn it is in their own words.
STAFF_STATUS_LABELS = {**STATUS_LABELS, Status.AWAITING_RESIDENT: N_("Wacht op reactie bewoner")}


class Rung(StrEnum):
    """The participation ladder (DOMAIN.md): how much say the initiators have, lowest first."""

    INFORMEREN = "informeren"
    RAADPLEGEN = "raadplegen"
    ADVISEREN = "adviseren"
    COPRODUCEREN = "coproduceren"
    MEEBESLISSEN = "meebeslissen"
    ZELF_ORGANISEREN = "zelf_organiseren"


RUNG_LABELS = {
    Rung.INFORMEREN: N_("Informeren"),
    Rung.RAADPLEGEN: N_("Raadplegen"),
    Rung.ADVISEREN: N_("Adviseren"),
    Rung.COPRODUCEREN: N_("Coproduceren"),
    Rung.MEEBESLISSEN: N_("Meebeslissen"),
    Rung.ZELF_ORGANISEREN: N_("Zelf organiseren"),
}
# What the rung means for the initiators, in one plain sentence (their status page).
RUNG_MEANINGS = {
    Rung.INFORMEREN: N_("De gemeente houdt u op de hoogte van wat er gebeurt."),
    Rung.RAADPLEGEN: N_("De gemeente vraagt uw mening en neemt die mee in haar besluit."),
    Rung.ADVISEREN: N_(
        "U geeft de gemeente advies. De gemeente volgt dat advies, of legt uit waarom niet."
    ),
    Rung.COPRODUCEREN: N_("U en de gemeente werken het plan samen uit, als gelijke partners."),
    Rung.MEEBESLISSEN: N_("U beslist mee. De gemeente neemt het besluit samen met u."),
    Rung.ZELF_ORGANISEREN: N_(
        "U organiseert het zelf. De gemeente helpt waar dat nodig is, bijvoorbeeld met "
        "contacten, een ruimte of een klein budget."
    ),
}


class Channel(StrEnum):
    """How a signal reached Bureau Wijkzaken ("ogen en oren"): the public form, or staff who
    registered what they heard or saw."""

    WEB = "web"
    PHONE = "phone"
    EMAIL = "email"
    COUNTER = "counter"
    SOCIAL = "social"
    SCHOUW = "schouw"


CHANNEL_LABELS = {
    Channel.WEB: N_("Formulier op de website"),
    Channel.PHONE: N_("Telefoon"),
    Channel.EMAIL: N_("E-mail"),
    Channel.COUNTER: N_("Balie"),
    Channel.SOCIAL: N_("Sociale media"),
    Channel.SCHOUW: N_("Schouw"),
}
# What staff may choose when they register a signal themselves (never the web form).
STAFF_CHANNELS = tuple(c for c in Channel if c is not Channel.WEB)


class SubmitterKind(StrEnum):
    """Who brought the signal in: a resident, or an organisation or business. Kept on the
    signal itself, so the steering figures still have it after the contact data is gone."""

    RESIDENT = "resident"
    ORGANISATION = "organisation"


SUBMITTER_KIND_LABELS = {
    SubmitterKind.RESIDENT: N_("Inwoner"),
    SubmitterKind.ORGANISATION: N_("Organisatie of bedrijf"),
}


class GrantState(StrEnum):
    """A grant from a wijk budget. Above the approval threshold it waits for a second person
    (requested); only granted entries count as spent, requested ones are held back."""

    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


GRANT_STATE_LABELS = {
    GrantState.REQUESTED: N_("Aangevraagd"),
    GrantState.GRANTED: N_("Toegekend"),
    GrantState.REFUSED: N_("Afgewezen"),
    GrantState.WITHDRAWN: N_("Ingetrokken"),
}


class LinkKind(StrEnum):
    """How two signals belong together: related (both stay open), or one a duplicate of the
    other (it is declined and its resident pointed to the other's public page)."""

    RELATED = "related"
    DUPLICATE = "duplicate"


class DossierState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


DOSSIER_STATE_LABELS = {DossierState.OPEN: N_("Open"), DossierState.CLOSED: N_("Gesloten")}
