"""What every command-line group shares: settings, building the app, and errors users can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import typer
from rich.console import Console

from bot.app import Floorboard, build
from bot.program import ProgramError
from bot.settings import Settings, SettingsError, load_settings
from bot.store.database import DatabaseNotReady

console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise fail(str(error)) from None


@contextmanager
def opened_app() -> Iterator[Floorboard]:
    """Build the app from the environment; refuse an unmigrated database with the command to run."""
    try:
        app = build(settings())
    except (DatabaseNotReady, ProgramError) as error:
        raise fail(str(error)) from None
    try:
        yield app
    finally:
        app.close()


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} must be a date as YYYY-MM-DD, got {value!r}") from None
