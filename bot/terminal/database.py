"""`floorboard db …` and `floorboard rollups rebuild`."""

from __future__ import annotations

import typer

from bot.services import rollups
from bot.services.rezone import rezone
from bot.store.database import upgrade
from bot.terminal.common import console, opened_app, settings


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="Database schema: migrate with Alembic.", no_args_is_help=True)
    rollup = typer.Typer(help="Per-day KPI sums: rebuild them from the stored records.", no_args_is_help=True)
    app.add_typer(db, name="db")
    app.add_typer(rollup, name="rollups")

    @db.command("upgrade")
    def db_upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
        """Create or migrate the database named by FLOORBOARD_DATABASE_URL."""
        url = settings().database_url
        upgrade(url, revision)
        console.print(f"Database is at revision {revision}.", highlight=False)

    @rollup.command("rebuild")
    def rollups_rebuild() -> None:
        """Recompute every rollup from the current records; reports any rollup that differed."""
        with opened_app() as fb:
            moved = rezone(fb.engine, fb.program, fb.clock)
            report = rollups.rebuild(fb.engine, fb.program)
            fb.score()
        if moved.moved:
            console.print(
                f"Moved {moved.moved} of {moved.records} records to the business day of their team's clock.",
                highlight=False,
            )
        verdict = (
            "identical to the incremental rollups" if report.changed == 0 else f"{report.changed} differed"
        )
        console.print(
            f"Rebuilt {report.rollups} rollups from {report.records} records: {verdict}.", highlight=False
        )
        if report.changed:
            raise typer.Exit(3)
