"""A signal (knelpunt or initiatief) with its themes, reporter, photos, status tokens and
timeline. Personal data lives only in Reporter, so it can be anonymised in one place."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Computed,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.geo import Buurt, Wijk
from portal.models.user import User
from portal.search_text import signal_search_text
from portal.vocabulary import Channel, SubmitterKind, Theme

if TYPE_CHECKING:
    from portal.models.dossiers import Dossier

THEME_ORDER = tuple(t.value for t in Theme)


def ordered_themes(codes: Iterable[str]) -> tuple[str, ...]:
    """In the order the form shows them (schoon, heel, veilig, sociaal); unknown ones last."""
    position = {code: i for i, code in enumerate(THEME_ORDER)}
    return tuple(sorted(codes, key=lambda code: position.get(code, len(position))))


# What the steering medians read besides the moment (portal/domain/steering/durations.py).
_DURATION_COLUMNS = ("sensitive", "status", "owner_id", "wijk_code", "kind", "buurt_code")


def _days_since_created(moment: str) -> str:
    return f"julianday({moment}) - julianday(created_at)"


class Signal(Base):
    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(30))

    lon: Mapped[float | None]
    lat: Mapped[float | None]
    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(7))
    wijk_code: Mapped[str | None] = mapped_column(ForeignKey("wijken.code"))
    buurt_code: Mapped[str | None] = mapped_column(ForeignKey("buurten.code"), index=True)
    location_source: Mapped[str] = mapped_column(String(20))
    # True when no wijk could be found: a person in the general inbox must place it.
    location_flagged: Mapped[bool] = mapped_column(default=False)
    # What other residents may see of it (nearby signals, the follow page): the title the
    # resident typed under a notice that neighbours see it, or one staff set. None: a
    # neutral title from its theme and buurt is shown instead (never the description).
    public_title: Mapped[str | None] = mapped_column(String(120))
    # An initiative whose initiators allowed it on the wijk page (opt-in on the form).
    public_display: Mapped[bool] = mapped_column(default=False)
    # An initiative's rung on the participation ladder (vocabulary.Rung); its history is in
    # ladder_steps. None: not placed yet (and always for a knelpunt).
    participation_rung: Mapped[str | None] = mapped_column(String(30))

    # How it came in (vocabulary.Channel) and, when staff registered it, who did.
    channel: Mapped[str] = mapped_column(
        String(20), default=Channel.WEB.value, server_default=Channel.WEB.value
    )
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A resident or an organisation (vocabulary.SubmitterKind): here, not in Reporter, so the
    # steering figures keep it after the contact data is anonymised.
    submitter_kind: Mapped[str] = mapped_column(
        String(20),
        default=SubmitterKind.RESIDENT.value,
        server_default=SubmitterKind.RESIDENT.value,
    )
    # The dossier that groups it with others (at most one).
    dossier_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossiers.id", ondelete="SET NULL"), index=True
    )

    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # "Vinger aan de pols": the day the owner wants to look at this signal again, and why.
    follow_up_on: Mapped[date | None] = mapped_column(index=True)
    follow_up_reason: Mapped[str | None] = mapped_column(String(200))
    # Targets in working days (casework deadlines), stored when created and when its kind or
    # themes change: the last day for the first public response and for handling.
    respond_due_on: Mapped[date | None] = mapped_column(index=True)
    handle_due_on: Mapped[date | None] = mapped_column(index=True)
    # The first public step by staff (None: nobody responded yet).
    responded_at: Mapped[datetime | None]
    # Whether that step, and the closing, came by their due date (in local days), kept when
    # they happen so that the steering figures count "within the target" with an index
    # range and a column, not a time-zone conversion per row. None: not (yet) known.
    responded_in_time: Mapped[bool | None]
    handled_in_time: Mapped[bool | None]
    # Since when it waits for the resident (handling time may pause meanwhile).
    awaiting_since: Mapped[datetime | None]
    # Only its owner, admins and colleagues let in (SignalAccess) may see a sensitive signal.
    sensitive: Mapped[bool] = mapped_column(default=False, index=True)
    sensitive_reason: Mapped[str | None] = mapped_column(Text)
    # The form's one-time key: a second POST of the same form finds this signal again.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When it last became resolved or declined (None while open): status links expire from it.
    closed_at: Mapped[datetime | None]
    # Days (with the fraction) from coming in to the first response and to the closing,
    # worked out by the database itself (generated columns the indexes below hold): the
    # steering medians sort these numbers from an index instead of converting two
    # timestamps per row. PostgreSQL's own expression is in migration c7d2e5f8a9b1.
    response_days: Mapped[float | None] = mapped_column(
        Float, Computed(_days_since_created("responded_at"))
    )
    handling_days: Mapped[float | None] = mapped_column(
        Float, Computed(_days_since_created("closed_at"))
    )
    # A notable case its accountmanager chose for the monthly report to the college: the
    # month's report (its first day) and a summary written for the public (no names, no
    # addresses); None: not chosen.
    highlight_summary: Mapped[str | None] = mapped_column(Text)
    highlight_month: Mapped[date | None] = mapped_column(index=True)
    # When the retention job removed the reporter's contact data and its copies in mail
    # (portal/domain/privacy/retention.py); None: not (yet).
    contact_data_removed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Raised whenever something the resident's status page shows changes besides the row
    # itself (its timeline, photos, grants, a linked signal, its owner's name): the page cache
    # keys on (version, page_version). Kept by portal/models/page_versions.py.
    page_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What the inbox's free-text search looks in (portal/search_text.py): the normalised
    # reference, title, address, description and organisation, never a person's contact
    # data. Written by the flush hook at the end of this module, indexed by migration
    # 07497610045f (SQLite FTS5 trigram table, PostgreSQL pg_trgm). Deferred: nothing in
    # Python reads it, so a loaded signal does not carry a second copy of its description.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)

    wijk: Mapped[Wijk | None] = relationship()
    buurt: Mapped[Buurt | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    registered_by: Mapped[User | None] = relationship(foreign_keys=[registered_by_id])
    dossier: Mapped[Dossier | None] = relationship(back_populates="signals")
    themes: Mapped[list[SignalTheme]] = relationship(
        cascade="all, delete-orphan", order_by="SignalTheme.theme"
    )
    reporter: Mapped[Reporter | None] = relationship(
        back_populates="signal", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        cascade="all, delete-orphan", order_by="Attachment.position"
    )
    events: Mapped[list[SignalEvent]] = relationship(
        cascade="all, delete-orphan", order_by="SignalEvent.id"
    )

    # Optimistic locking: a stale edit raises StaleDataError instead of overwriting.
    __mapper_args__ = {"version_id_col": version}
    # The inbox (portal/domain/inbox/, measured in bench/): counts per status within a wijk
    # or an owner's signals come from the index alone; "overdue" ('received' before a moment)
    # and sorting by status read (status, created_at) without touching the table; and the
    # inbox's order (created_at, id) is one index, so a deep page needs no sort (PostgreSQL).
    __table_args__ = (
        Index("ix_signals_created_at_id", "created_at", "id"),
        Index("ix_signals_status_created_at", "status", "created_at"),
        Index("ix_signals_wijk_code_status", "wijk_code", "status"),
        Index("ix_signals_owner_id_status", "owner_id", "status"),
        # Nearby signals: a bounding box on the point (lat range first, then lon).
        Index("ix_signals_lat_lon", "lat", "lon"),
        # The steering figures: responded and closed within a period (portal/domain/steering).
        # Partial on NOT NULL: a range on the column implies it, so both databases use them
        # there, while "not responded yet" (responded_at IS NULL) keeps the inbox's own
        # index over open signals instead of walking this one.
        # They hold what the medians of a period read (durations.py): the moment, what
        # visibility and the dashboard's selection test, and the days it took.
        *(
            Index(
                f"ix_signals_{moment}",
                moment,
                *_DURATION_COLUMNS,
                days,
                sqlite_where=text(f"{moment} IS NOT NULL"),
                postgresql_where=text(f"{moment} IS NOT NULL"),
            )
            for moment, days in (("responded_at", "response_days"), ("closed_at", "handling_days"))
        ),
    )

    @property
    def theme_codes(self) -> list[str]:
        """In the order the form shows them (schoon, heel, veilig, sociaal)."""
        return list(ordered_themes(t.theme for t in self.themes))

    @property
    def address_line(self) -> str:
        """'Kerkelandenlaan 12, 1216 AB', or as much of it as the resident gave."""
        street = " ".join(part for part in (self.street, self.house_number) if part)
        return ", ".join(part for part in (street, self.postcode) if part)

    def __repr__(self) -> str:
        return f"<Signal {self.reference} {self.status}>"


class SignalTheme(Base):
    __tablename__ = "signal_themes"

    signal_id: Mapped[int] = mapped_column(
        ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True
    )
    theme: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)


class Reporter(Base):
    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(
        ForeignKey("signals.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    may_contact: Mapped[bool] = mapped_column(default=False)
    may_share_with_partners: Mapped[bool] = mapped_column(default=False)
    # When an organisation or business submitted it: its name and (optionally) its KvK
    # number; ``name`` is then the contact person.
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    kvk_number: Mapped[str | None] = mapped_column(String(8))
    signal: Mapped[Signal] = relationship(back_populates="reporter")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    # Random file name under the upload folder; never the resident's own file name.
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    byte_size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Sent later with a resident's message (status page or mail reply); None: with the form.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("signal_events.id", ondelete="CASCADE"), index=True
    )


class StatusToken(Base):
    """Only a hash is stored: a leaked database does not open anyone's status page."""

    __tablename__ = "status_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignalEvent(Base):
    """One step on a signal's timeline; only ``is_public`` events reach the resident."""

    __tablename__ = "signal_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    is_public: Mapped[bool] = mapped_column(default=False)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    message: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author: Mapped[User | None] = relationship()
    # Where a resident's own message came from: "status_page" or "email" (None: staff).
    origin: Mapped[str | None] = mapped_column(String(20))
    attachments: Mapped[list[Attachment]] = relationship(
        order_by="Attachment.position", viewonly=True
    )

    @property
    def by_resident(self) -> bool:
        return self.origin is not None


