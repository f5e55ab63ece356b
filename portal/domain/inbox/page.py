"""One page of the inbox's rows, in the inbox's order, from whichever end is nearer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.orm import Session

from portal.domain.inbox.filter import STATUS_ORDER
from portal.models import Buurt, Reporter, Signal, SignalTheme, User, Wijk
from portal.models.signal import ordered_themes

# The columns of a signal the inbox's row uses (templates/backoffice/inbox.html) and its
# marks (InboxRow: deadlines.py); a row that starts to show another one adds it here and to
# ListedSignal.
SHOWN = (
    "id", "version", "reference", "title", "kind", "status", "wijk_code", "buurt_code",
    "owner_id", "submitter_kind", "location_flagged", "sensitive", "created_at",
    "responded_at", "respond_due_on", "handle_due_on", "follow_up_on",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Named:
    name: str


@dataclass(frozen=True, slots=True)
class ListedSignal:
    """A signal as its inbox row shows it: plain values, not a mapped Signal. Loading fifty
    Signals with their wijk, buurt and owner cost 70 µs a row, most of a page at a million
    signals (bench/README.md, "The inbox"); these are read as columns of one statement."""

    id: int
    version: int
    reference: str
    title: str
    kind: str
    status: str
    wijk_code: str | None
    buurt_code: str | None
    owner_id: int | None
    submitter_kind: str
    location_flagged: bool
    sensitive: bool
    created_at: datetime
    responded_at: datetime | None
    respond_due_on: date | None
    handle_due_on: date | None
    follow_up_on: date | None
    wijk: Named | None
    buurt: Named | None
    owner: Named | None
    theme_codes: tuple[str, ...]  # in the form's order; only when the page needs them


def page_rows(
    session: Session,
    conditions: list[ColumnElement[bool]],
    *,
    sort: str,
    wijk_order: Sequence[str],
    total: int,
    page: int,
    page_size: int,
    with_themes: bool,
) -> list[tuple[ListedSignal, str | None]]:
    """Page ``page`` (1-based, at most the last) of the ``total`` signals ``conditions``
    select, with the names of their owner, wijk and buurt, each with the name of the
    organisation that sent it (None: a resident), and their themes when ``with_themes`` (a
    theme's own target decides "ver over tijd").

    A page in the second half is read from the other end of the order: the last page of a
    million signals skips a few rows instead of 999,950 (the same rows: the order is total,
    it ends with the id). "Deferred join": the page's ids first (from an index where
    possible), then only those rows with their relations, so a deep page joins nothing it
    skips."""
    skip = (page - 1) * page_size
    rows_here = min(page_size, total - skip)
    from_the_end = total - skip - rows_here
    backwards = from_the_end < skip
    page_ids = (
        select(Signal.id)
        .where(*conditions)
        .order_by(*order(sort, wijk_order, backwards=backwards))
        .limit(rows_here)
        .offset(from_the_end if backwards else skip)
    )
    statement = (
        # The organisation's name for its mark comes along (reporters.signal_id is unique):
        # none of the contact data.
        select(
            *(getattr(Signal, name) for name in SHOWN),
            Wijk.name,
            Buurt.name,
            User.name,
            Reporter.organisation_name,
        )
        .outerjoin(Wijk, Wijk.code == Signal.wijk_code)
        .outerjoin(Buurt, Buurt.code == Signal.buurt_code)
        .outerjoin(User, User.id == Signal.owner_id)
        .outerjoin(Reporter, Reporter.signal_id == Signal.id)
        .where(Signal.id.in_(page_ids.correlate(None).scalar_subquery()))
        .order_by(*order(sort, wijk_order))
    )
    rows = session.execute(statement).all()
    themes = _themes(session, [row[0] for row in rows]) if with_themes and rows else {}
    shown = len(SHOWN)
    found = []
    for row in rows:
        wijk, buurt, owner, organisation_name = row[shown:]
        signal = ListedSignal(
            **dict(zip(SHOWN, row[:shown], strict=True)),
            wijk=Named(wijk) if wijk is not None else None,
            buurt=Named(buurt) if buurt is not None else None,
            owner=Named(owner) if owner is not None else None,
            theme_codes=themes.get(row[0], ()),
        )
        found.append((signal, organisation_name))
    return found


def _themes(session: Session, signal_ids: list[int]) -> dict[int, tuple[str, ...]]:
    by_signal: dict[int, list[str]] = {}
    for signal_id, theme in session.execute(
        select(SignalTheme.signal_id, SignalTheme.theme).where(
            SignalTheme.signal_id.in_(signal_ids)
        )
    ):
        by_signal.setdefault(signal_id, []).append(theme)
    return {signal_id: ordered_themes(codes) for signal_id, codes in by_signal.items()}


def order(sort: str, wijk_order: Sequence[str] = (), *, backwards: bool = False) -> list[Any]:
    """The inbox's order (``backwards``: the same order reversed, for reading a page from the
    other end). It always ends with the id, so it is total."""
    newest: list[tuple[Any, bool]] = [(Signal.created_at, True), (Signal.id, True)]
    if sort == "oldest":
        terms = [(Signal.created_at, False), (Signal.id, False)]
    elif sort == "status":  # in the order of the status model, not alphabetically
        terms = [(case(STATUS_ORDER, value=Signal.status, else_=len(STATUS_ORDER)), False)]
        terms += newest
    elif sort == "wijk" and wijk_order:
        # By wijk name, signals without a wijk last. A CASE over the codes sorts without
        # joining every row to its wijk (four times faster on SQLite with 100,000 signals).
        positions = {code: position for position, code in enumerate(wijk_order)}
        terms = [(case(positions, value=Signal.wijk_code, else_=len(positions)), False)]
        terms += newest
    else:
        terms = newest
    return [term.desc() if descending != backwards else term.asc() for term, descending in terms]
