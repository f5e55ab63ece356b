"""The signals bench/seed.py loads: their themes and reporters, row by row as plain dicts for
the models' tables, oldest first (see bench/README.md for what they are like)."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache

import numpy as np  # shapely's own dependency
import shapely

from bench.seed_text import FOLLOW_UP_REASONS, ORGANISATIONS, STREETS, Writer
from portal.domain.deadlines import in_time
from portal.domain.geography import DATA_DIR, default_geography
from portal.domain.working_days import LOCAL_TIMEZONE, add_working_days
from portal.models import GENERAL_INBOX, Signal
from portal.search_text import signal_search_text
from portal.vocabulary import Channel, Kind, Status, SubmitterKind, Theme

YEARS = 3
GROWTH = 1.3  # signals per year grow by 30%
BATCH = 20_000
RESPOND_DAYS, HANDLE_DAYS = 3, 20  # the installation's targets (config.py)
CLOSED = (Status.RESOLVED, Status.DECLINED)
# Open signals by age: new ones wait to be looked at, older ones are being worked on.
OPEN_BY_AGE = (
    (3, {"received": 60, "in_progress": 30, "awaiting_resident": 5, "forwarded": 5}),
    (14, {"received": 12, "in_progress": 45, "awaiting_resident": 10, "forwarded": 15,
          "planned": 18}),
    (None, {"received": 3, "in_progress": 35, "awaiting_resident": 12, "forwarded": 20,
            "planned": 22, "reopened": 8}),
)  # fmt: skip
CHANNELS = {
    Channel.WEB: 80,
    Channel.PHONE: 8,
    Channel.EMAIL: 6,
    Channel.COUNTER: 2,
    Channel.SOCIAL: 2,
    Channel.SCHOUW: 2,
}


class Places:
    """Random points inside each CBS buurt, drawn in bulk (rejection sampling)."""

    def __init__(self, rng: np.random.Generator) -> None:
        with (DATA_DIR / "buurten_2023.geojson").open(encoding="utf-8") as f:
            features = json.load(f)["features"]
        geo = default_geography()
        self.codes = [f["properties"]["statcode"] for f in features]
        self.wijk_of = {code: geo.buurt(code).wijk_code for code in self.codes}  # type: ignore[union-attr]
        self._shapes = {
            code: shapely.geometry.shape(f["geometry"])
            for code, f in zip(self.codes, features, strict=True)
        }
        self._pool: dict[str, list[tuple[float, float]]] = {code: [] for code in self.codes}
        self._rng = rng

    def point(self, buurt: str) -> tuple[float, float]:
        pool = self._pool[buurt]
        if not pool:
            shape = self._shapes[buurt]
            min_x, min_y, max_x, max_y = shape.bounds
            x = self._rng.uniform(min_x, max_x, 4000)
            y = self._rng.uniform(min_y, max_y, 4000)
            inside = shapely.contains_xy(shape, x, y)
            pool.extend(
                zip(np.round(x[inside], 6).tolist(), np.round(y[inside], 6).tolist(), strict=True)
            )
        return pool.pop()


@cache
def _due_dates(day: date) -> tuple[date, date]:
    return add_working_days(day, RESPOND_DAYS), add_working_days(day, HANDLE_DAYS)


class SignalRows:
    """The signals (oldest first, ids from 1), their themes and reporters, in batches."""

    def __init__(
        self, count: int, owners: dict[str, int], staff: list[int], *, pins: float, seed: int
    ) -> None:
        self.count = count
        self.owners = owners
        self.staff = staff
        self.pins = pins
        self.rng = random.Random(seed)
        self.writer = Writer(self.rng)
        self.places = Places(np.random.default_rng(seed))
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.has_search_text = "search_text" in Signal.__table__.c
        self.last_numbers: dict[int, int] = {}  # year -> last reference number

    def moments(self) -> np.ndarray:
        """Ages in seconds, oldest first: YEARS years with GROWTH more each year."""
        rate = math.log(GROWTH) / 365.0
        span = YEARS * 365.0
        u = np.random.default_rng(self.rng.randrange(2**32)).random(self.count)
        days = -np.log1p(-u * (1 - math.exp(-rate * span))) / rate  # density ~ GROWTH^-age
        return np.sort(days * 86400.0)[::-1]

    def batches(self) -> Iterator[tuple[list[dict], list[dict], list[dict]]]:
        signals: list[dict] = []
        themes: list[dict] = []
        reporters: list[dict] = []
        for i, age in enumerate(self.moments(), start=1):
            signal, signal_themes, reporter = self.one(i, timedelta(seconds=float(age)))
            signals.append(signal)
            themes += signal_themes
            reporters.append(reporter)
            if len(signals) >= BATCH:
                yield signals, themes, reporters
                signals, themes, reporters = [], [], []
        if signals:
            yield signals, themes, reporters

    def one(self, signal_id: int, age: timedelta) -> tuple[dict, list[dict], dict]:
        rng = self.rng
        created = self.now - age
        year = created.year
        self.last_numbers[year] = number = self.last_numbers.get(year, 0) + 1
        reference = f"HLV-{year}-{number:06d}"
        initiative = rng.random() < 0.15
        issue = self.writer.issue(initiative)
        more = [] if rng.random() < 0.7 else [rng.choice([t for t in Theme if t != issue.theme])]
        # Where: a buurt (and on most a pin in it), or nothing known (general inbox, flagged).
        located = rng.random() > 0.03
        buurt = rng.choice(self.places.codes) if located else None
        wijk = self.places.wijk_of[buurt] if buurt else None
        lon = lat = None
        if buurt and rng.random() < self.pins:
            lon, lat = self.places.point(buurt)
            source = "pin"
        else:
            source = rng.choice(("buurt", "postcode", "address")) if buurt else "unknown"
        street = rng.choice(STREETS) if rng.random() < 0.7 else None
        house_number = str(rng.randint(1, 250)) if street and rng.random() < 0.8 else None
        postcode = f"12{rng.randint(11, 23)} {rng.choice('ABCDEGHJKLMNPRST')}" + rng.choice(
            "ABCDEGHJKLMNPRSTVWXZ"
        )
        postcode = postcode if rng.random() < 0.5 else None
        title, description = self.writer.text(issue, initiative, street)
        owner = self.owners.get(wijk or GENERAL_INBOX) or self.owners.get(GENERAL_INBOX)
        if rng.random() < 0.05:
            owner = rng.choice(self.staff)  # handed to a colleague
        status, responded_at, closed_at, awaiting_since = self.progress(age, created)
        respond_due, handle_due = _due_dates(created.astimezone(LOCAL_TIMEZONE).date())
        channel = rng.choices(list(CHANNELS), weights=list(CHANNELS.values()))[0]
        organisation = (
            ORGANISATIONS[rng.randrange(len(ORGANISATIONS))] if rng.random() < 0.03 else None
        )
        follow_up_on = follow_up_reason = None
        if status not in CLOSED and rng.random() < 0.2:
            follow_up_on = self.now.date() + timedelta(days=rng.randint(-20, 40))
            follow_up_reason = rng.choice(FOLLOW_UP_REASONS)
        sensitive = rng.random() < 0.01
        updated = max(m for m in (created, responded_at, closed_at, awaiting_since) if m)
        signal = {
            "id": signal_id,
            "reference": reference,
            "kind": (Kind.INITIATIEF if initiative else Kind.KNELPUNT).value,
            "title": title,
            "description": description,
            "status": status.value,
            "lon": lon,
            "lat": lat,
            "street": street,
            "house_number": house_number,
            "postcode": postcode,
            "wijk_code": wijk,
            "buurt_code": buurt,
            "location_source": source,
            "location_flagged": not located,
            "public_title": title,
            "public_display": initiative and rng.random() < 0.5,
            "channel": channel.value,
            "registered_by_id": None if channel is Channel.WEB else owner,
            "submitter_kind": (
                SubmitterKind.ORGANISATION if organisation else SubmitterKind.RESIDENT
            ).value,
            "owner_id": owner,
            "follow_up_on": follow_up_on,
            "follow_up_reason": follow_up_reason,
            "respond_due_on": respond_due,
            "handle_due_on": handle_due,
            "responded_at": responded_at,
            # As the operations keep them (portal/domain/deadlines.py), for the steering figures.
            "responded_in_time": in_time(responded_at, respond_due) if responded_at else None,
            "handled_in_time": in_time(closed_at, handle_due) if closed_at else None,
            "awaiting_since": awaiting_since,
            "sensitive": sensitive,
            "sensitive_reason": "Zorgsignaal" if sensitive else None,
            "locale": "nl" if rng.random() < 0.95 else "en",
            "created_at": created,
            "updated_at": updated,
            "closed_at": closed_at,
            "version": 1 if status is Status.RECEIVED else rng.randint(2, 6),
        }
        if self.has_search_text:
            signal["search_text"] = signal_search_text(
                reference=reference,
                title=title,
                street=street,
                house_number=house_number,
                postcode=postcode,
                description=description,
                organisation_name=organisation[0] if organisation else None,
                kvk_number=organisation[1] if organisation else None,
            )
        themes = [{"signal_id": signal_id, "theme": t.value} for t in (issue.theme, *more)]
        name = self.writer.person()
        reporter = {
            "id": signal_id,
            "signal_id": signal_id,
            "name": name,
            "email": self.writer.email(name) if rng.random() < 0.75 else None,
            "phone": self.writer.phone() if rng.random() < 0.4 else None,
            "may_contact": rng.random() < 0.6,
            "may_share_with_partners": rng.random() < 0.3,
            "organisation_name": organisation[0] if organisation else None,
            "kvk_number": organisation[1] if organisation else None,
        }
        return signal, themes, reporter

    def progress(
        self, age: timedelta, created: datetime
    ) -> tuple[Status, datetime | None, datetime | None, datetime | None]:
        """(status, responded_at, closed_at, awaiting_since) for a signal of this age."""
        rng = self.rng
        days = age.total_seconds() / 86400
        closed_share = 0.93 if days > 60 else (0.6 if days > 14 else 0.2 * days / 14)

        def within(limit_days: float, median_days: float) -> datetime:
            later = min(rng.lognormvariate(math.log(median_days), 0.9), limit_days * 0.98)
            return created + timedelta(days=later)

        if rng.random() < closed_share:
            status = Status.RESOLVED if rng.random() < 0.85 else Status.DECLINED
            closed_at = within(days, 12)
            responded_at = min(within(days, 1.5), closed_at)
            return status, responded_at, closed_at, None
        weights = next(w for limit, w in OPEN_BY_AGE if limit is None or days < limit)
        status = Status(rng.choices(list(weights), weights=list(weights.values()))[0])
        if status is Status.RECEIVED:
            return status, None, None, None
        responded_at = within(days, 1.5)
        awaiting = within(days, 5) if status is Status.AWAITING_RESIDENT else None
        return status, responded_at, None, awaiting
