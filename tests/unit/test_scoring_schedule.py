"""due(): one short tick over the post ledger; DST neither skips nor doubles a day; weekdays by name."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scoring.periods import WEEKDAYS, Period
from bot.scoring.schedule import PostKind, Slot, TeamClock, TeamSchedule, due

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
    before = {"2021-03-31"}  # posted the day before
    on_time = due(plan, DAILY, fires + timedelta(minutes=1), before)
    assert [(d.period, d.late, d.expired) for d in on_time] == [("2021-04-01", False, False)]
    late = due(plan, DAILY, fires + timedelta(hours=2), before)
    assert [(d.period, d.late, d.expired) for d in late] == [("2021-04-01", True, False)]
    expired = due(plan, DAILY, fires + timedelta(hours=4), before)
    assert [(d.period, d.late, d.expired) for d in expired] == [("2021-04-01", True, True)]
    assert due(plan, DAILY, fires + timedelta(hours=4), before | {"2021-04-01"}) == []
    # Not yet time: nothing is due.
    assert due(plan, DAILY, fires - timedelta(minutes=1), before) == []
    # Down for a day: yesterday's expired post is reported (to be skipped and logged) before today's.
    both = due(plan, DAILY, fires + timedelta(minutes=1), set())
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
