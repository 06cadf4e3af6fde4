"""When scheduled posts are due: a pure function over a team's schedule, a clock reading and the post ledger.

One short tick asks `due` which periods should have been posted by now (DESIGN.md §8) instead of keeping
a cron trigger per team. Occurrences are found by walking local calendar dates in the team's zone and
placing the wall-clock time on each, so a DST change neither skips nor doubles a day: a time that does
not exist that day (02:30 when clocks spring forward) fires at the first instant after the gap, a time
that exists twice (01:30 when clocks fall back) fires at the first of the two.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.scoring.periods import WEEKDAYS, Period, business_day, window

# A post that goes out more than this after its time is marked late (the tick runs every few seconds).
ON_TIME = timedelta(minutes=5)


class PostKind(StrEnum):
    DAILY_STANDINGS = "daily_standings"
    WEEKLY_RECAP = "weekly_recap"
    KUDOS_DIGEST = "kudos_digest"


@dataclass(frozen=True, slots=True)
class Slot:
    """A kind of post at a local wall-clock time on named weekdays; `period` is what one post covers."""

    at: time
    days: frozenset[str]
    period: Period = Period.DAY
    grace: timedelta = timedelta(hours=3)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.days) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"weekdays are names ({', '.join(WEEKDAYS)}), got {unknown}")


@dataclass(frozen=True, slots=True)
class TeamClock:
    """A team's time: its zone, when its business day starts and the program's week start."""

    zone: ZoneInfo
    day_start_minutes: int = 0
    week_starts_on: str = "monday"


@dataclass(frozen=True, slots=True)
class TeamSchedule:
    team: str
    clock: TeamClock
    slots: dict[PostKind, Slot]


@dataclass(frozen=True, slots=True)
class Due:
    """One period to post. `expired`: missed by more than the grace window, so skipped (and logged)."""

    period: str
    fires_at: datetime
    business_day: date
    late: bool
    expired: bool


def fire_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on local `day`; a time in a DST gap moves past the gap."""
    # fold=0 reads a wall time in a gap with the offset before the change, which lands past the gap
    # (02:30 EST is 03:30 EDT); of a repeated wall time it picks the first.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def period_key(slot: Slot, day: date, clock: TeamClock) -> str:
    """The ledger's period: the local date of a daily post, the first day of a weekly or monthly one."""
    if slot.period is Period.DAY:
        return day.isoformat()
    start, _ = window(slot.period, day, clock.week_starts_on)
    return f"{slot.period.value}:{start.isoformat()}"


def occurrences(slot: Slot, clock: TeamClock, start: datetime, end: datetime) -> list[tuple[date, datetime]]:
    """Every (local date, instant) the slot fires in (start, end], in order."""
    first = start.astimezone(clock.zone).date() - timedelta(days=1)
    last = end.astimezone(clock.zone).date() + timedelta(days=1)
    out = []
    day = first
    while day <= last:
        if WEEKDAYS[day.weekday()] in slot.days:
            instant = fire_instant(day, slot.at, clock.zone)
            if start < instant <= end:
                out.append((day, instant))
        day += timedelta(days=1)
    return out


def due(schedule: TeamSchedule, kind: PostKind, now: datetime, ledger: Collection[str]) -> list[Due]:
    """The periods of `kind` that should have been posted by `now` and are not in `ledger` yet.

    Looks back one grace window and a day: a post missed while the bot was down is due late while it is
    within its grace window, and expired after it (the caller records the skip, so it is logged once).
    Occurrences further back are history, not missed posts.
    """
    slot = schedule.slots.get(kind)
    if slot is None:
        return []
    if now.tzinfo is None:
        raise ValueError("due needs an aware instant")
    found: dict[str, Due] = {}
    for day, instant in occurrences(slot, schedule.clock, now - slot.grace - timedelta(days=1), now):
        key = period_key(slot, day, schedule.clock)
        if key in ledger:
            continue
        overdue = now - instant
        item = Due(
            period=key,
            fires_at=instant,
            business_day=business_day(instant, schedule.clock.zone, schedule.clock.day_start_minutes),
            late=overdue > ON_TIME,
            expired=overdue > slot.grace,
        )
        found[key] = item  # a later occurrence of the same period (two days of one week) replaces it
    return sorted(found.values(), key=lambda item: item.fires_at)
