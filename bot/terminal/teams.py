"""`floorboard teams`: teams ranked on a metric, normalized by headcount."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import typer
from rich.table import Table

from bot.scoring.periods import Period, business_day
from bot.services.board_json import instant
from bot.services.leaderboard import UnknownBoard
from bot.services.team_board import TeamBoard, team_board
from bot.terminal.boards import format_value
from bot.terminal.common import console, fail, opened_app, parse_day


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def register(app: typer.Typer) -> None:
    @app.command("teams")
    def teams(
        metric: str = typer.Option("points", "--metric", "-m", help="a metric key or 'points'"),
        period: Period = typer.Option(Period.WEEK, "--period", "-p"),
        at: str | None = typer.Option(None, "--at", help="a day in the period, YYYY-MM-DD [today]"),
        output: OutputFormat = typer.Option(OutputFormat.TABLE, "--format", "-f"),
    ) -> None:
        """Teams ranked on a metric: points and totals per member (headcount) or summed, as the program's
        team_boards.normalize says; averages and rates pooled over every contact."""
        with opened_app() as fb:
            day = parse_day(at, "--at") if at else business_day(fb.clock(), fb.program.zone)
            try:
                with fb.engine.connect() as connection:
                    result = team_board(connection, fb.program, metric=metric, period=period, at=day)
            except UnknownBoard as error:
                raise fail(str(error)) from None
        if output is OutputFormat.JSON:
            typer.echo(json.dumps(team_board_json(result), indent=2, ensure_ascii=False))
            return
        table = Table(
            title=f"Teams · {metric} · {period.value} {result.start} to {result.end} · {result.normalize}",
            title_justify="left",
        )
        for column, justify in (
            ("rank", "right"),
            ("team", "left"),
            ("value", "right"),
            ("headcount", "right"),
            ("samples", "right"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for entry in result.entries:
            table.add_row(
                str(entry.rank),
                entry.name,
                format_value(metric, entry.value),
                str(entry.headcount),
                str(entry.samples),
            )
        console.print(table)


def team_board_json(result: TeamBoard) -> dict[str, Any]:
    return {
        "metric": result.metric,
        "normalize": result.normalize,
        "period": {"start": result.start.isoformat(), "end": result.end.isoformat()},
        "as_of": instant(result.as_of),
        "teams": [
            {
                "rank": e.rank,
                "team": e.team,
                "name": e.name,
                "value": e.value,
                "headcount": e.headcount,
                "samples": e.samples,
            }
            for e in result.entries
        ],
    }
