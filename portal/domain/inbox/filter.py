"""What the user asked the inbox for, parsed leniently from the query string: a value that
makes no sense is ignored, so a hand-edited or old bookmark never breaks the page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from portal.domain.ids import parse_id
from portal.vocabulary import Channel, Kind, Status, SubmitterKind, Theme

SCOPES = ("mine", "all")
SORTS = ("newest", "oldest", "status", "wijk")
STATUS_GROUPS = ("open", "closed")
SATISFACTION = ("yes", "no")
NONE = "none"  # filter value: "not assigned" (owner) or "no wijk known" (wijk)
# The deadline filters, in the order the page shows them (portal/domain/inbox/deadlines.py).
DEADLINE_FILTERS = ("respond_late", "handle_late", "follow_up_due", "far_overdue")
FIGURE_FILTERS = (
    "responded_from",
    "responded_to",
    "closed_from",
    "closed_to",
    "open_on",
    "responded_in_time",
    "handled_in_time",
    "satisfied",
)
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 8
MAX_PAGE = 1_000_000
MIN_YEAR, MAX_YEAR = 1900, 2999

_WIJK_CODE = re.compile(r"WK\d{6}")
_BUURT_CODE = re.compile(r"BU\d{8}")
_TRUE_WORDS = frozenset({"1", "on", "true", "yes", "ja"})
_KINDS = frozenset(k.value for k in Kind)
_THEMES = frozenset(t.value for t in Theme)
_SUBMITTER_KINDS = frozenset(k.value for k in SubmitterKind)
_CHANNELS = frozenset(c.value for c in Channel)
STATUS_ORDER = {status.value: position for position, status in enumerate(Status)}


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
    submitter: str | None = None  # "Ingediend door": a SubmitterKind (resident, organisation)
    channel: str | None = None  # "Binnengekomen via": a Channel (web, phone, ..., schouw)
    # Older links: late in any way (response, handling, or the follow-up day has passed).
    overdue: bool = False
    open_question: bool = False
    reopen_requested: bool = False
    # An escalation waits for the functionary's answer / and its reply-by date has passed.
    escalation_open: bool = False
    escalation_overdue: bool = False
    respond_late: bool = False  # "reactie te laat"
    handle_late: bool = False  # "afhandeling te laat"
    follow_up_due: bool = False  # "opvolgen vandaag" (or earlier)
    far_overdue: bool = False  # "ver over tijd"
    created_from: date | None = None
    created_to: date | None = None
    # Behind a steering figure (portal/domain/steering): the first public response or the
    # closing within these days, open at the end of a day, and how it went.
    responded_from: date | None = None
    responded_to: date | None = None
    closed_from: date | None = None
    closed_to: date | None = None
    open_on: date | None = None
    responded_in_time: bool = False
    handled_in_time: bool = False
    satisfied: str | None = None  # "yes" | "no": the resident's latest answer
    q: str = ""
    sort: str = "newest"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, Any], *, default_scope: str = "mine") -> InboxFilter:
        """From query arguments (a MultiDict or any mapping). Never raises."""

        def get(name: str) -> str:
            value = args.get(name)
            return value.strip() if isinstance(value, str) else ""

        def ticked(name: str) -> bool:
            return get(name).lower() in _TRUE_WORDS

        scope = get("scope")
        status = get("status")
        kind = get("kind")
        theme = get("theme")
        wijk = get("wijk").upper()
        buurt = get("buurt").upper()
        submitter = get("submitter").lower()
        channel = get("channel").lower()
        return cls(
            scope=scope if scope in SCOPES else default_scope,
            status=status if status in STATUS_GROUPS or status in STATUS_ORDER else None,
            kind=kind if kind in _KINDS else None,
            theme=theme if theme in _THEMES else None,
            wijk=wijk if _WIJK_CODE.fullmatch(wijk) else (NONE if wijk == "NONE" else None),
            buurt=buurt if _BUURT_CODE.fullmatch(buurt) else None,
            owner=_parse_owner(get("owner")),
            submitter=submitter if submitter in _SUBMITTER_KINDS else None,
            channel=channel if channel in _CHANNELS else None,
            overdue=ticked("overdue"),
            open_question=ticked("open_question"),
            reopen_requested=ticked("reopen_requested"),
            escalation_open=ticked("escalation_open"),
            escalation_overdue=ticked("escalation_overdue"),
            respond_late=ticked("respond_late"),
            handle_late=ticked("handle_late"),
            follow_up_due=ticked("follow_up_due"),
            far_overdue=ticked("far_overdue"),
            created_from=_parse_date(get("created_from")),
            created_to=_parse_date(get("created_to")),
            responded_from=_parse_date(get("responded_from")),
            responded_to=_parse_date(get("responded_to")),
            closed_from=_parse_date(get("closed_from")),
            closed_to=_parse_date(get("closed_to")),
            open_on=_parse_date(get("open_on")),
            responded_in_time=ticked("responded_in_time"),
            handled_in_time=ticked("handled_in_time"),
            satisfied=get("satisfied") if get("satisfied") in SATISFACTION else None,
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
    def deadline_flags(self) -> dict[str, bool]:
        """Each deadline filter ("overdue" first) and whether it is ticked."""
        return {name: getattr(self, name) for name in ("overdue", *DEADLINE_FILTERS)}

    def without_deadlines(self) -> InboxFilter:
        """The same list without any deadline filter (what the deadline counts count in)."""
        return replace(self, overdue=False, **dict.fromkeys(DEADLINE_FILTERS, False))

    @property
    def figure_filters(self) -> dict[str, object]:
        """The filters only a steering figure's link sets (the inbox's form has no fields
        for them), with their values."""
        return {name: getattr(self, name) for name in FIGURE_FILTERS if getattr(self, name)}

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
