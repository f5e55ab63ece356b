"""The management dashboard (``/backoffice/cijfers``) at 1,000 and 1,000,000 signals, SQLite and
PostgreSQL, and the CSV export's memory while it streams a list of about 100,000 signals.

Seeds the databases as the inbox benchmark does (``bench/seed.py``), then requests the
dashboard over HTTP through the Flask test client - login check, figures, charts, template:
the page as a browser gets it - as the management member (everything but sensitive signals)
and as the Zuidwest accountmanager (her own signals and wijken); and the public /cijfers page,
after timing the nightly job that works its figures out. The sizes take turns request
by request. Prints per case and size the median and 95th percentile in ms, the ratio of the
p95s (largest size over smallest) and the statements one page runs.

The export: the CSV of the signals that came in during the last three months before today
(at a million signals about 100,000 rows) is read to the end, chunk by chunk, while
tracemalloc follows the Python heap; its peak against the same export at the smallest size
says whether memory grows with the rows.

    .venv/bin/python -m bench steering                                   # 1,000 and 1,000,000
    .venv/bin/python -m bench steering --sizes 1000 100000 --no-postgres --runs 10
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench import machine, seed
from bench.inbox import ANNA, WIJK, Site, _table

MARCO = "marco.hendriks@hilversum.example"  # management
DASHBOARD = "/backoffice/cijfers"
EXPORT = "/backoffice/export/signalen.csv"
THERMOMETER = "/cijfers"
TINY = 200


@dataclass(frozen=True)
class Case:
    name: str
    who: str
    query: dict[str, str]
    path: str = DASHBOARD


def _cases(today: date) -> tuple[Case, ...]:
    last_quarter = (today.month - 1) // 3 or 4
    quarter_year = today.year if last_quarter != 4 else today.year - 1
    return (
        Case("management: last month (the default)", MARCO, {}),
        Case("management: last quarter", MARCO, {"periode": f"{quarter_year}-K{last_quarter}"}),
        Case("management: one wijk", MARCO, {"wijk": WIJK}),
        Case("management: initiatives", MARCO, {"kind": "initiatief"}),
        Case("accountmanager: her own (the default)", ANNA, {}),
        # Not on the summary's key: counted from the signals (portal/domain/steering).
        Case("management: one theme", MARCO, {"theme": "schoon"}),
        # The public page reads the figures the nightly job stored (timed below).
        Case("public: /cijfers", MARCO, {}, THERMOMETER),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=20, help="requests per case and size")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-export", action="store_true", help="skip the export's memory")


def main(args: argparse.Namespace) -> int:
    sizes = [TINY] if args.tiny else sorted(set(args.sizes))
    runs = 1 if args.tiny else max(args.runs, 2)
    print(machine.describe())
    print()
    workdir = Path(tempfile.mkdtemp(prefix="steering-bench-"))
    workdir.chmod(0o755)  # the PostgreSQL cluster runs as the postgres user
    try:
        urls = {size: f"sqlite:///{workdir / f'steering-{size}.sqlite3'}" for size in sizes}
        print(run("SQLite", urls, runs, export=not args.no_export))
        if args.no_postgres:
            return 0
        with seed.postgres(workdir / "pg") as cluster:
            if cluster is None:
                print("\n(PostgreSQL skipped: initdb is not on the PATH)")
                return 0
            urls = {}
            for size in sizes:
                cluster.execute(f"CREATE DATABASE steering_{size}")
                urls[size] = cluster.url(f"steering_{size}")
            print()
            print(run("PostgreSQL", urls, runs, export=False))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def run(label: str, urls: dict[int, str], runs: int, *, export: bool) -> str:
    cases = _cases(date.today())
    sites: dict[tuple[str, int], Site] = {}
    for size, url in urls.items():
        started = time.perf_counter()
        inserted = seed.database(url, size)
        how = f"{inserted:.0f} s to insert" if inserted else "copied from the template"
        print(
            f"{label}: {size:,} signals ready in {time.perf_counter() - started:.0f} s ({how})",
            file=sys.stderr,
        )
        for who in {case.who for case in cases}:
            sites[(who, size)] = Site(url, email=who, path=DASHBOARD)
    samples: dict[tuple[str, int], list[float]] = {}
    refreshed = {size: _refresh(sites[(MARCO, size)]) for size in urls}
    for (who, _size), site in sites.items():  # warm-up: statements, caches, the page cache
        for case in cases:
            if case.who == who:
                for _ in range(2):
                    _timed(site, case)
    for _round in range(runs):
        for case in cases:
            for size in urls:
                site = sites[(case.who, size)]
                samples.setdefault((case.name, size), []).append(_timed(site, case))
    by_size = {size: sites[(MARCO, size)] for size in urls}
    lines = [_table(label, by_size, samples, cases)]
    largest = max(urls)
    lines += ["", f"Statements per page at {largest:,} signals ({label}):", ""]
    lines += ["| case | statements |", "|---|---:|"]
    for case in cases:
        site = sites[(case.who, largest)]
        site.path = case.path
        statements, _total = site.statements(case.query)
        lines.append(f"| {case.name} | {len(statements)} |")
    lines += [
        "",
        f"The nightly thermometer job ({label}): "
        + ", ".join(f"{refreshed[size]:.1f} s at {size:,} signals" for size in sorted(urls))
        + ".",
    ]
    if export:
        lines += ["", *_export_memory(label, {size: sites[(MARCO, size)] for size in urls})]
    for site in sites.values():
        site.close()
    return "\n".join(lines)


def _timed(site: Site, case: Case) -> float:
    site.path = case.path
    return site.timed(case.query)


def _refresh(site: Site) -> float:
    """Seconds the nightly job takes to work the thermometer out and store it."""
    from datetime import UTC, datetime

    from portal.domain.steering import thermometer
    from portal.extensions import db

    with site.app.app_context():
        started = time.perf_counter()
        thermometer.refresh(db.session, datetime.now(UTC))
        db.session.commit()
        return time.perf_counter() - started


def _export_memory(label: str, sites: dict[int, Site]) -> list[str]:
    today = date.today()
    query = {
        "scope": "all",
        "created_from": (today - timedelta(days=91)).isoformat(),
        "created_to": (today - timedelta(days=1)).isoformat(),
        "csv-separator": ";",
    }
    lines = [
        f"CSV export of the signals that came in over the last 91 days ({label}, the Python "
        "heap's peak by tracemalloc while the file streams):",
        "",
        "| signals in the database | rows exported | seconds | peak heap MB |",
        "|---:|---:|---:|---:|",
    ]
    for size, site in sorted(sites.items()):
        tracemalloc.start()
        started = time.perf_counter()
        response = site.client.get(EXPORT, query_string=query, buffered=False)
        assert response.status_code == 200, response.status_code
        rows = -1  # the header line
        for chunk in response.response:
            rows += chunk.count("\n") if isinstance(chunk, str) else chunk.count(b"\n")
        response.close()
        took = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        lines.append(f"| {size:,} | {rows:,} | {took:.1f} | {peak / 1e6:.1f} |")
    return lines
