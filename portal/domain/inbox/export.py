"""Every signal of an inbox list, for a CSV export: one statement, read in batches as the
file is written (``yield_per``: a server-side cursor on PostgreSQL, SQLite's own stepping),
so 100,000 rows never sit in memory together.

Without the reporter's personal data (name, email, phone, house number) unless the caller
asks for it; the organisation's name and KvK number are not a person's, and the signal page
shows them to every colleague too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from portal.domain.inbox.deadlines import Deadlines
from portal.domain.inbox.filter import InboxFilter
from portal.domain.inbox.search import list_conditions
from portal.models import Buurt, Reporter, Signal, SignalTheme, User, Wijk
from portal.models.signal import ordered_themes

BATCH = 1000


@dataclass(frozen=True, slots=True)
class ExportedSignal:
    reference: str
    kind: str
    themes: tuple[str, ...]  # codes, in the form's order
    title: str
    status: str
    wijk: str | None
    buurt: str | None
    street: str | None
    postcode: str | None
    submitter_kind: str
    channel: str
    organisation_name: str | None
    kvk_number: str | None
    owner: str | None
    created_at: datetime
    responded_at: datetime | None
    closed_at: datetime | None
    respond_due_on: date | None
    handle_due_on: date | None
    responded_in_time: bool | None
    handled_in_time: bool | None
    # Only when asked for (personal=True); None otherwise.
    house_number: str | None = None
    reporter_name: str | None = None
    reporter_email: str | None = None
    reporter_phone: str | None = None


def exported_signals(
    session: Session,
    user: User,
    flt: InboxFilter,
    deadlines: Deadlines,
    *,
    personal: bool = False,
) -> Iterator[ExportedSignal]:
    """The list ``flt`` gives this user (every page of it), oldest first."""
    owner = aliased(User)
    themes = (
        select(func.aggregate_strings(SignalTheme.theme, ","))
        .where(SignalTheme.signal_id == Signal.id)
        .scalar_subquery()
    )
    query = (
        select(
            Signal.reference,
            Signal.kind,
            themes,
            Signal.title,
            Signal.status,
            Wijk.name,
            Buurt.name,
            Signal.street,
            Signal.postcode,
            Signal.submitter_kind,
            Signal.channel,
            Reporter.organisation_name,
            Reporter.kvk_number,
            owner.name,
            Signal.created_at,
            Signal.responded_at,
            Signal.closed_at,
            Signal.respond_due_on,
            Signal.handle_due_on,
            Signal.responded_in_time,
            Signal.handled_in_time,
            # Not even read unless asked for.
            *(
                (Signal.house_number, Reporter.name, Reporter.email, Reporter.phone)
                if personal
                else ()
            ),
        )
        .outerjoin(Wijk, Wijk.code == Signal.wijk_code)
        .outerjoin(Buurt, Buurt.code == Signal.buurt_code)
        .outerjoin(owner, owner.id == Signal.owner_id)
        .outerjoin(Reporter, Reporter.signal_id == Signal.id)
        .where(*list_conditions(session, user, flt, deadlines))
        .order_by(Signal.created_at, Signal.id)
        .execution_options(yield_per=BATCH)
    )
    for row in session.execute(query):
        reference, kind, theme_list, *rest = row
        codes = tuple(ordered_themes(theme_list.split(","))) if theme_list else ()
        yield ExportedSignal(reference, kind, codes, *rest)
