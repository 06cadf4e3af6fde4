"""The outbox on Discord, through the real client against our fake Discord: the dispatcher sends through
the Discord Notifier (and through the bridge `floorboard run` uses), an outbox retry after a lost answer
or a post that failed partway posts nothing twice, and a command's team post that fails is kept in the
outbox and delivered once by a later dispatch."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import discord
import pytest
from discord.gateway import DiscordWebSocket
from sqlalchemy import Engine, select, update

from bot.adapters.discord.runner import DiscordRunner
from bot.app import build
from bot.clock import Clock
from bot.handlers.commands import default_registry
from bot.handlers.contract import Destination, DestinationKind, Message, Table, Text
from bot.jobs.codec import encode_message
from bot.jobs.dispatcher import Dispatched, dispatch
from bot.services import outbox
from bot.settings import load_settings
from bot.store.models import OutboxMessage, Person, Team
from tests.conftest import fixed_clock, make_app
from tests.discord_support import ADA, JIM, big_floor_db, link
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_harness import GUILD, embed_text, running_client
from tests.integration.test_discord_client import notice
from tests.unit.test_handlers_world import ADMIN

CHANNEL = "1400000000000000007"
OTHER = "1400000000000000008"
TEAM_CHANNEL = "1400000000000000042"
MARTHA = ("1800000000000000001", "martha.discord")


@pytest.fixture
def floor_url(sqlite_url: str) -> str:
    return big_floor_db(sqlite_url)


def later(minutes: int) -> Clock:
    return lambda: fixed_clock() + timedelta(minutes=minutes)


def standings(rows: int) -> Message:
    """A post of `rows` ranked agents: more than one page from 16 rows on."""
    table = Table(("#", "Agent"), tuple((str(n), f"Agent {n:02d}") for n in range(1, rows + 1)))
    return Message(Destination(DestinationKind.TEAM_CHANNEL), (Text("Standings"), table), title="Daily")


def enqueue_post(engine: Engine, key: str, channel: str, message: Message) -> None:
    """As the scheduler queues a team post: `{platform, channel}` and `{op: post, message}`."""
    with engine.begin() as connection:
        outbox.enqueue(
            connection,
            dedupe_key=key,
            destination={"platform": "discord", "channel": channel},
            payload={"op": "post", "message": encode_message(message)},
            now=fixed_clock(),
        )


def ranks(messages: list[dict[str, Any]]) -> list[int]:
    """The ranks shown across the posted pages, in order."""
    rows = []
    for message in messages:
        block = message["embeds"][0]["description"].split("```")[1]
        rows += [int(line.split()[0]) for line in block.strip("\n").splitlines()[1:]]
    return rows


async def test_an_outbox_retry_posts_nothing_twice(floor_url):
    async with running_client(floor_url) as harness:
        engine, fake, notifier = harness.fb.engine, harness.fake, harness.client.notifier
        notifier.backoff_seconds, notifier.attempts = 0.01, 2
        enqueue_post(engine, "post:1:0", CHANNEL, standings(40))  # three pages
        enqueue_post(engine, "post:2:0", CHANNEL, notice("well done"))
        enqueue_post(engine, "post:3:0", OTHER, standings(40))
        # CHANNEL takes every post but the answers are lost (the connection breaks after each), until
        # the notifier gives up on both messages; on OTHER the first page goes out, the second fails.
        fake.fail(rf"POST /channels/{CHANNEL}/messages", "drop", "drop", "drop", "drop")
        fake.fail(rf"POST /channels/{OTHER}/messages", "ok", 503, 503)
        first = await dispatch(engine, {"discord": notifier}, fixed_clock)
        second = await dispatch(engine, {"discord": notifier}, later(1))
        with engine.connect() as connection:
            statuses = connection.execute(
                select(OutboxMessage.dedupe_key, OutboxMessage.status, OutboxMessage.attempts)
            ).all()
    assert first == Dispatched(retrying=3)
    assert second == Dispatched(sent=3)
    assert sorted(statuses) == [("post:1:0", "sent", 2), ("post:2:0", "sent", 2), ("post:3:0", "sent", 2)]
    posted, other = fake.messages[CHANNEL], fake.messages[OTHER]
    # One message per page of each outbox message, though each page was sent two to four times.
    boards = [message for message in posted if "Standings" in embed_text(message)]
    assert len(posted) == 4 and len(boards) == 3 and ranks(boards) == list(range(1, 41))
    assert ["well done" in embed_text(message) for message in posted] == [False, True, False, False]
    assert len(other) == 3 and ranks(other) == list(range(1, 41))
    calls = fake.calls_to("/channels/{channel_id}/messages", "POST")
    nonces = [call.body["nonce"] for call in calls if call.path == f"/channels/{CHANNEL}/messages"]
    assert len(nonces) == 2 + 2 + 3 + 1  # two tries each by the first dispatch, then all once more
    assert len(set(nonces)) == 4 and all(len(nonce) <= 25 for nonce in nonces)


async def test_floorboard_run_dispatches_through_the_client_on_its_own_thread(floor_url):
    """`floorboard run` gives the scheduler `DiscordRunner.notifier`: sends cross to the client's loop."""
    fake = await FakeDiscord((GUILD,)).start()
    saved = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    settings = load_settings(
        database_url=floor_url,
        discord_token="fake-token",
        discord_dev_guild_ids=[int(GUILD)],
        discord_api_base_url=fake.api_url,
        discord_gateway_url=fake.gateway_url,
    )
    fb = build(settings, clock=fixed_clock)
    runner = DiscordRunner(fb, default_registry())
    try:
        await asyncio.to_thread(runner.start)
        await fake.wait_for(lambda: bool(fake.identify), timeout=20)
        with fb.engine.begin() as connection:
            ada = connection.scalar(select(Person.id).where(Person.display_name == ADMIN))
            outbox.enqueue(
                connection,
                dedupe_key="post:7:1",
                destination={"platform": "discord", "person_id": ada},
                payload={"op": "dm", "message": encode_message(notice("your badge"))},
                now=fixed_clock(),
            )
        enqueue_post(fb.engine, "post:7:0", CHANNEL, notice("well done"))
        result = await dispatch(fb.engine, {"discord": runner.notifier}, fixed_clock)
    finally:
        await asyncio.to_thread(runner.stop)
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved
        fb.close()
        await fake.close()
    assert runner.error is None
    assert result == Dispatched(sent=2)
    [post] = fake.messages[CHANNEL]
    assert "well done" in embed_text(post) and post["nonce"] is not None
    [dm] = fake.dms(ADA[0])
    assert "your badge" in embed_text(dm)
    assert fake.invalid == []


