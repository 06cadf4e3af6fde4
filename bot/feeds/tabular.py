"""Tabular feed engine: a CSV or XLSX file plus a mapping → batches of KpiRecords and RowRejects."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal

from bot.feeds.mapping import Mapping, zone_info
from bot.feeds.records import KpiRecord, RowReject
from bot.feeds.row_plan import LayoutError
from bot.feeds.sources import (
    REJECT_COLUMNS,
    ParseStats,
    RejectsLayout,
    csv_batches,
    csv_row_texts,
    xlsx_batches,
)

__all__ = [
    "REJECT_COLUMNS",
    "LayoutError",
    "ParseRun",
    "ParseStats",
    "RejectsLayout",
    "csv_row_texts",
    "parse_file",
    "write_rejects",
]

_FORMATS_BY_SUFFIX = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}


class ParseRun(Iterator[Sequence[KpiRecord | RowReject]]):
    """The batches of one file, plus `stats` (records, rejects, filtered, blank), complete after iteration.

    Filtered rows (a mapping's `filters`) and blank rows are never yielded; they are only counted:
    `run.filtered` is the total and `run.stats.filtered_by_reason` the count per filter reason.
    `format` is `csv` or `xlsx`; `layout` says how `write_rejects` writes this file's rejects.
    """

    def __init__(
        self,
        batches: Iterator[Sequence[KpiRecord | RowReject] | None],
        stats: ParseStats,
        layout: RejectsLayout,
        format: Literal["csv", "xlsx"] = "csv",
    ) -> None:
        self._batches = batches
        self.stats = stats
        self.layout = layout
        self.format = format

    def __next__(self) -> Sequence[KpiRecord | RowReject]:
        batch = next(self._batches)
        assert batch is not None
        return batch

    @property
    def filtered(self) -> int:
        return self.stats.filtered

    def close(self) -> None:
        """Stop early and close the file (iterating to the end closes it too)."""
        close = getattr(self._batches, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> ParseRun:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def parse_file(
    path: Path,
    mapping: Mapping,
    *,
    tz: str | None = None,
    default_tz: str = "UTC",
    chunk_size: int = 5000,
    on_progress: Callable[[int, int], None] | None = None,
    columnar: bool = True,
) -> ParseRun:
    """Parse a CSV or XLSX file with a mapping, yielding lists of up to `chunk_size` records and rejects.

    The zone for naive times is `tz` (the CLI's --tz), else the mapping's `timezone`, else `default_tz`;
    values with an explicit offset keep it. `on_progress(done, total)` is called after each batch, in
    bytes for CSV and rows for XLSX. The file is opened and its header checked before this returns, so a
    missing column raises `LayoutError` here; an unknown zone raises ValueError. The returned ParseRun
    is an iterator of batches; its `stats` / `filtered` count the rows that filters skipped.
    A CSV mapping is read column by column (batches are then `ColumnBatch`es, which the ingest stores
    without building a record per row); `columnar=False` reads it row by row (the same items).
    """
    path = Path(path)
    zone = zone_info(tz or mapping.timezone or default_tz)
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    kind = mapping.format or _FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if kind is None:
        raise LayoutError(
            f"{path.name}: cannot tell CSV from XLSX by its extension; "
            f"set `format:` in mapping {mapping.name!r}"
        )
    _check_kind(path, kind, mapping.name)
    stats = ParseStats()
    layout = RejectsLayout()
    batches: Iterator[Sequence[KpiRecord | RowReject] | None]
    if kind == "csv":
        batches = csv_batches(
            path,
            mapping,
            zone=zone,
            chunk_size=chunk_size,
            on_progress=on_progress,
            stats=stats,
            layout=layout,
            columnar=columnar,
        )
    else:
        batches = xlsx_batches(
            path,
            mapping,
            zone=zone,
            chunk_size=chunk_size,
            on_progress=on_progress,
            stats=stats,
            layout=layout,
        )
    next(batches)
    return ParseRun(batches, stats, layout, "csv" if kind == "csv" else "xlsx")


def _check_kind(path: Path, kind: str, mapping: str) -> None:
    """A workbook given to a CSV mapping is named as such, not reported as undecodable text."""
    try:
        with path.open("rb") as handle:
            zipped = handle.read(4) == b"PK\x03\x04"  # an XLSX file is a zip archive
    except OSError:
        return  # the source reports a missing or unreadable file itself
    if kind == "csv" and zipped:
        raise LayoutError(
            f"{path.name} is an XLSX workbook, but mapping {mapping!r} reads CSV; "
            "use a mapping with `format: xlsx` (floorboard import --list-mappings)"
        )


def write_rejects(path: Path, run: ParseRun, rejects: Iterable[RowReject]) -> None:
    """Write a run's rejected rows as a file that can be fixed and imported again.

    For a CSV source: its lines up to the header row, then each rejected row exactly as it is in the
    source (same encoding, delimiter, quoting and line ending), each line with two more columns,
    `floorboard_line` and `floorboard_reason`; the same mapping imports the fixed file, ignoring those
    two columns. For an XLSX source: a UTF-8 CSV of the mapped columns plus the same two columns, which
    a CSV variant of the mapping imports. Raises OSError when the file cannot be written.
    """
    layout = run.layout
    with Path(path).open("w", encoding=layout.encoding, errors="replace", newline="") as handle:
        handle.write(layout.head)
        handle.writelines(layout.line(reject) for reject in rejects)
