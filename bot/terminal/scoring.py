"""`floorboard rescore` and `floorboard whatif`."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from bot.program import ProgramError, load_program
from bot.scoring.periods import Period
from bot.services.badges import close_due, today_of
from bot.services.rescore import rescore as rescore_from
from bot.services.whatif import UnknownLeague, WhatIf
from bot.services.whatif import whatif as compute_whatif
from bot.terminal.common import console, fail, opened_app, parse_day


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def register(app: typer.Typer) -> None:
    _register_periods(app)

    @app.command("rescore")
    def rescore(
        since: str = typer.Option(..., "--from", help="the first business day to rescore, YYYY-MM-DD"),
    ) -> None:
        """Replay the stored records from a day on, under the program versions in force on each day.

        Corrections are appended (a reversal and a replacement), never edits; running it twice writes nothing.
        """
        day = parse_day(since, "--from")
        with opened_app() as fb:
            report = rescore_from(fb.engine, fb.program, fb.history, fb.clock, day)
            timeline = fb.history.timeline()
        console.print(
            f"Rescored {report.days:,} agent-days from {day.isoformat()}: "
            f"{report.ledger_rows:,} ledger rows written ({report.records_moved:,} records re-dated, "
            f"{report.rollups_changed:,} rollups corrected).",
            highlight=False,
        )
        stretches = [
            f"v{version} " + ("from the start" if index == 0 else f"from {start.isoformat()}")
            for index, (start, version) in enumerate(timeline)
        ]
        console.print(f"In force: program {', '.join(stretches)}.", highlight=False)

    @app.command("whatif")
    def whatif(
        path: Path = typer.Argument(..., help="the proposed program file"),
        period: Period = typer.Option(Period.MONTH, "--period", "-p"),
        at: str = typer.Option(..., "--at", help="a day in the period, YYYY-MM-DD"),
        league: str | None = typer.Option(
            None, "--league", "-l", help="only this league of the proposed program, ranked among itself"
        ),
        output: OutputFormat = typer.Option(OutputFormat.TABLE, "--format", "-f"),
    ) -> None:
        """How each agent's points, rank and badges would change under a proposed program; writes nothing.

        Ranks are within each agent's league when the program says within_leagues: true.
        """
        day = parse_day(at, "--at")
        try:
            proposed = load_program(path).program
        except ProgramError as error:
            raise fail(str(error)) from None
        with opened_app() as fb:
            today = today_of(fb.history.in_force(fb.clock().date()).program, fb.clock)
            try:
                result = compute_whatif(
                    fb.engine, fb.history, proposed, period=period, at=day, today=today, league=league
                )
            except UnknownLeague as error:
                raise fail(str(error)) from None
        if output is OutputFormat.JSON:
            console.print_json(json.dumps(whatif_json(result)))
            return
        table = Table(
            title=f"What if {path.name}: points, {period.value} {result.start} to {result.end}"
            + ("" if result.ranked_within == "floor" else f", ranked within {result.ranked_within}"),
            title_justify="left",
        )
        for column in (
            "agent",
            "league",
            "points now",
            "points then",
            "change",
            "rank now",
            "rank then",
            "badges gained",
            "badges lost",
        ):
            table.add_column(column, justify="left" if column == "agent" else "right")
        for row in result.rows:
            table.add_row(
                row.name,
                row.league or "–",
                f"{row.points_now:.2f}",
                f"{row.points_then:.2f}",
                f"{row.change:+.2f}",
                _rank(row.rank_now),
                _rank(row.rank_then),
                ", ".join(row.badges_gained) or "–",
                ", ".join(row.badges_lost) or "–",
            )
        console.print(table)


def _register_periods(app: typer.Typer) -> None:
    periods = typer.Typer(help="Periods and their badges.", no_args_is_help=True)
    app.add_typer(periods, name="periods")

    @periods.command("close")
    def close(
        through: str | None = typer.Option(
            None,
            "--through",
            help="also close every period with data ending on or before this day, YYYY-MM-DD, however "
            "recently its records arrived (a finished backfill)",
        ),
    ) -> None:
        """Close every period that is due and award its badges: correction_window_days after it ended
        and after its first record arrived, whichever is later.

        Scoring does this too; running it again closes nothing twice. A closed period is final: late
        data still rescore its points, never its badges.
        """
        last = parse_day(through, "--through") if through else None
        with opened_app() as fb:
            today = today_of(fb.history.in_force(fb.clock().date()).program, fb.clock)
            if last is not None and last >= today:
                raise fail(
                    f"--through {last.isoformat()} is not over yet (today is {today.isoformat()}); "
                    "give a day before today"
                )
            closed = close_due(fb.engine, fb.history, fb.clock, through=last)
        if not closed:
            console.print("No period is due to close.", highlight=False)
            return
        console.print(
            f"Closed {len(closed):,} periods: {', '.join(closed[:10])}" + (" …" if len(closed) > 10 else "."),
            highlight=False,
        )


def whatif_json(result: WhatIf) -> dict[str, object]:
    return {
        "period": {
            "name": result.period.value,
            "start": result.start.isoformat(),
            "end": result.end.isoformat(),
        },
        "ranked_within": result.ranked_within,
        "agents": [
            {
                "agent": row.name,
                "agent_id": row.person_id,
                "league": row.league,
                "points_now": row.points_now,
                "points_then": row.points_then,
                "change": row.change,
                "rank_now": row.rank_now,
                "rank_then": row.rank_then,
                "badges_now": row.badges_now,
                "badges_gained": list(row.badges_gained),
                "badges_lost": list(row.badges_lost),
            }
            for row in result.rows
        ],
    }


def _rank(rank: int | None) -> str:
    return "–" if rank is None else str(rank)
