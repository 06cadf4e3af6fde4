"""Dialect-aware INSERT … ON CONFLICT helpers shared by SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.bulk import add_rows
from bot.store.models import Rollup

RollupKey = tuple[int, date, str]


def insert_ignoring_conflicts(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


def add_to_rollups(connection: Connection, deltas: Mapping[RollupKey, Sequence[int]]) -> None:
    """Add (num, den) deltas into the rollups of (subject, business day, metric)."""
    rows = [
        {"subject_id": s, "business_day": d, "metric": m, "num": num, "den": den}
        for (s, d, m), (num, den) in deltas.items()
    ]
    add_rows(connection, Rollup.__table__, rows, ("subject_id", "business_day", "metric"), ("num", "den"))  # type: ignore[arg-type]
