"""Row sources for tabular files: CSV through the csv module, XLSX through openpyxl's streaming reader.

Each source is a generator that first opens the file, reads the header and compiles the mapping (then
yields None once, so layout errors surface before any row is read), and afterwards yields batches of
records and rejects. Rejects carry the 1-based physical line (CSV) or sheet row (XLSX) and, in `raw`,
the row as a line of the rejects file (see `RejectsLayout`): for CSV the source text of the row as it is
in the file, for XLSX the mapped columns' cells as a comma-separated line.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import os
import zipfile
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import chain, compress, islice
from pathlib import Path
from typing import Any, TextIO

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from bot.feeds.column_plan import ColumnBuilder, compile_columns
from bot.feeds.mapping import Mapping
from bot.feeds.record_columns import ColumnBatch
from bot.feeds.records import KpiRecord, RowReject
from bot.feeds.row_plan import LayoutError, RowBuilder, RowProblem, column_positions, compile_rows
from bot.feeds.values import cell_text

Batch = list[KpiRecord | RowReject]
Item = KpiRecord | RowReject
Progress = Callable[[int, int], None]

#: The columns a rejects file adds after the source's own; mappings ignore columns they do not name.
REJECT_COLUMNS = ("floorboard_line", "floorboard_reason")


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


@dataclass(slots=True)
class RejectsLayout:
    """How to write a file of rejected rows that the user can fix and import again.

    The file is `head`, then one line per reject: its `raw` text, the delimiter, and the reject's line
    and reason as two more fields. For CSV, `head` is the source's lines up to its header row with the
    two extra column names appended, and the file keeps the source's encoding, delimiter, quoting and
    line ending, so the same mapping reads it. For XLSX it is a comma-separated UTF-8 file of the mapped
    columns, read by a CSV variant of the mapping.
    """

    head: str = ""
    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8"
    newline: str = "\r\n"
    width: int = -1  # the source's columns before the two added ones; -1 while unknown

    def line(self, reject: RowReject) -> str:
        """The rejects-file line of one reject: its raw text cut or padded to `width` fields, so the line
        and reason always land in their own columns (a row cut short keeps its whole text in the reason),
        then the line and reason fields."""
        raw, reason = reject.raw, reject.reason
        count = self._count(raw)
        if self.width >= 0 and count != self.width:
            if count < self.width:
                raw += self.delimiter * (self.width - count if raw or self.width == 0 else self.width - 1)
            else:
                reason = f"{reason}; the row as read: {' '.join(raw.split())}"
                raw = _cut_fields(raw, self.width, self.delimiter, self.quotechar)
        return f"{raw}{self.delimiter}{self.fields([str(reject.line), reason])}{self.newline}"

    def _count(self, raw: str) -> int:
        if not raw:
            return 0
        try:
            return len(next(csv.reader(io.StringIO(raw), delimiter=self.delimiter, quotechar=self.quotechar)))
        except (csv.Error, StopIteration):
            return self.width

    def fields(self, values: list[str]) -> str:
        """Values as one delimited line (quoted where needed), without a line ending."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.delimiter, quotechar=self.quotechar, lineterminator="\n")
        writer.writerow(values)
        return out.getvalue()[:-1]


