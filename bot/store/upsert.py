"""Dialect-aware INSERT … ON CONFLICT helpers shared by SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflicts(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


def add_to_rollups(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Add (num, den) deltas into rollups keyed by (subject_id, business_day, metric)."""
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["subject_id", "business_day", "metric"],
        set_={"num": table.c.num + statement.excluded.num, "den": table.c.den + statement.excluded.den},
    )
    connection.execute(statement, rows)
