"""Early warning (issue 13), the detection: a buurt and theme with many signals lately or
more than its own past (a Poisson upper bound), and repeated signals at nearly one spot;
sensitive signals never in a finding. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from portal.domain import sensitive
from portal.domain.steering.early_warning import CLUSTER, SPOT, Rules, find, poisson_upper
from portal.domain.working_days import local_date
from portal.extensions import db
from portal.models import Signal
from portal.vocabulary import Theme
from tests.factories import KERKELANDEN, SINT_VITUSBUURT, db_session, make_signal
from tests.test_deadlines import admin_actor, local

TODAY = local_date(datetime.now(UTC))


def test_the_poisson_upper_bound_by_hand() -> None:
    # Poisson(1): P(X <= 4) = 0.9963, P(X <= 5) = 0.9994.
    assert poisson_upper(1.0, 0.999) == 5
    # Poisson(2): P(X <= 5) = 0.9834, P(X <= 6) = 0.9955.
    assert poisson_upper(2.0, 0.99) == 6
    assert poisson_upper(0.0, 0.999) == 0


def signals(app, n: int, *, days_ago: int, buurt: str, theme: Theme) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        make_signal(
            app, buurt=buurt, themes=(theme,), now=local(TODAY - timedelta(days=days_ago + i % 3))
        )[0]
        for i in range(n)
    ]


def ids(app, references: list[str]) -> set[int]:  # type: ignore[no-untyped-def]
    with db_session(app) as session:
        return set(session.scalars(select(Signal.id).where(Signal.reference.in_(references))))


def test_clusters_many_lately_or_more_than_the_buurts_own_past(app) -> None:
    # Kerkelanden, schoon: 5 in the last two weeks (one sensitive, left out: 4 remain, but
    # with nothing before it is more than its past).
    schoon = signals(app, 5, days_ago=2, buurt=KERKELANDEN, theme=Theme.SCHOON)
    # Kerkelanden, veilig: 26 in the half year before (2 per fortnight; the bound at 99.9%
    # is 8), 4 lately: as usual, no finding.
    signals(app, 26, days_ago=30, buurt=KERKELANDEN, theme=Theme.VEILIG)
    with db_session(app) as session:  # spread the 26 over the half year
        past = session.scalars(
            select(Signal)
            .join(Signal.themes)
            .where(Signal.created_at < local(TODAY - timedelta(days=20)))
        ).all()
        for i, signal in enumerate(past):
            signal.created_at = local(TODAY - timedelta(days=20 + 6 * i))
        session.commit()
    signals(app, 4, days_ago=1, buurt=KERKELANDEN, theme=Theme.VEILIG)
    # Sint-Vitus, heel: 3 lately where there were none: unusual. Sociaal: 2, too few.
    heel = signals(app, 3, days_ago=1, buurt=SINT_VITUSBUURT, theme=Theme.HEEL)
    signals(app, 2, days_ago=1, buurt=SINT_VITUSBUURT, theme=Theme.SOCIAAL)
    with app.app_context():
        secret = db.session.scalars(select(Signal).where(Signal.reference == schoon[0])).one()
        sensitive.mark(
            db.session, secret, reason="Zorg", seen_version=secret.version, actor=admin_actor(app)
        )
        db.session.commit()
        found = [f for f in find(db.session, TODAY) if f.kind == CLUSTER]
    by_key = {(f.buurt_code, f.theme): f for f in found}
    assert set(by_key) == {(KERKELANDEN, "schoon"), (SINT_VITUSBUURT, "heel")}
    assert set(by_key[(KERKELANDEN, "schoon")].signal_ids) == ids(app, schoon[1:])
    assert by_key[(KERKELANDEN, "schoon")].upper == 0
    assert set(by_key[(SINT_VITUSBUURT, "heel")].signal_ids) == ids(app, heel)
    assert by_key[(SINT_VITUSBUURT, "heel")].wijk_code == "WK040201"
    # Lower the minimum to 4: Kerkelanden veilig's 4 are "many" now, whatever its past.
    with app.app_context():
        lower = {(f.buurt_code, f.theme) for f in find(db.session, TODAY, Rules(minimum=4))}
    assert (KERKELANDEN, "veilig") in lower


def test_repeated_signals_at_nearly_one_spot(app) -> None:
    near = signals(app, 3, days_ago=3, buurt=KERKELANDEN, theme=Theme.HEEL)
    far = signals(app, 1, days_ago=3, buurt=KERKELANDEN, theme=Theme.HEEL)
    old = signals(app, 1, days_ago=40, buurt=KERKELANDEN, theme=Theme.HEEL)
    with db_session(app) as session:
        # About 10 m apart (0.0001 degrees of latitude is 11 m); the far one 200 m away; the
        # old one at the same spot but six weeks ago.
        for n, reference in enumerate(near + old):
            session.execute(
                update(Signal)
                .where(Signal.reference == reference)
                .values(lon=5.1540, lat=52.2200 + 0.0001 * (n % 3))
            )
        session.execute(
            update(Signal).where(Signal.reference == far[0]).values(lon=5.1540, lat=52.2218)
        )
        session.commit()
        found = [f for f in find(session, TODAY) if f.kind == SPOT]
    assert [set(f.signal_ids) for f in found] == [ids(app, near)]
    assert found[0].buurt_code == KERKELANDEN
