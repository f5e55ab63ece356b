"""How fast is the back-office inbox with 100,000 signals?

Fills a fresh SQLite database (and a throwaway PostgreSQL cluster when ``initdb`` is on the PATH)
with signals by bulk inserts - not through the form - spread over wijken, statuses, themes and
three years, then times the inbox queries (``portal.domain.inbox.search_signals``) and one whole
inbox page over HTTP. Prints a markdown table: median milliseconds and statements per case.

    .venv/bin/python bench/inbox_bench.py                  # 100,000 signals, 7 runs per case
    .venv/bin/python bench/inbox_bench.py --signals 20000 --runs 3 --no-postgres
    .venv/bin/python bench/inbox_bench.py --explain        # also print the query plans

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from portal import create_app, migrate  # noqa: E402
from portal.database import make_engine  # noqa: E402
from portal.domain.geography import default_geography  # noqa: E402
from portal.domain.inbox import Deadlines, InboxFilter, search_signals  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import GENERAL_INBOX, RoutingRule, Signal, SignalTheme, User  # noqa: E402
from portal.seeding import DEMO_PASSWORD, seed_demo_data, seed_geography  # noqa: E402
from portal.vocabulary import Kind, Status, Theme  # noqa: E402

TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime.now(UTC)
PAGE_SIZE = 50
ANNA = "anna.de.vries@hilversum.example"
WIJK = "WK040203"  # Zuidwest, Anna's wijk

WORDS = [
    "afval",
    "glasbak",
    "container",
    "stoep",
    "tegel",
    "lantaarnpaal",
    "verlichting",
    "speeltuin",
    "bankje",
    "hondenpoep",
    "zwerfvuil",
    "overlast",
    "parkeren",
    "fietsen",
    "boom",
    "takken",
    "graffiti",
    "rommel",
    "geluid",
    "jongeren",
    "buurthuis",
    "ontmoeting",
    "moestuin",
    "opruimactie",
    "straatfeest",
    "ouderen",
    "eenzaamheid",
    "verkeer",
    "drempel",
    "oversteek",
    "school",
    "kinderen",
    "riool",
    "water",
    "plas",
    "gat",
    "weg",
    "kapot",
    "scheef",
    "donker",
    "onveilig",
    "gevaarlijk",
]
STREETS = [
    "Kerkelandenlaan",
    "Larenseweg",
    "Oostereind",
    "Schapenkamp",
    "Langestraat",
    "Kerkstraat",
    "Havenstraat",
    "Soestdijkerstraatweg",
    "Loosdrechtseweg",
    "Vaartweg",
    "Bussumergrintweg",
    "Diependaalselaan",
]
OPEN_WEIGHTS = {
    Status.RECEIVED: 20,
    Status.IN_PROGRESS: 35,
    Status.AWAITING_RESIDENT: 10,
    Status.FORWARDED: 15,
    Status.PLANNED: 15,
    Status.REOPENED: 5,
}


# --- filling the database -------------------------------------------------------------------


def fill(url: str, count: int, seed: int = 2026) -> None:
    """Migrated schema, CBS geography, demo staff, then ``count`` signals in bulk."""
    migrate.upgrade(url)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"})
    geo = default_geography()
    with app.app_context():
        session = db.session
        seed_geography(session, geo)
        list(seed_demo_data(session))
        session.commit()
        owners = {r.scope: r.owner_id for r in session.scalars(select(RoutingRule))}
        rng = random.Random(seed)
        buurten = list(geo.buurten.values())
        counters: dict[int, int] = {}
        batch_signals: list[dict[str, object]] = []
        batch_themes: list[dict[str, object]] = []
        next_id = 1
        for _ in range(count):
            # Three years, more recent signals more often (the service grows).
            age = timedelta(days=1095 * rng.random() ** 1.6, seconds=rng.randrange(86400))
            created = NOW - age
            counters[created.year] = counters.get(created.year, 0) + 1
            closed_share = 0.93 if age.days > 60 else (0.5 if age.days > 14 else 0.15)
            if rng.random() < closed_share:
                status = Status.RESOLVED if rng.random() < 0.85 else Status.DECLINED
            else:
                status = rng.choices(list(OPEN_WEIGHTS), weights=list(OPEN_WEIGHTS.values()))[0]
            located = rng.random() > 0.03
            buurt = rng.choice(buurten) if located else None
            wijk_code = buurt.wijk_code if buurt else None
            owner = owners.get(wijk_code or GENERAL_INBOX, owners.get(GENERAL_INBOX))
            follow_up = None
            if status not in (Status.RESOLVED, Status.DECLINED) and rng.random() < 0.2:
                follow_up = NOW.date() + timedelta(days=rng.randint(-20, 40))
            kind = Kind.INITIATIEF if rng.random() < 0.15 else Kind.KNELPUNT
            batch_signals.append(
                {
                    "id": next_id,
                    "reference": f"HLV-{created.year}-{counters[created.year]:06d}",
                    "kind": kind.value,
                    "title": " ".join(rng.sample(WORDS, 3)).capitalize(),
                    "description": " ".join(rng.choices(WORDS, k=rng.randint(12, 60))) + ".",
                    "status": status.value,
                    "lon": None,
                    "lat": None,
                    "street": rng.choice(STREETS) if rng.random() < 0.7 else None,
                    "house_number": str(rng.randint(1, 250)) if rng.random() < 0.6 else None,
                    "postcode": (
                        f"12{rng.randint(11, 23)} {rng.choice('ABCDEGHJKLMN')}"
                        f"{rng.choice('ABCDEGHJKLMN')}"
                        if rng.random() < 0.5
                        else None
                    ),
                    "wijk_code": wijk_code,
                    "buurt_code": buurt.code if buurt else None,
                    "location_source": "buurt" if located else "unknown",
                    "location_flagged": not located,
                    "owner_id": owner if rng.random() > 0.02 else None,
                    "follow_up_on": follow_up,
                    "submission_key": None,
                    "locale": "nl",
                    "created_at": created,
                    "updated_at": created,
                    "version": 1,
                }
            )
            themes = rng.sample(list(Theme), 1 if rng.random() < 0.7 else 2)
            batch_themes += [{"signal_id": next_id, "theme": t.value} for t in themes]
            next_id += 1
            if len(batch_signals) >= 5000:
                _flush(session, batch_signals, batch_themes)
        _flush(session, batch_signals, batch_themes)
        session.commit()
        db.engine().dispose()
    # Statistics for the planner, and on PostgreSQL the visibility map that index-only scans
    # need: what autovacuum gives a database that has been running for a while. A fresh
    # engine, so no connection of the filling holds back what VACUUM may mark as visible.
    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name != "postgresql":
            conn.execute(text("ANALYZE"))
        # An auto-analyze started by the inserts holds a snapshot for a moment, and while it
        # does VACUUM cannot mark pages all-visible: try again until it could.
        for _attempt in range(10):
            if engine.dialect.name != "postgresql":
                break
            conn.execute(text("VACUUM ANALYZE"))
            visible, pages = conn.execute(
                text("SELECT relallvisible, relpages FROM pg_class WHERE relname = 'signals'")
            ).one()
            if visible >= 0.95 * pages:
                break
            time.sleep(1)
    engine.dispose()


def _flush(session: Session, signals: list[dict], themes: list[dict]) -> None:
    if signals:
        session.execute(insert(Signal), signals)
        session.execute(insert(SignalTheme), themes)
    signals.clear()
    themes.clear()


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    args: dict[str, str]
    user: str = ANNA


CASES = [
    Case("default page (all, newest)", {"scope": "all"}),
    Case("mine (owner or my wijk)", {"scope": "mine"}),
    Case("mine, open", {"scope": "mine", "status": "open"}),
    Case("open + wijk", {"scope": "all", "status": "open", "wijk": WIJK}),
    Case("theme + kind", {"scope": "all", "theme": "veilig", "kind": "initiatief"}),
    Case("search text (2 words)", {"scope": "all", "q": "glasbak kapot"}),
    Case("search reference", {"scope": "all", "q": "HLV-2025-000123"}),
    Case("overdue", {"scope": "all", "overdue": "1"}),
    Case("open question", {"scope": "all", "open_question": "1"}),
    Case("created last 30 days", {"scope": "all", "created_from": str(NOW.date() - timedelta(30))}),
    Case("sort by status", {"scope": "all", "sort": "status"}),
    Case("sort by wijk", {"scope": "all", "sort": "wijk"}),
    Case("last page (all)", {"scope": "all", "page": "999999"}),
]


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: object) -> None:
        self.count += 1


@contextmanager
def counting(engine) -> Iterator[StatementCounter]:  # type: ignore[no-untyped-def]
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def timed(runs: int, work: Callable[[], object]) -> float:
    work()  # warm-up: caches, compiled statements, the OS page cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure(url: str, runs: int, explain: bool) -> list[tuple[str, float, int, int]]:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False}
    )
    results = []
    deadlines = Deadlines.at(NOW, app.config["RESPONSE_WORKING_DAYS"], TZ)
    with app.app_context():
        engine = db.engine()
        users = {u.email: u for u in db.session.scalars(select(User))}
        for case in CASES:
            user = users[case.user]
            flt = InboxFilter.from_args(case.args)

            def work(user: User = user, flt: InboxFilter = flt) -> object:
                with Session(engine) as session:
                    return search_signals(session, user, flt, PAGE_SIZE, deadlines=deadlines)

            with counting(engine) as counter:
                page = work()
            median = timed(runs, work)
            results.append((case.name, median, counter.count, page.total))  # type: ignore[attr-defined]
            if explain:
                _explain(engine, user, flt, deadlines)
    # The whole page as a browser gets it: login check, filter options, queries, template.
    # Outside any app context, so that every request has its own database session.
    client = app.test_client()
    login_page = client.get("/backoffice/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/backoffice/login", data={"csrf_token": csrf, "email": ANNA, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 303, response.status_code
    with app.app_context():
        engine = db.engine()
    for name, path in (
        ("HTTP page: /backoffice/signalen?scope=all", "/backoffice/signalen?scope=all"),
        ("HTTP page: mine, open", "/backoffice/signalen?scope=mine&status=open"),
        ("HTTP page: search text", "/backoffice/signalen?scope=all&q=glasbak+kapot"),
    ):

        def fetch(path: str = path) -> object:
            response = client.get(path)
            assert response.status_code == 200, response.status_code
            return response

        fetch()
        with counting(engine) as counter:
            fetch()
        results.append((name, timed(runs, fetch), counter.count, -1))
    engine.dispose()
    return results


def _explain(engine, user: User, flt: InboxFilter, deadlines: Deadlines) -> None:  # type: ignore[no-untyped-def]
    """The query plans of the statements one inbox page runs (themes and wijken left out)."""
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            search_signals(session, user, flt, PAGE_SIZE, deadlines=deadlines)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    print(f"\n-- {flt.to_args()}", file=sys.stderr)
    with engine.connect() as conn:
        for statement, parameters in seen:
            if "FROM signal_themes" in statement or "FROM signals" not in statement:
                continue
            print("   " + " ".join(statement.split())[:100], file=sys.stderr)
            for row in conn.exec_driver_sql(prefix + statement, parameters).all():  # type: ignore[arg-type]
                print("      ", row[-1], file=sys.stderr)


# --- running --------------------------------------------------------------------------------


def table(title: str, results: list[tuple[str, float, int, int]]) -> str:
    lines = [f"**{title}**", "", "| case | median ms | statements | matches |"]
    lines.append("|---|---:|---:|---:|")
    for name, median, statements, total in results:
        matches = f"{total:,}" if total >= 0 else "–"
        lines.append(f"| {name} | {median:.1f} | {statements} | {matches} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--explain", action="store_true")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="inbox-bench-"))
    workdir.chmod(0o755)  # the PostgreSQL cluster below runs as the postgres user
    outputs = []
    try:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        start = time.perf_counter()
        fill(url, options.signals)
        filled = time.perf_counter() - start
        print(f"SQLite: {options.signals:,} signals inserted in {filled:.1f} s", file=sys.stderr)
        results = measure(url, options.runs, options.explain)
        outputs.append(table(f"SQLite, {options.signals:,} signals", results))

        if not options.no_postgres and shutil.which("initdb"):
            from tests.fixtures.databases import PostgresCluster

            cluster = PostgresCluster(workdir / "pg")
            (workdir / "pg").mkdir()
            cluster.start()
            try:
                cluster.execute("CREATE DATABASE bench")
                url = cluster.url("bench")
                start = time.perf_counter()
                fill(url, options.signals)
                filled = time.perf_counter() - start
                print(f"PostgreSQL: {options.signals:,} signals in {filled:.1f} s", file=sys.stderr)
                outputs.append(
                    table(
                        f"PostgreSQL 15, {options.signals:,} signals",
                        measure(url, options.runs, options.explain),
                    )
                )
            finally:
                cluster.stop()
        elif not options.no_postgres:
            print("initdb not on the PATH: PostgreSQL skipped", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n\n".join(outputs))


if __name__ == "__main__":
    main()
