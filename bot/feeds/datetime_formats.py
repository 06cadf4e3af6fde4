"""strptime-compatible date and time formats, compiled once into fast parsers.

`time.strptime` costs several microseconds a call; a feed with a million distinct timestamps would spend
most of its time there. Formats made only of numeric directives are compiled into one regular expression
with the same acceptance rules as strptime (1–2 digit days and hours, 4-digit years, case-insensitive
AM/PM, no backtracking to swallow leftover text); anything else falls back to strptime itself. The
special format `iso` accepts ISO 8601, with `T` or a space, fractions, and `Z` or `±HH:MM` offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone

ISO = "iso"

DateTimeParser = Callable[[str], datetime]

_NUMERIC = {
    "Y": r"(?P<Y>\d{4})",
    "y": r"(?P<y>\d{2})",
    "m": r"(?P<m>1[0-2]|0[1-9]|[1-9])",
    "d": r"(?P<d>3[01]|[12]\d|0[1-9]|[1-9]| [1-9])",
    "H": r"(?P<H>2[0-3]|[0-1]\d|\d)",
    "I": r"(?P<I>1[0-2]|0[1-9]|[1-9])",
    "M": r"(?P<M>[0-5]\d|\d)",
    "S": r"(?P<S>6[0-1]|[0-5]\d|\d)",
    "f": r"(?P<f>\d{1,6})",
    "p": r"(?P<p>am|pm)",
    "z": r"(?P<z>[+-]\d\d:?[0-5]\d(?::?[0-5]\d(?:\.\d{1,6})?)?|(?-i:Z))",
}

_EXAMPLE = datetime(2021, 11, 23, 13, 4, 5, 678000)
_NO_DATE = date(1900, 1, 1)


def compile_format(fmt: str) -> DateTimeParser:
    """A parser for one format; it raises ValueError when the text does not match."""
    if fmt.lower() == ISO:
        return _parse_iso
    pattern = _regex_for(fmt)
    if pattern is None:
        return lambda text: datetime.strptime(text, fmt)
    return _regex_parser(pattern)


def check_format(fmt: str) -> None:
    """Raise ValueError when a format has a directive strptime does not know or cannot read back."""
    if fmt.lower() == ISO:
        return
    if "%" not in fmt:
        raise ValueError(f"format {fmt!r} has no % directive")
    sample = _EXAMPLE.strftime(fmt)
    datetime.strptime(sample, fmt)
    compile_format(fmt)(sample)


def _parse_iso(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.combine(_NO_DATE, time.fromisoformat(text))


def _regex_for(fmt: str) -> re.Pattern[str] | None:
    parts: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%":
            if i + 1 == len(fmt):
                return None
            directive = fmt[i + 1]
            i += 2
            if directive == "%":
                parts.append("%")
                continue
            if directive not in _NUMERIC or directive in seen:
                return None
            seen.add(directive)
            parts.append(_NUMERIC[directive])
            continue
        parts.append(r"\s+" if char.isspace() else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.IGNORECASE)


def _regex_parser(pattern: re.Pattern[str]) -> DateTimeParser:
    match_start = pattern.match
    fields = set(pattern.groupindex)

    def parse(text: str) -> datetime:
        match = match_start(text)
        if match is None or match.end() != len(text):
            raise ValueError(f"{text!r} does not match")
        g = match.groupdict()
        if "Y" in fields:
            year = int(g["Y"])
        elif "y" in fields:
            short = int(g["y"])
            year = 2000 + short if short < 69 else 1900 + short
        else:
            year = 1900
        if "I" in fields:
            hour = int(g["I"]) % 12
            if "p" in fields and g["p"].lower() == "pm":
                hour += 12
        else:
            hour = int(g["H"]) if "H" in fields else 0
        micro = int(g["f"].ljust(6, "0")) if "f" in fields else 0
        tz = _offset(g["z"]) if "z" in fields else None
        return datetime(
            year,
            int(g["m"]) if "m" in fields else 1,
            int(g["d"]) if "d" in fields else 1,
            hour,
            int(g["M"]) if "M" in fields else 0,
            int(g["S"]) if "S" in fields else 0,
            micro,
            tz,
        )

    return parse


def _offset(text: str) -> timezone:
    if text in ("z", "Z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    seconds = float(digits[4:]) if len(digits) > 4 else 0.0
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]), seconds=seconds)
    return timezone(sign * delta)
