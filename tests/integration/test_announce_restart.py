"""Level-up and badge announcements are driven from the database: after a restart, however long the bot was
down, what is new within two days is announced once and anything older is skipped and logged once."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.adapters.console import render_segments
from bot.feeds.records import KpiRecord, SubjectRef
from bot.jobs.scheduler import ANNOUNCE_WINDOW, Scheduler
from bot.messages import catalogue
from bot.store.models import AnnouncementMark, BadgeAward, Person, PointsEntry, Post
from tests.conftest import make_app
from tests.integration.test_scheduled_posts import PROGRAM, FrozenClock, Recording, rows, setup

ANNOUNCING = (
    PROGRAM
    + "    announcements: [level_up, badge]\n"
    + "metrics:\n  handled: {min_samples: 1}\n"
    + "points:\n  - {id: handled-day, metric: handled, zones: [[0, 0], [80, 150]]}\n"
    + "badges:\n"
    + "  - {id: busy-day, name: Busy day, kind: threshold, metric: handled, period: day, at_least: 50}\n"
)
WORKED = datetime(2021, 4, 1, 14, 0, tzinfo=UTC)
WRITTEN = datetime(2021, 4, 1, 12, 0, tzinfo=UTC)  # the app's clock stamps points and awards (conftest)
LAST_TICK = datetime(2021, 3, 28, 12, 0, tzinfo=UTC)  # the tick before the outage
RESTART = datetime(2021, 4, 1, 18, 0, tzinfo=UTC)  # six hours after the points were written
POSTS = "daily_standings"  # the scheduled posts of the program, missed while down: not this test's subject


def handled(agent: str, count: int) -> list[KpiRecord]:
    return [
        KpiRecord("pwc", f"{agent}-{n}", SubjectRef("agent", agent), WORKED, facts={"answered": True})
        for n in range(count)
    ]


def announcing_app(url, tmp_path):
    fb = setup(url, tmp_path, ANNOUNCING)
    asyncio.run(Scheduler(fb.engine, fb.program, FrozenClock(LAST_TICK), {"slack": Recording()}).tick())
    fb.ingest([handled("Ann", 80) + handled("Cy", 55)], source="pwc", origin="test", create_unknown=False)
    with fb.engine.connect() as connection:
        ids = dict(connection.execute(select(Person.display_name, Person.id)).all())
    return fb, ids


def test_news_from_a_long_outage_is_announced_once_after_a_restart_and_older_news_skipped(
    database_url, tmp_path, caplog
):
    fb, ids = announcing_app(database_url, tmp_path)
    # Cy's points and badge were written three days before the restart: too old to post by then.
    old = RESTART - ANNOUNCE_WINDOW - timedelta(days=1)
    with fb.engine.begin() as connection:
        connection.execute(update(BadgeAward).where(BadgeAward.person_id == ids["Cy"]).values(awarded_at=old))
        connection.execute(
            update(PointsEntry).where(PointsEntry.person_id == ids["Cy"]).values(created_at=old)
        )
        cy_award = connection.scalar(select(BadgeAward.id).where(BadgeAward.person_id == ids["Cy"]))
        ann_award = connection.scalar(select(BadgeAward.id).where(BadgeAward.person_id == ids["Ann"]))

    slack = Recording()
    replica = make_app(database_url, program_file=tmp_path / "program.yaml")
    clock = FrozenClock(RESTART)
    restarted = [Scheduler(app.engine, app.program, clock, {"slack": slack}) for app in (fb, replica)]
    with caplog.at_level(logging.WARNING, logger="bot.jobs.scheduler"):
        for _ in range(2):  # two replicas tick, twice
            for scheduler in restarted:
                asyncio.run(scheduler.tick())
            clock.now += timedelta(seconds=30)

    texts = sorted(render_segments(message.segments) for _, message in slack.posts)
    assert texts == [
        "@Ann earned the Busy day badge (2021-04-01). Well done!",
        "@Ann reached level 2 (150 XP). Congratulations!",
    ]
    announced = sorted((row.kind, row.period, row.status) for row in rows(fb, Post) if row.kind != POSTS)
    assert announced == sorted(
        [
            ("badge", str(ann_award), "queued"),
            ("badge", str(cy_award), "skipped"),
            ("level_up", f"{ids['Ann']}:2", "queued"),
            ("level_up", f"{ids['Cy']}:2", "skipped"),
        ]
    )
    logged = [record.getMessage() for record in caplog.records]
    skipped = [line for line in logged if line.startswith("skipped") and POSTS not in line]
    assert sorted(skipped) == [
        f"skipped badge {cy_award} for team blue: older than 2 days when the bot read it",
        f"skipped level_up {ids['Cy']}:2 for team blue: older than 2 days when the bot read it",
    ]
    with fb.engine.connect() as connection:
        marks = dict(connection.execute(select(AnnouncementMark.source, AnnouncementMark.seen_until)).all())
    assert {source: at.replace(tzinfo=UTC) if at.tzinfo is None else at for source, at in marks.items()} == {
        "level_ups": clock.now - timedelta(seconds=30),
        "badge_awards": clock.now - timedelta(seconds=30),
    }
    fb.close()
    replica.close()


def test_the_first_process_after_an_outage_shorter_than_the_lookback_still_announces(database_url, tmp_path):
    fb, _ = announcing_app(database_url, tmp_path)
    slack = Recording()
    # A tick right after the points, then a restart nine hours later that must not announce again.
    for moment in (WRITTEN + timedelta(seconds=30), WRITTEN + timedelta(hours=9)):
        asyncio.run(Scheduler(fb.engine, fb.program, FrozenClock(moment), {"slack": slack}).tick())
    announced = sorted(
        render_segments(message.segments) for _, message in slack.posts if message.title is None
    )
    assert announced == [
        "@Ann earned the Busy day badge (2021-04-01). Well done!",
        "@Ann reached level 2 (150 XP). Congratulations!",
        "@Cy earned the Busy day badge (2021-04-01). Well done!",
        "@Cy reached level 2 (103.13 XP). Congratulations!",
    ]
    fb.close()


def test_announcements_are_written_in_the_schedulers_language(database_url, tmp_path, monkeypatch):
    english = catalogue._entries
    pirate = {
        "posts.level_up": "{person} be level {level} now, with {xp} XP. Arr!",
        "posts.badge": "{person} plundered the {badge} badge ({day}). Arr!",
    }
    monkeypatch.setattr(
        catalogue, "_entries", lambda locale: pirate if locale == "pirate" else english(locale)
    )
    fb, _ = announcing_app(database_url, tmp_path)
    slack = Recording()
    asyncio.run(
        Scheduler(fb.engine, fb.program, FrozenClock(RESTART), {"slack": slack}, locale="pirate").tick()
    )
    assert sorted(render_segments(message.segments) for _, message in slack.posts) == [
        "@Ann be level 2 now, with 150 XP. Arr!",
        "@Ann plundered the Busy day badge (2021-04-01). Arr!",
        "@Cy be level 2 now, with 103.13 XP. Arr!",
        "@Cy plundered the Busy day badge (2021-04-01). Arr!",
    ]
    fb.close()
