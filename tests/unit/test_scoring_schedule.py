"""due(): one short tick over the post ledger; DST neither skips nor doubles a day; weekdays by name."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scoring.periods import WEEKDAYS, Period
from bot.scoring.schedule import CATCH_UP, PostKind, Slot, TeamClock, TeamSchedule, due

EVERY_DAY = frozenset(WEEKDAYS)
DAILY = PostKind.DAILY_STANDINGS


def schedule(zone: str, at: str, days=EVERY_DAY, period=Period.DAY, grace=timedelta(hours=3)) -> TeamSchedule:
    slot = Slot(time.fromisoformat(at), frozenset(days), period, grace)
    return TeamSchedule("blue", TeamClock(ZoneInfo(zone)), {PostKind.DAILY_STANDINGS: slot})


def run_days(plan: TeamSchedule, start: datetime, days: int, tick: timedelta = timedelta(minutes=1)):
    """Tick a frozen clock through `days` days, claiming what is due as a scheduler would."""
    ledger: dict[str, datetime] = {}
    posted: dict[str, datetime] = {}
    now = start
    while now < start + timedelta(days=days):
        for item in due(plan, DAILY, now, ledger):
            ledger[item.period] = item.fires_at
            if item.fires_at < start:
                continue  # catch-up of what was due before the clock started, covered below
            assert not item.late and not item.expired
            posted[item.period] = item.fires_at
        now += tick
    return posted


# (zone, spring-forward day, fall-back day): the nights clocks change.
TRANSITIONS = [
    ("America/New_York", date(2021, 3, 14), date(2021, 11, 7)),
    ("Europe/Berlin", date(2021, 3, 28), date(2021, 10, 31)),
]


@pytest.mark.parametrize(("zone", "spring", "fall"), TRANSITIONS)
@pytest.mark.parametrize("which", ["spring", "fall"])
@pytest.mark.parametrize("at", ["02:30", "09:00", "00:00"])
def test_each_local_day_gets_exactly_one_post_across_a_dst_change(zone, spring, fall, which, at):
    day = spring if which == "spring" else fall
    tz = ZoneInfo(zone)
    start = datetime.combine(day - timedelta(days=2), time(12), tzinfo=tz).astimezone(UTC)
    ledger = run_days(schedule(zone, at), start, 4)
    expected_days = [day - timedelta(days=1), day, day + timedelta(days=1), day + timedelta(days=2)]
    assert sorted(ledger) == [d.isoformat() for d in expected_days]
    wanted = time.fromisoformat(at)
    for key, instant in ledger.items():
        local = instant.astimezone(tz)
        assert local.date().isoformat() == key
        if key == spring.isoformat() and at == "02:30" and which == "spring":
            # 02:30 does not exist that night: the post goes at the first minute after the gap, 03:30.
            assert (local.hour, local.minute) == (3, 30)
        else:
            assert (local.hour, local.minute) == (wanted.hour, wanted.minute)


def test_fall_back_repeated_hour_fires_once_at_the_first_0130():
    tz = ZoneInfo("America/New_York")
    plan = schedule("America/New_York", "01:30")
    first = datetime(2021, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2021, 11, 7, 6, 30, tzinfo=UTC)  # 01:30 EST, an hour later
    assert first.astimezone(tz).hour == second.astimezone(tz).hour == 1
    yesterday = {"2021-11-06"}
    assert [d.fires_at for d in due(plan, DAILY, first, yesterday)] == [first]
    assert due(plan, DAILY, second, yesterday | {"2021-11-07"}) == []


def test_berlin_spring_gap_fires_at_0330_cest():
    plan = schedule("Europe/Berlin", "02:30")
    items = due(plan, DAILY, datetime(2021, 3, 28, 2, 0, tzinfo=UTC), {"2021-03-27"})
    gap_end = datetime(2021, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert [(d.period, d.fires_at) for d in items] == [("2021-03-28", gap_end)]


def test_weekdays_are_names_and_only_those_days_post():
    plan = schedule("UTC", "17:00", days={"monday", "friday"})
    ledger = run_days(plan, datetime(2021, 3, 1, 0, 0, tzinfo=UTC), 14, tick=timedelta(minutes=30))
    assert sorted(ledger) == ["2021-03-01", "2021-03-05", "2021-03-08", "2021-03-12"]
    with pytest.raises(ValueError, match="weekdays are names"):
        Slot(time(9), frozenset({"1"}))


def test_missed_post_is_due_late_within_grace_and_expired_after():
    plan = schedule("America/New_York", "17:00")
    fires = datetime(2021, 4, 1, 21, 0, tzinfo=UTC)  # 17:00 EDT
    before = {"2021-03-31"}  # posted the day before: the record runs from that post
    since = fires - timedelta(days=1)
    on_time = due(plan, DAILY, fires + timedelta(minutes=1), before, since=since)
    assert [(d.period, d.late, d.expired) for d in on_time] == [("2021-04-01", False, False)]
    late = due(plan, DAILY, fires + timedelta(hours=2), before, since=since)
    assert [(d.period, d.late, d.expired) for d in late] == [("2021-04-01", True, False)]
    expired = due(plan, DAILY, fires + timedelta(hours=4), before, since=since)
    assert [(d.period, d.late, d.expired) for d in expired] == [("2021-04-01", True, True)]
    assert due(plan, DAILY, fires + timedelta(hours=4), before | {"2021-04-01"}, since=since) == []
    # Not yet time: nothing is due.
    assert due(plan, DAILY, fires - timedelta(minutes=1), before, since=since) == []
    # Down for a day after Tuesday's post: Wednesday's expired post is reported (to be skipped and logged)
    # before today's.
    tuesday = fires - timedelta(days=2)
    both = due(plan, DAILY, fires + timedelta(minutes=1), {"2021-03-30"}, since=tuesday)
    assert [(d.period, d.expired) for d in both] == [("2021-03-31", True), ("2021-04-01", False)]


def test_weekly_period_is_the_week_and_posts_once_per_week():
    plan = TeamSchedule(
        "blue",
        TeamClock(ZoneInfo("Europe/Berlin"), week_starts_on="monday"),
        {PostKind.WEEKLY_RECAP: Slot(time(16), frozenset({"friday"}), Period.WEEK)},
    )
    now = datetime(2021, 4, 2, 14, 5, tzinfo=UTC)  # Friday 16:05 CEST
    items = due(plan, PostKind.WEEKLY_RECAP, now, set())
    assert [(d.period, d.business_day) for d in items] == [("week:2021-03-29", date(2021, 4, 2))]
    assert due(plan, PostKind.WEEKLY_RECAP, now, {"week:2021-03-29"}) == []


def test_due_refuses_a_naive_clock():
    with pytest.raises(ValueError, match="aware"):
        due(schedule("UTC", "09:00"), DAILY, datetime(2021, 4, 1, 9, 0), set())


def weekly(days: set[str], grace: timedelta = timedelta(hours=3)) -> TeamSchedule:
    slot = Slot(time(17), frozenset(days), Period.WEEK, grace)
    return TeamSchedule("blue", TeamClock(ZoneInfo("UTC")), {PostKind.WEEKLY_RECAP: slot})


class Ledger:
    """The scheduler's use of `due`: the record runs from the first tick or the last claimed post."""

    def __init__(self, plan: TeamSchedule, kind: PostKind, first_tick: datetime) -> None:
        self.plan, self.kind, self.first_tick = plan, kind, first_tick
        self.rows: dict[str, tuple[datetime, str]] = {}  # period -> (due at, queued or skipped)

    def tick(self, now: datetime, tick: timedelta = timedelta(seconds=30)) -> list:
        last = max((at for at, _ in self.rows.values()), default=None)
        since = self.first_tick if last is None else max(self.first_tick, last)
        items = due(self.plan, self.kind, now, set(self.rows), since=since, tick=tick)
        for item in items:
            self.rows[item.period] = (item.fires_at, "skipped" if item.expired else "queued")
        return items


