"""The public wijk thermometer: per wijk, over the last twelve whole months, how many signals
came in per theme, the share closed within the target, the median handling time and how many
initiatives got support from the wijk budget - for residents, at /cijfers and on each wijk
page.

Privacy first: sensitive signals are never counted, nothing about a single signal or person
is shown, and a count under ``MINIMUM`` (five) is never shown - it is stored and shown as
"fewer than five" (None). A share and a median are shown only when at least five signals
were closed. The city's total of a column is left out as well when a wijk's number in it is:
the total less the other wijken would give it away.

``jobs run`` (``refresh_when_due``) works the figures out once the months move on, with a
few aggregate queries - from ``steering_counts`` where it can, the rest grouped by the
database, the medians sorted by it - and stores them (``ThermometerSnapshot``); a page reads
that one row, at a thousand signals as at a million."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.domain.steering.period import Period
from portal.domain.working_days import LOCAL_TIMEZONE, local_date
from portal.models import (
    Grant,
    Signal,
    SignalTheme,
    SteeringCount,
    ThermometerSnapshot,
    WijkBudget,
)
from portal.models.inbox_counts import CLOSED, NO_WIJK
from portal.models.steering_counts import CAME_IN, CLOSED_EVENT
from portal.vocabulary import GrantState, Theme

MINIMUM = 5  # the smallest count shown; anything under it is "fewer than five"
# The stored figures' shape: a snapshot of another shape (older code) is worked out again.
FORMAT = 1
MONTHS = 12
CITY = ""  # the key of the whole city's figures


@dataclass(frozen=True)
class Figures:
    """One wijk's (or the city's) figures; None where the number is too small to show."""

    received: int | None
    themes: dict[str, int | None]
    closed: int | None
    in_time_percent: int | None
    median_days: float | None
    initiatives_supported: int | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        return cls(
            received=data["received"],
            themes=dict(data["themes"]),
            closed=data["closed"],
            in_time_percent=data["in_time_percent"],
            median_days=data["median_days"],
            initiatives_supported=data["initiatives_supported"],
        )


@dataclass(frozen=True)
class Thermometer:
    period: Period
    computed_at: datetime
    wijken: dict[str, Figures]  # wijk code -> its figures (only wijken with any signal)
    city: Figures

    def of(self, code: str) -> Figures | None:
        return self.wijken.get(code)


def window(today: date) -> Period:
    """The twelve whole months before this one."""
    last = today.replace(day=1) - timedelta(days=1)
    first = last.replace(day=1)
    for _ in range(MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return Period(first, last)


def shown(count: int) -> int | None:
    """A count as the public may see it: None under the minimum."""
    return count if count >= MINIMUM else None


def current(session: Session, now: datetime) -> Thermometer:
    """The newest stored figures, whatever months they cover (the page says which): only
    the job works them out again, so a page never does that work for a visitor. Only
    before the job ever ran (or after an update that changed their shape) the first page
    works them out and stores them."""
    snapshot = session.scalars(
        select(ThermometerSnapshot).order_by(ThermometerSnapshot.id.desc()).limit(1)
    ).first()
    if snapshot is None or snapshot.figures.get("format") != FORMAT:
        snapshot = refresh(session, now)
    return _read(snapshot)


def refresh_when_due(session: Session, now: datetime) -> ThermometerSnapshot | None:
    """``refresh`` when the twelve months moved on (``jobs run`` is hourly; this works once
    a month); None when the stored figures cover them already. Not daily on purpose: the
    same months worked out again a day later would show what one signal's change (marked
    sensitive, moved to another wijk) did to a count."""
    period = window(local_date(now))
    snapshot = session.scalars(
        select(ThermometerSnapshot).order_by(ThermometerSnapshot.id.desc()).limit(1)
    ).first()
    if (
        snapshot is not None
        and (snapshot.first_day, snapshot.last_day) == (period.first, period.last)
        and snapshot.figures.get("format") == FORMAT
    ):
        return None
    return refresh(session, now)


def refresh(session: Session, now: datetime) -> ThermometerSnapshot:
    """Work the figures out for the twelve months before ``now``'s month and store them in
    place of the ones before (the nightly job; the caller commits)."""
    period = window(local_date(now))
    figures = compute(session, period)
    session.execute(delete(ThermometerSnapshot))
    snapshot = ThermometerSnapshot(
        computed_at=now, first_day=period.first, last_day=period.last, figures=figures
    )
    session.add(snapshot)
    session.flush()
    return snapshot


def compute(session: Session, period: Period) -> dict[str, Any]:
    """Every wijk's figures and the city's, small numbers left out, ready to store."""
    received, closed, in_time = _events(session, period)
    themes = _themes(session, period)
    medians = _medians(session, period)
    supported = _initiatives_supported(session, period)
    codes = sorted(set(received) | set(closed) | set(supported))
    wijken = {
        code: _figures(
            received.get(code, 0),
            themes.get(code, {}),
            closed.get(code, 0),
            in_time.get(code, 0),
            medians.get(code),
            supported.get(code, 0),
        )
        for code in codes
    }
    city_themes: dict[str, int] = {}
    for per_theme in themes.values():
        for theme, n in per_theme.items():
            city_themes[theme] = city_themes.get(theme, 0) + n
    city = _figures(
        sum(received.values()),
        city_themes,
        sum(closed.values()),
        sum(in_time.values()),
        medians.get(CITY),
        sum(supported.values()),
    )
    city = _without_giveaways(city, list(wijken.values()))
    return {"format": FORMAT, "wijken": wijken, "city": city}


def _without_giveaways(city: dict[str, Any], wijken: list[dict[str, Any]]) -> dict[str, Any]:
    """The city's total of a column is left out (None) when a wijk's number in it is left
    out: the total less the wijken shown would give that small number away. ``city`` holds
    the city's counts shown as a wijk's are."""
    kept = dict(city)
    for name in ("received", "closed", "initiatives_supported"):
        if any(w[name] is None for w in wijken):
            kept[name] = None
    if kept["closed"] is None:  # the share and the median rest on the closed signals
        kept["in_time_percent"] = kept["median_days"] = None
    themes = {
        theme: None if any(w["themes"][theme] is None for w in wijken) else n
        for theme, n in city["themes"].items()
    }
    # As in a wijk's row: a lone theme left out would follow from the city's "Gemeld".
    kept["themes"] = _second_left_out(
        themes, {theme: n or 0 for theme, n in city["themes"].items()}
    )
    return kept


def _figures(
    received: int,
    themes: dict[str, int],
    closed: int,
    in_time: int,
    median: float | None,
    supported: int,
) -> dict[str, Any]:
    enough_closed = closed >= MINIMUM
    return {
        "received": shown(received),
        "themes": _themes_shown({theme.value: themes.get(theme.value, 0) for theme in Theme}),
        "closed": shown(closed),
        "in_time_percent": round(100 * in_time / closed) if enough_closed else None,
        "median_days": median if enough_closed else None,
        "initiatives_supported": shown(supported),
    }


def _themes_shown(counts: dict[str, int]) -> dict[str, int | None]:
    """The themes' counts, small ones left out - and when only one is left out, the next
    smallest too: every signal has a theme, so "Gemeld" less the others would give a lone
    one away."""
    kept = {theme: shown(n) for theme, n in counts.items()}
    return _second_left_out(kept, counts)


def _second_left_out(kept: dict[str, int | None], counts: dict[str, int]) -> dict[str, int | None]:
    hidden = [theme for theme, n in kept.items() if n is None]
    if len(hidden) == 1:
        visible = [theme for theme, n in kept.items() if n is not None]
        if visible:
            kept[min(visible, key=lambda theme: (counts[theme], theme))] = None
    return kept


def _read(snapshot: ThermometerSnapshot) -> Thermometer:
    data = snapshot.figures
    return Thermometer(
        period=Period(snapshot.first_day, snapshot.last_day),
        computed_at=snapshot.computed_at,
        wijken={code: Figures.from_json(f) for code, f in data["wijken"].items()},
        city=Figures.from_json(data["city"]),
    )


# --- the queries ----------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, LOCAL_TIMEZONE).astimezone(UTC)


def _events(
    session: Session, period: Period
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Per wijk from steering_counts: came in, closed, and closed within the target."""
    t = SteeringCount
    rows = session.execute(
        select(t.event, t.in_time, t.wijk_code, func.sum(t.signals))
        .where(
            t.day >= period.first,
            t.day <= period.last,
            t.sensitive.is_(False),
            t.wijk_code != NO_WIJK,
            t.event.in_([CAME_IN, CLOSED_EVENT]),
        )
        .group_by(t.event, t.in_time, t.wijk_code)
    )
    received: dict[str, int] = {}
    closed: dict[str, int] = {}
    in_time: dict[str, int] = {}
    for event, ok, code, n in rows:
        target = received if event == CAME_IN else closed
        target[code] = target.get(code, 0) + int(n)
        if event == CLOSED_EVENT and ok:
            in_time[code] = in_time.get(code, 0) + int(n)
    return received, closed, in_time


