"""What the inbox's filter form offers, and where each role starts."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Buurt, Role, User, Wijk
from portal.vocabulary import CHANNEL_LABELS, SUBMITTER_KIND_LABELS

# (value, label to translate) - fixed lists from the vocabulary, no query.
SUBMITTER_KIND_CHOICES = [(kind.value, label) for kind, label in SUBMITTER_KIND_LABELS.items()]
CHANNEL_CHOICES = [(channel.value, label) for channel, label in CHANNEL_LABELS.items()]


@dataclass(frozen=True)
class FilterOptions:
    wijken: list[tuple[str, str]]  # (code, name)
    buurten: list[tuple[str, list[tuple[str, str]]]]  # (wijk name, [(buurt code, name)])
    owners: list[tuple[int, str, bool]]  # (id, name, active)
    # "Ingediend door" and "Binnengekomen via": (value, label); the template translates.
    submitter_kinds: list[tuple[str, str]] = field(
        default_factory=lambda: list(SUBMITTER_KIND_CHOICES)
    )
    channels: list[tuple[str, str]] = field(default_factory=lambda: list(CHANNEL_CHOICES))


def filter_options(session: Session) -> FilterOptions:
    """Wijken with their buurten (one query) and the people who can own signals (one query)."""
    rows = session.execute(
        select(Wijk.code, Wijk.name, Buurt.code, Buurt.name)
        .outerjoin(Buurt, Buurt.wijk_code == Wijk.code)
        .order_by(Wijk.name, Wijk.code, Buurt.name)
    ).all()
    wijken: list[tuple[str, str]] = []
    buurten: dict[str, list[tuple[str, str]]] = {}
    for wijk_code, wijk_name, buurt_code, buurt_name in rows:
        if not wijken or wijken[-1][0] != wijk_code:
            wijken.append((wijk_code, wijk_name))
            buurten[wijk_code] = []
        if buurt_code is not None:
            buurten[wijk_code].append((buurt_code, buurt_name))
    owners = session.execute(
        select(User.id, User.name, User.active)
        .where(User.role.in_((Role.ADMIN.value, Role.ACCOUNTMANAGER.value)))
        .order_by(User.active.desc(), User.name)
    ).all()
    return FilterOptions(
        wijken=wijken,
        buurten=[(name, buurten[code]) for code, name in wijken if buurten[code]],
        owners=[(uid, name, active) for uid, name, active in owners],
    )


def default_scope(user: User) -> str:
    """Accountmanagers start with their own signals; admins and management with all."""
    return "mine" if user.role == Role.ACCOUNTMANAGER else "all"
