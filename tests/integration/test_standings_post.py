"""The daily standings' "most improved" line and its "as of" and data-freshness fields, from hand-made data
whose figures the test works out itself."""

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from bot.adapters.console import render_segments
from bot.feeds.records import KpiRecord, SubjectRef
from bot.handlers.contract import Text
from bot.jobs.preview import preview, team_for_preview
from bot.jobs.scheduler import Scheduler, build_content, plan
from bot.scoring.schedule import PostKind
from bot.store.models import Person
from bot.web.app import create_web_app
from tests.cli_support import cli
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
    assert text.rstrip().endswith("As of 2021-04-01 17:00 EDT; latest data received 2021-04-01 08:00 EDT.")

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
    assert text.rstrip().endswith("As of 2021-04-01 17:00 EDT; no data received yet.")
    assert "Most improved" not in text
    fb.close()


def test_freshness_names_the_latest_webhook_delivery_of_the_teams_data_up_to_the_posts_day(
    database_url, tmp_path
):
    """Data that came by the webhook counts; another team's data and a later day's data do not."""
    fb = setup(database_url, tmp_path, STANDINGS)
    green = tmp_path / "green.csv"
    green.write_text("name,team,team_from,keys\nGus,green,2021-01-01,pwc:Gus\n", encoding="utf-8")
    cli(database_url, "roster", "import", str(green))
    clock = FrozenClock(datetime(2021, 4, 1, 15, 0, tzinfo=UTC))
    token = "pwc-token-0123456789abcdef"
    settings = fb.settings.model_copy(update={"api_tokens": {token: "pwc"}})
    web = dataclasses.replace(fb, settings=settings, clock=clock)

    def deliver(agent: str, day: date, at: datetime) -> None:
        clock.now = at
        item = {
            "source": "pwc",
            "external_id": f"{agent}-{day}-{at:%H%M}",
            "subject": {"kind": "agent", "key": agent},
            "occurred_at": f"{day}T14:00:00Z",
            "facts": {"answered": True},
        }
        with TestClient(create_web_app(web)) as client:
            response = client.post(
                "/api/v1/events", json={"records": [item]}, headers={"Authorization": f"Bearer {token}"}
            )
        assert response.status_code == 202, response.text
        assert [i["status"] for i in response.json()["items"]] == ["accepted"]

    deliver("Ann", TUESDAY, datetime(2021, 3, 30, 18, 0, tzinfo=UTC))
    deliver("Cy", THURSDAY, datetime(2021, 4, 1, 19, 30, tzinfo=UTC))  # after Thursday's 17:00 EDT post
    deliver("Gus", THURSDAY, datetime(2021, 4, 1, 20, 0, tzinfo=UTC))  # another team's
    deliver("Ann", date(2021, 4, 2), datetime(2021, 4, 2, 18, 0, tzinfo=UTC))  # a later day's

    def post(day: date) -> dict[str, Any]:
        with fb.engine.connect() as connection:
            team = team_for_preview(connection, fb.program, "blue")
            content = preview(connection, fb.program, team, PostKind.DAILY_STANDINGS, day)
        assert content is not None
        assert content.public is not None
        lines = [s.text.strip() for s in content.public.segments if isinstance(s, Text)]
        return content.data | {"freshness": lines[-1]}

    thursday = post(THURSDAY)
    assert thursday["figures"][0]["samples"] == 1  # Cy's one contact is in the figures...
    assert datetime.fromisoformat(thursday["data_as_of"]) == datetime(2021, 4, 1, 19, 30, tzinfo=UTC)
    assert thursday["freshness"] == "As of 2021-04-01 17:00 EDT; latest data received 2021-04-01 15:30 EDT."
    tuesday = post(TUESDAY)
    assert datetime.fromisoformat(tuesday["data_as_of"]) == datetime(2021, 3, 30, 18, 0, tzinfo=UTC)
    assert tuesday["freshness"] == "As of 2021-03-30 17:00 EDT; latest data received 2021-03-30 14:00 EDT."
    with fb.engine.connect() as connection:
        team = team_for_preview(connection, fb.program, "blue")
        monday = preview(connection, fb.program, team, PostKind.DAILY_STANDINGS, date(2021, 3, 29))
    assert monday is not None and monday.data["data_as_of"] is None
    fb.close()
