"""Early warning ("vroegtijdig signaleren"): patterns no single signal shows, found in what came
in lately - the detection only; storing the findings for the wijk's accountmanager (digest,
dashboard, a dossier or a dismissal) is built on it.

Two simple, explainable rules, with thresholds in ``Rules``:

* **a buurt and a theme** with at least ``minimum`` signals in the last ``window_days`` days,
  or clearly more than its own past: more than the Poisson upper bound (at ``confidence``) of
  what the buurt had on average in as many days over the ``baseline_days`` before - and at
  least ``floor`` of them, so one signal where there were none is no warning;
* **one spot**: at least ``spot_minimum`` signals within ``spot_metres`` of each other in the
  last ``spot_days`` days (by their pins).

Sensitive signals are left out: a finding is read by the wijk's accountmanager, who may not
be the one who may see them."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.nearby import distance_m
from portal.domain.working_days import LOCAL_TIMEZONE
from portal.models import Signal, SignalTheme

CLUSTER, SPOT = "cluster", "spot"


@dataclass(frozen=True)
class Rules:
    window_days: int = 14
    minimum: int = 5
    baseline_days: int = 182
    confidence: float = 0.999
    floor: int = 3
    spot_days: int = 30
    spot_metres: float = 25.0
    spot_minimum: int = 3


@dataclass(frozen=True)
class Finding:
    kind: str  # CLUSTER or SPOT
    wijk_code: str | None
    buurt_code: str | None
    theme: str | None  # a cluster's theme; None for a spot
    first_day: date
    last_day: date
    signal_ids: tuple[int, ...]
    expected: float | None = None  # a cluster: the buurt's own average over as many days
    upper: int | None = None  # ... and the Poisson upper bound on it

    @property
    def count(self) -> int:
        return len(self.signal_ids)


def poisson_upper(mean: float, confidence: float) -> int:
    """The smallest k with P(X <= k) >= ``confidence`` for X ~ Poisson(``mean``): more than k
    in a window is unlikely (1 - confidence) if nothing changed."""
    if mean <= 0:
        return 0
    term = cumulative = math.exp(-mean)
    k = 0
    while cumulative < confidence:
        k += 1
        term *= mean / k
        cumulative += term
    return k


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, LOCAL_TIMEZONE).astimezone(UTC)


def find(session: Session, today: date, rules: Rules | None = None) -> list[Finding]:
    """Every finding as of ``today`` (its last day counted), clusters then spots."""
    rules = rules or Rules()
    return [*clusters(session, today, rules), *spots(session, today, rules)]


def clusters(session: Session, today: date, rules: Rules) -> list[Finding]:
    first = today - timedelta(days=rules.window_days - 1)
    baseline_first = first - timedelta(days=rules.baseline_days)
    rows = session.execute(
        select(Signal.id, Signal.wijk_code, Signal.buurt_code, SignalTheme.theme, Signal.created_at)
        .join(SignalTheme, SignalTheme.signal_id == Signal.id)
        .where(
            Signal.created_at >= _start_of(baseline_first),
            Signal.created_at < _start_of(today + timedelta(days=1)),
            Signal.sensitive.is_(False),
            Signal.buurt_code.is_not(None),
        )
        .order_by(Signal.id)
    )
    recent: dict[tuple[str, str], list[int]] = defaultdict(list)
    before: dict[tuple[str, str], int] = defaultdict(int)
    wijk_of: dict[str, str | None] = {}
    window_start = _start_of(first)
    for signal_id, wijk, buurt, theme, created in rows:
        wijk_of[buurt] = wijk
        if created >= window_start:
            recent[(buurt, theme)].append(signal_id)
        else:
            before[(buurt, theme)] += 1
    found = []
    for (buurt, theme), ids in sorted(recent.items()):
        expected = before[(buurt, theme)] * rules.window_days / rules.baseline_days
        upper = poisson_upper(expected, rules.confidence)
        many = len(ids) >= rules.minimum
        unusual = len(ids) > upper and len(ids) >= rules.floor
        if many or unusual:
            found.append(
                Finding(
                    CLUSTER,
                    wijk_of[buurt],
                    buurt,
                    theme,
                    first,
                    today,
                    tuple(ids),
                    round(expected, 2),
                    upper,
                )
            )
    return found


def spots(session: Session, today: date, rules: Rules) -> list[Finding]:
    """Signals with a pin, grouped when each is within ``spot_metres`` of another in the
    group (single linkage), per buurt; the groups of at least ``spot_minimum``."""
    first = today - timedelta(days=rules.spot_days - 1)
    rows = session.execute(
        select(Signal.id, Signal.wijk_code, Signal.buurt_code, Signal.lon, Signal.lat)
        .where(
            Signal.created_at >= _start_of(first),
            Signal.created_at < _start_of(today + timedelta(days=1)),
            Signal.sensitive.is_(False),
            Signal.lon.is_not(None),
            Signal.lat.is_not(None),
        )
        .order_by(Signal.id)
    ).all()
    per_buurt: dict[tuple[str | None, str | None], list[tuple[int, float, float]]] = defaultdict(
        list
    )
    for signal_id, wijk, buurt, lon, lat in rows:
        per_buurt[(wijk, buurt)].append((signal_id, lon, lat))
    found = []
    for (wijk, buurt), points in sorted(per_buurt.items(), key=lambda item: str(item[0])):
        for group in _groups(points, rules.spot_metres):
            if len(group) >= rules.spot_minimum:
                found.append(Finding(SPOT, wijk, buurt, None, first, today, tuple(sorted(group))))
    return found


def _groups(points: list[tuple[int, float, float]], metres: float) -> list[list[int]]:
    """Single-linkage groups of points closer than ``metres`` (a buurt's month of pins: a
    few hundred at most, so comparing each pair is fine)."""
    parent = list(range(len(points)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (_a, lon_a, lat_a) in enumerate(points):
        for j in range(i + 1, len(points)):
            _b, lon_b, lat_b = points[j]
            if distance_m(lon_a, lat_a, lon_b, lat_b) <= metres:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, (signal_id, _lon, _lat) in enumerate(points):
        groups[root(i)].append(signal_id)
    return list(groups.values())
