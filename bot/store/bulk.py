"""Bulk writes on the hot paths (records, rollups, ledger, score queue): column names plus value tuples.

On SQLite, SQLAlchemy's per-row parameter processing costs more than the insert itself, so values are
converted once into SQLAlchemy's own storage format (the same text SQLAlchemy writes and reads back) and
sent with the DBAPI's executemany. Other databases get Core's executemany.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from itertools import repeat
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from operator import attrgetter, is_, itemgetter, methodcaller
from typing import Any

from sqlalchemy import JSON, Connection, Date, DateTime, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

Convert = Callable[[Any], Any]
ConvertColumn = Callable[[Sequence[Any]], Sequence[Any]]
Rows = Sequence[Sequence[Any]]
_encoder = json.JSONEncoder(separators=(",", ":"))
_dumps = _encoder.encode


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


def insert_columns(
    connection: Connection,
    table: Table,
    columns: Mapping[str, Sequence[Any]],
    *,
    stored_text: Collection[str] = (),
) -> None:
    """INSERT rows given column by column (equal-length sequences), as a columnar import builds them.
    On SQLite, the `stored_text` columns already hold SQLite storage text (see `sqlite_json_objects`)."""
    names = list(columns)
    if names and len(columns[names[0]]):
        _execute_columns(connection, table, names, list(columns.values()), "", stored_text)


def sqlite_json_objects(columns: Mapping[str, Sequence[Any]], size: int) -> list[str | None] | None:
    """Per row, the stored text of the JSON object of the columns' values that are not None (None when all
    are), as the JSON column writes the dict; None when a column mixes value types, so the caller builds
    dicts instead. Each distinct value is encoded once; a row's text is joined in C."""
    pieces: list[list[str]] = []
    for key, values in columns.items():
        kinds = set(map(type, values)) - {type(None)}
        if len(kinds) > 1 or not kinds <= {bool, int, float, str}:
            return None
        if not kinds:
            continue
        prefix = "," + _dumps(key) + ":"
        texts = _Pieces(prefix)
        pieces.append(list(map(texts.__getitem__, values)))
    if not pieces:
        return [None] * size
    joined = map("".join, zip(*pieces, strict=True))
    return [f"{{{text[1:]}}}" if text else None for text in joined]


def sqlite_utc_texts(days: Sequence[date], clocks: Sequence[time]) -> list[str]:
    """The stored text of the instants whose UTC dates and times these are, as the DateTime column writes
    them. Each distinct day and clock is formatted once; clocks are told apart by identity (they are all
    alive here), as hashing an aware time asks its zone for the offset."""
    day_texts = {day: day.isoformat() + " " for day in set(days)}
    distinct = dict(zip(map(id, clocks), clocks, strict=True))
    clock_texts = {
        key: clock.replace(tzinfo=None).isoformat("microseconds") for key, clock in distinct.items()
    }
    return list(
        map(str.__add__, map(day_texts.__getitem__, days), map(clock_texts.__getitem__, map(id, clocks)))
    )


class _Pieces(dict[Any, str]):
    """`,"key":value` per distinct value of one column (homogeneous, so 1 and True never share a slot)."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._prefix = prefix

    def __missing__(self, value: Any) -> str:
        text = self[value] = "" if value is None else self._prefix + _dumps(value)
        return text


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
    # column by column: the transposition runs in C, and so do most converters
    _execute_columns(connection, table, columns, list(zip(*rows, strict=True)), suffix)


def _execute_columns(
    connection: Connection,
    table: Table,
    names: Sequence[str],
    columns: Sequence[Sequence[Any]],
    suffix: str,
    stored_text: Collection[str] = (),
) -> None:
    if connection.dialect.name != "sqlite":
        connection.execute(
            table.insert(), [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
        )
        return
    converters = [None if name in stored_text else _sqlite_converter(table.c[name].type) for name in names]
    converted = [
        column if convert is None else convert(column)
        for column, convert in zip(columns, converters, strict=True)
    ]
    values = list(zip(*converted, strict=True))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}){suffix}"
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, values)
    except connection.dialect.loaded_dbapi.Error as error:
        # the same exception classes as Core's path, so callers' retries on IntegrityError see them
        raise DBAPIError.instance(sql, None, error, connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


def _sqlite_converter(column_type: Any) -> ConvertColumn | None:
    """None where sqlite3 stores the Python value as SQLAlchemy would (ints, strings, bools)."""
    if isinstance(column_type, DateTime):
        return _sqlite_datetimes
    if isinstance(column_type, Date):
        return _sqlite_dates
    if isinstance(column_type, JSON):
        return _sqlite_jsons
    return None


_json_chunks = c_make_encoder(
    None, _encoder.default, encode_basestring_ascii, None, ":", ",", False, False, True
)
_to_utc = methodcaller("astimezone", UTC)
_iso_text = methodcaller("isoformat", " ", "microseconds")
_without_offset = itemgetter(slice(None, 26))  # "YYYY-MM-DD HH:MM:SS.ffffff" of "...+00:00"
_offset = methodcaller("utcoffset")
_zone = attrgetter("tzinfo")


def _sqlite_jsons(column: Sequence[Any]) -> Sequence[Any]:
    """The text _dumps gives, from the C encoder without its per-call set-up; None stays NULL."""
    if None in column:
        return [None if value is None else "".join(_json_chunks(value, 0)) for value in column]
    return list(map("".join, map(_json_chunks, column, repeat(0))))


def _sqlite_dates(column: Sequence[Any]) -> Sequence[Any]:
    return list(map(_DateTexts().__getitem__, column))


def _sqlite_datetimes(column: Sequence[Any]) -> Sequence[Any]:
    """Aware instants as naive UTC text, in C; naive ones and NULLs take the per-value path."""
    first = column[0]
    if all(map(is_, column, repeat(first))):  # a receipt time: one object throughout
        return [_sqlite_datetime(first)] * len(column)
    if None in column:
        return list(map(_sqlite_datetime, column))
    zones = set(map(_zone, column))
    if zones == {UTC}:
        return list(map(_without_offset, map(_iso_text, column)))
    if None in zones or None in map(_offset, column):
        return list(map(_sqlite_datetime, column))
    return list(map(_without_offset, map(_iso_text, map(_to_utc, column))))


class _DateTexts(dict[Any, Any]):
    """A per-call cache: a batch has few distinct days; lookups stay in C."""

    def __missing__(self, value: date | None) -> str | None:
        text = self[value] = None if value is None else value.isoformat()
        return text


def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        if value.utcoffset():
            value = value.astimezone(UTC)
        value = value.replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds")
