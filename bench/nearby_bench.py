"""How fast is "Is dit al gemeld?" with 1,000,000 signals?

Fills a fresh SQLite database (and a throwaway PostgreSQL cluster when ``initdb`` is on the PATH)
with signals whose pins are spread over Hilversum (bulk inserts: executemany on SQLite, COPY on
PostgreSQL - not through the form), then times ``portal.domain.nearby.open_signals_near`` by
point and by buurt, a bare primary-key query as the database's own floor, and the fragment the
form's script asks for (GET /melden/in-de-buurt) against a bare Flask endpoint in the same app.
Prints markdown tables (p50/p95 in ms) and the query plans.

    .venv/bin/python bench/nearby_bench.py                          # 1,000 and 1,000,000
    .venv/bin/python bench/nearby_bench.py --sizes 1000 100000 --no-postgres   # quicker

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402 - shapely's own dependency
import shapely  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from portal import create_app, migrate  # noqa: E402
from portal.database import make_engine  # noqa: E402
from portal.domain.geography import DATA_DIR, default_geography  # noqa: E402
from portal.domain.nearby import OPEN_STATUSES, bounding_box, open_signals_near  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Signal  # noqa: E402
from portal.seeding import seed_demo_data, seed_geography  # noqa: E402
from portal.vocabulary import Status, Theme  # noqa: E402

NOW = datetime.now(UTC)
RADIUS_M = 250.0
LIMIT = 5
MAX_AGE = timedelta(days=183)
BATCH = 50_000
OPEN_WEIGHTS = {
    Status.RECEIVED: 20,
    Status.IN_PROGRESS: 35,
    Status.AWAITING_RESIDENT: 10,
    Status.FORWARDED: 15,
    Status.PLANNED: 15,
    Status.REOPENED: 5,
}
COLUMNS = [
    "id",
    "reference",
    "kind",
    "title",
    "description",
    "status",
    "lon",
    "lat",
    "wijk_code",
    "buurt_code",
    "location_source",
    "location_flagged",
    "public_title",
    "public_display",
    "sensitive",
    "locale",
    "created_at",
    "updated_at",
    "version",
]


# --- where the pins go -----------------------------------------------------------------------


class Hilversum:
    """The CBS buurt polygons, for drawing random points inside the municipality in bulk."""

    def __init__(self) -> None:
        with (DATA_DIR / "buurten_2023.geojson").open(encoding="utf-8") as f:
            features = json.load(f)["features"]
        self.codes = [f["properties"]["statcode"] for f in features]
        self.shapes = [shapely.geometry.shape(f["geometry"]) for f in features]
        self.tree = shapely.STRtree(self.shapes)
        self.bounds = shapely.union_all(self.shapes).bounds
        geo = default_geography()
        self.wijk_of = {code: geo.buurt(code).wijk_code for code in self.codes}  # type: ignore[union-attr]

    def points(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
        """``count`` uniform points inside Hilversum (rejection sampling over its bbox), with
        the code of the buurt each lies in."""
        min_lon, min_lat, max_lon, max_lat = self.bounds
        coords: list[np.ndarray] = []
        buurten: list[str] = []
        while len(buurten) < count:
            n = int((count - len(buurten)) * 2.3) + 100
            lon = rng.uniform(min_lon, max_lon, n)
            lat = rng.uniform(min_lat, max_lat, n)
            inside = self.tree.query(shapely.points(lon, lat), predicate="intersects")
            # One buurt per point (a point on a shared border counts once).
            first = np.unique(inside[0], return_index=True)
            chosen = first[0]
            coords.append(np.column_stack([lon[chosen], lat[chosen]]))
            buurten += [self.codes[i] for i in inside[1][first[1]]]
        return np.concatenate(coords)[:count], buurten[:count]


# --- filling the database -------------------------------------------------------------------


def rows(count: int, place: Hilversum, seed: int = 2026) -> Iterator[tuple[object, ...]]:
    """Signals like the inbox bench's: three years, more of them recent, most of the older ones
    closed; 1% sensitive; public titles on half of them."""
    rng = random.Random(seed)
    points, buurten = place.points(count, np.random.default_rng(seed))
    counters: dict[int, int] = {}
    for i in range(count):
        age = timedelta(days=1095 * rng.random() ** 1.6, seconds=rng.randrange(86400))
        created = NOW - age
        counters[created.year] = counters.get(created.year, 0) + 1
        closed_share = 0.93 if age.days > 60 else (0.5 if age.days > 14 else 0.15)
        if rng.random() < closed_share:
            status = Status.RESOLVED if rng.random() < 0.85 else Status.DECLINED
        else:
            status = rng.choices(list(OPEN_WEIGHTS), weights=list(OPEN_WEIGHTS.values()))[0]
        buurt = buurten[i]
        yield (
            i + 1,
            f"HLV-{created.year}-{counters[created.year]:07d}",
            "knelpunt" if rng.random() < 0.85 else "initiatief",
            "Melding",
            "Een beschrijving.",
            status.value,
            float(points[i, 0]),
            float(points[i, 1]),
            place.wijk_of[buurt],
            buurt,
            "pin",
            False,
            "Losse tegel" if rng.random() < 0.5 else None,
            False,
            rng.random() < 0.01,
            "nl",
            created,
            created,
            1,
        )


def fill(url: str, count: int, place: Hilversum) -> float:
    """Migrated schema, geography, demo staff, then ``count`` signals with 1-2 themes each.
    Returns the seconds the bulk insert took."""
    migrate.upgrade(url)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        seed_geography(db.session, default_geography())
        list(seed_demo_data(db.session))
        db.session.commit()
        db.engine().dispose()
    engine = make_engine(url)
    start = time.perf_counter()
    if engine.dialect.name == "postgresql":
        _copy_postgres(engine, count, place)
    else:
        _insert_sqlite(engine, count, place)
    filled = time.perf_counter() - start
    # Statistics for the planner, as a database that has been running a while has them.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()
    return filled


def _themes(signal_id: int) -> list[str]:
    themes = [t.value for t in Theme]
    first = themes[signal_id % 4]
    return [first] if signal_id % 3 else [first, themes[(signal_id + 1) % 4]]


def _insert_sqlite(engine, count: int, place: Hilversum) -> None:  # type: ignore[no-untyped-def]
    # SQLAlchemy keeps SQLite moments as text in this form; the query compares them as such.
    def as_text(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        insert_signal = (
            f"INSERT INTO signals ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        )
        batch: list[tuple[object, ...]] = []
        themes: list[tuple[int, str]] = []
        for row in rows(count, place):
            batch.append((*row[:16], as_text(row[16]), as_text(row[17]), row[18]))  # type: ignore[arg-type]
            themes += [(row[0], t) for t in _themes(row[0])]  # type: ignore[arg-type]
            if len(batch) >= BATCH:
                cursor.executemany(insert_signal, batch)
                cursor.executemany("INSERT INTO signal_themes VALUES (?, ?)", themes)
                batch.clear()
                themes.clear()
        cursor.executemany(insert_signal, batch)
        cursor.executemany("INSERT INTO signal_themes VALUES (?, ?)", themes)
        raw.commit()
    finally:
        raw.close()


def _copy_postgres(engine, count: int, place: Hilversum) -> None:  # type: ignore[no-untyped-def]
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY signals ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows(count, place):
                    copy.write_row(row)
            with cursor.copy("COPY signal_themes (signal_id, theme) FROM STDIN") as copy:
                for signal_id in range(1, count + 1):
                    for theme in _themes(signal_id):
                        copy.write_row((signal_id, theme))
        connection.commit()
    finally:
        raw.close()


# --- measuring ------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


def timed(work: Callable[[int], object], runs: int) -> tuple[float, float]:
    for i in range(10):  # warm-up: caches, compiled statements, the OS page cache
        work(i)
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        work(i)
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


Result = tuple[str, float, float, str]


def measure(url: str, runs: int, place: Hilversum) -> tuple[list[Result], str]:
    """(case, p50, p95, note) per case, and the query plan of the radius query."""
    app = create_app(
        {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False}
    )
    # The floor for a request in this app: routing, the session, the security headers.
    app.add_url_rule("/bench/bare", "bench_bare", lambda: "ok")
    points, buurten = place.points(runs + 10, np.random.default_rng(7))
    results = []
    with app.app_context():
        engine = db.engine()
        top = db.session.scalar(select(Signal.id).order_by(Signal.id.desc()).limit(1)) or 1
        found: list[int] = []

        def bare_query(i: int) -> object:
            with Session(engine) as session:
                return session.scalar(select(Signal.id).where(Signal.id == (i * 7919) % top + 1))

        def by_point(i: int) -> object:
            with Session(engine) as session:
                hits = open_signals_near(
                    session,
                    lon=float(points[i, 0]),
                    lat=float(points[i, 1]),
                    buurt_code=None,
                    radius_m=RADIUS_M,
                    limit=LIMIT,
                    max_age=MAX_AGE,
                    now=NOW,
                )
                found.append(len(hits))
                return hits

        def by_buurt(i: int) -> object:
            with Session(engine) as session:
                return open_signals_near(
                    session,
                    lon=None,
                    lat=None,
                    buurt_code=buurten[i],
                    radius_m=RADIUS_M,
                    limit=LIMIT,
                    max_age=MAX_AGE,
                    now=NOW,
                )

        p50, p95 = timed(bare_query, runs)
        results.append(("bare query (a signal by its id)", p50, p95, ""))
        p50, p95 = timed(by_point, runs)
        box = _box_average(engine, place)
        note = f"{box:,.0f} candidates in the box, {statistics.mean(found):.1f} listed"
        results.append((f"open signals within {RADIUS_M:.0f} m", p50, p95, note))
        p50, p95 = timed(by_buurt, runs)
        results.append(("open signals in a buurt (no point)", p50, p95, ""))
        plan = _plan(engine, float(points[0, 0]), float(points[0, 1]))
    client = app.test_client()

    def bare_page(_i: int) -> object:
        response = client.get("/bench/bare")
        assert response.status_code == 200
        return response

    def fragment(i: int) -> object:
        response = client.get(f"/melden/in-de-buurt?lon={points[i, 0]}&lat={points[i, 1]}")
        assert response.status_code == 200
        return response

    bare50, bare95 = timed(bare_page, runs)
    results.append(("HTTP: bare Flask endpoint", bare50, bare95, "1.0×"))
    frag50, frag95 = timed(fragment, runs)
    results.append(
        ("HTTP: GET /melden/in-de-buurt (by point)", frag50, frag95, f"{frag50 / bare50:.1f}×")
    )
    with app.app_context():
        db.engine().dispose()
    return results, plan


def _box_average(engine, place: Hilversum) -> float:  # type: ignore[no-untyped-def]
    """Rows the bounding box lets through (open, public, recent) around 20 random points:
    what the query then measures exactly in Python."""
    rng = np.random.default_rng(11)
    place_points, _ = place.points(20, rng)
    counts = []
    with Session(engine) as session:
        for lon, lat in place_points:
            min_lon, min_lat, max_lon, max_lat = bounding_box(float(lon), float(lat), RADIUS_M)
            counts.append(
                len(
                    session.execute(
                        select(Signal.id).where(
                            Signal.lat.between(min_lat, max_lat),
                            Signal.lon.between(min_lon, max_lon),
                            Signal.status.in_(OPEN_STATUSES),
                            Signal.created_at >= NOW - MAX_AGE,
                            Signal.sensitive.is_(False),
                        )
                    ).all()
                )
            )
    return statistics.mean(counts)


def _plan(engine, lon: float, lat: float) -> str:  # type: ignore[no-untyped-def]
    """The plan of the radius query's statement, as the database runs it."""
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args) -> None:  # type: ignore[no-untyped-def]
        if "signals.lat BETWEEN" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            open_signals_near(
                session,
                lon=lon,
                lat=lat,
                buurt_code=None,
                radius_m=RADIUS_M,
                limit=LIMIT,
                max_age=MAX_AGE,
                now=NOW,
            )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    statement, parameters = seen[0]
    sqlite = engine.dialect.name == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
    with engine.connect() as conn:
        lines = conn.exec_driver_sql(prefix + statement, parameters).all()  # type: ignore[arg-type]
    return "\n".join(str(line[-1]) for line in lines)


