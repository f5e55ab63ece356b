"""The management dashboard ("Cijfers"): the steering figures for a period and a selection,
each linking to the inbox list it counts (portal/domain/steering). Management and admins see
everything; accountmanagers their own signals and wijken."""

from __future__ import annotations

from datetime import date

from flask import render_template, request, url_for
from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, roles_required
from portal.backoffice.budget_forms import euros
from portal.backoffice.inbox import current_deadlines
from portal.backoffice.steering_charts import small_trend, weekly_trend
from portal.domain import steering
from portal.domain.inbox import InboxFilter, filter_options
from portal.domain.steering.period import MONTH, QUARTER, YEAR, Period
from portal.extensions import db
from portal.vocabulary import Kind, Theme

MONTHS_OFFERED = 13
QUARTERS_OFFERED = 5
YEARS_OFFERED = 3


@bp.get("/cijfers", endpoint="steering")
@roles_required(*STAFF_ROLES)
def steering_dashboard():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    deadlines = current_deadlines()
    period = steering.Period.parse(request.args, deadlines.today)
    selection = steering.selection_of(user, InboxFilter.from_args(request.args))
    board = steering.dashboard(db.session, user, selection, period, deadlines)

    top = max(
        (max(w.came_in.value, w.closed.value) for wijk in board.wijken for w in wijk.trend),
        default=0,
    )

    def inbox_url(count: steering.Count) -> str:
        return url_for("backoffice.inbox", **count.listed.to_args())

    return render_template(
        "backoffice/steering.html",
        nav="steering",
        board=board,
        period=period,
        period_name=period_name,
        periods=offered_periods(deadlines.today, period),
        custom=period.kind not in (MONTH, QUARTER, YEAR),
        options=filter_options(db.session),
        kinds=list(Kind),
        themes=list(Theme),
        inbox_url=inbox_url,
        days=days,
        change=change,
        euros=euros,
        trend_chart=weekly_trend(board.trend),
        wijk_charts={w.code: small_trend(w.trend, top) for w in board.wijken},
    )


def days(value: float | None) -> str:
    """'1,5 dagen'; a dash when nothing was measured."""
    if value is None:
        return "–"
    text = format_decimal(value, "#,##0.0")
    return ngettext("%(days)s dag", "%(days)s dagen", value, days=text)


def change(now: float | None, before: float | None) -> str:
    """The difference with the previous period, signed: '+3', '−2,5', '0'."""
    if now is None or before is None:
        return "–"
    difference = round(now - before, 1)
    text = format_decimal(abs(difference), "#,##0.#")
    return f"+{text}" if difference > 0 else (f"\u2212{text}" if difference < 0 else "0")


def period_name(period: Period) -> str:
    """'oktober 2026', '4e kwartaal 2026', '2026', or '1 oktober 2026 tot en met 15 oktober'."""
    if period.kind == MONTH:
        return format_date(period.first, "LLLL yyyy")
    if period.kind == QUARTER:
        return _(
            "%(n)se kwartaal %(year)s", n=(period.first.month - 1) // 3 + 1, year=period.first.year
        )
    if period.kind == YEAR:
        return str(period.first.year)
    return _(
        "%(first)s tot en met %(last)s",
        first=format_date(period.first, "long"),
        last=format_date(period.last, "long"),
    )


def offered_periods(today: date, chosen: Period) -> list[tuple[str, str]]:
    """(value of ``periode``, name): recent months, quarters and years, newest first, and
    the chosen one if it is older (a bookmark)."""
    month = Period.month(today.year, today.month)
    months = [month]
    for _n in range(MONTHS_OFFERED - 1):
        months.append(months[-1].previous())
    quarters = [Period.quarter(today.year, (today.month - 1) // 3 + 1)]
    for _n in range(QUARTERS_OFFERED - 1):
        quarters.append(quarters[-1].previous())
    years = [Period.year(today.year - n) for n in range(YEARS_OFFERED)]
    offered = [*months, *quarters, *years]
    if chosen.kind in (MONTH, QUARTER, YEAR) and chosen not in offered:
        offered.insert(0, chosen)
    return [(p.to_args()["periode"], period_name(p)) for p in offered]
