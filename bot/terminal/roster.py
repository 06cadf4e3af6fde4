"""`floorboard roster import|export`: people, keys, chat accounts, dated teams and supervision as CSV."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from bot.scoring.periods import business_day
from bot.services.rezone import rezone
from bot.services.roster import COLUMNS, RosterError, RosterReport, export_roster, import_roster_file
from bot.terminal.common import console, errors, fail, opened_app


def register(app: typer.Typer) -> None:
    roster = typer.Typer(help=f"The roster CSV (columns: {', '.join(COLUMNS)}).", no_args_is_help=True)
    app.add_typer(roster, name="roster")

    @roster.command("import")
    def roster_import(
        path: Path = typer.Argument(..., help="roster CSV"),
        dry_run: bool = typer.Option(False, "--dry-run", help="report what would change, change nothing"),
    ) -> None:
        """Create and update people from a roster file; importing the same file twice changes nothing.

        A person is matched by e-mail, else by one of their keys, else by name. A new team with a new
        team_from closes the previous membership that day. Blank cells keep stored values; '-' clears.
        Every bad row is reported at once, and then nothing is imported. The format: docs/roster.md.
        """
        with opened_app() as fb:
            try:
                report = import_roster_file(
                    fb.engine,
                    path,
                    today=business_day(fb.clock(), fb.program.zone),
                    clock=fb.clock,
                    console_namespace=fb.settings.console_namespace,
                    dry_run=dry_run,
                )
            except RosterError as error:
                for problem in error.problems:
                    errors.print(problem, highlight=False, markup=False, soft_wrap=True)
                raise fail(f"{path}: nothing imported ({len(error.problems)} problem(s))") from None
            moved = None
            if report.moves_clocks and not dry_run:
                moved = rezone(fb.engine, fb.program, fb.clock)
                fb.score()
        _print_summary(path, report, dry_run=dry_run)
        if moved is not None and moved.moved:
            console.print(
                f"Team changes moved {moved.moved} records to another business day; both days were rescored.",
                highlight=False,
            )
        if report.changes and not dry_run:
            console.print(
                "Records parked for keys added here come in with: floorboard parked replay", highlight=False
            )

    @roster.command("export")
    def roster_export(path: Path = typer.Argument(..., help="CSV to write")) -> None:
        """Write every person in the import format, so export then import changes nothing."""
        with opened_app() as fb:
            try:
                count = export_roster(fb.engine, path, console_namespace=fb.settings.console_namespace)
            except OSError as error:
                raise fail(f"{path}: cannot write the roster ({error.strerror})") from None
        console.print(f"Wrote {count} people to {path}.", highlight=False)


def _print_summary(path: Path, report: RosterReport, *, dry_run: bool) -> None:
    changes = f"{report.changes} change{'s' if report.changes != 1 else ''}"
    if dry_run:
        headline = f"Dry run of {path}: {changes} would be made; nothing was written."
    else:
        headline = f"Imported {path}: {changes}." if report.changes else f"Imported {path}: no changes."
    console.print(headline, highlight=False, soft_wrap=True)
    table = Table(show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in report.as_dict().items():
        table.add_row(name.replace("_", " "), str(count))
    console.print(table)
    verb = "would rename" if dry_run else "renamed"
    for line, person_id, old, new in report.renamed:
        console.print(
            f"{path}:{line}: {verb} #{person_id} {old!r} to {new!r}", highlight=False, soft_wrap=True
        )
