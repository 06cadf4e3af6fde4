"""Running the real `floorboard` CLI in tests, and reading its import summary."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from bot.cli import build_cli


def cli(url: str, *args: str, code: int = 0) -> str:
    """Run `floorboard ARGS` against the database at `url`; assert the exit code; return the output."""
    result = CliRunner().invoke(
        build_cli(), list(args), env={"FLOORBOARD_DATABASE_URL": url, "COLUMNS": "200"}
    )
    assert result.exit_code == code, result.output
    return result.output


def import_counts(output: str) -> dict[str, int]:
    """The counts line of an import summary: `read 5,000 · imported 4,998 · …`."""
    line = next(line for line in output.splitlines() if line.strip().startswith("read "))
    return {name: int(number.replace(",", "")) for name, number in re.findall(r"(\w+) ([\d,]+)", line)}