def csv_batches(
    path: Path,
    mapping: Mapping,
    *,
    zone: tzinfo,
    chunk_size: int,
    on_progress: Progress | None,
    stats: ParseStats,
    layout: RejectsLayout,
    columnar: bool = True,
) -> Iterator[Sequence[Item] | None]:
    with path.open("rb") as binary:
        total = os.fstat(binary.fileno()).st_size
        text = io.TextIOWrapper(binary, encoding=mapping.encoding, newline="")
        lines = _LineWindow(text)
        reader = csv.reader(lines, delimiter=mapping.delimiter, quotechar=mapping.quotechar)
        try:
            header, header_line = _csv_header(reader, mapping.header_row)
        except UnicodeDecodeError as error:
            raise _undecodable(path, mapping.encoding, error) from None
        except csv.Error as error:
            raise LayoutError(f"{path.name}: cannot read the header: {error}") from None
        build = _compile(path, mapping, header, zone, stats, typed_cells=False)
        # Rows must have as many fields as the header names (trailing empty fields do not count); a
        # file without a header row takes its first data row as the measure.
        width = _named_width(header) if mapping.header_row else -1
        shape = _RowShape(
            mapping,
            header,
            lines.raw(1, header_line - 1),
            lines.raw(header_line, reader.line_num) if mapping.header_row else "",
        )
        layout.head, layout.newline, layout.width = shape.head, shape.newline, shape.width
        layout.delimiter, layout.quotechar = mapping.delimiter, mapping.quotechar
        layout.encoding = _writing_encoding(path, mapping.encoding)
        measure = "the header" if mapping.header_row else "the first row"
        yield None

        end = reader.line_num

        def one_row(row: list[str], line: int, end: int) -> Item | None:
            """The general row path: a record, a reject, or None for a blank or filtered row."""
            nonlocal width
            if not any(row):
                stats.blank += 1
                return None
            if len(row) != width:
                if not "".join(row).strip():
                    stats.blank += 1
                    return None
                if width < 0:
                    width = _named_width(row)
                    shape.measured(width, lines.raw(line, end))
                    layout.newline, layout.width = shape.newline, shape.width
                problem = _count_problem(row, width, mapping.delimiter, measure, shape.tail)
                if problem:
                    return RowReject(line, problem, shape.text(row, lines.text(line, end)))
            try:
                return build(row, line)
            except RowProblem as problem:
                if not "".join(row).strip():
                    stats.blank += 1
                    return None
                return RowReject(line, str(problem), shape.text(row, lines.text(line, end)))

        by_columns = None
        if columnar and width > 0:
            by_columns = _compile_columns(path, mapping, header, zone, stats, width)
        while True:
            before = end
            batch: Sequence[Item]
            try:
                with _gc_paused():
                    if by_columns is not None:
                        lines.hold(end + 1)
                        try:
                            batch, end = _column_chunk(reader, chunk_size, end, width, by_columns, one_row)
                        except _UnreadableRow as unreadable:
                            end = unreadable.end
                            raise unreadable.error from None
                    else:
                        batch = []
                        append = batch.append
                        for row in islice(reader, chunk_size):
                            line = end + 1
                            end = reader.line_num
                            item = one_row(row, line, end)
                            if item is not None:
                                append(item)
            except UnicodeDecodeError as error:
                raise _undecodable(path, mapping.encoding, error) from None
            except csv.Error as error:
                raise LayoutError(f"{path.name}, line {end + 1}: {error}") from None
            rejects = _rejects_in(batch)
            stats.rejects += rejects
            stats.records += len(batch) - rejects
            if on_progress is not None:
                on_progress(min(binary.tell(), total) if end != before else total, total)
            if batch:
                yield batch
            if end == before:
                return


def csv_row_texts(path: Path, mapping: Mapping, wanted: set[int]) -> dict[int, str]:
    """The source text of the CSV rows that start on these lines, as a rejects file quotes them: for
    rows rejected when stored, after the parse has moved on. Reads the file again up to the last one."""
    found: dict[int, str] = {}
    if not wanted:
        return found
    with path.open("rb") as binary:
        text = io.TextIOWrapper(binary, encoding=mapping.encoding, newline="")
        lines = _LineWindow(text)
        reader = csv.reader(lines, delimiter=mapping.delimiter, quotechar=mapping.quotechar)
        header, _ = _csv_header(reader, mapping.header_row)
        shape = _RowShape(mapping, header, "", "")
        end = reader.line_num
        last = max(wanted)
        for row in reader:
            line, end = end + 1, reader.line_num
            if line in wanted:
                found[line] = shape.text(row, lines.text(line, end))
            if end >= last:
                break
    return found


def _column_chunk(
    reader: Any,
    chunk_size: int,
    end: int,
    width: int,
    build: ColumnBuilder,
    one_row: Callable[[list[str], int, int], Item | None],
) -> tuple[Sequence[Item], int]:
    """One chunk through the column path; rows it flags, and rows of another width, take `one_row`."""
    rows: list[list[str]] = []
    ends: list[int] = []
    try:
        for row in islice(reader, chunk_size):
            rows.append(row)
            ends.append(reader.line_num)
    except csv.Error as error:
        raise _UnreadableRow(error, ends[-1] if ends else end) from None
    if not rows:
        return [], end
    starts = [end + 1, *(line + 1 for line in ends[:-1])]
    plain = [len(row) == width for row in rows]
    if all(plain):
        columns, flagged, kept = build(rows, starts)
        odd = set(flagged)
    else:
        plain_rows = list(compress(rows, plain))
        columns, plain_flagged, plain_kept = build(plain_rows, list(compress(starts, plain)))
        at = [index for index, is_plain in enumerate(plain) if is_plain]
        odd = {at[index] for index in plain_flagged} | {i for i, is_plain in enumerate(plain) if not is_plain}
        full = bytearray(len(rows))
        for index, keep in zip(at, plain_kept, strict=True):
            full[index] = keep
        kept = bytes(full)
    others: list[Item] = []
    places: list[int] = []
    if odd:
        place = 0
        for index in range(len(rows)):
            if index in odd:
                item = one_row(rows[index], starts[index], ends[index])
                if item is not None:
                    others.append(item)
                    places.append(place)
                    place += 1
            elif kept[index]:
                place += 1
    return ColumnBatch(columns, others, places), ends[-1]


