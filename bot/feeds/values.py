"""Typed value parsers for tabular feeds.

Each column gets one parser, built once: it trims the raw text, turns null tokens and sentinels into None,
and converts the rest to a typed value, or raises `ValueProblem` saying what is wrong with the value.
Parsers are memoised per distinct raw value, because export columns repeat a few values (dates, times,
agents, Y/N) over millions of rows; a memo hit is a single C-level dict lookup.

Typed cells from XLSX (int, float, datetime, date, time, timedelta, bool) are accepted as well as text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Hashable, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Literal, TypeVar

from bot.feeds.datetime_formats import compile_format

ColumnType = Literal["text", "number", "percent", "bool", "duration", "date", "time", "datetime"]
Value = str | float | bool | date | datetime | time | None
Parser = Callable[[object], Value]
T = TypeVar("T")

DURATION_UNITS: dict[str, float] = {
    "seconds": 1.0,
    "milliseconds": 0.001,
    "minutes": 60.0,
    "hours": 3600.0,
    "days": 86400.0,
}
PERCENT_UNITS = ("percent", "fraction")
DEFAULT_FORMATS: dict[str, tuple[str, ...]] = {
    "date": ("%Y-%m-%d",),
    "time": ("%H:%M:%S",),
    "datetime": ("iso",),
}
DEFAULT_TRUTHY = ("y", "yes", "true", "t", "1")
DEFAULT_FALSY = ("n", "no", "false", "f", "0")

#: Excel's day zero as openpyxl counts it (serial 1 = 1900-01-01, after the 1900 leap-year bug).
EXCEL_EPOCH = datetime(1899, 12, 30)
_UTC_EPOCH = datetime(1970, 1, 1)
_MEMO_LIMIT = 1 << 16


class ValueProblem(ValueError):
    """A raw value that the column's type cannot read; the message quotes the value."""


class Memo(dict[Hashable, T]):
    """A bounded memo whose lookups stay in C: only a miss runs Python code."""

    __slots__ = ("_parse",)

    def __init__(self, parse: Callable[[Any], T]) -> None:
        super().__init__()
        self._parse = parse

    def __missing__(self, raw: Hashable) -> T:
        value = self._parse(raw)
        if len(self) >= _MEMO_LIMIT:
            self.clear()
        self[raw] = value
        return value


def make_parser(
    kind: ColumnType,
    *,
    zone: tzinfo,
    formats: Sequence[str] | None = None,
    unit: str | None = None,
    truthy: Collection[str] | None = None,
    falsy: Collection[str] | None = None,
    null_tokens: Collection[str] = ("",),
    sentinels: Collection[str] = (),
    thousands: str = ",",
    decimal: str = ".",
) -> Parser:
    """The memoised parser for one column; `zone` makes naive datetimes aware (explicit offsets win)."""
    convert = _converter(kind, zone, formats, unit, truthy, falsy, thousands, decimal)
    nulls = frozenset(token.strip().casefold() for token in null_tokens)
    sentinel_texts = frozenset(s.strip() for s in sentinels)
    sentinel_values = frozenset(_sentinel_values(convert, sentinel_texts))

    def parse(raw: object) -> Value:
        if raw is None:
            return None
        if isinstance(raw, str):
            text = raw.strip()
            if text.casefold() in nulls or text in sentinel_texts:
                return None
            value = convert(text)
        else:
            value = convert(raw)
        if sentinel_values and value in sentinel_values:
            return None
        return value

    return Memo(parse).__getitem__


