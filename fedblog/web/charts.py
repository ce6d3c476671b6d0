"""Small SVG charts rendered on the server (no JavaScript): stacked bars, one per day. Each chart has a <title>
and <desc> for screen readers, and the page shows the same numbers in a table beside it."""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup, escape

from fedblog.services.dashboard import DailySeries

WIDTH, HEIGHT = 600, 160
AXIS = 30  # room under the bars for the first and last dates


def nice_ceiling(value: int) -> int:
    """The top of the scale: 1, 2, 5, 10, 20, 50… at least `value`."""
    decade = 1
    while True:
        for step in (1, 2, 5):
            if decade * step >= value:
                return decade * step
        decade *= 10


def stacked_bars(chart_id: str, data: DailySeries, title: str, labels: Mapping[str, str]) -> Markup:
    """One bar per day, its kinds stacked in order; the CSS classes `bar-KIND` colour them (light and dark)."""
    totals = [sum(data.values[kind][index] for kind in data.kinds) for index in range(len(data.days))]
    top = nice_ceiling(max(totals, default=0))
    slot = WIDTH / max(1, len(data.days))
    bar = max(1.0, slot * 0.7)
    plot = HEIGHT - AXIS
    summary = ", ".join(f"{labels[kind]}: {data.total(kind)}" for kind in data.kinds)
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(summary)}</desc>',
        f'<line class="chart-axis" x1="0" y1="{plot}" x2="{WIDTH}" y2="{plot}"/>',
    ]
    for index, day in enumerate(data.days):
        x = index * slot + (slot - bar) / 2
        y = float(plot)
        for kind in data.kinds:
            value = data.values[kind][index]
            if not value:
                continue
            height = value / top * (plot - 4)
            y -= height
            parts.append(
                f'<rect class="bar-{escape(kind)}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}">'
                f"<title>{escape(day)} · {escape(labels[kind])}: {value}</title></rect>"
            )
    if data.days:
        parts.append(f'<text class="chart-label" x="0" y="{HEIGHT - 6}">{escape(data.days[0])}</text>')
        parts.append(
            f'<text class="chart-label" x="{WIDTH}" y="{HEIGHT - 6}" text-anchor="end">{escape(data.days[-1])}</text>'
        )
        parts.append(f'<text class="chart-label" x="0" y="18">{top}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text and attribute above is escaped or a number)
