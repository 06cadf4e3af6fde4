"""Bulk writes on the hot paths (records, rollups, ledger).

On SQLite, SQLAlchemy's per-row parameter processing costs more than the insert itself, so rows are
converted once into SQLAlchemy's own storage format (the same text SQLAlchemy writes and reads back) and
sent with the DBAPI's executemany. Other databases use Core's executemany.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Date, DateTime, Table
from sqlalchemy.dialects import postgresql

Convert = Callable[[Any], Any]
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        _execute(connection, table, rows, "")


def add_rows(
    connection: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    keys: tuple[str, ...],
    added: tuple[str, ...],
) -> None:
    """INSERT, or on a conflict on `keys` add the new values of `added` columns to the stored ones."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        statement = postgresql.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: table.c[c] + statement.excluded[c] for c in added}
        )
        connection.execute(statement, rows)
        return
    assignments = ", ".join(f"{c} = {c} + excluded.{c}" for c in added)
    _execute(connection, table, rows, f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}")


def _execute(connection: Connection, table: Table, rows: list[dict[str, Any]], suffix: str) -> None:
    if connection.dialect.name != "sqlite":
        connection.execute(table.insert(), rows)
        return
    names = list(rows[0])
    pick = itemgetter(*names)
    conversions = [
        (index, convert)
        for index, convert in enumerate(_sqlite_converter(table.c[name].type) for name in names)
        if convert is not None
    ]
    values: list[Any] = []
    append = values.append
    for row in rows:
        value = list(pick(row))
        for index, convert in conversions:
            value[index] = convert(value[index])
        append(value)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}){suffix}"
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, values)
    finally:
        cursor.close()


def _sqlite_converter(column_type: Any) -> Convert | None:
    """None where sqlite3 stores the Python value as SQLAlchemy would (ints, strings, bools)."""
    if isinstance(column_type, DateTime):
        return _sqlite_datetime
    if isinstance(column_type, Date):
        return _sqlite_date
    if isinstance(column_type, JSON):
        return _sqlite_json
    return None


def _sqlite_json(value: Any) -> str | None:
    return None if value is None else _dumps(value)


@lru_cache(maxsize=4096)
def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@lru_cache(maxsize=4096)
def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds")
