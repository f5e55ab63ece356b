"""``flask --app portal report monthly --month 2026-10 --out report.pdf`` (and ``quarterly
--quarter 2026-K4``): the report for the college as a PDF, the same as the back office's
download (portal/backoffice/report.py), e.g. from cron on the first working day."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.domain.steering.period import MONTH, QUARTER, Period
from portal.domain.working_days import local_date

report_cli = AppGroup("report", help="The report for the college (PDF).")


def _write(period: Period, out: Path, locale: str) -> None:
    from portal.backoffice.inbox import current_deadlines
    from portal.backoffice.report import report_pdf

    # The report renders templates and formats dates as a page does: in a request of its own.
    with current_app.test_request_context(f"/?lang={locale}"):
        pdf = report_pdf(period, current_deadlines())
    out.write_bytes(pdf)
    click.echo(f"{out}: {len(pdf):,} bytes, {period.first} to {period.last}.")


def _period(value: str | None, kind: str) -> Period:
    today = local_date(datetime.now(UTC))
    if value is None:
        return Period.last_month(today)
    period = Period.parse({"periode": value}, today)
    if period.kind != kind or period.to_args()["periode"] != value.upper().replace("Q", "K"):
        example = "2026-10" if kind == MONTH else "2026-K4"
        raise click.BadParameter(
            f"{value!r} is not a {kind} that has begun (for example {example})"
        )
    return period


@report_cli.command("monthly")
@click.option("--month", help="The month, e.g. 2026-10 (default: last month).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--locale", default="nl", show_default=True, type=click.Choice(["nl", "en"]))
def monthly(month: str | None, out: Path, locale: str) -> None:
    """The monthly report as a PDF."""
    _write(_period(month, MONTH), out, locale)


@report_cli.command("quarterly")
@click.option("--quarter", required=True, help="The quarter, e.g. 2026-K4.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--locale", default="nl", show_default=True, type=click.Choice(["nl", "en"]))
def quarterly(quarter: str, out: Path, locale: str) -> None:
    """The quarterly report as a PDF."""
    _write(_period(quarter, QUARTER), out, locale)
