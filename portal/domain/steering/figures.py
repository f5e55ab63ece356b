"""The management dashboard's figures for a period and a selection (wijk, buurt, kind, theme,
owner), each compared with the period before.

Every figure is a count of an inbox list: it is defined as an :class:`InboxFilter`, so the link
under a figure lists exactly the signals it counts, sensitive ones only for who may see them;
counting.py counts it, from the summary tables where it can. What the figures mean:

* **binnengekomen** - came in within the period; **afgesloten** - closed (resolved or
  declined) within it and closed still; **open aan het eind** - came in by its last day and
  not closed then;
* **eerste reactie / afgehandeld binnen de termijn** - of the signals that got their first
  public response (were closed) within the period, those that did so by their due date;
* **doorlooptijd** - median and 90th percentile in days from coming in to that moment, over
  the same signals (durations.py);
* **tevreden** - of the signals closed within the period whose resident answered "Bent u
  tevreden?", those whose latest answer was yes;
* **nu** - late now, escalations waiting for an answer, reopen requests waiting for a
  decision: the state today, whatever the period;
* **budget** - per wijk, the year's budget, granted and remaining (the ledger's totals)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.inbox import NONE, Deadlines, InboxFilter, default_scope
from portal.domain.initiatives.ledger import Totals, totals_by_wijk
from portal.domain.steering.counting import Count, ListCounter, SummaryCounter
from portal.domain.steering.durations import Spread
from portal.domain.steering.period import Period
from portal.models import Signal, User, Wijk, user_wijken

# What a selection may narrow the figures to: the inbox's own filters of the same name.
SELECTION = ("kind", "theme", "wijk", "buurt", "owner")
TREND_WEEKS = 13


@dataclass(frozen=True)
class Share:
    part: Count
    whole: Count

    @property
    def percent(self) -> int | None:
        return round(100 * self.part.value / self.whole.value) if self.whole.value else None


@dataclass(frozen=True)
class Satisfaction:
    satisfied: Count
    unsatisfied: Count

    @property
    def answered(self) -> int:
        return self.satisfied.value + self.unsatisfied.value

    @property
    def percent(self) -> int | None:
        return round(100 * self.satisfied.value / self.answered) if self.answered else None


@dataclass(frozen=True)
class PeriodFigures:
    period: Period
    came_in: Count
    closed: Count
    open_at_end: Count
    responded_in_time: Share
    handled_in_time: Share
    response_time: Spread
    handling_time: Spread
    satisfaction: Satisfaction


@dataclass(frozen=True)
class Today:
    late: Count
    escalations_open: Count
    reopen_requests: Count


@dataclass(frozen=True)
class Week:
    period: Period
    came_in: Count
    closed: Count


@dataclass(frozen=True)
class WijkFigures:
    """One wijk's figures for the period, and its weekly trend (the small multiples)."""

    code: str
    name: str
    came_in: Count
    closed: Count
    open_at_end: Count
    handled_in_time: Share
    trend: list[Week]


@dataclass(frozen=True)
class Dashboard:
    selection: InboxFilter
    current: PeriodFigures
    previous: PeriodFigures
    today: Today
    trend: list[Week]
    wijken: list[WijkFigures]
    budgets: dict[str, Totals] = field(default_factory=dict)  # wijk code -> the year's totals
    budget_year: int = 0


def selection_of(user: User, flt: InboxFilter) -> InboxFilter:
    """The dashboard's selection from an inbox filter: only the fields it narrows by, over
    everything the user may see (accountmanagers: their own signals and wijken)."""
    scope = default_scope(user)
    return InboxFilter(scope=scope, **{name: getattr(flt, name) for name in SELECTION})


