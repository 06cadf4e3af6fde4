"""How numbers read: KPI values per unit, points in hundredths, ranks as ordinals, time stamps."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.messages.catalogue import DEFAULT_LOCALE, has, render
from bot.scoring.metrics import CATALOGUE
from bot.scoring.periods import Period

POINTS = "points"


def value(unit: str, number: float) -> str:
    """A KPI value as a board shows it: 3m 45s, 87.5%, 4.31, 42; points with two decimals."""
    if unit == "seconds":
        return _duration(number)
    if unit == "fraction":
        return f"{number * 100:.1f}%"
    if unit == "count":
        return f"{number:.0f}" if float(number).is_integer() else f"{number:.1f}"
    return f"{number:.2f}"


def bound(unit: str, number: float) -> str:
    """A zone point, as short as it can be: 4.2, 85%, 7m 00s."""
    if unit == "seconds":
        return _duration(number)
    if unit == "fraction":
        return f"{trim(number * 100)}%"
    return trim(number)


def trim(number: float) -> str:
    """At most two decimals, no trailing zeros: 11.8, 9.18, 10."""
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def hundredths(amount: int) -> str:
    """Ledger amounts are integer hundredths: 1150 -> 11.50, -918 -> -9.18."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole}.{cents:02d}"


def signed_hundredths(amount: int) -> str:
    return hundredths(amount) if amount < 0 else f"+{hundredths(amount)}"


def unit_of(metric: str) -> str:
    return POINTS if metric == POINTS else CATALOGUE[metric].unit


def metric_label(metric: str, locale: str = DEFAULT_LOCALE) -> str:
    message_id = f"metric.{metric}"
    if has(message_id, locale):
        return render(message_id, locale)
    return CATALOGUE[metric].label if metric in CATALOGUE else metric


def samples(metric: str, count: int, locale: str = DEFAULT_LOCALE) -> str:
    """`12 surveys`, `1 contact`, `3 days` (points boards count days with points)."""
    noun = "days" if metric == POINTS else CATALOGUE[metric].samples
    message_id = f"samples.{noun.replace(' ', '_')}"
    if has(message_id, locale):
        return render(message_id, locale, count=count)
    return f"{count} {noun}"


def samples_header(metric: str, locale: str = DEFAULT_LOCALE) -> str:
    noun = "days" if metric == POINTS else CATALOGUE[metric].samples
    return noun[:1].upper() + noun[1:]


def ordinal(rank: int, locale: str = DEFAULT_LOCALE) -> str:
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return render("format.ordinal", locale, number=rank, suffix=suffix)


def window(period: Period, start: date, end: date, locale: str = DEFAULT_LOCALE) -> str:
    """`week 2021-03-29 to 2021-04-04`, `day 2021-04-01`, `all time`."""
    return render(f"period.{period.value}", locale, start=start.isoformat(), end=end.isoformat())


def stamp(instant: datetime | None, zone: ZoneInfo, locale: str = DEFAULT_LOCALE) -> str:
    if instant is None:
        return render("format.no_data_yet", locale)
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s"
