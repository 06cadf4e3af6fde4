"""`floorboard run` as a user starts it: Slack in HTTP mode on the same web server, signed requests over
HTTP, replies to our recording server, the ack within 3 s while the database stalls 5 s per call, the
reply after a stall, and a delivery Slack replays minutes later applied once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, update

from bot.store.models import Delivery, Kudos
from tests.conftest import make_app
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import SECRET, SlackDriver, seed_roster, text_of

LISTENING = re.compile(r"listening on (http://\S+?) ")


@contextmanager
def floorboard_run(
    url: str, fake: FakeSlack, expect: str = "Slack connected (http mode)", **env: str
) -> Iterator[tuple[str, str]]:
    environment = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
        "FLOORBOARD_DATABASE_URL": url,
        "FLOORBOARD_SLACK_BOT_TOKEN": "xoxb-test-token",
        "FLOORBOARD_SLACK_SIGNING_SECRET": SECRET,
        "FLOORBOARD_SLACK_API_URL": fake.api_url,
        **env,
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "floorboard"), "run", "--port", "0"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "Slack connected" in line:
                break
            if not line and process.poll() is not None:
                break
        output = "".join(lines)
        found = LISTENING.search(output)
        assert found and expect in output, output
        yield found.group(1), output
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # worker threads still asleep in the stalled database
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def database(sqlite_url, fake):
    fb = make_app(sqlite_url)
    seed_roster(fb)
    fb.close()
    return sqlite_url


def test_floorboard_run_serves_slack_on_its_web_server(database, fake):
    with floorboard_run(database, fake) as (url, output):
        assert f"{url}/slack/events" in output
        driver = SlackDriver(url, fake)
        response, name = driver.command("/me", "", user="U1")
        assert response.status_code == 200
        [reply] = driver.replies(name)
        assert reply["response_type"] == "ephemeral"
        assert "Martha Jones" in text_of(reply)
        forged = driver.http.post(
            f"{url}/slack/events",
            content="command=%2Fme&user_id=U1",
            headers={"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"},
        )
        assert forged.status_code == 401
        driver.close()


def test_floorboard_run_acks_within_3_seconds_while_every_database_call_stalls_5(database, fake):
    with floorboard_run(database, fake, FLOORBOARD_TEST_DB_DELAY_MS="5000") as (url, _output):
        driver = SlackDriver(url, fake)
        for command, text in (("/leaderboard", ""), ("/kudos", "<@U9> thanks"), ("/floorboard", "help")):
            started = time.monotonic()
            response, _name = driver.command(command, text, user="U1")
            assert response.status_code == 200
            assert time.monotonic() - started < 3.0, command
        driver.close()


def test_floorboard_run_answers_through_a_stall_and_catches_a_replay_minutes_later(database, fake):
    """A shorter stall (0.3 s per database call) than the ack test's 5 s, so the reply comes in seconds."""
    trigger = "5150.5150.stalled"
    with floorboard_run(database, fake, FLOORBOARD_TEST_DB_DELAY_MS="300") as (url, _output):
        driver = SlackDriver(url, fake)
        started = time.monotonic()
        response, name = driver.command("/kudos", "<@U9> thanks for the cover", user="U1", trigger=trigger)
        assert response.status_code == 200
        assert time.monotonic() - started < 3.0
        [confirm] = [r for r in driver.replies(name, timeout=60) if r["response_type"] == "ephemeral"]
        assert "Kudos sent to <@U9>" in text_of(confirm)
        engine = create_engine(database)
        try:
            with engine.begin() as connection:  # Slack replays it five minutes later: the claim is that old
                aged = connection.execute(
                    update(Delivery)
                    .where(Delivery.platform == "slack", Delivery.key == trigger)
                    .values(created_at=Delivery.created_at - timedelta(minutes=5))
                ).rowcount
            assert aged == 1
            response, again = driver.command(
                "/kudos", "<@U9> thanks for the cover", user="U1", trigger=trigger, retry=3
            )
            assert response.status_code == 200
            [answer] = driver.replies(again, timeout=60)
            assert answer["response_type"] == "ephemeral"
            assert text_of(answer).startswith("Already done")
            with engine.connect() as connection:
                assert connection.scalar(select(func.count()).select_from(Kudos)) == 1
        finally:
            engine.dispose()
        driver.close()


def test_floorboard_run_with_an_app_token_connects_over_socket_mode(database, fake):
    socket = {"FLOORBOARD_SLACK_APP_TOKEN": "xapp-1-test", "FLOORBOARD_SLACK_SIGNING_SECRET": ""}
    with floorboard_run(database, fake, "Slack connected over Socket Mode", **socket):
        fake.wait_for(fake.connected)
        fake.send_envelope(
            {
                "envelope_id": "run-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "team_id": "T1",
                    "channel_id": "CFLOOR",
                    "user_id": "U1",
                    "command": "/floorboard",
                    "text": "me",
                    "response_url": fake.response_url("run"),
                    "trigger_id": "77.77.run",
                },
            }
        )
        fake.wait_for(lambda: [a for a in fake.acks if a.get("envelope_id") == "run-1"])
        [reply] = fake.wait_for(lambda: fake.of("respond"))
        assert reply.args["response_type"] == "ephemeral"
        assert "Martha Jones" in text_of(reply.args)
