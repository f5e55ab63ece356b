"""The back-office inbox: which signals a staff member sees, filtered, searched, sorted and paged.

Plain Python (no Flask): the view parses the query string into an :class:`InboxFilter`, calls
:func:`search_signals` and renders what comes back. Everything a filter can do lives in the URL,
so a filtered inbox can be bookmarked and the back button works.

Definitions used here:

* **Mine** - signals owned by the user, or lying in one of the user's wijken.
* **Open** - every status except ``resolved`` and ``declined`` (DESIGN.md).
* **Has an open question** - status ``awaiting_resident``.
* **Reopen request** - the resident said they are not satisfied and the owner has not yet
  decided (reopen, or keep it closed with an explanation).
* **Overdue** - an open signal that either
  (a) still has status ``received`` more than ``RESPONSE_WORKING_DAYS`` working days after it was
  created (the promise in the confirmation mail), or
  (b) has a follow-up date ("vinger aan de pols") before today.
  Working days are Monday to Friday in the portal's time zone; public holidays are not
  counted (an approximation: around Easter or Christmas a signal shows up as overdue a day
  early). The caller passes the moment in (:class:`Deadlines`), so the domain never reads the
  clock.

Performance (measured in ``bench/``): one grouped query gives the count per status (the total
is derived from it), one query gives the page of rows with owner, wijk and buurt joined in,
and one more loads the themes of those rows, one more which of them wait for a reopen decision.
'Mine' first reads the user's wijk codes, sorting by wijk first reads the wijken's order: at
most six statements, whatever the page size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from portal.domain import visibility
from portal.domain.geography import normalise_postcode
from portal.domain.ids import parse_id
from portal.models import (
    Buurt,
    ReopenRequest,
    Role,
    Signal,
    SignalTheme,
    User,
    Wijk,
    user_wijken,
)
from portal.vocabulary import CLOSED_STATUSES, Kind, Status, Theme

SCOPES = ("mine", "all")
SORTS = ("newest", "oldest", "status", "wijk")
STATUS_GROUPS = ("open", "closed")
NONE = "none"  # filter value: "not assigned" (owner) or "no wijk known" (wijk)
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 8
MAX_PAGE = 1_000_000
MIN_YEAR, MAX_YEAR = 1900, 2999

_WIJK_CODE = re.compile(r"WK\d{6}")
_BUURT_CODE = re.compile(r"BU\d{8}")
_REFERENCE = re.compile(r"[A-Za-z]{1,10}-\d{4}-\d{6}")
_TRUE_WORDS = frozenset({"1", "on", "true", "yes", "ja"})
_CLOSED = tuple(s.value for s in CLOSED_STATUSES)
_KINDS = frozenset(k.value for k in Kind)
_THEMES = frozenset(t.value for t in Theme)
_STATUS_ORDER = {status.value: position for position, status in enumerate(Status)}


# --- the filter -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxFilter:
    """What the user asked for. Parsed leniently: a value that makes no sense is ignored."""

    scope: str = "mine"
    status: str | None = None  # "open", "closed", a status code, or None for every status
    kind: str | None = None
    theme: str | None = None
    wijk: str | None = None  # a CBS wijk code, or NONE for "no wijk known"
    buurt: str | None = None
    owner: int | str | None = None  # a user id, or NONE for "not assigned"
    overdue: bool = False
    open_question: bool = False
    reopen_requested: bool = False
    created_from: date | None = None
    created_to: date | None = None
    q: str = ""
    sort: str = "newest"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, Any], *, default_scope: str = "mine") -> InboxFilter:
        """From query arguments (a MultiDict or any mapping). Never raises."""

        def get(name: str) -> str:
            value = args.get(name)
            return value.strip() if isinstance(value, str) else ""

        scope = get("scope")
        status = get("status")
        kind = get("kind")
        theme = get("theme")
        wijk = get("wijk").upper()
        buurt = get("buurt").upper()
        return cls(
            scope=scope if scope in SCOPES else default_scope,
            status=status if status in STATUS_GROUPS or status in _STATUS_ORDER else None,
            kind=kind if kind in _KINDS else None,
            theme=theme if theme in _THEMES else None,
            wijk=wijk if _WIJK_CODE.fullmatch(wijk) else (NONE if wijk == "NONE" else None),
            buurt=buurt if _BUURT_CODE.fullmatch(buurt) else None,
            owner=_parse_owner(get("owner")),
            overdue=get("overdue").lower() in _TRUE_WORDS,
            open_question=get("open_question").lower() in _TRUE_WORDS,
            reopen_requested=get("reopen_requested").lower() in _TRUE_WORDS,
            created_from=_parse_date(get("created_from")),
            created_to=_parse_date(get("created_to")),
            q=_parse_query(get("q")),
            sort=get("sort") if get("sort") in SORTS else "newest",
            page=_parse_page(get("page")),
        )

    def to_args(self, **changes: Any) -> dict[str, str]:
        """Query arguments that give this filter back (defaults left out), for links."""
        flt = replace(self, **changes) if changes else self
        args: dict[str, str] = {}
        for f in fields(flt):
            value = getattr(flt, f.name)
            if f.name == "scope":
                args["scope"] = value  # always explicit: the default differs per role
            elif value == f.default or value is None or value == "":
                continue
            elif isinstance(value, bool):
                args[f.name] = "1"
            elif isinstance(value, date):
                args[f.name] = value.isoformat()
            else:
                args[f.name] = str(value)
        return args

    @property
    def is_filtered(self) -> bool:
        """True when anything narrows the list beyond the scope."""
        return any(
            getattr(self, f.name) != f.default
            for f in fields(self)
            if f.name not in {"scope", "sort", "page"}
        )


def _parse_owner(raw: str) -> int | str | None:
    if raw.lower() == NONE:
        return NONE
    return parse_id(raw)


def _parse_query(raw: str) -> str:
    # Control characters (a NUL would make PostgreSQL refuse the query) become spaces.
    cleaned = "".join(c if c.isprintable() else " " for c in raw)
    return " ".join(cleaned.split())[:MAX_QUERY_LENGTH].strip()


def _parse_date(raw: str) -> date | None:
    if len(raw) != 10:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    # Far-off years are typing errors, and near year 1 or 9999 time zone maths overflows.
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def _parse_page(raw: str) -> int:
    if raw.isascii() and raw.isdigit() and len(raw) <= 7:
        return min(max(int(raw), 1), MAX_PAGE)
    return 1


# --- deadlines ------------------------------------------------------------------------------


def subtract_working_days(moment: datetime, days: int, tz: tzinfo) -> datetime:
    """The moment ``days`` working days (Mon-Fri, holidays not counted) before ``moment``, at
    the same wall-clock time in ``tz``."""
    local = moment.astimezone(tz)
    remaining = days
    while remaining > 0:
        local -= timedelta(days=1)
        if local.weekday() < 5:
            remaining -= 1
    return local.astimezone(UTC)


@dataclass(frozen=True)
class Deadlines:
    """'Now' as the inbox needs it: today's date and the response deadline's cutoff."""

    now: datetime
    today: date
    response_cutoff: datetime  # a 'received' signal created before this is overdue
    tz: tzinfo = UTC

    @classmethod
    def at(cls, now: datetime, response_working_days: int, tz: tzinfo = UTC) -> Deadlines:
        return cls(
            now=now,
            today=now.astimezone(tz).date(),
            response_cutoff=subtract_working_days(now, response_working_days, tz),
            tz=tz,
        )

    def start_of(self, day: date) -> datetime:
        """Midnight at the start of ``day`` in the portal's time zone, as UTC."""
        return datetime.combine(day, time.min, tzinfo=self.tz).astimezone(UTC)

    def is_overdue(self, signal: Signal) -> bool:
        """The same rule as the SQL condition in :func:`_overdue`, for one loaded signal."""
        if signal.status in _CLOSED:
            return False
        late_reply = signal.status == Status.RECEIVED and signal.created_at < self.response_cutoff
        return late_reply or self.follow_up_due(signal, strict=True)

    def follow_up_due(self, signal: Signal, *, strict: bool = False) -> bool:
        """The follow-up day has come (``strict``: has passed)."""
        if signal.follow_up_on is None:
            return False
        return signal.follow_up_on < self.today if strict else signal.follow_up_on <= self.today

    def age_days(self, signal: Signal) -> int:
        return max((self.today - signal.created_at.astimezone(self.tz).date()).days, 0)


