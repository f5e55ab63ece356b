"""Who may see which signal. Every signal is visible to all staff, except a sensitive one:
only its owner, admins and colleagues let in (SignalAccess) may open it or find it in any
list, search or count. While the owner is away, their stand-in may too: mail about the
owner's signals goes to the stand-in (notifications), and a care or youth-group case must
not wait weeks for someone who can open it.

Management does not see sensitive signals: they steer on figures (counts per wijk and theme,
later), not on the cases, and an APJ or care case is exactly the one that is shared on a need
to know. A later report counts them without showing them.

Every later list reuses these conditions: ``inbox_conditions`` for anything staff see
(exports included), ``public_conditions`` for anything the public sees (wijk pages, nearby
signals, Open311). The resident's own status page is theirs and stays."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from portal.domain.working_days import local_date
from portal.models import Absence, Role, Signal, SignalAccess, User
from portal.vocabulary import Kind


def _today(today: date | None) -> date:
    # The inbox passes its own "today" (Deadlines.today); a lone page view asks the clock.
    return today if today is not None else local_date(datetime.now(UTC))


def _covered_owners(user_id: int, today: date):  # type: ignore[no-untyped-def]
    """The owners ``user_id`` stands in for today."""
    return select(Absence.user_id).where(
        Absence.stand_in_id == user_id, Absence.starts_on <= today, Absence.ends_on >= today
    )


def inbox_conditions(user: User, today: date | None = None) -> list[ColumnElement[bool]]:
    """Extra WHERE conditions for every list, search and count of signals for ``user``."""
    if user.role == Role.ADMIN:
        return []
    if user.role != Role.ACCOUNTMANAGER:
        return [Signal.sensitive.is_(False)]
    let_in = select(SignalAccess.signal_id).where(SignalAccess.user_id == user.id)
    return [
        or_(
            Signal.sensitive.is_(False),
            Signal.owner_id == user.id,
            Signal.id.in_(let_in),
            Signal.owner_id.in_(_covered_owners(user.id, _today(today))),
        )
    ]


def public_conditions() -> list[ColumnElement[bool]]:
    """For anything other residents see (nearby lists, follow pages, wijk pages, alerts): a
    sensitive signal is never in it, nor an initiative its initiators kept off the wijk page."""
    return [
        Signal.sensitive.is_(False),
        or_(Signal.kind != Kind.INITIATIEF.value, Signal.public_display.is_(True)),
    ]


def is_public(signal: Signal) -> bool:
    """``public_conditions`` for one signal in hand."""
    return not signal.sensitive and (
        signal.kind != Kind.INITIATIEF.value or bool(signal.public_display)
    )


def can_open(session: Session, user: User, signal: Signal, today: date | None = None) -> bool:
    if not signal.sensitive:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.ACCOUNTMANAGER:
        return False
    if signal.owner_id == user.id or session.get(SignalAccess, (signal.id, user.id)) is not None:
        return True
    return signal.owner_id is not None and signal.owner_id in session.scalars(
        _covered_owners(user.id, _today(today))
    )


def let_in(session: Session, signal: Signal) -> list[User]:
    """The colleagues let into ``signal`` (besides its owner and admins), by name."""
    return list(
        session.scalars(
            select(User)
            .join(SignalAccess, SignalAccess.user_id == User.id)
            .where(SignalAccess.signal_id == signal.id)
            .order_by(User.name, User.id)
        )
    )
