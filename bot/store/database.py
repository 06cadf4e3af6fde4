"""Engine and session factory: SQLite (WAL, busy timeout) by default, PostgreSQL in production."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from bot import migrations_dir

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 128 * 1024  # the unique index of a million-record import stays in memory


class DatabaseNotReady(RuntimeError):
    """The database is missing, missing tables or behind the code's migrations."""


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    """What `upgrade` did: `before` is None for a database that had no Floorboard schema yet."""

    where: str  # the SQLite file, or the URL without its password
    before: str | None
    after: str | None
    new_file: bool  # a SQLite file that did not exist was created

    def describe(self) -> str:
        if self.new_file:
            return f"Created a new database at {self.where} (revision {self.after})."
        if self.before is None:
            return f"Created the schema in the empty database {self.where} (revision {self.after})."
        if self.before != self.after:
            return f"Migrated {self.where} from revision {self.before} to {self.after}."
        return f"{self.where} is already at revision {self.after}; nothing to do."


def display_url(url: str) -> str:
    """The URL as it may be printed: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a SQLite URI filename: leave it to SQLite
        return None
    return Path(database)


def make_engine(url: str, *, delay_ms: int = 0) -> Engine:
    if url.startswith("sqlite"):
        engine = _create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = _create_engine(url, pool_pre_ping=True)
    if delay_ms:
        add_test_delay(engine, delay_ms)
    return engine


def _create_engine(url: str, **options: Any) -> Engine:
    """`create_engine`, with a missing database driver said as what to install rather than a traceback."""
    try:
        return create_engine(url, **options)
    except ModuleNotFoundError as error:
        driver = error.name or "its driver"
        if driver.split(".")[0] == "psycopg":
            advice = "install the postgres extra: pip install -e '.[postgres]'"
        else:
            advice = "use postgresql+psycopg://… and install the postgres extra: pip install -e '.[postgres]'"
        raise DatabaseNotReady(
            f"the database {display_url(url)} needs the Python module {driver}, which is not installed; "
            f"{advice}"
        ) from None


def add_test_delay(engine: Engine, delay_ms: int) -> Callable[..., None]:
    """Test only: sleep `delay_ms` before every statement, so a stalled database can be played.

    Returns the listener, which `event.remove(engine, "before_cursor_execute", listener)` takes away.
    """
    listener = _delay(delay_ms)
    event.listen(engine, "before_cursor_execute", listener)
    return listener


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _delay(delay_ms: int) -> Callable[..., None]:
    def sleep(*_args: Any) -> None:
        time.sleep(delay_ms / 1000)

    return sleep


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", *, create_dirs: bool = False) -> UpgradeResult:
    """Create or migrate the database; says whether it was new, migrated or already there.

    A SQLite file's directory must exist unless `create_dirs`, so a mistyped path is an error rather
    than a new empty database somewhere unexpected.
    """
    from alembic import command

    path = sqlite_file(url)
    new_file = False
    if path is not None:
        directory = path.resolve().parent
        if not directory.is_dir() and not create_dirs:
            raise DatabaseNotReady(
                f"cannot create the database {path}: the directory {directory} does not exist; "
                "create it, or run floorboard db upgrade --create-dirs"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not path.exists()
    before = None if new_file else current_revision(url)
    command.upgrade(alembic_config(url), revision)
    where = str(path.resolve()) if path is not None else display_url(url)
    return UpgradeResult(where, before, current_revision(url), new_file)


def current_revision(url: str) -> str | None:
    """The Alembic revision the database is at; None when it has none (empty or not Floorboard's)."""
    from alembic.runtime.migration import MigrationContext

    engine = _create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def ensure_migrated(engine: Engine) -> None:
    """Refuse to run on a database that `floorboard db upgrade` has not brought to head.

    A SQLite file that does not exist is reported before connecting, so no empty file is left behind.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is not None and not path.exists():
        raise DatabaseNotReady(f"no database at {path.resolve()}; run floorboard db upgrade")
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        has_tables = bool(inspect(connection).get_table_names())
    if current != head:
        state = "is not initialised" if not has_tables and current is None else f"is at revision {current}"
        raise DatabaseNotReady(
            f"The database {engine.url.render_as_string(hide_password=True)} {state}; "
            f"this Floorboard needs revision {head}. Run: floorboard db upgrade"
        )
