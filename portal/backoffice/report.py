"""The monthly report for the college (portal/domain/steering/report.py): a printable page in
the back office and the same as a PDF (WeasyPrint), also from the command line: ``flask --app
portal report monthly --month 2026-10 --out report.pdf``. Management, admins and
accountmanagers may read it; it shows no resident's details."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, roles_required
from portal.backoffice.budget_forms import euros
from portal.backoffice.inbox import current_deadlines
from portal.backoffice.steering import change, days, offered_periods, period_name
from portal.backoffice.steering_charts import weekly_trend
from portal.domain.inbox import Deadlines
from portal.domain.steering.period import MONTH, QUARTER, YEAR, Period
from portal.domain.steering.report import report
from portal.extensions import db
from portal.vocabulary import KIND_NAMES, STAFF_STATUS_LABELS, THEME_LABELS


def report_title(period: Period) -> str:
    if period.kind == MONTH:
        return _("Maandverslag %(period)s", period=period_name(period))
    if period.kind == QUARTER:
        return _("Kwartaalverslag %(period)s", period=period_name(period))
    if period.kind == YEAR:
        return _("Jaarverslag %(period)s", period=period_name(period))
    return _("Verslag %(period)s", period=period_name(period))


def report_context(period: Period, deadlines: Deadlines) -> dict[str, Any]:
    found = report(db.session, period, deadlines)
    return {
        "report": found,
        "board": found.figures,
        "period": period,
        "title": report_title(period),
        "made_on": format_date(deadlines.today, "d MMMM y"),
        "period_name": period_name,
        "days": days,
        "change": change,
        "euros": euros,
        "trend_chart": weekly_trend(found.figures.trend),
        # Keyed by StrEnum members: a stored code ("knelpunt") finds its label.
        "kind_labels": KIND_NAMES,
        "theme_labels": THEME_LABELS,
        "status_labels": STAFF_STATUS_LABELS,
    }


def report_pdf(period: Period, deadlines: Deadlines) -> bytes:
    """The report as a PDF: the page's own content and style, laid out for A4."""
    from weasyprint import CSS, HTML

    html = render_template("backoffice/report/document.html", **report_context(period, deadlines))
    static = Path(current_app.static_folder or "static")
    styles = [CSS(filename=str(static / "css" / "report.css"))]
    return HTML(string=html, base_url=str(static)).write_pdf(stylesheets=styles)


def file_name(period: Period) -> str:
    return f"verslag-wijkzaken-{period.to_args()['periode']}.pdf"


def chosen_period(today: date) -> Period:
    """A month, quarter or year (the dashboard's periode); any other, or days of one's own
    choosing (which, next to a dashboard, could single a case out), is last month."""
    period = Period.parse(request.args, today)
    return period if period.kind in (MONTH, QUARTER, YEAR) else Period.last_month(today)


@bp.get("/cijfers/verslag", endpoint="steering_report")
@roles_required(*STAFF_ROLES)
def steering_report():  # type: ignore[no-untyped-def]
    deadlines = current_deadlines()
    period = chosen_period(deadlines.today)
    return render_template(
        "backoffice/report.html",
        nav="steering",
        periods=offered_periods(deadlines.today, period),
        **report_context(period, deadlines),
    )


@bp.get("/cijfers/verslag.pdf", endpoint="steering_report_pdf")
@roles_required(*STAFF_ROLES)
def steering_report_pdf():  # type: ignore[no-untyped-def]
    deadlines = current_deadlines()
    period = chosen_period(deadlines.today)
    headers = {
        "Content-Disposition": f'attachment; filename="{file_name(period)}"',
        "Cache-Control": "private, no-store",
    }
    return report_pdf(period, deadlines), 200, {"Content-Type": "application/pdf", **headers}
