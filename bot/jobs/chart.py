"""The weekly recap's chart: the team's trend per metric, one panel each, and the week's top movers.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global figure state), so
a scheduler thread or a test can render it anywhere. A week without data is a gap in its line, never a 0.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PANEL_WIDTH = 4.2  # inches
PANEL_HEIGHT = 3.2
MIN_WIDTH = 6.4  # a single panel still leaves the title room
TITLE_SIZE = 13
PANEL_TITLE_SIZE = 10


@dataclass(frozen=True, slots=True)
class Series:
    metric: str
    label: str
    weeks: tuple[date, ...]
    values: tuple[float | None, ...]
    better: str
    scale: float = 1.0  # 100 for rates shown as percentages


@dataclass(frozen=True, slots=True)
class Mover:
    name: str
    change: float


def render_png(title: str, series: Sequence[Series], movers: Sequence[Mover], movers_label: str) -> bytes:
    """The chart as PNG bytes."""
    buffer = io.BytesIO()
    draw(title, series, movers, movers_label).savefig(buffer, format="png")
    return buffer.getvalue()


def draw(title: str, series: Sequence[Series], movers: Sequence[Mover], movers_label: str) -> Figure:
    """The chart's figure: one panel per metric and one for the movers, at most three to a row, under a
    title wrapped to the figure's width."""
    # Imported here: matplotlib takes seconds to load, and only the weekly recap draws.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = len(series) + (1 if movers else 0)
    columns = min(panels, 3) or 1
    rows = -(-max(panels, 1) // columns)
    width = max(PANEL_WIDTH * columns, MIN_WIDTH)
    figure = Figure(figsize=(width, PANEL_HEIGHT * rows + 0.4), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(_wrapped(title, width, TITLE_SIZE), fontsize=TITLE_SIZE, fontweight="bold")
    axes = figure.subplots(rows, columns, squeeze=False).flatten()
    for ax, line in zip(axes, series, strict=False):
        ys = plotted(line)
        if any(not math.isnan(y) for y in ys):
            # NaN breaks the line: a week without data is a gap, and a lone week still shows its marker.
            ax.plot(range(len(ys)), ys, marker="o", color="#1f77b4", linewidth=2)
            last = max(i for i, y in enumerate(ys) if not math.isnan(y))
            # Above and to the left of the point: the last week is at the panel's right edge, and a label
            # running right from it would leave the panel (and, in the last column, the figure).
            ax.annotate(
                f"{ys[last]:.3g}",
                (last, ys[last]),
                textcoords="offset points",
                xytext=(-5, 7),
                ha="right",
                va="bottom",
            )
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="gray")
        arrow = "↑" if line.better == "higher" else "↓"
        panel_title = f"{line.label} ({arrow} is better)"
        ax.set_title(_wrapped(panel_title, width / columns, PANEL_TITLE_SIZE), fontsize=PANEL_TITLE_SIZE)
        ax.set_xticks(range(len(line.weeks)), [f"{week:%b %d}" for week in line.weeks], fontsize=8)
        ax.margins(x=0.08, y=0.18)  # room for the last value's label inside the panel
        ax.grid(alpha=0.3)
    if movers:
        ax = axes[len(series)]
        names = [mover.name for mover in movers][::-1]
        changes = [mover.change for mover in movers][::-1]
        ax.barh(names, changes, color="#2ca02c")
        ax.set_title(_wrapped(movers_label, width / columns, PANEL_TITLE_SIZE), fontsize=PANEL_TITLE_SIZE)
        ax.grid(alpha=0.3, axis="x")
    for ax in axes[panels:]:
        ax.set_visible(False)
    return figure


def plotted(line: Series) -> list[float]:
    """The values as drawn: scaled (rates in %), a week without data as NaN, which the plot leaves out."""
    return [math.nan if value is None else value * line.scale for value in line.values]


def _wrapped(text: str, inches: float, points: float) -> str:
    """`text` in lines that fit `inches` at `points` (an average glyph is about 0.6 em wide)."""
    per_line = max(16, int(inches * 72 / (points * 0.6)) - 2)
    return textwrap.fill(text, per_line, break_long_words=False)
