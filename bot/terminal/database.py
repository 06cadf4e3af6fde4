"""`floorboard db …` and `floorboard rollups rebuild`."""

from __future__ import annotations

import typer
from alembic.util.exc import CommandError
from sqlalchemy.exc import DBAPIError

from bot.services import rollups
from bot.store.database import DatabaseNotReady, upgrade
from bot.terminal.common import console, database_problem, fail, opened_app, settings


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="Database schema: migrate with Alembic.", no_args_is_help=True)
    rollup = typer.Typer(help="Per-day KPI sums: rebuild them from the stored records.", no_args_is_help=True)
    app.add_typer(db, name="db")
    app.add_typer(rollup, name="rollups")

    @db.command("upgrade")
    def db_upgrade(
        revision: str = typer.Argument("head", help="target revision"),
        create_dirs: bool = typer.Option(
            False, "--create-dirs", help="create the missing directories of a SQLite file"
        ),
    ) -> None:
        """Create or migrate the database named by FLOORBOARD_DATABASE_URL, and say which it did.

        A new SQLite file is created only in a directory that exists, unless --create-dirs.
        """
        url = settings().database_url
        try:
            result = upgrade(url, revision, create_dirs=create_dirs)
        except DatabaseNotReady as error:
            raise fail(str(error)) from None
        except CommandError as error:
            raise fail(f"cannot upgrade to revision {revision!r}: {error}") from None
        except DBAPIError as error:
            raise fail(database_problem(url, error)) from None
        console.print(result.describe(), highlight=False, soft_wrap=True)

    @rollup.command("rebuild")
    def rollups_rebuild() -> None:
        """Recompute every rollup from the current records; reports any rollup that differed."""
        with opened_app() as fb:
            report = rollups.rebuild(fb.engine, fb.program)
            fb.score()
        verdict = (
            "identical to the incremental rollups" if report.changed == 0 else f"{report.changed} differed"
        )
        console.print(
            f"Rebuilt {report.rollups} rollups from {report.records} records: {verdict}.", highlight=False
        )
        if report.changed:
            raise typer.Exit(3)
