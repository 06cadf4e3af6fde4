"""Scheduled posts after an outage, at the edges of their windows: a weekly recap on two days, a zero grace,
every missed period recorded once, nothing before the first tick, and an empty kudos digest."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.jobs.scheduler import Scheduler
from bot.store.models import OutboxMessage, Post, PostSchedule
from tests.integration.test_scheduled_posts import DUE, PROGRAM, FrozenClock, Recording, rows, setup

RECAP_ON_TWO_DAYS = """
timezone: America/New_York
teams:
  blue:
    channels:
      - {platform: slack, channel: C0BLUE}
    weekly_recap: {at: "17:00", days: [wednesday, thursday]}
"""
MONDAY = DUE - timedelta(days=3)  # Monday 2021-03-29 17:00 EDT


def tick_at(fb, slack: Recording, *moments: datetime) -> None:
    """One scheduler (a process) ticking at each moment in turn."""
    clock = FrozenClock(moments[0])
    scheduler = Scheduler(fb.engine, fb.program, clock, {"slack": slack})
    for moment in moments:
        clock.now = moment
        asyncio.run(scheduler.tick())


def ledger(fb) -> list[tuple[str, str, str, bool]]:
    return [(row.kind, row.period, row.status, row.late) for row in rows(fb, Post)]


def test_a_recap_on_wednesday_and_thursday_first_ticking_thursday_1659_posts_thursday(database_url, tmp_path):
    fb = setup(database_url, tmp_path, RECAP_ON_TWO_DAYS)
    slack = Recording()
    tick_at(fb, slack, DUE - timedelta(minutes=1), DUE + timedelta(seconds=20), DUE + timedelta(seconds=50))
    assert [message.title for _, message in slack.posts] == [
        "Weekly recap, team blue, week 2021-03-29 to 2021-04-04"
    ]
    assert [filename for _, filename, _, _ in slack.uploads] == ["recap-blue-2021-03-29.png"]
    assert ledger(fb) == [("weekly_recap", "week:2021-03-29", "queued", False)]
    fb.close()


def test_a_recap_whose_wednesday_was_missed_while_down_goes_out_on_thursday(sqlite_url, tmp_path, caplog):
    fb = setup(sqlite_url, tmp_path, RECAP_ON_TWO_DAYS)
    slack = Recording()
    tick_at(fb, slack, MONDAY)  # running since Monday; then down from Wednesday morning to Thursday 16:59
    with caplog.at_level(logging.WARNING, logger="bot.jobs.scheduler"):
        tick_at(fb, slack, DUE - timedelta(minutes=1), DUE + timedelta(seconds=30))
    assert [message.title for _, message in slack.posts] == [
        "Weekly recap, team blue, week 2021-03-29 to 2021-04-04"
    ]
    assert ledger(fb) == [("weekly_recap", "week:2021-03-29", "queued", False)]
    assert "skipped" not in caplog.text
    fb.close()


def test_grace_zero_posts_on_the_tick_20_seconds_after_the_time(database_url, tmp_path):
    fb = setup(database_url, tmp_path, PROGRAM.replace("grace_minutes: 120", "grace_minutes: 0"))
    slack = Recording()
    tick_at(fb, slack, DUE - timedelta(seconds=10), DUE + timedelta(seconds=20), DUE + timedelta(seconds=50))
    assert [message.title for _, message in slack.posts] == [
        "Daily standings, team blue: Points, Thursday 2021-04-01"
    ]
    assert ledger(fb) == [("daily_standings", "2021-04-01", "queued", False)]
    fb.close()


def test_every_day_missed_since_the_last_post_is_skipped_and_logged_once(database_url, tmp_path, caplog):
    fb = setup(database_url, tmp_path)
    slack = Recording()
    tick_at(fb, slack, MONDAY + timedelta(seconds=20))  # Monday's standings go out; then down
    back = DUE + timedelta(minutes=1)  # until Thursday 17:01
    with caplog.at_level(logging.WARNING, logger="bot.jobs.scheduler"):
        tick_at(fb, slack, back, back + timedelta(seconds=30))
        asyncio.run(Scheduler(fb.engine, fb.program, FrozenClock(back + timedelta(minutes=1)), {}).tick())
    assert ledger(fb) == [
        ("daily_standings", "2021-03-29", "queued", False),
        ("daily_standings", "2021-03-30", "skipped", True),
        ("daily_standings", "2021-03-31", "skipped", True),
        ("daily_standings", "2021-04-01", "queued", False),
    ]
    assert [message.title for _, message in slack.posts] == [
        "Daily standings, team blue: Points, Monday 2021-03-29",
        "Daily standings, team blue: Points, Thursday 2021-04-01",
    ]
    skipped = [record.getMessage() for record in caplog.records if record.getMessage().startswith("skipped")]
    assert [line.split(": due")[0] for line in skipped] == [
        "skipped daily_standings for team blue, period 2021-03-30",
        "skipped daily_standings for team blue, period 2021-03-31",
    ]
    fb.close()


def test_catch_up_starts_at_the_first_tick_not_before(database_url, tmp_path):
    fb = setup(database_url, tmp_path)
    slack = Recording()
    first = MONDAY - timedelta(hours=7)  # Monday 10:00: running, nothing due yet; then down
    tick_at(fb, slack, first, DUE + timedelta(minutes=1))
    assert ledger(fb) == [
        ("daily_standings", "2021-03-29", "skipped", True),
        ("daily_standings", "2021-03-30", "skipped", True),
        ("daily_standings", "2021-03-31", "skipped", True),
        ("daily_standings", "2021-04-01", "queued", False),
    ]
    with fb.engine.connect() as connection:
        started = connection.execute(select(PostSchedule.kind, PostSchedule.first_tick_at)).all()
    assert [(kind, at.replace(tzinfo=UTC) if at.tzinfo is None else at) for kind, at in started] == [
        ("daily_standings", first)
    ]
    fb.close()


def test_a_fresh_install_does_not_log_yesterdays_post_as_skipped(database_url, tmp_path, caplog):
    fb = setup(database_url, tmp_path)
    with caplog.at_level(logging.WARNING, logger="bot.jobs.scheduler"):
        tick_at(fb, Recording(), DUE + timedelta(minutes=1))
    assert ledger(fb) == [("daily_standings", "2021-04-01", "queued", False)]
    assert "skipped" not in caplog.text
    fb.close()


def test_a_kudos_digest_with_nothing_to_post_ends_skipped(database_url, tmp_path):
    program = (
        "kudos: {values: [empathy]}\n"
        + PROGRAM.split("    daily_standings")[0]
        + '    kudos_digest: {at: "17:00", days: [thursday], period: day}\n'
    )
    fb = setup(database_url, tmp_path, program)
    slack = Recording()
    tick_at(fb, slack, DUE + timedelta(seconds=20))
    assert slack.posts == []
    [row] = rows(fb, Post)
    assert (row.kind, row.period, row.status, row.details) == (
        "kudos_digest",
        "2021-04-01",
        "skipped",
        {"reason": "nothing to post"},
    )
    assert rows(fb, OutboxMessage) == []
    fb.close()
