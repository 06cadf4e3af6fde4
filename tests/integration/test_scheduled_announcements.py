"""Badge and challenge announcements from the scheduler's tick: once per award or challenge across repeated
ticks and replicas, to the team channel, never about opted-out agents."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.adapters.console import render_segments
from bot.feeds.records import KpiRecord, SubjectRef
from bot.handlers.contract import Message, Table
from bot.jobs.scheduler import Scheduler
from bot.services import challenges
from bot.services.challenges import ChallengeSpec, Creator
from bot.store.models import BadgeAward, Challenge, Person, PointsEntry, Post
from tests.conftest import make_app
from tests.integration.test_scheduled_posts import PROGRAM, FrozenClock, Recording, rows, setup

BADGES = """
metrics:
  handled: {min_samples: 1}
badges:
  - {id: busy-day, name: Busy day, kind: threshold, metric: handled, period: day, at_least: 50}
"""


def handled(agent: str, count: int, when: datetime) -> list[KpiRecord]:
    return [
        KpiRecord(
            "pwc", f"{agent}-{when:%m%d}-{index}", SubjectRef("agent", agent), when, facts={"answered": True}
        )
        for index in range(count)
    ]


def test_badge_awards_are_announced_once_across_ticks_and_replicas_never_for_opted_out(
    database_url, tmp_path
):
    fb = setup(database_url, tmp_path, PROGRAM + "    announcements: [badge]\n" + BADGES)
    replica = make_app(database_url, program_file=tmp_path / "program.yaml")
    with fb.engine.begin() as connection:
        connection.execute(update(Person).where(Person.display_name == "Bob").values(public_boards=False))
    when = datetime(2021, 4, 1, 14, 0, tzinfo=UTC)  # 10:00 in New York: business day 2021-04-01
    # Ann and Bob reach the 50 handled of the day badge; Cy handles 49 and does not.
    fb.ingest(
        [handled("Ann", 60, when) + handled("Bob", 55, when) + handled("Cy", 49, when)],
        source="pwc",
        origin="test",
        create_unknown=False,
    )
    awarded = {(row.person_id, row.badge) for row in rows(fb, BadgeAward)}
    with fb.engine.connect() as connection:
        ids = dict(connection.execute(select(Person.display_name, Person.id)).all())
    assert awarded == {(ids["Ann"], "busy-day"), (ids["Bob"], "busy-day")}

    slack = Recording()
    clock = FrozenClock(datetime(2021, 4, 1, 12, 1, tzinfo=UTC))  # the tick right after the award
    schedulers = [Scheduler(app.engine, app.program, clock, {"slack": slack}) for app in (fb, replica)]

    async def same_tick() -> None:
        await asyncio.gather(*(scheduler.tick() for scheduler in schedulers))

    for minutes in range(3):  # the same tick on two replicas, then later ticks that look back again
        clock.now = datetime(2021, 4, 1, 12, 1 + minutes, tzinfo=UTC)
        asyncio.run(same_tick())
    texts = [(channel, render_segments(message.segments)) for channel, message in slack.posts]
    assert texts == [("C0BLUE", "@Ann earned the Busy day badge (2021-04-01). Well done!")]
    ann_award = next(row.id for row in rows(fb, BadgeAward) if row.person_id == ids["Ann"])
    assert [row.period for row in rows(fb, Post) if row.kind == "badge"] == [str(ann_award)]
    fb.close()
    replica.close()


def test_a_team_without_the_badge_topic_gets_no_badge_post(sqlite_url, tmp_path):
    fb = setup(sqlite_url, tmp_path, PROGRAM + "    announcements: [level_up]\n" + BADGES)
    fb.ingest(
        [handled("Ann", 60, datetime(2021, 4, 1, 14, 0, tzinfo=UTC))],
        source="pwc",
        origin="test",
        create_unknown=False,
    )
    assert len(rows(fb, BadgeAward)) == 1
    slack = Recording()
    clock = FrozenClock(datetime(2021, 4, 1, 12, 0, tzinfo=UTC) + timedelta(seconds=30))
    asyncio.run(Scheduler(fb.engine, fb.program, clock, {"slack": slack}).tick())
    assert [render_segments(message.segments) for _, message in slack.posts] == []
    fb.close()


CHALLENGE_PROGRAM = (
    PROGRAM
    + "    announcements: [challenge]\n"
    + "metrics:\n  handled: {min_samples: 1}\n"
    + "leaderboard: {public_size: 5}\n"
)
# Handled contacts per agent and day in the window (Monday 2021-04-05 to Wednesday 2021-04-07).
HANDLED = {
    "Ann": {date(2021, 4, 5): 30, date(2021, 4, 6): 5},
    "Bob": {date(2021, 4, 5): 40},  # opted out of public boards
    "Cy": {date(2021, 4, 5): 12, date(2021, 4, 6): 10},
    "Di": {date(2021, 4, 5): 5},
}
TARGET = 20
NEW_YORK = ZoneInfo("America/New_York")


def local(day: int, hour: int, minute: int) -> datetime:
    return datetime(2021, 4, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def totals_through(last: date) -> dict[str, int]:
    return {agent: sum(n for day, n in days.items() if day <= last) for agent, days in HANDLED.items()}


def public_top(totals: dict[str, int], size: int = 5) -> list[tuple[int, str, int]]:
    """The public board rule computed here: opted-out agents out, the rest ranked, the top half at most."""
    shown = sorted(((value, agent) for agent, value in totals.items() if agent != "Bob"), reverse=True)
    return [
        (rank, agent, value) for rank, (value, agent) in enumerate(shown[: min(size, len(shown) // 2)], 1)
    ]


def test_challenge_kickoff_reminders_and_results_post_once_each_from_two_schedulers(database_url, tmp_path):
    fb = setup(database_url, tmp_path, CHALLENGE_PROGRAM)
    replica = make_app(database_url, program_file=tmp_path / "program.yaml")
    with fb.engine.begin() as connection:
        connection.execute(update(Person).where(Person.display_name == "Bob").values(public_boards=False))
        ids = dict(connection.execute(select(Person.display_name, Person.id)).all())
        challenges.create(
            connection,
            fb.program,
            ChallengeSpec(
                "Handled cup",
                "handled",
                date(2021, 4, 5),
                date(2021, 4, 7),
                TARGET,
                teams=("blue",),
                reward_points=10,
            ),
            by=Creator(ids["Ann"], "Ann", admin=True),
            now=local(2, 9, 0),
        )
    records = [
        record
        for agent, days in HANDLED.items()
        for day, count in days.items()
        for record in handled(agent, count, datetime(2021, 4, day.day, 14, 0, tzinfo=UTC))
    ]
    fb.ingest([records], source="pwc", origin="test", create_unknown=False)

    slack = Recording()
    clock = FrozenClock(local(4, 23, 0))
    schedulers = [Scheduler(app.engine, app.program, clock, {"slack": slack}) for app in (fb, replica)]

    async def same_tick() -> None:
        await asyncio.gather(*(scheduler.tick() for scheduler in schedulers))

    def challenge_posts() -> list[Message]:
        return [message for _, message in slack.posts if not (message.title or "").startswith("Daily")]

    seen: list[int] = []
    for moment in (
        local(4, 23, 0),  # Sunday: not started
        local(5, 0, 1),  # Monday, the first tick of the window: kickoff
        local(5, 17, 1),  # still the first day: no reminder
        local(6, 16, 59),  # Tuesday before the team's standings time (17:00): not yet
        local(6, 17, 1),  # reminder, standings through Monday
        local(6, 18, 0),
        local(7, 17, 1),  # reminder, standings through Tuesday
        local(8, 0, 1),  # the window is over: ended, results
        local(8, 0, 2),
    ):
        clock.now = moment
        asyncio.run(same_tick())
        seen.append(len(challenge_posts()))
    assert seen == [0, 1, 1, 1, 2, 2, 3, 4, 4]

    kickoff, monday, tuesday, results = challenge_posts()
    assert kickoff.title == "Challenge starts today: Handled cup"
    assert "2021-04-05 to 2021-04-07" in render_segments(kickoff.segments)
    for reminder, last in ((monday, date(2021, 4, 5)), (tuesday, date(2021, 4, 6))):
        assert reminder.title == f"Handled cup: standings through {last.isoformat()}"
        table = reminder.segments[0]
        assert isinstance(table, Table)
        assert [(int(row[0]), row[1], int(row[2])) for row in table.rows] == public_top(totals_through(last))
    assert public_top(totals_through(date(2021, 4, 6))) == [(1, "Ann", 35)]

    final = totals_through(date(2021, 4, 7))
    winners = sorted(agent for agent, value in final.items() if value >= TARGET)
    assert winners == ["Ann", "Bob", "Cy"]
    text = render_segments(results.segments)
    assert results.title == "Handled cup: final results (2021-04-05 to 2021-04-07)"
    assert text.startswith("Winners: Ann, Cy.")  # Bob won too, but opted out of public posts
    assert "Bob" not in text and "Di" not in text  # nor is the bottom posted
    ledger = sorted((row.kind, row.period) for row in rows(fb, Post) if row.kind.startswith("challenge"))
    challenge_id = rows(fb, Challenge)[0].id
    assert ledger == [
        ("challenge_kickoff", f"challenge-{challenge_id}"),
        ("challenge_reminder", f"challenge-{challenge_id}:2021-04-06"),
        ("challenge_reminder", f"challenge-{challenge_id}:2021-04-07"),
        ("challenge_results", f"challenge-{challenge_id}"),
    ]
    rewards = [(row.person_id, row.amount) for row in rows(fb, PointsEntry) if row.rule == "challenge"]
    assert sorted(rewards) == sorted((ids[agent], 1000) for agent in winners)  # 10 points, in hundredths
    assert [row.status for row in rows(fb, Challenge)] == ["ended"]
    fb.close()
    replica.close()


def test_a_challenge_whose_window_is_over_is_ended_even_where_no_team_takes_challenge_news(
    sqlite_url, tmp_path
):
    fb = setup(sqlite_url, tmp_path, PROGRAM + "metrics:\n  handled: {min_samples: 1}\n")
    with fb.engine.begin() as connection:
        ann = connection.scalar(select(Person.id).where(Person.display_name == "Ann"))
        challenges.create(
            connection,
            fb.program,
            ChallengeSpec("Quiet cup", "handled", date(2021, 4, 5), date(2021, 4, 6), 1, teams=("blue",)),
            by=Creator(ann, "Ann", admin=True),
            now=local(2, 9, 0),
        )
    slack = Recording()
    scheduler = Scheduler(fb.engine, fb.program, FrozenClock(local(6, 23, 59)), {"slack": slack})
    asyncio.run(scheduler.tick())
    assert [row.status for row in rows(fb, Challenge)] == ["open"]  # the last day is not over yet
    scheduler.clock = FrozenClock(local(7, 0, 1))
    asyncio.run(scheduler.tick())
    assert [row.status for row in rows(fb, Challenge)] == ["ended"]
    assert [row.kind for row in rows(fb, Post) if row.kind.startswith("challenge")] == []
    fb.close()


def test_a_kickoff_missed_while_the_bot_was_down_goes_out_late_once(sqlite_url, tmp_path):
    fb = setup(sqlite_url, tmp_path, CHALLENGE_PROGRAM)
    with fb.engine.begin() as connection:
        ann = connection.scalar(select(Person.id).where(Person.display_name == "Ann"))
        challenges.create(
            connection,
            fb.program,
            ChallengeSpec("Late cup", "handled", date(2021, 4, 5), date(2021, 4, 7), 1, teams=("blue",)),
            by=Creator(ann, "Ann", admin=True),
            now=local(2, 9, 0),
        )
    slack = Recording()
    clock = FrozenClock(local(6, 10, 0))  # down all Monday: the first tick is Tuesday morning
    scheduler = Scheduler(fb.engine, fb.program, clock, {"slack": slack})
    for moment in (local(6, 10, 0), local(6, 10, 1), local(6, 17, 1)):
        clock.now = moment
        asyncio.run(scheduler.tick())
    titles = [message.title for _, message in slack.posts if not (message.title or "").startswith("Daily")]
    assert titles == [
        "Challenge started: Late cup (late: the bot was down when this was due)",
        "Late cup: standings through 2021-04-05",
    ]
    fb.close()
