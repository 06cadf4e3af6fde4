"""`floorboard leaderboard`: the full admin board, as a table or as JSON."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum

import typer
from rich.table import Table

from bot.scoring.metrics import CATALOGUE
from bot.scoring.periods import Period, business_day
from bot.services.board_json import board_to_json, queue_board_to_json
from bot.services.leaderboard import (
    POINTS,
    Board,
    QueueBoard,
    UnknownBoard,
    board,
    is_queue_only,
    queue_board,
)
from bot.terminal.common import console, fail, opened_app, parse_day

QUEUES_NOTE = "Abandoned contacts per queue (answered contacts count on the agents who took them):"


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def register(app: typer.Typer) -> None:
    @app.command("leaderboard")
    def leaderboard(
        metric: str | None = typer.Option(
            None, "--metric", "-m", help="a metric key or 'points' [program default]"
        ),
        period: Period | None = typer.Option(None, "--period", "-p", help="[program default]"),
        at: str | None = typer.Option(None, "--at", help="a day in the period, YYYY-MM-DD [today]"),
        team: str | None = typer.Option(None, "--team", "-t", help="a team key or name"),
        league: str | None = typer.Option(None, "--league", "-l", help="a league of the program"),
        queues: bool = typer.Option(
            False,
            "--queues",
            help="the center-wide figure and abandons per queue (abandon_rate, service_level)",
        ),
        output: OutputFormat = typer.Option(OutputFormat.TABLE, "--format", "-f"),
    ) -> None:
        """The full board (every agent, with sample counts), as supervisors and admins see it.

        A queue metric (abandon_rate) has no agent ranking: agents take only answered contacts. For it, and
        with --queues, the board is the center-wide figure (all abandons over all offered contacts) and the
        abandoned contacts of each queue.
        """
        with opened_app() as fb:
            program = fb.program
            day = parse_day(at, "--at") if at else business_day(fb.clock(), program.zone)
            chosen_metric = metric or program.leaderboard.default_metric
            chosen_period = period or Period(program.leaderboard.default_period)
            center = queues or is_queue_only(chosen_metric)
            if center and team is not None:
                raise fail("the center-wide figure covers every team; leave out --team")
            try:
                with fb.engine.connect() as connection:
                    result: Board | QueueBoard
                    if center:
                        result = queue_board(
                            connection, program, metric=chosen_metric, period=chosen_period, at=day
                        )
                    else:
                        result = board(
                            connection,
                            program,
                            metric=chosen_metric,
                            period=chosen_period,
                            at=day,
                            team=team,
                            league=league,
                        )
            except UnknownBoard as error:
                raise fail(str(error)) from None
        if isinstance(result, QueueBoard):
            if output is OutputFormat.JSON:
                typer.echo(json.dumps(queue_board_to_json(result), indent=2, ensure_ascii=False))
            else:
                console.print(queue_summary(result), highlight=False, soft_wrap=True)
                if result.queues:
                    console.print(QUEUES_NOTE, highlight=False, soft_wrap=True)
                    console.print(queue_table(result))
        elif output is OutputFormat.JSON:
            typer.echo(json.dumps(board_to_json(result), indent=2, ensure_ascii=False))
        else:
            console.print(board_table(result))
            if not result.entries and not result.unranked:
                label, span = _label(result.metric), _span(result.start, result.end)
                console.print(f"No agent has {label} data in {result.period.value} {span}.", highlight=False)


def board_table(result: Board) -> Table:
    title = f"{_label(result.metric)} · {result.period.value} {_span(result.start, result.end)}"
    if result.team:
        title += f" · team {result.team}"
    table = Table(title=title, caption=_caption(result), title_justify="left", caption_justify="left")
    table.add_column("rank", justify="right")
    table.add_column("agent")
    table.add_column("value", justify="right")
    table.add_column("samples", justify="right")
    for entry in result.entries:
        table.add_row(
            str(entry.rank), entry.name, format_value(result.metric, entry.value), str(entry.samples)
        )
    for item in result.unranked:
        value = "—" if item.value is None else format_value(result.metric, item.value)
        table.add_row("—", f"[dim]{item.name}[/]", f"[dim]{value}[/]", f"[dim]{item.samples}[/]")
    return table


def queue_summary(result: QueueBoard) -> str:
    """The center-wide figure in one line."""
    figure = "—" if result.value is None else format_value(result.metric, result.value)
    stamp = f"as of {result.as_of:%Y-%m-%d %H:%M} UTC" if result.as_of else "no imports yet"
    return (
        f"{_label(result.metric)}, {result.period.value} {_span(result.start, result.end)}, whole center: "
        f"{figure} over {result.samples:,} offered contacts ({stamp})."
    )


def queue_table(result: QueueBoard) -> Table:
    """One row per queue with its abandoned contacts (answered ones count on the agents who took them)."""
    table = Table()
    table.add_column("queue")
    table.add_column("abandoned", justify="right")
    for queue in result.queues:
        table.add_row(queue.queue, f"{queue.abandoned:,}")
    return table


def format_value(metric: str, value: float) -> str:
    if metric == POINTS:
        return f"{value:,.2f}"
    unit = CATALOGUE[metric].unit
    if unit == "fraction":
        return f"{value * 100:.1f}%"
    if unit == "seconds":
        return f"{value:,.1f} s"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:.2f}"


def _label(metric: str) -> str:
    return "Points" if metric == POINTS else CATALOGUE[metric].label


def _span(start: date, end: date) -> str:
    if start == date.min:
        return "(all time)"
    return start.isoformat() if start == end else f"{start.isoformat()} – {end.isoformat()}"


def _caption(result: Board) -> str:
    stamp = f"as of {result.as_of:%Y-%m-%d %H:%M} UTC" if result.as_of else "no imports yet"
    unranked = (
        f"; {len(result.unranked)} below {result.min_samples} samples (unranked)" if result.unranked else ""
    )
    return stamp + unranked