def cell_text(value: object) -> str:
    """The text a cell shows, for ids and rejects: integral floats lose their `.0`, times are ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _converter(
    kind: ColumnType,
    zone: tzinfo,
    formats: Sequence[str] | None,
    unit: str | None,
    truthy: Collection[str] | None,
    falsy: Collection[str] | None,
    thousands: str,
    decimal: str,
) -> Parser:
    if kind == "text":
        return cell_text
    if kind == "number":
        return _number_reader(thousands, decimal)
    if kind == "percent":
        return _percent_reader(_number_reader(thousands, decimal), unit or "percent")
    if kind == "bool":
        return _bool_reader(truthy or DEFAULT_TRUTHY, falsy or DEFAULT_FALSY)
    if kind == "duration":
        return _duration_reader(_number_reader(thousands, decimal), DURATION_UNITS[unit or "seconds"])
    return _moment_reader(kind, tuple(formats or DEFAULT_FORMATS[kind]), zone)


def _sentinel_values(convert: Parser, texts: Collection[str]) -> list[Value]:
    values: list[Value] = []
    for text in texts:
        try:
            value = convert(text)
        except ValueProblem:
            continue
        if value is not None:
            values.append(value)
    return values


def _number_reader(thousands: str, decimal: str) -> Callable[[object], float | None]:
    grouped = (
        re.compile(rf"[+-]?\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+(?:{re.escape(decimal)}\d*)?")
        if thousands
        else None
    )

    def read(raw: object) -> float | None:
        if isinstance(raw, str):
            text = raw.strip()
            if thousands and thousands in text:
                if grouped is None or not grouped.fullmatch(text):
                    raise ValueProblem(f"{raw!r} is not a number (misplaced {thousands!r} separator)")
                text = text.replace(thousands, "")
            if decimal != ".":
                if "." in text:
                    raise ValueProblem(f"{raw!r} is not a number (the decimal mark is {decimal!r})")
                text = text.replace(decimal, ".")
            try:
                number = float(text)
            except ValueError:
                raise ValueProblem(f"{raw!r} is not a number") from None
        elif isinstance(raw, int | float) and not isinstance(raw, bool):
            number = float(raw)
        else:
            raise ValueProblem(f"{raw!r} is not a number")
        return number if math.isfinite(number) else None

    return read


def _percent_reader(number: Callable[[object], float | None], unit: str) -> Parser:
    bare_scale = 0.01 if unit == "percent" else 1.0

    def read(raw: object) -> float | None:
        if isinstance(raw, str) and raw.endswith("%"):
            try:
                value = number(raw[:-1])
            except ValueProblem:
                raise ValueProblem(f"{raw!r} is not a percentage") from None
            return None if value is None else value / 100
        value = number(raw)
        return None if value is None else value * bare_scale

    return read


def _bool_reader(truthy: Collection[str], falsy: Collection[str]) -> Parser:
    table = {token.strip().casefold(): False for token in falsy}
    table.update({token.strip().casefold(): True for token in truthy})
    shown_true, shown_false = list(truthy), list(falsy)

    def read(raw: object) -> bool:
        if isinstance(raw, bool):
            return raw
        key = cell_text(raw).casefold()
        try:
            return table[key]
        except KeyError:
            raise ValueProblem(
                f"{raw!r} is neither a true value {shown_true} nor a false value {shown_false}"
            ) from None

    return read


def _duration_reader(number: Callable[[object], float | None], unit_seconds: float) -> Parser:
    def read(raw: object) -> float | None:
        if isinstance(raw, str):
            if ":" in raw:
                return clock_seconds(raw)
            value = number(raw)
            return None if value is None else value * unit_seconds
        if isinstance(raw, time):
            return raw.hour * 3600 + raw.minute * 60 + raw.second + raw.microsecond / 1e6
        if isinstance(raw, timedelta):
            return raw.total_seconds()
        if isinstance(raw, datetime):
            return (raw - EXCEL_EPOCH).total_seconds()
        value = number(raw)
        if value is None:
            return None
        return round(value * unit_seconds, 3) if unit_seconds == 86400.0 else value * unit_seconds

    return read


def clock_seconds(raw: str) -> float:
    """Seconds in `M:SS` or `H:MM:SS`, hours may exceed 24, seconds may carry a fraction."""
    text = raw.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    parts = text.lstrip("+-").split(":")
    try:
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            hours, minutes, seconds = int(parts[0]), int(parts[1]), _seconds(parts[2])
            if minutes < 60 and seconds < 60:
                return sign * (hours * 3600 + minutes * 60 + seconds)
        elif len(parts) == 2 and parts[0].isdigit():
            minutes, seconds = int(parts[0]), _seconds(parts[1])
            if seconds < 60:
                return sign * (minutes * 60 + seconds)
    except ValueError:
        pass
    raise ValueProblem(f"{raw!r} is not a duration (expected M:SS or H:MM:SS)")


def _seconds(text: str) -> float:
    if not text or not text[0].isdigit() or not text.replace(".", "", 1).isdigit():
        raise ValueError(text)
    return float(text)


def _moment_reader(kind: ColumnType, formats: tuple[str, ...], zone: tzinfo) -> Parser:
    parsers = [compile_format(fmt) for fmt in formats]

    def from_text(text: str) -> datetime:
        for parse in parsers:
            try:
                return parse(text)
            except ValueError:
                continue
        raise ValueProblem(f"{text!r} does not match any of the formats {list(formats)!r}")

    def to_datetime(raw: object) -> datetime:
        if isinstance(raw, str):
            return from_text(raw)
        if isinstance(raw, datetime):
            return raw
        if isinstance(raw, date):
            return datetime(raw.year, raw.month, raw.day)
        if isinstance(raw, time):
            return datetime.combine(date(1900, 1, 1), raw)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return _from_excel_serial(float(raw))
        raise ValueProblem(f"{raw!r} is not a {kind}")

    if kind == "date":
        return lambda raw: to_datetime(raw).date()
    if kind == "time":

        def read_time(raw: object) -> time:
            if type(raw) is date:
                raise ValueProblem(f"{raw!r} is a date, not a time")
            return to_datetime(raw).timetz()

        return read_time

    shifting = not isinstance(zone, timezone)  # fixed offsets (UTC among them) have no gaps

    def read_datetime(raw: object) -> datetime:
        moment = to_datetime(raw)
        if moment.tzinfo is not None:
            return moment
        moment = moment.replace(tzinfo=zone)
        if shifting and moment.utcoffset() != moment.replace(fold=1).utcoffset():
            problem = nonexistent(moment)
            if problem:
                raise ValueProblem(f"{_shown(raw)} {problem}")
        return moment

    return read_datetime


def _shown(raw: object) -> str:
    return repr(raw if isinstance(raw, str) else cell_text(raw))


def dst_gap(moment: datetime) -> tuple[datetime, datetime] | None:
    """For a wall-clock time that its zone skips (the spring-forward gap of daylight saving time): the
    gap's first skipped wall time (naive) and the first wall time after it (aware). None otherwise.

    An ambiguous time of the fall-back hour exists twice and is not a gap: with fold=0 (the default) it
    is read as its first occurrence.
    """
    zone = moment.tzinfo
    before, after = moment.utcoffset(), moment.replace(fold=1).utcoffset()
    if zone is None or before is None or after is None or after <= before:
        return None
    # fold=0 reads a skipped time with the offset before the jump, fold=1 with the one after: the jump
    # happened at an instant between the two readings, found to the second by bisection.
    wall = moment.replace(tzinfo=None, fold=0)
    low = math.floor((wall - after - _UTC_EPOCH).total_seconds())
    high = math.ceil((wall - before - _UTC_EPOCH).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    jump = datetime.fromtimestamp(high, UTC)
    return jump.replace(tzinfo=None) + before, jump.astimezone(zone)


def nonexistent(moment: datetime) -> str | None:
    """`does not exist in <zone>: the clocks jump forward …` for a time in a DST gap, else None."""
    gap = dst_gap(moment)
    if gap is None:
        return None
    start, end = gap
    return (
        f"does not exist in {moment.tzinfo}: the clocks jump forward from {start:%H:%M} to {end:%H:%M} "
        f"on {start:%Y-%m-%d}"
    )


def _from_excel_serial(serial: float) -> datetime:
    if not math.isfinite(serial) or not -693594 < serial < 2958466:
        raise ValueProblem(f"{serial!r} is not an Excel date or time")
    days = math.floor(serial)
    millis = round((serial - days) * 86_400_000)
    return EXCEL_EPOCH + timedelta(days=days, milliseconds=millis)
