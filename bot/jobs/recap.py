"""The weekly recap: the week's public top, the top movers against last week, the team's trend per metric
over recent weeks (a chart uploaded with the post) and the week's team figures.

A recap is built as of its day: the week counts its business days up to the post's day (a Friday recap
covers Monday to Friday), and the top movers compare those days with the same weekdays of last week, so a
partial week is never measured against a whole one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from bot.handlers.commands.leaderboard import public_entries, public_top
from bot.handlers.contract import Destination, DestinationKind, Fields, Table, Text
from bot.handlers.replies import message
from bot.jobs.chart import Mover, Series, render_png
from bot.jobs.content import PostContent, TeamRef, Upload
from bot.jobs.standings import data_as_of, figure_field, figure_metrics, freshness, team_figures, top_table
from bot.messages import formats, render
from bot.program import Program, WeeklyRecap
from bot.scoring.metrics import CATALOGUE
from bot.scoring.periods import Period, window
from bot.services.leaderboard import POINTS, Board, board
from bot.services.team_board import team_board

MOST_MOVERS = 3


@dataclass(frozen=True, slots=True)
class Move:
    person_id: int
    name: str
    last_week: float
    this_week: float

    @property
    def change(self) -> float:
        return self.this_week - self.last_week


def top_movers(this_week: Board, last_week: Board, size: int) -> list[Move]:
    """Public agents ranked both weeks whose points rose most; never more than the visibility rule posts."""
    before = {entry.person_id: entry.value for entry in last_week.entries}
    visible = public_entries(this_week)
    moves = [
        Move(entry.person_id, entry.name, before[entry.person_id], entry.value)
        for entry in visible
        if entry.person_id in before and entry.value > before[entry.person_id]
    ]
    moves.sort(key=lambda move: (-move.change, move.name))
    return moves[: min(MOST_MOVERS, size, len(visible) // 2)]


def trend(
    connection: Connection,
    program: Program,
    team: TeamRef,
    metric: str,
    weeks: list[date],
    through: date | None = None,
) -> tuple[float | None, ...]:
    """The team's figure for `metric` in each week: pooled for rates, per member for totals; None for a
    week without data (no contact, no survey), so the chart leaves a gap rather than drawing a 0.
    No week counts a day after `through` (the recap's own week stops at its day)."""
    values: list[float | None] = []
    for start in weeks:
        entries = team_board(
            connection, program, metric=metric, period=Period.WEEK, at=start, through=through
        ).entries
        found = next((entry for entry in entries if entry.team == team.key), None)
        values.append(found.value if found is not None and found.samples > 0 else None)
    return tuple(values)


def build(
    connection: Connection,
    program: Program,
    team: TeamRef,
    spec: WeeklyRecap,
    day: date,
    now: datetime,
    zone: ZoneInfo,
    locale: str = "en",
) -> PostContent:
    start, end = window(Period.WEEK, day, program.week_starts_on)
    size = program.leaderboard.public_size
    a_week = timedelta(days=7)
    this_week = board(
        connection, program, metric=POINTS, period=Period.WEEK, at=day, team=team.key, through=day
    )
    last_week = board(
        connection,
        program,
        metric=POINTS,
        period=Period.WEEK,
        at=start - a_week,
        team=team.key,
        through=day - a_week,
    )
    top = public_top(this_week, size)
    movers = top_movers(this_week, last_week, size)
    metrics = figure_metrics(program, spec.metrics)
    weeks = [start - timedelta(days=7 * back) for back in range(spec.weeks - 1, -1, -1)]
    series = [
        Series(
            metric,
            _series_label(metric, locale),
            tuple(weeks),
            trend(connection, program, team, metric, weeks, through=day),
            program.better(metric),
            100.0 if CATALOGUE[metric].unit == "fraction" else 1.0,
        )
        for metric in metrics
    ]
    figures = team_figures(connection, program, team, metrics, Period.WEEK, day, through=day)
    fresh = data_as_of(connection, team, day)
    week = formats.window(Period.WEEK, start, end, locale)
    title = render("posts.recap.title", locale, team=team.name, week=week)
    chart = render_png(
        title,
        series,
        [Mover(move.name, move.change) for move in movers],
        render("posts.recap.movers_chart", locale),
    )
    parts: list[Text | Table | Fields] = [top_table(this_week, top, locale)]
    if movers:
        names = render("common.comma", locale).join(
            render("posts.recap.mover", locale, name=m.name, change=formats.trim(m.change)) for m in movers
        )
        parts.append(Text(render("posts.recap.movers", locale, movers=names) + "\n"))
    if figures:
        parts.append(Fields(tuple(figure_field(figure, locale) for figure in figures)))
    parts.append(Text(freshness(now, fresh, zone, locale)))
    public = message(Destination(DestinationKind.TEAM_CHANNEL, team_id=team.id), *parts, title=title)
    filename = f"recap-{team.key}-{start.isoformat()}.png"
    chart_title = render("posts.recap.chart_title", locale, team=team.name, week=week)
    upload = Upload(filename, chart, chart_title, inline_name="recap.png")
    data: dict[str, Any] = {
        "kind": "weekly_recap",
        "team": team.key,
        "week": {"start": start.isoformat(), "end": end.isoformat(), "through": this_week.end.isoformat()},
        "top": [{"rank": e.rank, "agent": e.name, "value": e.value, "samples": e.samples} for e in top],
        "movers": [
            {"agent": m.name, "last_week": m.last_week, "this_week": m.this_week, "change": m.change}
            for m in movers
        ],
        "chart": {
            "filename": filename,
            "bytes": len(chart),
            "series": [
                {
                    "metric": line.metric,
                    "weeks": [week.isoformat() for week in line.weeks],
                    "values": list(line.values),
                }
                for line in series
            ],
        },
        "figures": [
            {"metric": f.metric, "value": f.value, "samples": f.samples, "headcount": f.headcount}
            for f in figures
        ],
        "as_of": now.isoformat(),
        "data_as_of": fresh.isoformat() if fresh else None,
    }
    return PostContent(public, (upload,), (), data)


def _series_label(metric: str, locale: str) -> str:
    label = formats.metric_label(metric, locale)
    if CATALOGUE[metric].kind == "total":
        return render("posts.figure.per_agent", locale, metric=label)
    unit = CATALOGUE[metric].unit
    if unit == "fraction":
        return f"{label} (%)"
    return f"{label} (s)" if unit == "seconds" else label
