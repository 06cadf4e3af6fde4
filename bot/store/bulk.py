"""Bulk writes on the hot paths (records, rollups, ledger, score queue): column names plus value tuples.

On SQLite, SQLAlchemy's per-row parameter processing costs more than the insert itself, so values are
converted once into SQLAlchemy's own storage format (the same text SQLAlchemy writes and reads back) and
sent with the DBAPI's executemany. Other databases get Core's executemany.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Connection, Date, DateTime, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

Convert = Callable[[Any], Any]
Rows = Sequence[Sequence[Any]]
_dumps = json.JSONEncoder(separators=(",", ":")).encode


@contextmanager
def collector_paused() -> Iterator[None]:
    """Bulk work allocates hundreds of thousands of short-lived objects and no cycles; letting the
    cyclic collector walk them mid-transaction costs a quarter of an import's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def insert_rows(connection: Connection, table: Table, columns: Sequence[str], rows: Rows) -> None:
    if rows:
        _execute(connection, table, columns, rows, "")


def add_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Rows,
    *,
    keys: Sequence[str],
    added: Sequence[str],
) -> None:
    """INSERT, or on a conflict on `keys` add the new values of the `added` columns to the stored ones."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        statement = postgresql.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: table.c[c] + statement.excluded[c] for c in added}
        )
        connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])
        return
    assignments = ", ".join(f"{c} = {c} + excluded.{c}" for c in added)
    _execute(
        connection, table, columns, rows, f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}"
    )


def _execute(connection: Connection, table: Table, columns: Sequence[str], rows: Rows, suffix: str) -> None:
    if connection.dialect.name != "sqlite":
        connection.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    converters = [_sqlite_converter(table.c[name].type) for name in columns]
    values: Rows = rows
    if any(converters):
        # column by column: the transposition and map() run in C, only the converters run in Python
        columns_in = zip(*rows, strict=True)
        columns_out = [
            column if convert is None else list(map(convert, column))
            for column, convert in zip(columns_in, converters, strict=True)
        ]
        values = list(zip(*columns_out, strict=True))
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}){suffix}"
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, values)
    except connection.dialect.loaded_dbapi.Error as error:
        # the same exception classes as Core's path, so callers' retries on IntegrityError see them
        raise DBAPIError.instance(sql, None, error, connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


def _sqlite_converter(column_type: Any) -> Convert | None:
    """None where sqlite3 stores the Python value as SQLAlchemy would (ints, strings, bools)."""
    if isinstance(column_type, DateTime):
        return _Memo(_sqlite_datetime)
    if isinstance(column_type, Date):
        return _Memo(_sqlite_date)
    if isinstance(column_type, JSON):
        return _sqlite_json
    return None


class _Memo:
    """A per-call cache: a batch has few distinct days, one receipt time and many shared timestamps."""

    def __init__(self, convert: Convert) -> None:
        self._convert = convert
        self._seen: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        try:
            return self._seen[value]
        except KeyError:
            result = self._seen[value] = self._convert(value)
            return result


def _sqlite_json(value: Any) -> str | None:
    return None if value is None else _dumps(value)


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        if value.utcoffset():
            value = value.astimezone(UTC)
        value = value.replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds")
