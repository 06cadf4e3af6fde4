"""Scheduled posts end to end: the ledger and the outbox post once across replicas, retries and restarts."""

import asyncio
import logging
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.adapters.console import render_segments
from bot.feeds.records import KpiRecord, SubjectRef
from bot.handlers.contract import Message, Text
from bot.jobs.announcements import Announcement
from bot.jobs.scheduler import Scheduler, announce_now
from bot.services import kudos, outbox
from bot.store.models import OutboxMessage, Person, Post, Team
from tests.cli_support import cli
from tests.conftest import make_app

PROGRAM = """
timezone: America/New_York
teams:
  blue:
    channels:
      - {platform: slack, channel: C0BLUE}
    daily_standings: {at: "17:00", days: [monday, tuesday, wednesday, thursday, friday], grace_minutes: 120}
"""
ROSTER = "name,team,team_from,keys,team_timezone\n" + "".join(
    f"{name},blue,2021-01-01,pwc:{name},{{zone}}\n" for name in ("Ann", "Bob", "Cy", "Di")
)
DUE = datetime(2021, 4, 1, 21, 0, tzinfo=UTC)  # Thursday 17:00 EDT


class FrozenClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Recording:
    """A Notifier that records every call; `failures` makes the next calls raise."""

    def __init__(self, failures: int = 0) -> None:
        self.posts: list[tuple[str, Message]] = []
        self.dms: list[tuple[int, Message]] = []
        self.uploads: list[tuple[str, str, bytes, str]] = []
        self.failures = failures

    def _maybe_fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("slack is down (503)")

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str:
        self._maybe_fail()
        self.posts.append((channel, message))
        return f"ts-{len(self.posts)}"

    async def dm(self, person_id: int, message: Message, *, key: str | None = None) -> str:
        self._maybe_fail()
        self.dms.append((person_id, message))
        return f"dm-{len(self.dms)}"

    async def upload(
        self, channel: str, filename: str, data: bytes, title: str, *, key: str | None = None
    ) -> str:
        self._maybe_fail()
        self.uploads.append((channel, filename, data, title))
        return f"file-{len(self.uploads)}"


def setup(url: str, tmp_path: Path, program: str = PROGRAM, zone: str = "America/New_York"):
    program_file = tmp_path / "program.yaml"
    program_file.write_text(program, encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER.format(zone=zone), encoding="utf-8")
    fb = make_app(url, program_file=program_file)
    cli(url, "roster", "import", str(roster))
    return fb


def rows(fb, model):
    with fb.engine.connect() as connection:
        return connection.execute(select(model).order_by(model.id)).all()


def test_two_schedulers_on_one_postgres_firing_the_same_tick_post_once(postgres_url, tmp_path):
    first, second = (
        setup(postgres_url, tmp_path),
        make_app(postgres_url, program_file=tmp_path / "program.yaml"),
    )
    clock = FrozenClock(DUE + timedelta(seconds=20))
    slack = Recording()
    replicas = [Scheduler(fb.engine, fb.program, clock, {"slack": slack}) for fb in (first, second)]

    async def same_tick():
        return await asyncio.gather(*(replica.tick() for replica in replicas))

    for _ in range(3):  # the same tick, retried
        asyncio.run(same_tick())
    restarted = Scheduler(second.engine, second.program, clock, {"slack": slack})
    asyncio.run(restarted.tick())

    assert [channel for channel, _ in slack.posts] == ["C0BLUE"]
    assert slack.posts[0][1].title == "Daily standings, team blue: Points, Thursday 2021-04-01"
    ledger = rows(first, Post)
    # Wednesday's post was due before the first tick ever: history, not a missed post.
    assert [(row.kind, row.period, row.status, row.late) for row in ledger] == [
        ("daily_standings", "2021-04-01", "queued", False),
    ]
    assert [(row.status, row.attempts) for row in rows(first, OutboxMessage)] == [("sent", 1)]
    first.close()
    second.close()


