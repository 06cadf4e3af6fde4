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
# How far back a tick records missed periods after an outage; older ones are history, not missed posts.
CATCH_UP = timedelta(days=35)
# The scheduler's tick unless it says otherwise (FLOORBOARD_SCHEDULE_TICK_SECONDS).
DEFAULT_TICK = timedelta(seconds=30)
_LONGEST = {
    Period.DAY: timedelta(days=1),
    Period.WEEK: timedelta(days=7),
    Period.MONTH: timedelta(days=31),
    Period.QUARTER: timedelta(days=92),
    Period.ALL: CATCH_UP,
}


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


def due_window(slot: Slot, tick: timedelta = DEFAULT_TICK) -> timedelta:
    """How long after its time a post still goes out (late): the slot's grace, never less than two ticks.

    Two, not one: a tick that overruns makes APScheduler drop the next run, so with `grace_minutes: 0`
    the first tick after the time may come almost two intervals later.
    """
    return max(slot.grace, 2 * tick)


def horizon(slot: Slot, now: datetime, since: datetime | None, tick: timedelta = DEFAULT_TICK) -> datetime:
    """The earliest instant `due` looks at: the grace window, or back to `since` (at most CATCH_UP)."""
    start = now - due_window(slot, tick)
    if since is not None:
        start = min(start, max(since, now - CATCH_UP))
    return start


def ledger_since(
    slot: Slot, now: datetime, since: datetime | None, tick: timedelta = DEFAULT_TICK
) -> datetime:
    """The oldest due time of a ledger row `due` may need to see: one period (and a day, for zones) before
    its horizon, since a week claimed on its Wednesday is still that week on Thursday."""
    return horizon(slot, now, since, tick) - _LONGEST[slot.period] - timedelta(days=1)


def due(
    schedule: TeamSchedule,
    kind: PostKind,
    now: datetime,
    ledger: Collection[str],
    *,
    since: datetime | None = None,
    tick: timedelta = DEFAULT_TICK,
) -> list[Due]:
    """The periods of `kind` that should have been posted by `now` and are not in `ledger` yet.

    A post is due from its time until its window (`due_window`) has passed, late after ON_TIME. `since` is
    where this schedule's record starts: the later of the team's first tick with it and its last claimed
    post. Every period missed after it (at most CATCH_UP back) is reported expired, for the caller to
    record as skipped and log once. Before `since` only what is still within the window is due, so a
    fresh install posts today's post late but does not call yesterday's missed.

    A period with several scheduled days (a weekly recap on Wednesday and Thursday) goes out on the first
    of them it can: a missed Wednesday does not expire the week while Thursday is still to come.
    """
    slot = schedule.slots.get(kind)
    if slot is None:
        return []
    if now.tzinfo is None or (since is not None and since.tzinfo is None):
        raise ValueError("due needs aware instants")
    window_length = due_window(slot, tick)
    latest: dict[str, tuple[date, datetime]] = {}
    for day, instant in occurrences(slot, schedule.clock, horizon(slot, now, since, tick), now):
        key = period_key(slot, day, schedule.clock)
        if key not in ledger:
            latest[key] = (day, instant)  # a later occurrence of the same period (two days of a week) wins
    found = []
    for key, (day, instant) in latest.items():
        overdue = now - instant
        expired = overdue > window_length
        if expired and _later_day_in_period(slot, day, schedule.clock):
            continue
        found.append(
            Due(
                period=key,
                fires_at=instant,
                business_day=business_day(instant, schedule.clock.zone, schedule.clock.day_start_minutes),
                late=overdue > ON_TIME,
                expired=expired,
            )
        )
    return sorted(found, key=lambda item: item.fires_at)


def _later_day_in_period(slot: Slot, day: date, clock: TeamClock) -> bool:
    """The slot has another scheduled day after `day` in the period `day` belongs to."""
    if slot.period is Period.DAY:
        return False
    _, end = window(slot.period, day, clock.week_starts_on)
    later = day + timedelta(days=1)
    while later <= end:
        if WEEKDAYS[later.weekday()] in slot.days:
            return True
        later += timedelta(days=1)
    return False