RECAP = PostKind.WEEKLY_RECAP
WEDNESDAY_1700 = datetime(2021, 3, 31, 17, 0, tzinfo=UTC)
THURSDAY_1700 = datetime(2021, 4, 1, 17, 0, tzinfo=UTC)


def test_a_first_tick_before_the_later_day_does_not_spend_the_week_on_the_missed_earlier_day():
    ledger = Ledger(weekly({"wednesday", "thursday"}), RECAP, THURSDAY_1700 - timedelta(minutes=1))
    assert ledger.tick(THURSDAY_1700 - timedelta(minutes=1)) == []
    [item] = ledger.tick(THURSDAY_1700 + timedelta(seconds=30))
    assert (item.period, item.fires_at, item.late, item.expired) == (
        "week:2021-03-29",
        THURSDAY_1700,
        False,
        False,
    )
    assert ledger.tick(THURSDAY_1700 + timedelta(minutes=1)) == []
    assert ledger.rows == {"week:2021-03-29": (THURSDAY_1700, "queued")}


def test_a_missed_earlier_day_waits_for_the_later_one_and_a_week_missed_on_both_is_skipped_once():
    plan = weekly({"wednesday", "thursday"})
    ledger = Ledger(plan, RECAP, datetime(2021, 3, 22, 9, 0, tzinfo=UTC))  # running since the week before
    ledger.rows["week:2021-03-22"] = (datetime(2021, 3, 24, 17, 0, tzinfo=UTC), "queued")
    # Down from Wednesday noon to Thursday 16:59: Wednesday's slot is long gone, Thursday's still to come.
    assert ledger.tick(THURSDAY_1700 - timedelta(minutes=1)) == []
    assert [
        (i.period, i.fires_at, i.expired) for i in ledger.tick(THURSDAY_1700 + timedelta(seconds=20))
    ] == [("week:2021-03-29", THURSDAY_1700, False)]
    # The next week the bot is down Wednesday and Thursday: the week is skipped once, at its last day.
    next_thursday = THURSDAY_1700 + timedelta(days=7)
    back = next_thursday + timedelta(days=1)
    assert [(i.period, i.fires_at, i.expired) for i in ledger.tick(back)] == [
        ("week:2021-04-05", next_thursday, True)
    ]
    assert ledger.tick(back + timedelta(minutes=1)) == []
    # A Wednesday within its grace posts the week; Thursday then has nothing to do.
    wednesday = WEDNESDAY_1700 + timedelta(days=14)
    assert [i.period for i in ledger.tick(wednesday + timedelta(hours=1))] == ["week:2021-04-12"]
    assert ledger.tick(wednesday + timedelta(days=1, seconds=30)) == []