def test_a_failed_send_is_retried_with_backoff_and_recorded(app_url, tmp_path):
    fb = setup(app_url, tmp_path)
    clock = FrozenClock(DUE + timedelta(seconds=5))
    slack = Recording(failures=2)
    scheduler = Scheduler(fb.engine, fb.program, clock, {"slack": slack})
    asyncio.run(scheduler.tick())
    (row,) = rows(fb, OutboxMessage)
    assert (row.status, row.attempts, row.last_error) == (
        "pending",
        1,
        "ConnectionError: slack is down (503)",
    )
    assert row.available_at.replace(tzinfo=UTC) == clock.now + outbox.backoff(1)
    asyncio.run(scheduler.tick())  # before the backoff: nothing is tried
    assert rows(fb, OutboxMessage)[0].attempts == 1
    clock.now += timedelta(seconds=31)
    asyncio.run(scheduler.tick())
    row = rows(fb, OutboxMessage)[0]
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.available_at.replace(tzinfo=UTC) == clock.now + timedelta(seconds=60)
    clock.now += timedelta(seconds=61)
    asyncio.run(scheduler.tick())
    row = rows(fb, OutboxMessage)[0]
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert len(slack.posts) == 1
    fb.close()


def test_a_send_that_keeps_failing_ends_failed_with_its_last_error(app_url, tmp_path):
    fb = setup(app_url, tmp_path)
    clock = FrozenClock(DUE + timedelta(seconds=5))
    scheduler = Scheduler(fb.engine, fb.program, clock, {})  # Slack is not configured
    for _ in range(outbox.MAX_ATTEMPTS + 2):
        asyncio.run(scheduler.tick())
        clock.now += outbox.LONGEST_RETRY
    (row,) = rows(fb, OutboxMessage)
    assert (row.status, row.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    assert row.last_error == "NotSendable: no notifier for platform 'slack'; configured: none"
    fb.close()


def test_an_expired_claim_is_sent_again_once(app_url, tmp_path):
    fb = setup(app_url, tmp_path)
    clock = FrozenClock(DUE + timedelta(seconds=5))
    slack = Recording()
    scheduler = Scheduler(fb.engine, fb.program, clock, {"slack": slack})
    scheduler.claim_due(clock.now)
    crashed = outbox.claim(fb.engine, clock.now)  # a dispatcher claims, then dies before sending
    assert len(crashed) == 1
    asyncio.run(scheduler.tick())  # the lease still holds: nobody else sends
    assert slack.posts == []
    clock.now += outbox.LEASE + timedelta(seconds=1)
    asyncio.run(scheduler.tick())
    asyncio.run(scheduler.tick())
    assert len(slack.posts) == 1
    row = rows(fb, OutboxMessage)[0]
    assert (row.status, row.attempts) == ("sent", 2)
    assert not outbox.mark_sent(fb.engine, crashed[0], clock.now)  # the dead claim cannot mark it again
    fb.close()


def test_a_post_missed_while_down_goes_out_late_within_grace_else_is_skipped_and_logged(
    app_url, tmp_path, caplog
):
    fb = setup(app_url, tmp_path)
    slack = Recording()
    clock = FrozenClock(DUE + timedelta(hours=1))  # back up an hour after 17:00
    asyncio.run(Scheduler(fb.engine, fb.program, clock, {"slack": slack}).tick())
    assert [message.title for _, message in slack.posts] == [
        "Daily standings, team blue: Points, Thursday 2021-04-01 (late: the bot was down when this was due)"
    ]
    clock.now = DUE + timedelta(days=1, hours=3)  # Friday's post, 3 hours late with a 2-hour grace
    with caplog.at_level(logging.WARNING, logger="bot.jobs.scheduler"):
        asyncio.run(Scheduler(fb.engine, fb.program, clock, {"slack": slack}).tick())
    assert len(slack.posts) == 1
    assert [(row.period, row.status, row.late) for row in rows(fb, Post)] == [
        ("2021-04-01", "queued", True),
        ("2021-04-02", "skipped", True),
    ]
    assert "skipped daily_standings for team blue, period 2021-04-02" in caplog.text
    fb.close()


def test_level_ups_are_announced_once_and_never_for_opted_out_agents(app_url, tmp_path):
    program = (
        PROGRAM
        + "    announcements: [level_up]\n"
        + "points:\n  - {id: handled-day, metric: handled, zones: [[0, 0], [80, 150]]}\n"
    )
    fb = setup(app_url, tmp_path, program)
    with fb.engine.begin() as connection:
        connection.execute(update(Person).where(Person.display_name == "Bob").values(public_boards=False))
    when = datetime(2021, 4, 1, 14, 0, tzinfo=UTC)
    records = [
        KpiRecord(
            "pwc", f"{agent}-{index}", SubjectRef("agent", agent), when, facts={"answered": True, "talk": 180}
        )
        for agent in ("Ann", "Bob")
        for index in range(80)
    ]
    fb.ingest([records], source="pwc", origin="test", create_unknown=False)  # 150 points each: level 2
    slack = Recording()
    clock = FrozenClock(datetime(2021, 4, 1, 12, 30, tzinfo=UTC))  # 30 minutes after the points were written
    for _ in range(2):
        asyncio.run(Scheduler(fb.engine, fb.program, clock, {"slack": slack}).tick())
    texts = [render_segments(message.segments) for _, message in slack.posts]
    assert texts == ["@Ann reached level 2 (150 XP). Congratulations!"]
    fb.close()


@pytest.fixture
def app_url(sqlite_url):
    return sqlite_url


def test_kudos_digest_and_own_rank_dms_leave_opted_out_agents_out_of_public_posts(app_url, tmp_path):
    program = (
        "kudos: {values: [empathy]}\n"
        + PROGRAM.replace("grace_minutes: 120}", "grace_minutes: 120, dm_own_rank: true}")
        + '    kudos_digest: {at: "17:00", days: [thursday], period: day}\n'
        + "points:\n  - {id: handled-day, metric: handled, zones: [[0, 0], [10, 10]]}\n"
    )
    fb = setup(app_url, tmp_path, program)
    when = datetime(2021, 4, 1, 14, 0, tzinfo=UTC)
    counts = {"Ann": 10, "Bob": 8, "Cy": 6, "Di": 4}
    records = [
        KpiRecord(
            "pwc", f"{agent}-{i}", SubjectRef("agent", agent), when, facts={"answered": True, "talk": 99}
        )
        for agent, calls in counts.items()
        for i in range(calls)
    ]
    fb.ingest([records], source="pwc", origin="test", create_unknown=False)
    with fb.engine.begin() as connection:
        ids = dict(connection.execute(select(Person.display_name, Person.id)).all())
        connection.execute(update(Person).where(Person.id == ids["Ann"]).values(public_boards=False))
        for giver, receiver, tag in (("Bob", "Ann", None), ("Cy", "Bob", "empathy"), ("Di", "Bob", None)):
            gift = kudos.Gift(ids[giver], (ids[receiver],), "great save", tag, f"k-{giver}")
            kudos.give(
                connection, fb.program, gift, day=date(2021, 4, 1), now=when, program_version=fb.version
            )
    slack = Recording()
    asyncio.run(
        Scheduler(fb.engine, fb.program, FrozenClock(DUE + timedelta(seconds=5)), {"slack": slack}).tick()
    )
    public = [render_segments(message.segments) for _, message in slack.posts]
    assert all("Ann" not in text for text in public)
    standings, digest = public
    # Ann (10 pts) opted out: Bob, Cy, Di rank among themselves and half of three is one.
    assert standings.splitlines()[1].split() == ["1", "Bob", "18.00", "1"]  # 8 calls: 8 pts, 2 kudos: 10
    assert "Cy" not in standings and "Di" not in standings
    assert digest.splitlines()[1:] == ["Agent  Kudos  Values", "Bob        2  #empathy ×1"]
    # Everyone ranked hears their own rank privately, Ann included.
    assert sorted(person for person, _ in slack.dms) == sorted(ids[name] for name in counts)
    fb.close()


@pytest.mark.parametrize(
    ("zone", "transition"),
    [
        ("America/New_York", date(2021, 3, 14)),
        ("America/New_York", date(2021, 11, 7)),
        ("Europe/Berlin", date(2021, 3, 28)),
        ("Europe/Berlin", date(2021, 10, 31)),
    ],
)
def test_a_frozen_clock_ticking_through_a_dst_change_posts_each_day_once(app_url, tmp_path, zone, transition):
    program = (
        f"timezone: {zone}\nteams:\n  blue:\n    channels: [{{platform: slack, channel: C0BLUE}}]\n"
        '    daily_standings: {at: "02:30", days: [monday, tuesday, wednesday, thursday, friday, saturday, '
        "sunday]}\n"
    )
    fb = setup(app_url, tmp_path, program, zone)
    tz = ZoneInfo(zone)
    start = datetime.combine(transition - timedelta(days=1), time(12), tzinfo=tz).astimezone(UTC)
    clock = FrozenClock(start)
    slack = Recording()
    scheduler = Scheduler(fb.engine, fb.program, clock, {"slack": slack})
    while clock.now < start + timedelta(days=3):
        asyncio.run(scheduler.tick())
        clock.now += timedelta(minutes=10)
    days = [transition + timedelta(days=offset) for offset in range(3)]
    assert [message.title for _, message in slack.posts] == [
        f"Daily standings, team blue: Points, {day:%A %Y-%m-%d}" for day in days
    ]
    queued = [(row.period, row.due_at) for row in rows(fb, Post) if row.status == "queued"]
    local = [due_at.replace(tzinfo=UTC).astimezone(tz) for _, due_at in queued]
    assert [period for period, _ in queued] == [day.isoformat() for day in days]
    assert [moment.date() for moment in local] == days
    spring = transition.month == 3
    # 02:30 does not exist the night clocks spring forward: that day's post goes at 03:30, once.
    first = (3, 30) if spring else (2, 30)
    assert [(moment.hour, moment.minute) for moment in local] == [first, (2, 30), (2, 30)]
    fb.close()


def test_the_announcement_hook_posts_once_to_teams_that_take_the_topic(app_url, tmp_path):
    fb = setup(app_url, tmp_path, PROGRAM + "    announcements: [challenge]\n")
    with fb.engine.connect() as connection:
        blue = connection.scalar(select(Team.id).where(Team.key == "blue"))
        ann = connection.scalar(select(Person.id).where(Person.display_name == "Ann"))
    kickoff = Announcement(
        "challenge", "challenge_kickoff", "challenge-7", frozenset({blue}), (Text("CSAT week starts now"),)
    )
    badge = Announcement("badge", "badge", f"{ann}:five-star", frozenset({blue}), (Text("badge"),), None, ann)
    now = DUE - timedelta(hours=2)
    for _ in range(2):  # a retried transaction, a second replica: still once
        with fb.engine.begin() as connection:
            announce_now(connection, fb.program, kickoff, now)
            assert announce_now(connection, fb.program, badge, now) == 0  # blue takes no badge news
    slack = Recording()
    asyncio.run(Scheduler(fb.engine, fb.program, FrozenClock(now), {"slack": slack}).tick())
    assert [render_segments(message.segments) for _, message in slack.posts] == ["CSAT week starts now"]
    assert [(row.kind, row.period) for row in rows(fb, Post) if row.status == "queued"] == [
        ("challenge_kickoff", "challenge-7")
    ]
    fb.close()