async def test_a_team_post_that_fails_stays_in_the_outbox_and_goes_out_once_later(floor_url):
    app = make_app(floor_url)
    with app.engine.begin() as connection:
        connection.execute(update(Team).where(Team.key == "blue").values(channels={"discord": TEAM_CHANNEL}))
    link(app, "Martha Jones", MARTHA[0])
    app.close()
    async with running_client(floor_url) as harness:
        engine, fake, notifier = harness.fb.engine, harness.fake, harness.client.notifier
        notifier.backoff_seconds = 0.01
        fake.fail(rf"POST /channels/{TEAM_CHANNEL}/messages", 503, 503, 503, 503)
        exchange = await harness.command(
            "kudos",
            [
                {"name": "to", "type": 3, "value": f"<@{JIM[0]}>"},
                {"name": "reason", "type": 3, "value": "great save"},
            ],
            user=MARTHA,
        )
        with engine.connect() as connection:
            kept = connection.execute(
                select(
                    OutboxMessage.dedupe_key,
                    OutboxMessage.destination,
                    OutboxMessage.status,
                    OutboxMessage.attempts,
                    OutboxMessage.last_error,
                ).order_by(OutboxMessage.id)
            ).all()
        too_soon = await dispatch(engine, {"discord": notifier}, fixed_clock)
        retried = await dispatch(engine, {"discord": notifier}, later(1))
        again = await dispatch(engine, {"discord": notifier}, later(60))
        with engine.connect() as connection:
            final = (
                connection.execute(select(OutboxMessage.status).order_by(OutboxMessage.id)).scalars().all()
            )
    interaction_id = exchange.payload["id"]
    # The kudos is answered; its team post failed four times and waits in the outbox; Jim's DM went out.
    assert "Kudos sent to" in embed_text(exchange.original[0].body)
    post, dm = kept
    assert post.dedupe_key == f"discord:notice:{interaction_id}:1"
    assert post.destination == {"platform": "discord", "channel": TEAM_CHANNEL}
    assert (post.status, post.attempts) == ("pending", 1)
    assert post.last_error.startswith(f"DeliveryFailed: post to channel {TEAM_CHANNEL}: failed after 4")
    assert "503 Service Unavailable" in post.last_error
    assert (dm.dedupe_key, dm.status) == (f"discord:notice:{interaction_id}:2", "sent")
    assert too_soon == Dispatched()  # its backoff has not passed
    assert retried == Dispatched(sent=1) and again == Dispatched()
    assert final == ["sent", "sent"]
    [delivered] = fake.messages[TEAM_CHANNEL]
    assert "great save" in embed_text(delivered)
    tries = fake.calls_to("/channels/{channel_id}/messages", "POST")
    assert [c.status for c in tries if c.path == f"/channels/{TEAM_CHANNEL}/messages"] == [503] * 4 + [200]
