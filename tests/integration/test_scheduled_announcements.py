"""Badge and challenge announcements from the scheduler's tick: once per award or challenge across repeated
ticks and replicas, to the team channel, never about opted-out agents."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.adapters.console import render_segments
from bot.feeds.records import KpiRecord, SubjectRef
from bot.jobs.scheduler import Scheduler
from bot.store.models import BadgeAward, Person, Post
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
