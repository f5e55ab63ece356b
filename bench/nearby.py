"""Nearby open signals ("Is dit al gemeld?") at 1,000 and 1,000,000 signals.

Seeds one database per size (``bench/seed.py``: SQLite from a cached template, databases in a
throwaway PostgreSQL cluster; every signal with a pin in its buurt), then times
``portal.domain.nearby.open_signals_near`` by point and by buurt, a bare primary-key query as
the database's own floor, and the fragment the form's script asks for
(GET /melden/in-de-buurt) against a bare Flask endpoint in the same app. Prints markdown
tables (p50/p95 in ms) and the query plans.

    .venv/bin/python -m bench nearby                          # 1,000 and 1,000,000
    .venv/bin/python -m bench nearby --sizes 1000 100000 --no-postgres   # quicker
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np  # shapely's own dependency
import shapely
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bench import machine, seed
from portal import create_app
from portal.domain.geography import DATA_DIR, default_geography
from portal.domain.nearby import OPEN_STATUSES, bounding_box, open_signals_near
from portal.extensions import db
from portal.models import Signal

NOW = datetime.now(UTC)
RADIUS_M = 250.0
LIMIT = 5
MAX_AGE = timedelta(days=183)
TINY = 200


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
    inserted = seed.database(url, size, pins=1.0)
    how = f"inserted in {inserted:.1f} s" if inserted else "copied from the template"
    print(f"{label}: {size:,} signals {how}", file=sys.stderr)
    results, plan = measure(url, runs, place)
    return table(f"{label}, {size:,} signals", results) + f"\n\nPlan:\n\n```\n{plan}\n```"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")


def main(args: argparse.Namespace) -> int:
    sizes = [TINY] if args.tiny else sorted(set(args.sizes))
    runs = 2 if args.tiny else args.runs
    print(machine.describe())
    print()
    place = Hilversum()
    workdir = Path(tempfile.mkdtemp(prefix="nearby-bench-"))
    workdir.chmod(0o755)  # the PostgreSQL cluster below runs as the postgres user
    outputs = []
    try:
        for size in sizes:
            url = f"sqlite:///{workdir / f'bench-{size}.sqlite3'}"
            outputs.append(run(url, "SQLite", size, runs, place))
        if not args.no_postgres:
            with seed.postgres(workdir / "pg") as cluster:
                if cluster is None:
                    print("initdb not on the PATH: PostgreSQL skipped", file=sys.stderr)
                for size in sizes if cluster is not None else []:
                    cluster.execute(f"CREATE DATABASE bench_{size}")
                    url = cluster.url(f"bench_{size}")
                    outputs.append(run(url, "PostgreSQL", size, runs, place))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n\n".join(outputs))
    return 0