# --- running --------------------------------------------------------------------------------


def table(title: str, results: list[Result]) -> str:
    lines = [f"**{title}**", "", "| case | p50 ms | p95 ms | note |", "|---|---:|---:|---|"]
    lines += [f"| {name} | {p50:.2f} | {p95:.2f} | {note} |" for name, p50, p95, note in results]
    return "\n".join(lines)


def run(url: str, label: str, size: int, runs: int, place: Hilversum) -> str:
    filled = fill(url, size, place)
    print(f"{label}: {size:,} signals inserted in {filled:.1f} s", file=sys.stderr)
    results, plan = measure(url, runs, place)
    return table(f"{label}, {size:,} signals", results) + f"\n\nPlan:\n\n```\n{plan}\n```"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()

    place = Hilversum()
    workdir = Path(tempfile.mkdtemp(prefix="nearby-bench-"))
    workdir.chmod(0o755)  # the PostgreSQL cluster below runs as the postgres user
    outputs = []
    try:
        for size in options.sizes:
            url = f"sqlite:///{workdir / f'bench-{size}.sqlite3'}"
            outputs.append(run(url, "SQLite", size, options.runs, place))
        if not options.no_postgres and shutil.which("initdb"):
            from tests.fixtures.databases import PostgresCluster

            (workdir / "pg").mkdir()
            cluster = PostgresCluster(workdir / "pg")
            cluster.start()
            try:
                for size in options.sizes:
                    cluster.execute(f"CREATE DATABASE bench_{size}")
                    outputs.append(
                        run(
                            cluster.url(f"bench_{size}"), "PostgreSQL 15", size, options.runs, place
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
