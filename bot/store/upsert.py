"""Dialect-aware INSERT … ON CONFLICT helpers shared by SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.bulk import add_rows
from bot.store.models import Rollup, table_of


def insert_ignoring_conflicts(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


ROLLUP_COLUMNS = ("subject_id", "business_day", "metric", "num", "den")


def add_to_rollups(connection: Connection, rows: Sequence[tuple[int, date, str, int, int]]) -> None:
    """Add (num, den) deltas, given as ROLLUP_COLUMNS tuples, into the rollups of (subject, day, metric)."""
    add_rows(
        connection,
        table_of(Rollup),
        ROLLUP_COLUMNS,
        sorted(rows),  # in key order, the inserts walk the primary key's index instead of jumping about
        keys=ROLLUP_COLUMNS[:3],
        added=ROLLUP_COLUMNS[3:],
    )


def conflict_insert(connection: Connection, table: Any) -> Any:
    """An INSERT in the connection's dialect, so it can take `.on_conflict_do_nothing()` on either backend."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
