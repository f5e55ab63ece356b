"""Steering figures for management, the college and residents: the dashboard's figures for a
period and a selection, each compared with the period before and each an inbox list
underneath (``figures``), how they are counted - from the summary tables where they can be
(``counting``) - the period itself (``period``), the durations the database works out
(``durations``), and the public wijk thermometer (``thermometer``)."""

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
