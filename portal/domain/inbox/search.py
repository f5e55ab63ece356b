"""The inbox's queries: one page of signals with the counts per status and per deadline
filter. See the package docstring for the definitions and the statement budget."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, literal_column, or_, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from portal.domain import escalations, visibility
from portal.domain.inbox.counts import Counting, status_condition, tally
from portal.domain.inbox.deadlines import (
    Deadlines,
    deadline_conditions,
)
from portal.domain.inbox.filter import (
    NONE,
    InboxFilter,
)
from portal.domain.inbox.page import ListedSignal, page_rows
from portal.domain.inbox.text_search import text_conditions
from portal.models import (
    Escalation,
    ReopenRequest,
    SatisfactionSurvey,
    Signal,
    SignalTheme,
    User,
    Wijk,
    user_wijken,
)
from portal.vocabulary import CLOSED_STATUSES, Status

_CLOSED = tuple(s.value for s in CLOSED_STATUSES)


# --- the result -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    signal: ListedSignal
    age_days: int
    overdue: bool  # late in any way (the older mark)
    follow_up_due: bool
    reopen_requested: bool = False
    respond_late: bool = False
    handle_late: bool = False
    far_overdue: bool = False
    escalation_open: bool = False  # waits for a functionary's answer
    escalation_overdue: bool = False  # ... past its reply-by date
    organisation_name: str | None = None  # who sent it, when an organisation did


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int
    # Per status code, for the scope and every filter except the status filter.
    status_counts: dict[str, int] = field(default_factory=dict)
    page_size: int = 50
    # Per deadline filter (respond_late, ...), for the list without its deadline filters.
    deadline_counts: dict[str, int] = field(default_factory=dict)

    @property
    def open_count(self) -> int:
        return sum(n for code, n in self.status_counts.items() if code not in _CLOSED)

    @property
    def closed_count(self) -> int:
        return sum(n for code, n in self.status_counts.items() if code in _CLOSED)

    @property
    def all_count(self) -> int:
        return sum(self.status_counts.values())

    @property
    def first_index(self) -> int:
        """1-based position of the first row on this page (0 when there are none)."""
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.rows) - 1 if self.rows else 0

    def page_numbers(self, around: int = 2) -> list[int | None]:
        """The page links to show: first, last and a window round the current page; None
        marks a gap."""
        wanted = {1, self.pages, *range(self.page - around, self.page + around + 1)}
        shown = sorted(n for n in wanted if 1 <= n <= self.pages)
        result: list[int | None] = []
        for n in shown:
            if result and n - (result[-1] or 0) > 1:
                result.append(None)
            result.append(n)
        return result


# --- the queries ----------------------------------------------------------------------------


def search_signals(
    session: Session,
    user: User,
    flt: InboxFilter,
    page_size: int,
    *,
    deadlines: Deadlines,
    wijk_order: Sequence[str] | None = None,
) -> InboxPage:
    """One page of the inbox: the counts per status and per deadline filter, the page's rows
    (with owner, wijk and buurt joined in) and the themes of those rows. A page number past
    the end gives the last page. ``wijk_order``: the wijk codes by name when the caller has
    them already (the filter form's options), else they are read for sorting by wijk."""
    page_size = max(int(page_size), 1)
    my_wijken = read_my_wijken(session, user, flt)
    text = text_conditions(session, flt.q)  # the index asked once for the whole page
    conditions = _conditions(user, flt, deadlines, text, my_wijken)
    # Every count in one statement (counts.py): per status for the list without its status
    # filter, per deadline filter for the list without its deadline filters.
    plain = _conditions(user, flt.without_deadlines(), deadlines, text, my_wijken)
    counting = Counting(user, flt, deadlines, my_wijken, conditions, plain)
    counts, late_counts = tally(session.execute(union_all(*counting.selects())))
    total = sum(n for status, n in counts.items() if _status_matches(flt.status, status))
    pages = max(math.ceil(total / page_size), 1)
    page = min(flt.page, pages)
    found: list[tuple[ListedSignal, str | None]] = []
    if total:
        if flt.sort != "wijk":
            wijk_order = []
        elif wijk_order is None:
            wijk_order = _wijk_order(session)
        found = page_rows(
            session,
            [*conditions, *status_condition(flt.status)],
            sort=flt.sort,
            wijk_order=wijk_order,
            total=total,
            page=page,
            page_size=page_size,
            with_themes=deadlines.needs_themes,
        )
    marks = _page_marks(session, [s.id for s, _name in found], deadlines.today)
    rows = [
        InboxRow(
            signal=s,
            organisation_name=organisation_name,
            age_days=deadlines.age_days(s),
            overdue=deadlines.is_overdue(s),
            follow_up_due=deadlines.follow_up_due(s),
            reopen_requested=REOPEN in marks.get(s.id, ()),
            escalation_open=ESCALATION in marks.get(s.id, ()),
            escalation_overdue=ESCALATION_LATE in marks.get(s.id, ()),
            respond_late=deadlines.respond_late(s),
            handle_late=deadlines.handle_late(s),
            far_overdue=deadlines.far_overdue(s),
        )
        for s, organisation_name in found
    ]
    return InboxPage(
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        status_counts=counts,
        page_size=page_size,
        deadline_counts=late_counts,
    )


def list_conditions(
    session: Session,
    user: User,
    flt: InboxFilter,
    deadlines: Deadlines,
    *,
    my_wijken: Sequence[str] | None = None,
) -> list[ColumnElement[bool]]:
    """Exactly the signals the inbox lists for ``flt`` (every page, its status filter
    included), for other views of the same list (the map, the dashboard). ``my_wijken``:
    read_my_wijken's answer when the caller counts many lists of the same scope."""
    if my_wijken is None:
        my_wijken = read_my_wijken(session, user, flt)
    text = text_conditions(session, flt.q)
    return [*_conditions(user, flt, deadlines, text, my_wijken), *status_condition(flt.status)]


def list_count(
    session: Session,
    user: User,
    flt: InboxFilter,
    deadlines: Deadlines,
    *,
    my_wijken: Sequence[str] | None = None,
) -> int:
    """How many signals the list holds (every page), counted as the inbox's page counts
    it: per status from inbox_counts and the open-signal indexes where it can (counts.py),
    so a late count over a million signals sums a few thousand rows."""
    if my_wijken is None:
        my_wijken = read_my_wijken(session, user, flt)
    text = text_conditions(session, flt.q)
    conditions = _conditions(user, flt, deadlines, text, my_wijken)
    plain = _conditions(user, flt.without_deadlines(), deadlines, text, my_wijken)
    counting = Counting(user, flt, deadlines, my_wijken, conditions, plain)
    counts, _late = tally(session.execute(union_all(*counting.per_status())))
    return sum(n for status, n in counts.items() if _status_matches(flt.status, status))


def read_my_wijken(session: Session, user: User, flt: InboxFilter) -> list[str]:
    """The user's own wijken when the list's scope is 'mine' (else none are needed)."""
    if flt.scope != "mine":
        return []
    # As literal values rather than a subquery: then SQLite combines the owner and the wijk
    # index for "owner OR wijk" (MULTI-INDEX OR) instead of scanning the table.
    return list(
        session.scalars(
            select(user_wijken.c.wijk_code)
            .where(user_wijken.c.user_id == user.id)
            .order_by(user_wijken.c.wijk_code)
        )
    )


def _conditions(
    user: User,
    flt: InboxFilter,
    deadlines: Deadlines,
    text: Sequence[ColumnElement[bool]] = (),
    my_wijken: Sequence[str] = (),
) -> list[ColumnElement[bool]]:
    """Everything except the status filter (the counts per status ignore that one);
    ``text``: the free-text search's conditions (text_search.py), made once per page."""
    # Sensitive signals only for who may see them: in every list, search and count.
    where: list[ColumnElement[bool]] = visibility.inbox_conditions(user, deadlines.today)
    if flt.scope == "mine":
        mine = Signal.owner_id == user.id
        where.append(or_(mine, Signal.wijk_code.in_(my_wijken)) if my_wijken else mine)
    if flt.kind:
        where.append(Signal.kind == flt.kind)
    if flt.theme:
        has_theme = select(SignalTheme.signal_id).where(
            SignalTheme.signal_id == Signal.id, SignalTheme.theme == flt.theme
        )
        where.append(has_theme.exists())
    if flt.wijk == NONE:
        where.append(Signal.wijk_code.is_(None))
    elif flt.wijk:
        where.append(Signal.wijk_code == flt.wijk)
    if flt.buurt:
        where.append(Signal.buurt_code == flt.buurt)
    if flt.owner == NONE:
        where.append(Signal.owner_id.is_(None))
    elif isinstance(flt.owner, int):
        where.append(Signal.owner_id == flt.owner)
    # Not indexed: a row filter within whatever the other conditions select (bench/README.md).
    if flt.submitter:
        where.append(Signal.submitter_kind == flt.submitter)
    if flt.channel:
        where.append(Signal.channel == flt.channel)
    where.extend(deadline_conditions(flt.deadline_flags, deadlines))
    if flt.open_question:
        where.append(Signal.status == Status.AWAITING_RESIDENT.value)
    if flt.reopen_requested:
        where.append(Signal.id.in_(_pending_reopen_requests()))
    if flt.escalation_open:
        where.append(Signal.id.in_(_escalations(escalations.waiting_for_answer())))
    if flt.escalation_overdue:
        where.append(Signal.id.in_(_escalations(escalations.overdue(deadlines.today))))
    where.extend(_within(Signal.created_at, flt.created_from, flt.created_to, deadlines))
    where.extend(_within(Signal.responded_at, flt.responded_from, flt.responded_to, deadlines))
    where.extend(_within(Signal.closed_at, flt.closed_from, flt.closed_to, deadlines))
    if flt.open_on:
        # Came in by the end of that day and not closed then: open now, or closed since.
        end = deadlines.start_of(flt.open_on + timedelta(days=1))
        where.append(Signal.created_at < end)
        where.append(or_(Signal.closed_at.is_(None), Signal.closed_at >= end))
    if flt.responded_in_time:
        where.append(Signal.responded_in_time.is_(True))
    if flt.handled_in_time:
        where.append(Signal.handled_in_time.is_(True))
    if flt.satisfied:
        where.append(Signal.id.in_(_latest_answers(flt.satisfied == "yes")))
    where.extend(text)
    return where


def _within(
    column: InstrumentedAttribute[Any], first: date | None, last: date | None, deadlines: Deadlines
) -> list[ColumnElement[bool]]:
    """``column`` on one of the local days from ``first`` to ``last`` (either may be open)."""
    where = []
    if first:
        where.append(column >= deadlines.start_of(first))
    if last:
        where.append(column < deadlines.start_of(last + timedelta(days=1)))
    return where


def _latest_answers(satisfied: bool):  # type: ignore[no-untyped-def]
    """Signals whose resident answered "Bent u tevreden?" last with ``satisfied`` (a signal
    resolved twice may have two answers; the later one counts)."""
    later = aliased(SatisfactionSurvey)
    newer_answer = (
        select(later.id)
        .where(
            later.signal_id == SatisfactionSurvey.signal_id,
            later.answered_at.is_not(None),
            later.answered_at > SatisfactionSurvey.answered_at,
        )
        .exists()
    )
    return select(SatisfactionSurvey.signal_id).where(
        SatisfactionSurvey.satisfied.is_(satisfied), ~newer_answer
    )


def _pending_reopen_requests():  # type: ignore[no-untyped-def]
    # Few rows wait at any time, and decided_at is indexed: a small IN list, not a scan.
    return select(ReopenRequest.signal_id).where(ReopenRequest.decided_at.is_(None))


def _escalations(conditions: list[ColumnElement[bool]]):  # type: ignore[no-untyped-def]
    # Waiting escalations are few, and closed_at is indexed: a small IN list, as above.
    return select(Escalation.signal_id).where(*conditions)


REOPEN, ESCALATION, ESCALATION_LATE = "reopen", "escalation", "escalation_late"


def _page_marks(session: Session, signal_ids: list[int], today: date) -> dict[int, set[str]]:
    """Which of the page's signals wait for a reopen decision or for a functionary (and are
    past the reply-by date): one statement for the whole page."""
    if not signal_ids:
        return {}
    reopen = _pending_reopen_requests().add_columns(literal_column(f"'{REOPEN}'"))
    waiting = select(
        Escalation.signal_id,
        case(
            (Escalation.reply_by < today, literal_column(f"'{ESCALATION_LATE}'")),
            else_=literal_column(f"'{ESCALATION}'"),
        ),
    ).where(*escalations.waiting_for_answer())
    marks: dict[int, set[str]] = {}
    rows = session.execute(
        union_all(
            reopen.where(ReopenRequest.signal_id.in_(signal_ids)),
            waiting.where(Escalation.signal_id.in_(signal_ids)),
        )
    )
    for signal_id, mark in rows:
        marks.setdefault(signal_id, set()).add(mark)
        if mark == ESCALATION_LATE:
            marks[signal_id].add(ESCALATION)
    return marks


def _status_matches(wanted: str | None, status: str) -> bool:
    if wanted is None:
        return True
    if wanted == "open":
        return status not in _CLOSED
    if wanted == "closed":
        return status in _CLOSED
    return status == wanted


def _wijk_order(session: Session) -> list[str]:
    """Wijk codes in the order of their (admin-editable) names."""
    return list(session.scalars(select(Wijk.code).order_by(Wijk.name, Wijk.code)))
