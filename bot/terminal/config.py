"""`floorboard config check`: validate a program file before anyone runs it."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.program import ProgramError, parse_program
from bot.terminal.common import console, errors, fail


def register(app: typer.Typer) -> None:
    config = typer.Typer(help="The gamification program file.", no_args_is_help=True)
    app.add_typer(config, name="config")

    @config.command("check")
    def check(path: Path = typer.Argument(..., help="the program YAML to validate")) -> None:
        """Validate a program file; every problem is printed as file:line: key path: message."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise fail(f"{path}: cannot read the program file ({error})") from None
        try:
            loaded = parse_program(text, str(path))
        except ProgramError as error:
            problems = str(error).splitlines()
            for problem in problems:
                errors.print(problem, highlight=False, markup=False, soft_wrap=True)
            raise fail(f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}") from None
        program = loaded.program
        if not program.points:
            missing = "no metrics and no points rules" if not program.metrics else "no points rules"
            errors.print(
                f"warning: {path}: {missing}: valid, but it scores nothing; add `points:` rules "
                "(see docs/program.md)",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        rules = ", ".join(rule.rule_id for rule in program.points) or "none"
        metrics = ", ".join(sorted(program.metrics)) or "none"
        console.print(
            f"OK: {path}: program {program.name!r}, timezone {program.timezone}, "
            f"{len(program.metrics)} metrics ({metrics}), {len(program.points)} points rules ({rules}), "
            f"scheduled posts for {len(program.teams)} team(s) ({', '.join(program.teams) or 'none'})"
            + (
                f", effective from {program.effective_from.isoformat()}"
                if program.effective_from
                else ", effective from the day it is loaded"
            ),
            highlight=False,
            markup=False,
        )
