"""The weekly recap through the scheduler and the outbox: its chart uploaded on Slack (the notifier against
the fake Slack Web API), inside the post on Discord; its figures as of the post's day, gaps left as gaps."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.adapters.discord.embeds import render_message
from bot.adapters.slack.app import create_slack
from bot.feeds.records import KpiRecord, SubjectRef
from bot.handlers.commands import default_registry
from bot.handlers.contract import Image
from bot.jobs.preview import preview, team_for_preview
from bot.jobs.scheduler import Scheduler
from bot.scoring.schedule import PostKind
from bot.services import workspaces
from bot.store.models import ImportBatch, OutboxMessage
from tests.conftest import make_app
from tests.integration.test_scheduled_posts import FrozenClock, Recording, rows, setup
from tests.slack_support import TEAM, slack_settings

RECAP = """
timezone: America/New_York
teams:
  blue:
    channels:
      - {platform: slack, channel: C0BLUE}
      - {platform: discord, channel: "1400000000000000007"}
    weekly_recap: {at: "17:00", days: [friday], metrics: [handled, csat], weeks: 4}
metrics:
  handled: {min_samples: 1}
  csat: {min_samples: 1}
points:
  - {id: handled-day, metric: handled, zones: [[0, 0], [10, 10]]}
"""
FRIDAY = date(2021, 4, 2)
POSTED = datetime(2021, 4, 2, 21, 0, 20, tzinfo=UTC)  # Friday 17:00:20 in New York
WEEKS = [date(2021, 3, 8), date(2021, 3, 15), date(2021, 3, 22), date(2021, 3, 29)]
# (agent, day): (contacts handled, the CSAT rating of each, if surveyed). Nobody worked the week of 03-15.
WORK = {
    ("Ann", date(2021, 3, 9)): (5, 4),
    ("Bob", date(2021, 3, 10)): (3, 2),
    ("Ann", date(2021, 3, 23)): (4, 5),
    ("Bob", date(2021, 3, 25)): (6, None),
    ("Cy", date(2021, 3, 26)): (2, 3),
    ("Cy", date(2021, 3, 27)): (10, None),  # a Saturday: last week's Monday-to-Friday leaves it out
    ("Ann", date(2021, 3, 31)): (8, 4),
    ("Bob", date(2021, 4, 1)): (7, None),
    ("Cy", date(2021, 4, 2)): (9, 5),  # Friday 10:00, before the post
}
SATURDAY_AFTER = ("Di", date(2021, 4, 3), 20)  # after the post: never in Friday's recap
HEADCOUNT = 4


def records(agent: str, day: date, count: int, rating: int | None) -> list[KpiRecord]:
    facts: dict = {"answered": True} | ({"rating": rating} if rating is not None else {})
    when = datetime(day.year, day.month, day.day, 14, 0, tzinfo=UTC)
    return [
        KpiRecord("pwc", f"{agent}-{day}-{n}", SubjectRef("agent", agent), when, facts=facts)
        for n in range(count)
    ]


def recap_app(url, tmp_path, **settings):
    setup(url, tmp_path, RECAP).close()
    fb = make_app(url, program_file=tmp_path / "program.yaml", **settings)
    worked = [r for (agent, day), (count, rating) in WORK.items() for r in records(agent, day, count, rating)]
    fb.ingest([worked], source="pwc", origin="test", create_unknown=False)
    agent, day, count = SATURDAY_AFTER
    fb.ingest([records(agent, day, count, None)], source="pwc", origin="test", create_unknown=False)
    with fb.engine.begin() as connection:  # the Saturday batch arrived on Saturday
        last = connection.scalar(select(ImportBatch.id).order_by(ImportBatch.id.desc()))
        saturday = datetime(2021, 4, 3, 15, 0, tzinfo=UTC)
        connection.execute(update(ImportBatch).where(ImportBatch.id == last).values(finished_at=saturday))
    return fb


def expected_series() -> dict[str, list[float | None]]:
    """Handled per agent and pooled CSAT per week, worked out from WORK (the last week through Friday)."""
    handled: list[float | None] = []
    csat: list[float | None] = []
    for start in WEEKS:
        days = {start + timedelta(days=n) for n in range(7)}
        week = [(count, rating) for (_, day), (count, rating) in WORK.items() if day in days]
        handled.append(sum(count for count, _ in week) / HEADCOUNT if week else None)
        rated = [(count, rating) for count, rating in week if rating is not None]
        surveys = sum(count for count, _ in rated)
        csat.append(sum(count * rating for count, rating in rated) / surveys if surveys else None)
    return {"handled": handled, "csat": csat}


def test_a_recap_through_the_outbox_uploads_its_png_on_slack_and_embeds_it_in_the_discord_post(
    database_url, tmp_path
):
    fb = recap_app(database_url, tmp_path)
    slack, discord = Recording(), Recording()
    asyncio.run(
        Scheduler(fb.engine, fb.program, FrozenClock(POSTED), {"slack": slack, "discord": discord}).tick()
    )
    title = "Weekly recap, team blue, week 2021-03-29 to 2021-04-04"
    [(channel, post)] = slack.posts
    assert (channel, post.title) == ("C0BLUE", title)
    [(channel, filename, png, chart_title)] = slack.uploads
    assert (channel, filename) == ("C0BLUE", "recap-blue-2021-03-29.png")
    assert chart_title == "Team blue trend, week 2021-03-29 to 2021-04-04"
    assert png[:8] == b"\x89PNG\r\n\x1a\n"

    # Discord: the chart is an image of the recap message itself, not a message of its own.
    [(channel, embedded)] = discord.posts
    assert (channel, embedded.title, discord.uploads) == ("1400000000000000007", title, [])
    [image] = [segment for segment in embedded.segments if isinstance(segment, Image)]
    assert (image.filename, image.data) == ("recap.png", png)
    [page] = render_message(embedded, {}).pages
    assert page.embed.image.url == "attachment://recap.png"
    assert [file.filename for file in page.files()] == ["recap.png"]

    assert [
        (row.destination["platform"], row.payload["op"], row.status) for row in rows(fb, OutboxMessage)
    ] == [
        ("slack", "post", "sent"),
        ("slack", "upload", "sent"),
        ("discord", "post", "sent"),
    ]
    fb.close()


async def test_the_recap_chart_reaches_the_fake_slack_as_a_file_in_the_teams_channel(
    sqlite_url, tmp_path, fake
):
    fb = recap_app(sqlite_url, tmp_path, **slack_settings(fake))
    try:
        with fb.engine.begin() as connection:
            workspaces.bind(connection, "slack", TEAM, fb.clock())
        notifier = create_slack(fb, fb.settings, default_registry()).notifier
        discord = Recording()
        scheduler = Scheduler(
            fb.engine, fb.program, FrozenClock(POSTED), {"slack": notifier, "discord": discord}
        )
        await scheduler.tick()
        [png] = fake.uploads.values()
        [(_, image)] = [
            (segment.filename, segment.data)
            for _, message in discord.posts
            for segment in message.segments
            if isinstance(segment, Image)
        ]
        assert png == image and png[:8] == b"\x89PNG\r\n\x1a\n"
        [complete] = fake.of("files.completeUploadExternal")
        assert complete.args["channel_id"] == "C0BLUE"
        assert "Team blue trend, week 2021-03-29 to 2021-04-04" in str(complete.args["files"])
        [asked] = fake.of("files.getUploadURLExternal")
        assert asked.args["filename"] == "recap-blue-2021-03-29.png"
        [post] = fake.of("chat.postMessage")
        assert post.args["channel"] == "C0BLUE"
    finally:
        fb.close()


def test_the_recap_counts_its_week_up_to_its_day_and_leaves_weeks_without_data_as_gaps(
    database_url, tmp_path
):
    fb = recap_app(database_url, tmp_path)
    with fb.engine.connect() as connection:
        content = preview(
            connection,
            fb.program,
            team_for_preview(connection, fb.program, "blue"),
            PostKind.WEEKLY_RECAP,
            FRIDAY,
        )
    assert content is not None
    data = content.data
    series = {line["metric"]: line for line in data["chart"]["series"]}
    expected = expected_series()
    assert expected["handled"] == [2.0, None, 5.5, 6.0]  # Di's 20 on Saturday are not in Friday's recap
    assert expected["csat"][1] is None
    for metric in ("handled", "csat"):
        assert series[metric]["weeks"] == [week.isoformat() for week in WEEKS]
        assert series[metric]["values"] == pytest.approx(expected[metric])
    figures = {figure["metric"]: figure for figure in data["figures"]}
    assert figures["handled"]["value"] == pytest.approx(6.0)
    assert figures["csat"]["samples"] == 17
    assert data["week"] == {"start": "2021-03-29", "end": "2021-04-04", "through": "2021-04-02"}
    # Top movers compare Monday to Friday with last week's Monday to Friday: Cy's 2 then (his 10 came on
    # Saturday), 9 now. Three ranked: the visibility rule posts one.
    assert data["movers"] == [{"agent": "Cy", "last_week": 2.0, "this_week": 9.0, "change": 7.0}]
    assert [(entry["agent"], entry["value"]) for entry in data["top"]] == [("Cy", 9.0)]
    # Fresh as of the data it shows, with its zone: Saturday's import brought only a later day.
    assert data["data_as_of"] == "2021-04-01T12:00:00+00:00"
    assert data["as_of"] == "2021-04-02T21:00:00+00:00"
    fb.close()


def test_a_preview_of_a_past_day_names_the_arrival_of_the_data_it_shows(database_url, tmp_path):
    fb = recap_app(database_url, tmp_path)
    with fb.engine.connect() as connection:
        team = team_for_preview(connection, fb.program, "blue")
        friday = preview(connection, fb.program, team, PostKind.DAILY_STANDINGS, FRIDAY)
        wednesday = preview(connection, fb.program, team, PostKind.DAILY_STANDINGS, date(2021, 3, 31))
    assert friday is not None and wednesday is not None
    assert friday.data["data_as_of"] == "2021-04-01T12:00:00+00:00"  # not Saturday's import
    # Ann's Wednesday contacts, which the post ranks, came with Thursday's import: the post names it.
    assert wednesday.data["data_as_of"] == "2021-04-01T12:00:00+00:00"
    assert [(entry["agent"], entry["value"]) for entry in wednesday.data["top"]] == []  # Ann alone ranks
    assert wednesday.data["ranked"] == 1
    fb.close()
