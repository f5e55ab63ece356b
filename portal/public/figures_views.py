"""The public wijk thermometer at /cijfers: per wijk, the last twelve whole months
(portal/domain/steering/thermometer.py). The wijk pages show their own wijk's part."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template
from sqlalchemy import select

from portal.domain.steering import thermometer
from portal.extensions import db
from portal.models import Wijk
from portal.public import bp
from portal.vocabulary import THEME_LABELS, Theme


def current_thermometer() -> thermometer.Thermometer:
    """The stored figures; the first page after the months moved on stores new ones."""
    shown = thermometer.current(db.session, datetime.now(UTC))
    db.session.commit()
    return shown


@bp.get("/cijfers")
def figures():  # type: ignore[no-untyped-def]
    shown = current_thermometer()
    wijken = db.session.execute(select(Wijk.code, Wijk.name).order_by(Wijk.name, Wijk.code))
    return render_template(
        "public/cijfers.html",
        thermometer=shown,
        wijken=[(code, name, shown.of(code)) for code, name in wijken],
        themes=[(theme.value, THEME_LABELS[theme]) for theme in Theme],
        minimum=thermometer.MINIMUM,
    )
