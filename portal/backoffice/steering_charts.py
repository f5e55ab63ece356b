"""The dashboard's charts: SVG drawn on the server by pygal, shown as an image, so they need
no JavaScript (pygal's tooltips script is left out; the small config script it still writes
never runs inside an <img>) and print as they look. Every chart has a
table beside it with the same numbers (templates/backoffice/steering.html): the image's text
says so, for screen readers."""

from __future__ import annotations

from collections.abc import Sequence

import pygal
from flask_babel import format_date
from flask_babel import gettext as _
from pygal.style import Style

from portal.domain.steering.figures import Week

# The portal's colours (static/css): dark blue for what came in, orange for what was closed.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#1a1a1a",
    foreground_subtle="#6b6b6b",
    colors=("#0b3b6f", "#c25e00"),
    font_family="Arial, Helvetica, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    title_font_size=15,
    value_font_size=12,
    opacity="1",
    opacity_hover="1",
)


def weekly_trend(weeks: Sequence[Week]) -> str:
    """Came in and closed per week, as a data: URI for an <img>."""
    chart = _bar_chart(width=900, height=320)
    chart.x_labels = [format_date(w.period.first, "d MMM") for w in weeks]
    chart.add(_("Binnengekomen"), [w.came_in.value for w in weeks])
    chart.add(_("Afgesloten"), [w.closed.value for w in weeks])
    return chart.render_data_uri()


def small_trend(weeks: Sequence[Week], top: int) -> str:
    """The same for one wijk, small: one of the small multiples, all on the same scale (0 to
    ``top``, the highest week of any wijk) so that their bars compare."""
    chart = _bar_chart(
        width=320,
        height=160,
        show_legend=False,
        show_x_labels=False,
        range=(0, max(top, 1)),
        y_labels=whole_steps(top),
    )
    chart.add(_("Binnengekomen"), [w.came_in.value for w in weeks])
    chart.add(_("Afgesloten"), [w.closed.value for w in weeks])
    return chart.render_data_uri()


def whole_steps(top: int, most: int = 4) -> list[int]:
    """Axis labels for counts: whole numbers from 0 to at least ``top``, at most ``most``
    steps (0, 1, 2 - not 0.2, 0.4)."""
    step = max(1, -(-max(top, 1) // most))
    return list(range(0, max(top, 1) + step, step))


def _bar_chart(**options: object) -> pygal.Bar:
    return pygal.Bar(
        style=STYLE,
        js=[],  # no script: the page's own numbers are in the table
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        show_y_guides=True,
        print_values=False,
        min_scale=2,
        max_scale=6,
        margin=12,
        **options,
    )
