"""The weekly recap's chart: the team's trend per metric, one panel each, and the week's top movers.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global figure state), so
a scheduler thread or a test can render it anywhere.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


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
    # Imported here: matplotlib takes seconds to load, and only the weekly recap draws.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = len(series) + (1 if movers else 0)
    columns = min(panels, 3) or 1
    rows = -(-max(panels, 1) // columns)
    figure = Figure(figsize=(4.2 * columns, 3.2 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=13, fontweight="bold")
    axes = figure.subplots(rows, columns, squeeze=False).flatten()
    for ax, line in zip(axes, series, strict=False):
        points = [(i, v * line.scale) for i, v in enumerate(line.values) if v is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", color="#1f77b4", linewidth=2)
            ax.annotate(f"{ys[-1]:.3g}", (xs[-1], ys[-1]), textcoords="offset points", xytext=(4, 6))
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="gray")
        arrow = "↑" if line.better == "higher" else "↓"
        ax.set_title(f"{line.label} ({arrow} is better)", fontsize=10)
        ax.set_xticks(range(len(line.weeks)), [f"{week:%b %d}" for week in line.weeks], fontsize=8)
        ax.grid(alpha=0.3)
    if movers:
        ax = axes[len(series)]
        names = [mover.name for mover in movers][::-1]
        changes = [mover.change for mover in movers][::-1]
        ax.barh(names, changes, color="#2ca02c")
        ax.set_title(movers_label, fontsize=10)
        ax.grid(alpha=0.3, axis="x")
    for ax in axes[panels:]:
        ax.set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
