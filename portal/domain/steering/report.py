"""The monthly (or quarterly, or yearly) report for the college: the headline figures against
the period before, the figures per wijk and the weekly trend (the dashboard's own, as
management sees them: without the sensitive signals), the initiatives supported and the
budget spent, the notable cases the accountmanagers chose (their public summaries only), and
the escalations closed in the period and how they ended.

Sensitive signals are counted once, for the whole city (fewer than five: not shown): per wijk
or per week, next to an accountmanager's own dashboard, their count would tell where and when
one came in. An escalation about one is counted, never listed.

What a report may show of a single case: the wijk, kind, themes and status of one the
accountmanager chose (only what the public may see: never a sensitive one, nor an initiative
kept off the wijk page), the summary they wrote for it, and the department an escalation went
to and its outcome (the close form says it comes here). Never a resident's name, address or
words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from portal.domain.inbox import Deadlines, InboxFilter
from portal.domain.steering.figures import Dashboard, dashboard
from portal.domain.steering.period import Period
from portal.domain.visibility import public_conditions
from portal.domain.working_days import LOCAL_TIMEZONE, local_date
from portal.models import (
    Escalation,
    Functionary,
    Grant,
    Role,
    Signal,
    SignalTheme,
    User,
    Wijk,
    WijkBudget,
)
from portal.vocabulary import GrantState


@dataclass(frozen=True)
class Highlight:
    wijk: str | None  # its name
    kind: str
    themes: list[str]
    status: str
    summary: str


@dataclass(frozen=True)
class ClosedEscalation:
    department: str
    wijk: str | None
    raised_on: date
    reply_by: date
    answered_on: date | None
    closed_on: date
    outcome: str | None

    @property
    def answered_in_time(self) -> bool:
        return self.answered_on is not None and self.answered_on <= self.reply_by


@dataclass(frozen=True)
class Escalations:
    raised: int  # within the period
    answered: int
    closed: list[ClosedEscalation]  # not those about a sensitive signal
    open_at_end: int  # raised by the period's end and not closed then
    closed_confidential: int = 0  # closed, about a sensitive signal: counted, not listed


@dataclass(frozen=True)
class Support:
    wijk_code: str
    wijk: str
    initiatives: int  # supported within the period (a grant reversed in full does not count)
    granted_cents: int  # granted within the period, corrections included


@dataclass(frozen=True)
class Report:
    period: Period
    figures: Dashboard
    highlights: list[Highlight]
    escalations: Escalations
    support: list[Support]
    confidential_came_in: int | None  # the whole city's; None: fewer than MINIMUM

    @property
    def granted_cents(self) -> int:
        return sum(s.granted_cents for s in self.support)

    @property
    def initiatives_supported(self) -> int:
        return sum(s.initiatives for s in self.support)


def _reader() -> User:
    """Whom the report's figures are counted for: management, who see no sensitive signal.
    Never stored."""
    return User(role=Role.MANAGEMENT, name="report", email="")


def report(session: Session, period: Period, deadlines: Deadlines) -> Report:
    reader = _reader()
    return Report(
        period=period,
        figures=dashboard(session, reader, InboxFilter(scope="all"), period, deadlines),
        highlights=highlights(session, period),
        escalations=escalations(session, period),
        support=support(session, period),
        confidential_came_in=_confidential(session, period),
    )


MINIMUM = 5  # as on the thermometer: a smaller count of sensitive signals is not shown


def _confidential(session: Session, period: Period) -> int | None:
    n = session.scalar(
        select(func.count())
        .select_from(Signal)
        .where(*_within(Signal.created_at, period), Signal.sensitive.is_(True))
    )
    return int(n) if (n or 0) >= MINIMUM else None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, LOCAL_TIMEZONE).astimezone(UTC)


def _within(column, period: Period) -> list:  # type: ignore[no-untyped-def]
    return [column >= _start_of(period.first), column < _start_of(period.last + timedelta(days=1))]


def highlights(session: Session, period: Period) -> list[Highlight]:
    """The notable cases chosen for the period's months, by month and wijk; never a
    sensitive one."""
    rows = session.execute(
        select(Signal, Wijk.name)
        .outerjoin(Wijk, Wijk.code == Signal.wijk_code)
        .where(
            Signal.highlight_month >= period.first,
            Signal.highlight_month <= period.last,
            *public_conditions(),
        )
        .order_by(Signal.highlight_month, Signal.wijk_code, Signal.id)
    ).all()
    themes: dict[int, list[str]] = {}
    ids = [signal.id for signal, _name in rows]
    if ids:
        for signal_id, theme in session.execute(
            select(SignalTheme.signal_id, SignalTheme.theme)
            .where(SignalTheme.signal_id.in_(ids))
            .order_by(SignalTheme.theme)
        ):
            themes.setdefault(signal_id, []).append(theme)
    return [
        Highlight(
            wijk=name,
            kind=signal.kind,
            themes=themes.get(signal.id, []),
            status=signal.status,
            summary=signal.highlight_summary or "",
        )
        for signal, name in rows
    ]


def escalations(session: Session, period: Period) -> Escalations:
    raised = session.scalar(
        select(func.count()).select_from(Escalation).where(*_within(Escalation.created_at, period))
    )
    answered = session.scalar(
        select(func.count()).select_from(Escalation).where(*_within(Escalation.answered_at, period))
    )
    end = _start_of(period.last + timedelta(days=1))
    open_at_end = session.scalar(
        select(func.count())
        .select_from(Escalation)
        .where(
            Escalation.created_at < end,
            or_(Escalation.closed_at.is_(None), Escalation.closed_at >= end),
        )
    )
    rows = session.execute(
        select(Escalation, Functionary.department, Signal.sensitive, Wijk.name)
        .join(Functionary, Functionary.id == Escalation.functionary_id)
        .join(Signal, Signal.id == Escalation.signal_id)
        .outerjoin(Wijk, Wijk.code == Signal.wijk_code)
        .where(*_within(Escalation.closed_at, period))
        .order_by(Escalation.closed_at, Escalation.id)
    ).all()
    closed = [
        ClosedEscalation(
            department=department,
            wijk=wijk,
            raised_on=local_date(escalation.created_at),
            reply_by=escalation.reply_by,
            answered_on=local_date(escalation.answered_at) if escalation.answered_at else None,
            closed_on=local_date(escalation.closed_at),
            outcome=escalation.outcome,
        )
        for escalation, department, secret, wijk in rows
        if not secret
    ]
    return Escalations(
        int(raised or 0),
        int(answered or 0),
        closed,
        int(open_at_end or 0),
        closed_confidential=len(rows) - len(closed),
    )


def support(session: Session, period: Period) -> list[Support]:
    """Per wijk: the initiatives supported and the amount granted within the period."""
    granted = (
        select(
            WijkBudget.wijk_code.label("wijk"),
            Grant.signal_id.label("signal_id"),
            func.sum(Grant.amount_cents).label("cents"),
        )
        .join(WijkBudget, WijkBudget.id == Grant.budget_id)
        .where(
            Grant.state == GrantState.GRANTED.value,
            Grant.decided_on >= period.first,
            Grant.decided_on <= period.last,
        )
        .group_by(WijkBudget.wijk_code, Grant.signal_id)
        .subquery()
    )
    supported = func.sum(case((granted.c.cents > 0, 1), else_=0))
    rows = session.execute(
        select(granted.c.wijk, Wijk.name, supported, func.sum(granted.c.cents))
        .join(Wijk, Wijk.code == granted.c.wijk)
        .group_by(granted.c.wijk, Wijk.name)
        .order_by(Wijk.name)
    )
    return [
        Support(code, name, int(initiatives or 0), int(cents or 0))
        for code, name, initiatives, cents in rows
    ]
