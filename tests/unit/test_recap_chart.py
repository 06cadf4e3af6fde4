"""The recap chart: the title fits the figure with one panel or several; a week without data is a gap."""

import math
from datetime import date, timedelta

import pytest

from bot.jobs.chart import Mover, Series, draw, plotted, render_png

WEEKS = tuple(date(2021, 3, 8) + timedelta(days=7 * n) for n in range(6))
TITLE = "Weekly recap, team Customer Care, week 2021-03-08 to 2021-03-14"
CSAT = Series("csat", "CSAT", WEEKS, (3.4, None, 3.5, 3.45, None, 3.6), "higher")
FCR = Series("fcr", "FCR (%)", WEEKS, (0.7, 0.72, None, 0.75, 0.8, 0.78), "higher", 100.0)
HANDLED = Series("handled", "Handled per agent", WEEKS, (2.0, None, 5.5, 6.0, 7.0, 6.5), "higher")
NOTHING = Series("aht", "AHT (s)", WEEKS, (None,) * 6, "lower")


def test_a_week_without_data_is_nan_never_zero_and_rates_are_percentages():
    assert [None if math.isnan(v) else v for v in plotted(HANDLED)] == [2.0, None, 5.5, 6.0, 7.0, 6.5]
    assert [None if math.isnan(v) else round(v, 6) for v in plotted(FCR)] == [70, 72, None, 75, 80, 78]


@pytest.mark.parametrize(
    ("series", "movers"),
    [
        ([CSAT], []),
        ([HANDLED, CSAT, FCR, NOTHING], [Mover("Cy", 7.0), Mover("Ann", 4.0)]),
    ],
    ids=["one panel", "five panels"],
)
def test_every_title_fits_inside_the_figure_and_gaps_break_the_lines(series, movers):
    figure = draw(TITLE, series, movers, "Top movers (points vs last week)")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    titles = list(figure.texts) + [ax.title for ax in figure.axes if ax.get_visible()]
    for text in titles:
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= width and box.y1 <= height, (text.get_text(), box)
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert len(panels) == len(series) + (1 if movers else 0)
    for ax, line in zip(panels, series, strict=False):
        drawn = [list(data.get_ydata()) for data in ax.get_lines()]
        if all(value is None for value in line.values):
            assert drawn == []
            continue
        [ys] = drawn
        assert [math.isnan(y) for y in ys] == [value is None for value in line.values]
        assert 0 not in [y for y in ys if not math.isnan(y)]


def test_the_png_is_a_png():
    assert render_png(TITLE, [CSAT], [], "Top movers")[:8] == b"\x89PNG\r\n\x1a\n"


def _drawn_texts(figure):
    """Every text the canvas draws: titles, value labels, "no data", and the tick labels in view."""
    texts = [text for text in figure.texts if text.get_text()]
    for ax in figure.axes:
        if not ax.get_visible():
            continue
        texts += [ax.title, *ax.texts]
        for axis, (low, high) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            ticks = zip(axis.get_ticklocs(), axis.get_ticklabels(), strict=True)
            texts += [label for loc, label in ticks if low <= loc <= high and label.get_text()]
    return texts


@pytest.mark.parametrize(
    ("series", "movers"),
    [
        ([CSAT], []),
        ([HANDLED, CSAT, FCR], []),
        ([HANDLED, CSAT, FCR, NOTHING], [Mover("Cy", 7.0), Mover("Ann", 4.0)]),
    ],
    ids=["one panel", "three panels", "five panels"],
)
def test_every_text_and_the_last_values_label_lie_inside_the_figure(series, movers):
    figure = draw(TITLE, series, movers, "Top movers (points vs last week)")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    texts = _drawn_texts(figure)
    labels = [text.get_text() for ax in figure.axes for text in ax.texts]
    assert labels == [f"{plotted(line)[-1]:.3g}" for line in series if line is not NOTHING] + ["no data"] * (
        NOTHING in series
    )
    for text in texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, (text.get_text(), box)
    for ax in figure.axes:  # each value label stays inside its own panel too
        panel = ax.get_window_extent(renderer)
        for text in ax.texts:
            box = text.get_window_extent(renderer)
            assert panel.x0 <= box.x0 and box.x1 <= panel.x1 and box.y1 <= panel.y1, (text.get_text(), box)
