"""`floorboard batches list`: import batches as a table that fits 80 columns, or as JSON.

The command function is `batches_list`; bot/terminal/feeds.py registers the `batches` group.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import typer
from rich.table import Table

from bot.services.batches import BatchSummary, list_batches
from bot.terminal.common import console, opened_app

#: The counts of a batch in the table, in this order, as `imported/duplicate/rejected/parked/filtered`.
COUNT_KEYS = ("imported", "duplicate", "rejected", "parked", "filtered")
LEGEND = "counts: " + "/".join(COUNT_KEYS) + "; times in UTC"


class ListFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def batches_list(
    output: ListFormat = typer.Option(ListFormat.TABLE, "--format", "-f", help="table or json"),
) -> None:
    """Every import batch: where it came from, what it counted, whether it was voided."""
    with opened_app() as fb:
        summaries = list_batches(fb.engine)
    if output is ListFormat.JSON:
        typer.echo(json.dumps(batches_json(summaries), indent=2, ensure_ascii=False))
        return
    if not summaries:
        console.print("No import batches yet.")
        return
    console.print(batches_table(summaries, console.width))
    console.print(LEGEND, highlight=False)


def batches_table(summaries: Sequence[BatchSummary], width: int = 80) -> Table:
    """One line per batch: id, created, source, file (or webhook), counts and the day it was voided.

    The table fits `width` columns: only source and file give way, shortened with "…".
    """
    rows = [
        [
            str(batch.id),
            _minute(batch.created_at),
            batch.source,
            batch.filename or batch.origin,
            compact_counts(batch.counts),
            f"{_utc(batch.voided_at):%Y-%m-%d}" if batch.voided_at else "",
        ]
        for batch in summaries
    ]
    headers = ["id", "created", "source", "file", "counts", "voided"]
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    room = width - 2 * (len(headers) - 1) - sum(widths[:2]) - sum(widths[4:])
    source_width = widths[2] if widths[2] + widths[3] <= room else min(widths[2], max(6, room // 3))
    file_width = max(8, room - source_width)
    for row in rows:
        row[2], row[3] = _cut(row[2], source_width), _cut(row[3], file_width)
    table = Table(title="Import batches", title_justify="left", box=None, pad_edge=False, header_style="bold")
    for header in headers:
        table.add_column(header, justify="right" if header in ("id", "counts") else "left", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def compact_counts(counts: dict[str, int]) -> str:
    """`5000/0/0/0/0` in COUNT_KEYS order; `unfinished` for a batch that never finished."""
    if not counts:
        return "unfinished"
    return "/".join(str(counts.get(key, 0)) for key in COUNT_KEYS)


def batches_json(summaries: Sequence[BatchSummary]) -> list[dict[str, Any]]:
    """Every field of every batch; instants in ISO 8601 with their offset, counts by name."""
    return [
        {
            "id": batch.id,
            "origin": batch.origin,
            "source": batch.source,
            "mapping": batch.mapping,
            "file": batch.filename,
            "created_at": _iso(batch.created_at),
            "finished": bool(batch.counts),
            "counts": dict(batch.counts),
            "voided_at": _iso(batch.voided_at),
        }
        for batch in summaries
    ]


def _utc(moment: datetime) -> datetime:
    """Stored instants are UTC; SQLite hands them back naive."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _minute(moment: datetime) -> str:
    return f"{_utc(moment):%Y-%m-%d %H:%M}"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else _utc(moment).isoformat()
