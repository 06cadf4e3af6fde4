"""Row sources for tabular files: CSV through the csv module, XLSX through openpyxl's streaming reader.

Each source is a generator that first opens the file, reads the header and compiles the mapping (then
yields None once, so layout errors surface before any row is read), and afterwards yields batches of
records and rejects. Rejects carry the 1-based physical line (CSV) or sheet row (XLSX) and the raw text.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import os
import zipfile
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import tzinfo
from itertools import chain, islice
from pathlib import Path
from typing import TextIO

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from bot.feeds.mapping import Mapping
from bot.feeds.records import KpiRecord, RowReject
from bot.feeds.row_plan import LayoutError, RowBuilder, RowProblem, compile_rows
from bot.feeds.values import cell_text

Batch = list[KpiRecord | RowReject]
Progress = Callable[[int, int], None]


@dataclass(slots=True)
class ParseStats:
    """Counts for one file, complete once iteration ends. Filtered and blank rows are only counted here."""

    records: int = 0
    rejects: int = 0
    blank: int = 0
    filtered_by_reason: Counter[str] = field(default_factory=Counter)

    @property
    def filtered(self) -> int:
        return sum(self.filtered_by_reason.values())

    @property
    def rows(self) -> int:
        """Data rows read (after the header), whatever became of them."""
        return self.records + self.rejects + self.filtered + self.blank


def csv_batches(
    path: Path,
    mapping: Mapping,
    *,
    zone: tzinfo,
    chunk_size: int,
    on_progress: Progress | None,
    stats: ParseStats,
) -> Iterator[Batch | None]:
    with path.open("rb") as binary:
        total = os.fstat(binary.fileno()).st_size
        text = io.TextIOWrapper(binary, encoding=mapping.encoding, newline="")
        lines = _LineWindow(text)
        reader = csv.reader(lines, delimiter=mapping.delimiter, quotechar=mapping.quotechar)
        try:
            header = _csv_header(reader, mapping.header_row)
        except UnicodeDecodeError as error:
            raise _undecodable(path, mapping.encoding, error) from None
        except csv.Error as error:
            raise LayoutError(f"{path.name}: cannot read the header: {error}") from None
        build = _compile(path, mapping, header, zone, stats, typed_cells=False)
        yield None

        end = reader.line_num
        while True:
            before = end
            batch: Batch = []
            append = batch.append
            rejects = 0
            try:
                with _gc_paused():
                    for row in islice(reader, chunk_size):
                        line = end + 1
                        end = reader.line_num
                        if not any(row):
                            stats.blank += 1
                            continue
                        try:
                            record = build(row, line)
                        except RowProblem as problem:
                            append(RowReject(line, str(problem), lines.text(line, end)))
                            rejects += 1
                            continue
                        if record is not None:
                            append(record)
            except UnicodeDecodeError as error:
                raise _undecodable(path, mapping.encoding, error) from None
            except csv.Error as error:
                raise LayoutError(f"{path.name}, line {end + 1}: {error}") from None
            stats.rejects += rejects
            stats.records += len(batch) - rejects
            if on_progress is not None:
                on_progress(min(binary.tell(), total) if end != before else total, total)
            if batch:
                yield batch
            if end == before:
                return


def xlsx_batches(
    path: Path,
    mapping: Mapping,
    *,
    zone: tzinfo,
    chunk_size: int,
    on_progress: Progress | None,
    stats: ParseStats,
) -> Iterator[Batch | None]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as error:
        raise LayoutError(f"{path.name}: not a readable XLSX workbook ({error})") from None
    try:
        if mapping.sheet is not None:
            if mapping.sheet not in workbook.sheetnames:
                raise LayoutError(
                    f"{path.name}: no sheet {mapping.sheet!r}; the sheets are {workbook.sheetnames}"
                )
            sheet = workbook[mapping.sheet]
        else:
            sheet = workbook.worksheets[0]
        total = sheet.max_row or 0
        rows = sheet.iter_rows(values_only=True)
        header: list[str] = []
        for line in range(1, mapping.header_row + 1):
            cells = next(rows, None)
            if cells is None:
                raise LayoutError(f"{path.name}: the sheet ends before the header row {mapping.header_row}")
            if line == mapping.header_row:
                header = [cell_text(value) for value in cells]
        build = _compile(path, mapping, header, zone, stats, typed_cells=True)
        yield None

        line = mapping.header_row
        while True:
            before = line
            batch: Batch = []
            rejects = 0
            with _gc_paused():
                for cells in islice(rows, chunk_size):
                    line += 1
                    if all(value is None or value == "" for value in cells):
                        stats.blank += 1
                        continue
                    try:
                        record = build(cells, line)
                    except RowProblem as problem:
                        batch.append(RowReject(line, str(problem), ",".join(cell_text(v) for v in cells)))
                        rejects += 1
                        continue
                    if record is not None:
                        batch.append(record)
            stats.rejects += rejects
            stats.records += len(batch) - rejects
            if on_progress is not None:
                on_progress(line, max(total, line))
            if batch:
                yield batch
            if line == before:
                return
    finally:
        workbook.close()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic collector while one batch is built: every container made then stays alive until
    the batch is yielded, so collections would only rescan them (about a quarter of the parse time)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _compile(
    path: Path, mapping: Mapping, header: list[str], zone: tzinfo, stats: ParseStats, *, typed_cells: bool
) -> RowBuilder:
    try:
        return compile_rows(
            mapping,
            header,
            zone=zone,
            file_stem=path.stem,
            typed_cells=typed_cells,
            filtered=stats.filtered_by_reason,
        )
    except LayoutError as error:
        raise LayoutError(f"{path.name}: {error} (mapping {mapping.name!r})") from None


def _undecodable(path: Path, encoding: str, error: UnicodeDecodeError) -> LayoutError:
    """Text is decoded in large blocks, so the failing line is found again by decoding line by line."""
    decoder = codecs.getincrementaldecoder(encoding)()
    where = ""
    with path.open("rb") as binary:
        for number, raw_line in enumerate(binary, start=1):
            try:
                decoder.decode(raw_line)
            except UnicodeDecodeError:
                where = f", line {number}"
                break
    return LayoutError(
        f"{path.name}{where}: not valid {encoding} text ({error.reason}); set `encoding:` in the mapping"
    )


def _csv_header(reader: Iterator[list[str]], header_row: int) -> list[str]:
    header: list[str] = []
    for line in range(1, header_row + 1):
        row = next(reader, None)
        if row is None:
            raise LayoutError(f"the file ends before the header row {header_row}")
        if line == header_row:
            header = row
    return header


class _LineWindow:
    """Feeds csv.reader whole blocks of lines and keeps the last few, so a reject can quote its source
    text exactly (including quotes and embedded newlines) at no cost to rows that parse."""

    def __init__(self, text: TextIO, block_chars: int = 1 << 20) -> None:
        self._text = text
        self._block_chars = block_chars
        self._blocks: deque[tuple[int, list[str]]] = deque(maxlen=3)

    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(self._read_blocks())

    def _read_blocks(self) -> Iterator[list[str]]:
        first = 1
        while True:
            block = self._text.readlines(self._block_chars)
            if not block:
                return
            self._blocks.append((first, block))
            first += len(block)
            yield block

    def text(self, start: int, end: int) -> str:
        parts = []
        for first, block in self._blocks:
            for number in range(max(start, first), min(end, first + len(block) - 1) + 1):
                parts.append(block[number - first])
        return "".join(parts).rstrip("\r\n")
