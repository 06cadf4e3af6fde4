"""The daily standings' "most improved" line and its "as of" and data-freshness fields, from hand-made data
whose figures the test works out itself."""

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from bot.adapters.console import render_segments
from bot.feeds.records import KpiRecord, SubjectRef
from bot.handlers.contract import Text
from bot.jobs.scheduler import Scheduler, build_content, plan
from bot.scoring.schedule import PostKind
from bot.store.models import Person
from tests.integration.test_scheduled_posts import DUE, PROGRAM, FrozenClock, Recording, setup

STANDINGS = PROGRAM.replace("grace_minutes: 120}", "grace_minutes: 120, metric: handled}") + (
    "metrics:\n  handled: {min_samples: 1}\n"
)
TUESDAY, THURSDAY = date(2021, 3, 30), date(2021, 4, 1)  # no one worked on Wednesday
HANDLED = {
    "Ann": {TUESDAY: 10, THURSDAY: 16},
    "Bob": {TUESDAY: 20, THURSDAY: 30},  # the biggest gain, but Bob opted out of public boards
    "Cy": {TUESDAY: 5, THURSDAY: 9},
    "Di": {TUESDAY: 8, THURSDAY: 3},
}
IMPORTED = datetime(2021, 4, 1, 12, 0, tzinfo=UTC)  # the app's clock (tests/conftest.py) stamps the import


def records() -> list[KpiRecord]:
    return [
        KpiRecord("pwc", f"{agent}-{day}-{n}", SubjectRef("agent", agent), when, facts={"answered": True})
        for agent, days in HANDLED.items()
        for day, count in days.items()
        for n in range(count)
        for when in [datetime(day.year, day.month, day.day, 14, 0, tzinfo=UTC)]
    ]


def standings_app(tmp_path, url):
    fb = setup(url, tmp_path, STANDINGS)
    with fb.engine.begin() as connection:
        connection.execute(update(Person).where(Person.display_name == "Bob").values(public_boards=False))
    fb.ingest([records()], source="pwc", origin="test", create_unknown=False)
    return fb


def test_most_improved_is_the_public_agent_with_the_largest_gain_over_the_last_day_with_data(
    database_url, tmp_path
):
    fb = standings_app(tmp_path, database_url)
    gains = {
        agent: days[THURSDAY] - days[TUESDAY]
        for agent, days in HANDLED.items()
        if agent != "Bob" and TUESDAY in days
    }
    best = max(gains, key=gains.__getitem__)
    assert (best, gains[best]) == ("Ann", 6)
    slack = Recording()
    asyncio.run(
        Scheduler(fb.engine, fb.program, FrozenClock(DUE + timedelta(seconds=20)), {"slack": slack}).tick()
    )
    [(_, message)] = slack.posts
    lines = [segment.text.strip() for segment in message.segments if isinstance(segment, Text)]
    was, now = HANDLED[best][TUESDAY], HANDLED[best][THURSDAY]
    assert f"Most improved: {best}, Handled {now} (was {was} on Tuesday)." in lines
    assert "Bob" not in render_segments(message.segments)
    fb.close()


def test_as_of_is_the_posting_time_and_freshness_the_last_import_in_the_teams_zone(database_url, tmp_path):
    fb = standings_app(tmp_path, database_url)
    posted_at = DUE + timedelta(seconds=20)  # Thursday 17:00:20 in New York (EDT, UTC-4)
    slack = Recording()
    asyncio.run(Scheduler(fb.engine, fb.program, FrozenClock(posted_at), {"slack": slack}).tick())
    [(_, message)] = slack.posts
    text = render_segments(message.segments)
    assert text.rstrip().endswith("As of 2021-04-01 17:00 EDT; latest data import 2021-04-01 08:00 EDT.")

    with fb.engine.connect() as connection:
        [team] = plan(connection, fb.program)
        content = build_content(connection, fb.program, team, PostKind.DAILY_STANDINGS, THURSDAY, posted_at)
    assert content is not None
    assert datetime.fromisoformat(content.data["as_of"]) == posted_at
    data_as_of = datetime.fromisoformat(content.data["data_as_of"])
    assert data_as_of.replace(tzinfo=data_as_of.tzinfo or UTC) == IMPORTED
    assert content.data["most_improved"] == {"agent": "Ann", "before": 10, "now": 16, "since": "2021-03-30"}
    fb.close()


def test_standings_before_any_import_say_there_is_no_data_yet(sqlite_url, tmp_path):
    fb = setup(sqlite_url, tmp_path, STANDINGS)
    slack = Recording()
    asyncio.run(Scheduler(fb.engine, fb.program, FrozenClock(DUE), {"slack": slack}).tick())
    [(_, message)] = slack.posts
    text = render_segments(message.segments)
    assert text.rstrip().endswith("As of 2021-04-01 17:00 EDT; no data imported yet.")
    assert "Most improved" not in text
    fb.close()
