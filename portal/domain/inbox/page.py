"""One page of the inbox's rows, in the inbox's order, from whichever end is nearer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.orm import Session, contains_eager, joinedload, load_only, selectinload

from portal.domain.inbox.filter import STATUS_ORDER
from portal.models import Reporter, Signal, User

# The columns of a signal the inbox's row uses (templates/backoffice/inbox.html) and its
# marks (InboxRow: deadlines.py). Another one the row starts to show goes here too, or each
# row would fetch it with a query of its own (tests/test_backoffice_inbox.py counts them).
SHOWN = (
    "id", "version", "reference", "title", "kind", "status", "wijk_code", "buurt_code",
    "owner_id", "submitter_kind", "location_flagged", "sensitive", "created_at",
    "responded_at", "respond_due_on", "handle_due_on", "follow_up_on",
)  # fmt: skip


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
) -> list[tuple[Signal, str | None]]:
    """Page ``page`` (1-based, at most the last) of the ``total`` signals ``conditions``
    select, with owner, wijk and buurt, each with the name of the organisation that sent
    it (None: a resident), and their themes when ``with_themes`` (a theme's own target
    decides "ver over tijd").

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
    options = [
        # What a row shows and its marks need, not the description and such.
        load_only(*(getattr(Signal, name) for name in SHOWN)),
        contains_eager(Signal.wijk),
        joinedload(Signal.buurt),
        joinedload(Signal.owner).load_only(User.name),  # not the password hash and such
    ]
    if with_themes:
        options.append(selectinload(Signal.themes))
    statement = (
        # The organisation's name for its mark, as a column of the same statement
        # (reporters.signal_id is unique): no reporter objects, none of the contact data.
        select(Signal, Reporter.organisation_name)
        .outerjoin(Signal.wijk)
        .outerjoin(Reporter, Reporter.signal_id == Signal.id)
        .where(Signal.id.in_(page_ids.correlate(None).scalar_subquery()))
        .order_by(*order(sort, wijk_order))
        .options(*options)
    )
    return [(signal, name) for signal, name in session.execute(statement)]


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