class _UnreadableRow(Exception):
    """The csv module gave up on a row; `end` is the last line of the rows read before it."""

    def __init__(self, error: csv.Error, end: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.end = end


def _rejects_in(batch: Sequence[Item]) -> int:
    items = batch.others if isinstance(batch, ColumnBatch) else batch
    return sum(1 for item in items if isinstance(item, RowReject))


def _named_width(fields: list[str]) -> int:
    """The number of fields without the empty ones at the end (`a,b,,` has 2)."""
    width = len(fields)
    while width and not fields[width - 1].strip():
        width -= 1
    return width


def _count_problem(row: list[str], width: int, delimiter: str, measure: str, tail: int) -> str | None:
    """Why a row's field count does not fit, or None when it only has empty fields past the header.
    In a rejects file read again (`tail` = its two extra columns), the counts leave those out."""
    count = len(row)
    if count == width:
        return None
    if count > width:
        count = _named_width(row)
        if count <= width:
            return None
    besides = ""
    if tail and count >= tail:
        count, width = count - tail, width - tail
        besides = f" not counting {' and '.join(REJECT_COLUMNS)}"
    problem = f"line has {count} field{'s' if count != 1 else ''}, {measure} has {width}{besides}"
    text = delimiter.join(row)
    for other in (",", ";", "\t", "|"):
        if other != delimiter and other in text:
            fields = next(csv.reader([text], delimiter=other), [])
            if len(fields) == width or (len(fields) > width and _named_width(fields) <= width):
                shown = "tab" if other == "\t" else repr(other)
                return f"{problem} (it looks delimited by {shown}, not {delimiter!r})"
    return problem


class _RowShape:
    """Cuts a rejected CSV row's source text to the columns the header names, so that a rejects file
    (the header plus two columns, then each row plus two fields) has consistent field counts: empty
    fields past the header are dropped, and so are the two reject fields of a rejects file read again.
    """

    def __init__(self, mapping: Mapping, header: list[str], preamble: str, header_text: str) -> None:
        self._delimiter, self._quotechar = mapping.delimiter, mapping.quotechar
        named = _named_width(header)
        names = [name.strip().lstrip("\ufeff") for name in header[:named]]
        self.tail = len(REJECT_COLUMNS) if tuple(names[-len(REJECT_COLUMNS) :]) == REJECT_COLUMNS else 0
        self.width = named - self.tail
        self.head = ""
        self.newline = "\r\n"
        if header_text:
            body = header_text.rstrip("\r\n")
            self.newline = header_text[len(body) :] or self.newline
            layout = RejectsLayout(delimiter=self._delimiter, quotechar=self._quotechar)
            self.head = (
                preamble
                + _cut_fields(body, self.width, self._delimiter, self._quotechar)
                + self._delimiter
                + layout.fields(list(REJECT_COLUMNS))
                + self.newline
            )

    def measured(self, width: int, first_row_text: str) -> None:
        """For a file without a header: the first data row's width and line ending."""
        self.width = width
        body = first_row_text.rstrip("\r\n")
        self.newline = first_row_text[len(body) :] or self.newline

    def text(self, row: list[str], text: str) -> str:
        keep = len(row) - self.tail if len(row) >= self.tail else len(row)
        if keep > self.width and not "".join(row[self.width : keep]).strip():
            keep = self.width
        if keep >= len(row):
            return text
        return _cut_fields(text, keep, self._delimiter, self._quotechar)


def _cut_fields(text: str, count: int, delimiter: str, quotechar: str) -> str:
    """The source text of the first `count` fields of a CSV record, quoting as the csv module reads it."""
    if count <= 0:
        return ""
    fields = 0
    state = "start"  # start of a field, in an unquoted field, in a quoted one, just after a quote in one
    for index, char in enumerate(text):
        if state == "quoted":
            if char == quotechar:
                state = "quote"
            continue
        if state == "quote" and char == quotechar:
            state = "quoted"
            continue
        if char == delimiter:
            fields += 1
            if fields == count:
                return text[:index]
            state = "start"
        elif state == "start" and char == quotechar:
            state = "quoted"
        else:
            state = "plain"
    return text


def xlsx_batches(
    path: Path,
    mapping: Mapping,
    *,
    zone: tzinfo,
    chunk_size: int,
    on_progress: Progress | None,
    stats: ParseStats,
    layout: RejectsLayout,
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
        # A rejects file of an XLSX source is a CSV of the mapped columns, in sheet order.
        wanted = list(dict.fromkeys([*mapping.referenced_columns(), *mapping.template_columns()]))
        positions = column_positions(header, wanted)
        by_position = {positions[column]: column for column in reversed(wanted)}  # one name a column
        picked = sorted(by_position)
        mapped = [by_position[index] for index in picked]
        names = [
            header[index].strip() if index < len(header) and header[index].strip() else column
            for column, index in zip(mapped, picked, strict=True)
        ]
        layout.head = layout.fields([*names, *REJECT_COLUMNS]) + layout.newline
        layout.width = len(names)

        def reject_text(cells: tuple[object, ...]) -> str:
            return layout.fields([_csv_cell(cells[i]) if i < len(cells) else "" for i in picked])

        yield None

        line = mapping.header_row
        while True:
            before = line
            batch: Batch = []
            rejects = 0
            with _gc_paused():
                for cells in islice(rows, chunk_size):
                    line += 1
                    if all(
                        value is None or (isinstance(value, str) and not value.strip()) for value in cells
                    ):
                        stats.blank += 1
                        continue
                    try:
                        record = build(cells, line)
                    except RowProblem as problem:
                        batch.append(RowReject(line, str(problem), reject_text(cells)))
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


def _csv_cell(value: object) -> str:
    """A typed cell as text that the usual column formats read back: ISO dates (a midnight date-time is
    its date), `HH:MM:SS` times and durations, numbers without a spurious `.0`, `true`/`false`."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
        whole = int(seconds)
        fraction = f"{seconds - whole:.6f}".rstrip("0").rstrip(".")[1:] if seconds != whole else ""
        return f"{sign}{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}{fraction}"
    return cell_text(value)


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


def _compile_columns(
    path: Path, mapping: Mapping, header: list[str], zone: tzinfo, stats: ParseStats, width: int
) -> ColumnBuilder | None:
    return compile_columns(
        mapping, header, zone=zone, file_stem=path.stem, width=width, filtered=stats.filtered_by_reason
    )


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


def _writing_encoding(path: Path, encoding: str) -> str:
    """The encoding to write a rejects file in: the source's, with a byte-order mark only if it had one."""
    if codecs.lookup(encoding).name != "utf-8-sig":
        return encoding
    with path.open("rb") as head:
        return encoding if head.read(3) == codecs.BOM_UTF8 else "utf-8"


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


def _csv_header(reader: Any, header_row: int) -> tuple[list[str], int]:
    """The header row's fields and the physical line it starts on (rows may span lines)."""
    header: list[str] = []
    first_line = 1
    for line in range(1, header_row + 1):
        first_line = reader.line_num + 1
        row = next(reader, None)
        if row is None:
            raise LayoutError(f"the file ends before the header row {header_row}")
        if line == header_row:
            header = row
    return header, first_line


class _LineWindow:
    """Feeds csv.reader whole blocks of lines and keeps the last few, so a reject can quote its source
    text exactly (including quotes and embedded newlines) at no cost to rows that parse."""

    def __init__(self, text: TextIO, block_chars: int = 1 << 20) -> None:
        self._text = text
        self._block_chars = block_chars
        self._blocks: deque[tuple[int, list[str]]] = deque()
        self._hold_from: int | None = None

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
            while len(self._blocks) > 3 and self._ends_before_hold(self._blocks[0]):
                self._blocks.popleft()
            yield block

    def _ends_before_hold(self, block: tuple[int, list[str]]) -> bool:
        return self._hold_from is None or block[0] + len(block[1]) <= self._hold_from

    def hold(self, line: int) -> None:
        """Keep the lines from this one on (a whole chunk read before its rejects are quoted)."""
        self._hold_from = line

    def raw(self, start: int, end: int) -> str:
        """Physical lines start..end as read, line endings included."""
        parts = []
        for first, block in self._blocks:
            for number in range(max(start, first), min(end, first + len(block) - 1) + 1):
                parts.append(block[number - first])
        return "".join(parts)

    def text(self, start: int, end: int) -> str:
        return self.raw(start, end).rstrip("\r\n")