def _public_signals(moment, period: Period) -> list[Any]:  # type: ignore[no-untyped-def]
    return [
        moment >= _start_of(period.first),
        moment < _start_of(period.last + timedelta(days=1)),
        Signal.sensitive.is_(False),
        Signal.wijk_code.is_not(None),
    ]


def _themes(session: Session, period: Period) -> dict[str, dict[str, int]]:
    """Per wijk and theme, the signals that came in (one with two themes counts under both)."""
    rows = session.execute(
        select(Signal.wijk_code, SignalTheme.theme, func.count())
        .join(SignalTheme, SignalTheme.signal_id == Signal.id)
        .where(*_public_signals(Signal.created_at, period))
        .group_by(Signal.wijk_code, SignalTheme.theme)
    )
    themes: dict[str, dict[str, int]] = {}
    for code, theme, n in rows:
        themes.setdefault(code, {})[theme] = int(n)
    return themes


def _medians(session: Session, period: Period) -> dict[str, float]:
    """Per wijk (and the city, under CITY) the median days from coming in to closing of the
    signals closed within the period: the database ranks them; only the middle ones come
    back."""
    days = Signal.handling_days
    closed = [
        *_public_signals(Signal.closed_at, period),
        Signal.status.in_(CLOSED),
        days.is_not(None),
    ]
    wijk = Signal.wijk_code
    ranked = (
        select(
            wijk.label("wijk"),
            days.label("days"),
            func.row_number().over(partition_by=wijk, order_by=days).label("position"),
            func.count().over(partition_by=wijk).label("count"),
        )
        .where(*closed)
        .subquery()
    )
    r = ranked.c
    # The one or two middle positions: (n + 1) // 2 to n // 2 + 1.
    middle = select(r.wijk, func.avg(r.days)).where(
        r.position >= (r.count + 1) // 2, r.position <= r.count // 2 + 1
    )
    medians = {}
    for code, value in session.execute(middle.group_by(r.wijk)):
        medians[code] = round(float(value), 1)
    count = session.scalar(select(func.count()).where(*closed)) or 0
    if count:
        positions = [(count + 1) // 2] if count % 2 else [count // 2, count // 2 + 1]
        city = select(days.label("days"), func.row_number().over(order_by=days).label("n"))
        city = city.where(*closed).subquery()
        values = session.scalars(select(city.c.days).where(city.c.n.in_(positions))).all()
        medians[CITY] = round(sum(float(v) for v in values) / len(values), 1)
    return medians


def _initiatives_supported(session: Session, period: Period) -> dict[str, int]:
    """Per wijk, the initiatives with support granted from its budget within the period (a
    grant reversed in full does not count)."""
    granted = (
        select(WijkBudget.wijk_code.label("wijk"), Grant.signal_id.label("signal_id"))
        .join(WijkBudget, WijkBudget.id == Grant.budget_id)
        .join(Signal, Signal.id == Grant.signal_id)
        .where(
            Grant.state == GrantState.GRANTED.value,
            Grant.decided_on >= period.first,
            Grant.decided_on <= period.last,
            Signal.sensitive.is_(False),
        )
        .group_by(WijkBudget.wijk_code, Grant.signal_id)
        .having(func.sum(Grant.amount_cents) > 0)
        .subquery()
    )
    rows = session.execute(select(granted.c.wijk, func.count()).group_by(granted.c.wijk))
    return {code: int(n) for code, n in rows}