@pytest.mark.parametrize(("after", "is_due"), [(20, True), (59, True), (61, False)])
def test_grace_zero_still_posts_on_the_ticks_right_after_the_time(after, is_due):
    plan = schedule("UTC", "17:00", grace=timedelta(0))
    fires = datetime(2021, 4, 1, 17, 0, tzinfo=UTC)
    since = fires - timedelta(days=1)
    items = due(plan, DAILY, fires + timedelta(seconds=after), {"2021-03-31"}, since=since)
    # Due for two 30-second ticks (one may be dropped when the one before overran), expired after.
    assert [(d.period, d.late, d.expired) for d in items] == [("2021-04-01", False, not is_due)]


def test_a_tick_of_a_minute_widens_a_zero_grace_to_two_minutes():
    plan = schedule("UTC", "17:00", grace=timedelta(0))
    fires = datetime(2021, 4, 1, 17, 0, tzinfo=UTC)
    items = due(plan, DAILY, fires + timedelta(seconds=100), set(), since=fires, tick=timedelta(minutes=1))
    assert [(d.period, d.expired) for d in items] == [("2021-04-01", False)]


def test_every_period_missed_since_the_last_post_is_reported_once_and_a_fresh_start_reports_none():
    plan = schedule("UTC", "17:00", days={"monday", "tuesday", "wednesday", "thursday", "friday"})
    monday = datetime(2021, 3, 29, 17, 0, tzinfo=UTC)
    ledger = Ledger(plan, DAILY, monday - timedelta(hours=8))
    assert [i.period for i in ledger.tick(monday + timedelta(seconds=20))] == ["2021-03-29"]
    back = datetime(2021, 4, 1, 17, 1, tzinfo=UTC)  # down until Thursday 17:01
    assert [(i.period, i.expired) for i in ledger.tick(back)] == [
        ("2021-03-30", True),
        ("2021-03-31", True),
        ("2021-04-01", False),
    ]
    assert ledger.tick(back + timedelta(seconds=30)) == []

    fresh = Ledger(plan, DAILY, back)  # installed Thursday 17:01: yesterday is not a missed post
    assert [(i.period, i.expired) for i in fresh.tick(back)] == [("2021-04-01", False)]


def test_catch_up_reaches_back_at_most_catch_up_days():
    plan = schedule("UTC", "09:00")
    start = datetime(2021, 1, 1, 9, 0, tzinfo=UTC)
    now = start + timedelta(days=50, minutes=1)
    items = due(plan, DAILY, now, {"2021-01-01"}, since=start)
    # Posted on New Year's day, then down 50 days: the last 35 days are reported, today's post due.
    assert [item.period for item in items] == [
        (date(2021, 1, 17) + timedelta(days=offset)).isoformat() for offset in range(CATCH_UP.days)
    ]
    assert (items[-1].period, items[-1].expired) == ("2021-02-20", False)
    assert all(item.expired for item in items[:-1])
