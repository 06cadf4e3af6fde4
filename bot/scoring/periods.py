"""Business days and whole-day periods (DESIGN.md §2.8); weekdays are names, never numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    ALL = "all"


def business_day(instant: datetime, zone: ZoneInfo, day_start_minutes: int = 0) -> date:
    """The business day an instant belongs to, in a team's zone with its day start (e.g. 04:00)."""
    if instant.tzinfo is None:
        raise ValueError("business_day needs an aware instant")
    local = instant.astimezone(zone)
    if day_start_minutes == 0:
        return local.date()
    return (local - timedelta(minutes=day_start_minutes)).date()


def day_span(day: date, zone: ZoneInfo, day_start_minutes: int = 0) -> tuple[datetime, datetime]:
    """The instants [start, end) of a business day, in UTC: the inverse of `business_day`."""
    start = datetime.combine(day, datetime.min.time(), zone) + timedelta(minutes=day_start_minutes)
    following = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    end = following + timedelta(minutes=day_start_minutes)
    return start.astimezone(UTC), end.astimezone(UTC)


def window(period: Period, at: date, week_starts_on: str = "monday") -> tuple[date, date]:
    """Inclusive first and last business day of the period containing `at`."""
    if period is Period.DAY:
        return at, at
    if period is Period.WEEK:
        offset = (at.weekday() - WEEKDAYS.index(week_starts_on.lower())) % 7
        start = at - timedelta(days=offset)
        return start, start + timedelta(days=6)
    if period is Period.MONTH:
        start = at.replace(day=1)
        return start, _next_month(start) - timedelta(days=1)
    if period is Period.QUARTER:
        start = date(at.year, 3 * ((at.month - 1) // 3) + 1, 1)
        end = _next_month(_next_month(_next_month(start))) - timedelta(days=1)
        return start, end
    return date.min, date.max


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