# --- the result -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    signal: Signal
    age_days: int
    overdue: bool
    follow_up_due: bool
    reopen_requested: bool = False


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int
    # Per status code, for the scope and every filter except the status filter.
    status_counts: dict[str, int] = field(default_factory=dict)
    page_size: int = 50

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
    session: Session, user: User, flt: InboxFilter, page_size: int, *, deadlines: Deadlines
) -> InboxPage:
    """One page of the inbox: the counts per status, the page's rows (with owner, wijk and buurt
    joined in) and the themes of those rows; see the module docstring for the definitions.
    A page number past the end gives the last page."""
    page_size = max(int(page_size), 1)
    dialect = session.get_bind().dialect.name
    my_wijken: list[str] = []
    if flt.scope == "mine":
        # As literal values rather than a subquery: then SQLite combines the owner and the
        # wijk index for "owner OR wijk" (MULTI-INDEX OR) instead of scanning the table.
        my_wijken = list(
            session.scalars(
                select(user_wijken.c.wijk_code)
                .where(user_wijken.c.user_id == user.id)
                .order_by(user_wijken.c.wijk_code)
            )
        )
    conditions = _conditions(user, flt, deadlines, dialect, my_wijken)
    # Grouping by the bare column makes SQLite walk the status index to skip a sort, fetching
    # every row from the table on the way: four times slower than a plain scan once a filter
    # applies (bench/README.md). An expression hides the index; unfiltered, the index wins.
    key = Signal.status.concat(literal_column("''")) if conditions else Signal.status
    counted = session.execute(
        select(key.label("status"), func.count()).where(*conditions).group_by(key)
    ).all()
    counts = {status.value: 0 for status in Status}
    counts.update({status: n for status, n in counted})
    total = sum(n for status, n in counts.items() if _status_matches(flt.status, status))
    pages = max(math.ceil(total / page_size), 1)
    page = min(flt.page, pages)
    signals: list[Signal] = []
    if total:
        order = _order(flt.sort, _wijk_order(session) if flt.sort == "wijk" else [])
        # "Deferred join": pick the page's ids first (index-only where possible), then load
        # only those rows with their relations, so a deep page does not join every row it skips.
        page_ids = (
            select(Signal.id)
            .where(*conditions, *_status_condition(flt.status))
            .order_by(*order)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        statement = (
            select(Signal)
            .outerjoin(Signal.wijk)
            .where(Signal.id.in_(page_ids.correlate(None).scalar_subquery()))
            .order_by(*order)
            .options(
                contains_eager(Signal.wijk),
                joinedload(Signal.buurt),
                joinedload(Signal.owner),
                selectinload(Signal.themes),
            )
        )
        signals = list(session.scalars(statement).unique())
    waiting = _waiting_for_reopen_decision(session, [s.id for s in signals])
    rows = [
        InboxRow(
            signal=s,
            age_days=deadlines.age_days(s),
            overdue=deadlines.is_overdue(s),
            follow_up_due=deadlines.follow_up_due(s),
            reopen_requested=s.id in waiting,
        )
        for s in signals
    ]
    return InboxPage(
        rows=rows, total=total, page=page, pages=pages, status_counts=counts, page_size=page_size
    )


def _conditions(
    user: User,
    flt: InboxFilter,
    deadlines: Deadlines,
    dialect: str = "sqlite",
    my_wijken: Sequence[str] = (),
) -> list[ColumnElement[bool]]:
    """Everything except the status filter (the counts per status ignore that one)."""
    # Sensitive signals only for who may see them: in every list, search and count.
    where: list[ColumnElement[bool]] = visibility.inbox_conditions(user)
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
    if flt.overdue:
        where.append(_overdue(deadlines))
    if flt.open_question:
        where.append(Signal.status == Status.AWAITING_RESIDENT.value)
    if flt.reopen_requested:
        where.append(Signal.id.in_(_pending_reopen_requests()))
    if flt.created_from:
        where.append(Signal.created_at >= deadlines.start_of(flt.created_from))
    if flt.created_to:
        where.append(Signal.created_at < deadlines.start_of(flt.created_to + timedelta(days=1)))
    where.extend(_search(flt.q, dialect))
    return where


def _pending_reopen_requests():  # type: ignore[no-untyped-def]
    # Few rows wait at any time, and decided_at is indexed: a small IN list, not a scan.
    return select(ReopenRequest.signal_id).where(ReopenRequest.decided_at.is_(None))


def _waiting_for_reopen_decision(session: Session, signal_ids: list[int]) -> set[int]:
    if not signal_ids:
        return set()
    return set(
        session.scalars(_pending_reopen_requests().where(ReopenRequest.signal_id.in_(signal_ids)))
    )


def _overdue(deadlines: Deadlines) -> ColumnElement[bool]:
    late_reply = and_(
        Signal.status == Status.RECEIVED.value, Signal.created_at < deadlines.response_cutoff
    )
    follow_up_passed = Signal.follow_up_on < deadlines.today
    return and_(Signal.status.not_in(_CLOSED), or_(late_reply, follow_up_passed))


def _search(q: str, dialect: str) -> list[ColumnElement[bool]]:
    """Every word must occur in the reference, title, address or description. Case does not
    matter (SQLite: for ASCII letters only), and % and _ are taken literally."""
    where: list[ColumnElement[bool]] = []
    for word in q.split()[:MAX_QUERY_WORDS]:
        if _REFERENCE.fullmatch(word):
            # A whole reference number: the unique index finds it, no scan needed.
            where.append(Signal.reference == word.upper())
            continue
        pattern = "%" + word.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        columns = (  # cheap columns first: OR stops at the first match
            Signal.title,
            Signal.street,
            Signal.postcode,
            Signal.house_number,
            Signal.reference,
            Signal.description,
        )
        if dialect == "postgresql":
            matches = [column.ilike(pattern, escape="/") for column in columns]
        else:
            # SQLite's LIKE already ignores ASCII case; lower() would only copy every text.
            matches = [column.like(pattern, escape="/") for column in columns]
        postcode = normalise_postcode(word)
        if postcode and " " not in word:  # "1216ab" finds "1216 AB"
            matches.append(Signal.postcode == postcode)
        where.append(or_(*matches))
    return where


def _status_matches(wanted: str | None, status: str) -> bool:
    if wanted is None:
        return True
    if wanted == "open":
        return status not in _CLOSED
    if wanted == "closed":
        return status in _CLOSED
    return status == wanted


def _status_condition(wanted: str | None) -> list[ColumnElement[bool]]:
    if wanted is None:
        return []
    if wanted == "open":
        return [Signal.status.not_in(_CLOSED)]
    if wanted == "closed":
        return [Signal.status.in_(_CLOSED)]
    return [Signal.status == wanted]


def _order(sort: str, wijk_order: Sequence[str] = ()) -> list[Any]:
    newest = [Signal.created_at.desc(), Signal.id.desc()]
    if sort == "oldest":
        return [Signal.created_at.asc(), Signal.id.asc()]
    if sort == "status":  # in the order of the status model, not alphabetically
        return [case(_STATUS_ORDER, value=Signal.status, else_=len(_STATUS_ORDER)), *newest]
    if sort == "wijk" and wijk_order:
        # By wijk name, signals without a wijk last. A CASE over the codes sorts without
        # joining every row to its wijk (four times faster on SQLite with 100,000 signals).
        positions = {code: position for position, code in enumerate(wijk_order)}
        return [case(positions, value=Signal.wijk_code, else_=len(positions)), *newest]
    return newest


def _wijk_order(session: Session) -> list[str]:
    """Wijk codes in the order of their (admin-editable) names."""
    return list(session.scalars(select(Wijk.code).order_by(Wijk.name, Wijk.code)))


# --- what the filter form offers ------------------------------------------------------------


@dataclass(frozen=True)
class FilterOptions:
    wijken: list[tuple[str, str]]  # (code, name)
    buurten: list[tuple[str, list[tuple[str, str]]]]  # (wijk name, [(buurt code, name)])
    owners: list[tuple[int, str, bool]]  # (id, name, active)


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


__all__ = [
    "Deadlines",
    "FilterOptions",
    "InboxFilter",
    "InboxPage",
    "InboxRow",
    "default_scope",
    "filter_options",
    "search_signals",
    "subtract_working_days",
]
