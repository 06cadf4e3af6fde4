"""What every command-line group shares: settings, building the app, and errors users can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.app import Floorboard, build
from bot.program import ProgramError
from bot.settings import Settings, SettingsError, load_settings
from bot.store.database import DatabaseNotReady, display_url

console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise fail(str(error)) from None


@contextmanager
def opened_app() -> Iterator[Floorboard]:
    """Build the app from the environment; refuse an unmigrated or unreachable database, saying why."""
    current = settings()
    try:
        app = build(current)
    except (DatabaseNotReady, ProgramError) as error:
        raise fail(str(error)) from None
    except DBAPIError as error:
        raise fail(database_problem(current.database_url, error)) from None
    try:
        yield app
    except OperationalError as error:
        raise fail(database_problem(current.database_url, error)) from None
    finally:
        app.close()


def database_problem(url: str, error: DBAPIError) -> str:
    """One line for a database error: the URL without its password and the driver's first line."""
    first = (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0]
    if isinstance(error, OperationalError | InterfaceError):
        return f"cannot reach the database {display_url(url)}: {first}; check FLOORBOARD_DATABASE_URL"
    return f"the database {display_url(url)} refused a statement: {first}"


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} must be a date as YYYY-MM-DD, got {value!r}") from None