class ReferenceCounter(Base):
    """The last number handed out per prefix and year; one row locked per increment."""

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)


# --- the search text, kept up to date in one place -------------------------------------------

# The columns signal_search_text reads; a change to any of them rewrites the search text.
SEARCHED_SIGNAL_COLUMNS = (
    "reference",
    "title",
    "street",
    "house_number",
    "postcode",
    "description",
)
SEARCHED_REPORTER_COLUMNS = ("organisation_name", "kvk_number")
_SIGNAL_SOURCES = (*SEARCHED_SIGNAL_COLUMNS, "reporter")
_REPORTER_SOURCES = (*SEARCHED_REPORTER_COLUMNS, "signal", "signal_id")


@event.listens_for(Session, "before_flush")
def _refresh_search_texts(session: Session, _context: object, _instances: object) -> None:
    """Every ORM write of a signal or its reporter passes here, whichever operation made it:
    a new signal, an edited title or address, an organisation renamed or its reporter
    removed. Only those signals are touched (their UPDATE is sent anyway, or is the change).
    Bulk inserts that bypass the ORM (bench/) call signal_search_text themselves."""
    # Signal -> the reporter whose organisation it carries (None: none; _ITS_OWN: whatever
    # signal.reporter is). A reporter added by its key alone (signal_id) is not on
    # signal.reporter yet, and a deleted one still is: so the reporter at hand decides.
    stale: dict[Signal, Reporter | object | None] = {}
    for instance in session.deleted:
        if isinstance(instance, Reporter):
            for signal in (_signal_of(session, instance), *_left_by(instance)):
                if signal is not None:
                    stale[signal] = None
    for instance in (*session.new, *session.dirty):
        if isinstance(instance, Reporter) and _changed(instance, _REPORTER_SOURCES):
            signal = _signal_of(session, instance)
            if signal is not None:
                stale[signal] = instance
            for left in _left_by(instance):  # a reporter moved to another signal (never, today)
                stale.setdefault(left, None)
    for instance in (*session.new, *session.dirty):
        if isinstance(instance, Signal) and _changed(instance, _SIGNAL_SOURCES):
            stale.setdefault(instance, _ITS_OWN)
    for signal, source in stale.items():
        if signal in session.deleted:
            continue
        reporter = signal.reporter if source is _ITS_OWN else source
        if not isinstance(reporter, Reporter) or _is_deleted(session, reporter):
            reporter = None
        text = signal_search_text(
            reference=signal.reference,
            title=signal.title,
            street=signal.street,
            house_number=signal.house_number,
            postcode=signal.postcode,
            description=signal.description,
            organisation_name=reporter.organisation_name if reporter is not None else None,
            kvk_number=reporter.kvk_number if reporter is not None else None,
        )
        # Deferred and not loaded: set it without reading the old value first.
        if "search_text" in inspect(signal).unloaded or signal.search_text != text:
            signal.search_text = text


_ITS_OWN = object()


def _is_deleted(session: Session, instance: object) -> bool:
    state = inspect(instance)
    return instance in session.deleted or state.deleted or state.was_deleted


def _changed(instance: object, names: tuple[str, ...]) -> bool:
    state = inspect(instance)
    if state.pending:
        return True
    return any(state.attrs[name].history.has_changes() for name in names)


def _signal_of(session: Session, reporter: Reporter) -> Signal | None:
    if reporter.signal is not None:
        return reporter.signal
    # Added by its key alone: a pending object does not load its relationship.
    return session.get(Signal, reporter.signal_id) if reporter.signal_id is not None else None


def _left_by(reporter: Reporter) -> list[Signal]:
    """The signal a reporter was taken from in this flush, if any."""
    return [
        s for s in inspect(reporter).attrs.signal.history.deleted or () if isinstance(s, Signal)
    ]
