"""Steering figures for management and the college: the dashboard's figures for a period and
a selection, each compared with the period before and each an inbox list underneath
(``figures``), the period itself (``period``) and the durations the database works out
(``durations``)."""

from portal.domain.steering.figures import (
    Count,
    Dashboard,
    PeriodFigures,
    Satisfaction,
    Share,
    dashboard,
    selection_of,
)
from portal.domain.steering.period import Period

__all__ = [
    "Count",
    "Dashboard",
    "Period",
    "PeriodFigures",
    "Satisfaction",
    "Share",
    "dashboard",
    "selection_of",
]