def dashboard(
    session: Session, user: User, selection: InboxFilter, period: Period, deadlines: Deadlines
) -> Dashboard:
    counter = SummaryCounter(session, user, deadlines, selection.scope)
    shown = _shown_wijken(session, user, selection)
    weeks = period.weeks(TREND_WEEKS, deadlines.today)
    came_in = [counter.by_wijk(_came_in(selection, week)) for week in weeks]
    closed = [counter.by_wijk(_closed(selection, week)) for week in weeks]
    current = period_figures(counter, selection, period)
    per_wijk = {
        "came_in": counter.by_wijk(current.came_in.listed),
        "closed": counter.by_wijk(current.closed.listed),
        "open_at_end": counter.by_wijk(current.open_at_end.listed),
        "handled_in_time": counter.by_wijk(current.handled_in_time.part.listed),
    }
    budget_year = period.last.year
    budgets = totals_by_wijk(session, budget_year)
    return Dashboard(
        selection=selection,
        current=current,
        previous=period_figures(counter, selection, period.previous()),
        today=Today(
            late=counter.count(replace(selection, status="open", overdue=True)),
            escalations_open=counter.count(replace(selection, escalation_open=True)),
            reopen_requests=counter.count(replace(selection, reopen_requested=True)),
        ),
        # The whole list is the sum of its wijken (and of the signals without one).
        trend=[
            Week(week, in_week.total(), out_week.total())
            for week, in_week, out_week in zip(weeks, came_in, closed, strict=True)
        ],
        wijken=[
            WijkFigures(
                code=code,
                name=name,
                came_in=per_wijk["came_in"].of(code),
                closed=per_wijk["closed"].of(code),
                open_at_end=per_wijk["open_at_end"].of(code),
                handled_in_time=Share(
                    per_wijk["handled_in_time"].of(code), per_wijk["closed"].of(code)
                ),
                trend=[
                    Week(week, in_week.of(code), out_week.of(code))
                    for week, in_week, out_week in zip(weeks, came_in, closed, strict=True)
                ],
            )
            for code, name in shown
        ],
        budgets={code: budgets[code] for code, _name in shown if code in budgets},
        budget_year=budget_year,
    )


def period_figures(counter: ListCounter, selection: InboxFilter, period: Period) -> PeriodFigures:
    came_in = counter.count(_came_in(selection, period))
    closed = counter.count(_closed(selection, period))
    responded = counter.count(
        replace(selection, responded_from=period.first, responded_to=period.last)
    )
    return PeriodFigures(
        period=period,
        came_in=came_in,
        closed=closed,
        open_at_end=counter.count(replace(selection, open_on=period.last)),
        responded_in_time=Share(
            counter.count(replace(responded.listed, responded_in_time=True)), responded
        ),
        handled_in_time=Share(counter.count(replace(closed.listed, handled_in_time=True)), closed),
        response_time=counter.spread(responded, Signal.response_days),
        handling_time=counter.spread(closed, Signal.handling_days),
        satisfaction=Satisfaction(
            counter.count(replace(closed.listed, satisfied="yes")),
            counter.count(replace(closed.listed, satisfied="no")),
        ),
    )


def _came_in(selection: InboxFilter, period: Period) -> InboxFilter:
    return replace(selection, created_from=period.first, created_to=period.last)


def _closed(selection: InboxFilter, period: Period) -> InboxFilter:
    return replace(selection, status="closed", closed_from=period.first, closed_to=period.last)


def _shown_wijken(session: Session, user: User, selection: InboxFilter) -> list[tuple[str, str]]:
    """The wijken the dashboard shows one by one, by name: the selected one, or the user's
    own (accountmanagers), or all."""
    if selection.wijk == NONE:
        return []  # the signals without a wijk: no wijk to show
    query = select(Wijk.code, Wijk.name).order_by(Wijk.name, Wijk.code)
    if isinstance(selection.wijk, str) and selection.wijk.startswith("WK"):
        query = query.where(Wijk.code == selection.wijk)
    elif selection.scope == "mine":
        mine = select(user_wijken.c.wijk_code).where(user_wijken.c.user_id == user.id)
        query = query.where(Wijk.code.in_(mine))
    return [(code, name) for code, name in session.execute(query)]
