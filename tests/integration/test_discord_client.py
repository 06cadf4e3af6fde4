"""The Discord client end to end against our fake gateway and REST API: command sync, roles from Discord,
paging buttons that survive a restart, autocomplete, a stalled database, and the Notifier's retries."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import replace

import pytest
from sqlalchemy import event, select, update

from bot.adapters.discord import DeliveryFailed
from bot.adapters.discord.commands import UNDER_ROOT
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.handlers.contract import Command, Destination, DestinationKind, Message, Text, UserText
from bot.handlers.registry import Registry
from bot.services.leaderboard import metric_names
from bot.store.models import Person, Team
from tests.conftest import make_app
from tests.discord_support import ADA, JIM, big_floor_db, link
from tests.fakes.discord_api import APPLICATION_ID, FakeDiscord, command_data, interaction
from tests.fakes.discord_harness import (
    ADMIN_ROLE,
    EPHEMERAL,
    GUILD,
    console_blocks,
    console_says,
    embed_text,
    numbers,
    private_bodies,
    running_client,
)
from tests.unit.test_handlers_world import ADMIN, seed

MEMBERS = 1 << 1
PRESENCES = 1 << 8
MESSAGE_CONTENT = 1 << 15


def top_level_names() -> list[str]:
    """The registry's commands as Discord lists them: groups by their first word, /link under /floorboard."""
    return sorted({spec.name.partition(" ")[0] for spec in default_registry()} - UNDER_ROOT)


@pytest.fixture
def floor_url(sqlite_url: str) -> str:
    return big_floor_db(sqlite_url)


async def test_development_sync_registers_every_command_once_per_guild(floor_url):
    async with running_client(floor_url) as harness:
        fake = harness.fake
    [guild_put] = fake.calls_to("/applications/{application_id}/guilds/{guild_id}/commands", "PUT")
    [global_put] = fake.calls_to("/applications/{application_id}/commands", "PUT")
    assert guild_put.path == f"/applications/{APPLICATION_ID}/guilds/{GUILD}/commands"
    assert global_put.body == []  # nothing global, so no guild ever lists a command twice
    commands = {command["name"]: command for command in guild_put.body}
    assert sorted(commands) == top_level_names()
    # /floorboard is a group, as the catalogue writes it: its actions and /floorboard link.
    assert sorted(sub["name"] for sub in commands["floorboard"]["options"]) == [
        "help",
        "link",
        "optin",
        "optout",
    ]
    link_options = {o["name"]: o for o in commands["floorboard"]["options"]}["link"]["options"]
    assert [(o["name"], o["required"]) for o in link_options] == [("key", True), ("decision", False)]
    challenge = commands["challenge"]["options"]  # `challenge create` and the rest: subcommands (type 1)
    assert sorted(sub["name"] for sub in challenge) == ["cancel", "create", "end", "join", "list", "status"]
    assert {sub["type"] for sub in challenge} == {1}
    options = {option["name"]: option for option in commands["leaderboard"]["options"]}
    assert [choice["value"] for choice in options["metric"]["choices"]] == metric_names()
    assert [choice["value"] for choice in options["period"]["choices"]] == [
        "day",
        "week",
        "month",
        "quarter",
        "all",
    ]
    assert options["team"]["autocomplete"] is True and options["league"]["autocomplete"] is True
    assert not any(option.get("required") for option in options.values())
    kudos = commands["kudos"]["options"]
    assert [(o["name"], o["type"], o["required"]) for o in kudos] == [
        ("to", 3, True),
        ("reason", 3, True),
        ("private", 3, False),
    ]
    points = {option["name"]: option for option in commands["points"]["options"]}
    assert points["who"]["type"] == 6  # a user option: resolved from the interaction, no members intent
    assert all(len(command["description"]) <= 100 for command in guild_put.body)
    [identify] = fake.identify
    assert identify["intents"] & (MEMBERS | PRESENCES | MESSAGE_CONTENT) == 0


async def test_production_sync_is_one_global_list(floor_url):
    async with running_client(floor_url, discord_dev_guild_ids=[]) as harness:
        fake = harness.fake
    [global_put] = fake.calls_to("/applications/{application_id}/commands", "PUT")
    assert sorted(command["name"] for command in global_put.body) == top_level_names()
    assert fake.calls_to("/applications/{application_id}/guilds/{guild_id}/commands", "PUT") == []
    # A restart overwrites the same list (PUT), it never adds a second copy.
    async with running_client(floor_url, discord_dev_guild_ids=[]) as harness:
        again = harness.fake.calls_to("/applications/{application_id}/commands", "PUT")
    assert [call.body for call in again] == [global_put.body]


def board_rows(body: dict) -> list[str]:
    """The agents of a board page: the rows of the code block, without its header."""
    table = body["embeds"][0]["description"].split("```")[1]
    rows = [line.split() for line in table.strip("\n").splitlines()[1:]]
    return [f"{row[1]} {row[2]}" for row in rows]


async def test_long_full_board_pages_and_its_buttons_survive_a_restart(floor_url):
    full = [
        {"name": "metric", "type": 3, "value": "csat"},
        {"name": "period", "type": 3, "value": "day"},
        {"name": "full", "type": 3, "value": "full"},
    ]
    async with running_client(floor_url) as harness:
        refused = await harness.command("leaderboard", full, user=JIM)
        # The Discord admin role makes Jim an admin, who may see the full board.
        exchange = await harness.command("leaderboard", full, user=JIM, roles=(ADMIN_ROLE,))
        [board] = [c.body for c in exchange.followups if c.body.get("components")]
        [message] = [
            m for m in harness.fake.messages["webhook:" + exchange.payload["token"]] if m["components"]
        ]
        next_id = board["components"][0]["components"][0]["custom_id"]
        no_role = await harness.press(next_id, message, user=JIM)
        second = await harness.press(next_id, message, user=JIM, roles=(ADMIN_ROLE,))
    assert "full board" in refused.original[0].body["embeds"][0]["description"].lower()
    assert board["flags"] & EPHEMERAL
    assert board["embeds"][0]["footer"]["text"] == "Page 1 of 4"
    [next_button] = board["components"][0]["components"]
    assert next_button["custom_id"] == "fb:pg:1:2:leaderboard:csat,day,,,,full"
    page_one = board_rows(board)
    assert len(page_one) == 15
    # Without the admin role the button answers privately with the refusal and changes nothing.
    assert no_role.original == [] and no_role.followups[0].body["flags"] & EPHEMERAL
    assert "full board" in no_role.followups[0].body["embeds"][0]["description"]
    # Pressing "next": one acknowledgement (a deferred update), then the same message edited to page 2.
    assert [c.body for c in second.callbacks] == [{"type": 6}]
    [edit] = second.original
    assert edit.body["embeds"][0]["footer"]["text"] == "Page 2 of 4"
    page_two = board_rows(edit.body)
    labels = [button["label"] for button in edit.body["components"][0]["components"]]
    assert labels == ["◀ Previous", "Next ▶"] and len(page_two) == 15
    ids = [button["custom_id"] for button in edit.body["components"][0]["components"]]
    edited = {**message, "components": edit.body["components"], "embeds": edit.body["embeds"]}
    async with running_client(floor_url) as restarted:  # a new process: no view is in memory any more
        third = await restarted.press(ids[1], edited, user=JIM, roles=(ADMIN_ROLE,))
    page_three = board_rows(third.original[0].body)
    assert third.original[0].body["embeds"][0]["footer"]["text"] == "Page 3 of 4"
    shown = page_one + page_two + page_three
    assert len(shown) == len(set(shown)) == 45  # 15 a page, no one twice
    assert len(harness.fake.invalid) == 0


async def test_team_and_league_names_autocomplete(floor_url):
    async with running_client(floor_url) as harness:
        exchange = await harness.autocomplete(
            "leaderboard", [{"name": "team", "type": 3, "value": "bl", "focused": True}], user=JIM
        )
    [callback] = exchange.callbacks
    assert callback.body == {"type": 8, "data": {"choices": [{"name": "blue", "value": "blue"}]}}


async def test_autocomplete_answers_within_discords_3_seconds_while_the_database_stalls(floor_url):
    # an autocomplete answer cannot be deferred: past 2 s it comes from the values read before (none at
    # first), and the read that went on fills them for the next keystroke
    team = [{"name": "team", "type": 3, "value": "bl", "focused": True}]
    async with running_client(floor_url, test_db_delay_ms=2500) as harness:
        asked = time.monotonic()
        first = await harness.autocomplete("leaderboard", team, user=JIM)
        await asyncio.sleep(1.5)  # the read (one stalled statement, 2.5 s) finishes meanwhile
        asked_again = time.monotonic()
        second = await harness.autocomplete("leaderboard", team, user=JIM)
    [answer] = first.callbacks
    assert answer.body == {"type": 8, "data": {"choices": []}}
    assert answer.at - asked < 3
    [again] = second.callbacks
    assert again.body == {"type": 8, "data": {"choices": [{"name": "blue", "value": "blue"}]}}
    assert again.at - asked_again < 1


async def test_a_stalled_database_is_answered_by_a_defer_first(floor_url):
    async with running_client(floor_url, test_db_delay_ms=150) as harness:
        statements: list[float] = []
        event.listen(
            harness.fb.engine, "before_cursor_execute", lambda *_args: statements.append(time.monotonic())
        )
        exchange = await harness.command("me", [], user=JIM)
    [callback] = exchange.callbacks
    assert callback.body == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert statements and callback.at < min(statements)
    assert exchange.original and "Jim Park" in exchange.original[0].body["embeds"][0]["title"]


def notice(text: str) -> Message:
    return Message(
        Destination(DestinationKind.TEAM_CHANNEL), (Text("Reason: "), UserText(text)), title="Kudos"
    )


async def test_notifier_retries_with_one_nonce_and_posts_once(floor_url):
    channel = "1400000000000000007"
    async with running_client(floor_url) as harness:
        notifier = harness.client.notifier
        notifier.backoff_seconds = 0.01
        harness.fake.fail(rf"POST /channels/{channel}/messages", 503, "drop", 429)
        sent = await notifier.post(channel, notice("@everyone well done"))
        calls = harness.fake.calls_to("/channels/{channel_id}/messages", "POST")
        stored = harness.fake.messages[channel]
        records = list(harness.client.retry_log.records)
    assert [call.status for call in calls] == [503, 200, 429, 200]
    nonces = {call.body["nonce"] for call in calls}
    assert len(nonces) == 1 and all(call.body["enforce_nonce"] is True for call in calls)
    assert len(stored) == 1 and stored[0]["id"] == sent  # the dropped answer's message, not a second one
    assert "@\u200beveryone" in stored[0]["embeds"][0]["description"]
    assert [(r.attempt, r.reason) for r in records if r.what.startswith("post")] == [
        (1, "HTTP 503"),
        (2, "ServerDisconnectedError: Server disconnected"),
    ]
    assert any(r.reason == "HTTP 429" for r in records)  # discord.py's own retry, seen by the trace


async def test_notifier_gives_up_loudly(floor_url):
    async with running_client(floor_url) as harness:
        notifier = harness.client.notifier
        notifier.backoff_seconds = 0.01
        harness.fake.fail(r"POST /channels/1/messages", 503, 503, 503, 503)
        with pytest.raises(DeliveryFailed) as failed:
            await notifier.post("1", notice("hi"))
        harness.fake.fail(r"POST /channels/2/messages", 403)
        with pytest.raises(DeliveryFailed) as forbidden:
            await notifier.post("2", notice("hi"))
    assert failed.value.attempts == 4
    assert forbidden.value.attempts == 1


async def test_notifier_dm_and_upload(floor_url):
    async with running_client(floor_url) as harness:
        notifier = harness.client.notifier
        with harness.fb.engine.connect() as connection:
            ada = connection.scalar(select(Person.id).where(Person.display_name == ADMIN))
        await notifier.dm(int(ada), notice("thanks"))
        await notifier.upload("1400000000000000008", "board.csv", b"rank,agent\n1,Martha\n", "Board @here")
        with pytest.raises(DeliveryFailed):
            await notifier.dm(999_999, notice("nobody"))
        fake = harness.fake
    [opened] = fake.calls_to("/users/@me/channels")
    assert opened.body == {"recipient_id": ADA[0]}
    [upload] = [c for c in fake.calls if c.path == "/channels/1400000000000000008/messages"]
    assert upload.files == {"files[0]": b"rank,agent\n1,Martha\n"}
    assert upload.body["content"] == "Board @\u200bhere" and upload.body["allowed_mentions"]["parse"] == []
    assert upload.body["attachments"][0]["filename"] == "board.csv"


async def test_kudos_post_to_the_team_channel(floor_url):
    martha = ("1800000000000000001", "martha.discord")
    app = make_app(floor_url)
    with app.engine.begin() as connection:
        connection.execute(
            update(Team).where(Team.key == "blue").values(channels={"discord": "1400000000000000042"})
        )
    link(app, "Martha Jones", martha[0])
    app.close()
    async with running_client(floor_url) as harness:
        exchange = await harness.command(
            "kudos",
            [
                {"name": "to", "type": 3, "value": f"<@{JIM[0]}>"},
                {"name": "reason", "type": 3, "value": "great save"},
            ],
            user=martha,
        )
    [post] = [c for c in exchange.posts if c.path == "/channels/1400000000000000042/messages"]
    assert post.path == "/channels/1400000000000000042/messages"
    assert f"<@{JIM[0]}>" in post.body["embeds"][0]["description"]  # shown, never pinged
    assert post.body["allowed_mentions"]["parse"] == [] and len(post.body["nonce"]) <= 25


async def test_floorboard_run_starts_the_discord_client(floor_url):
    fake = await FakeDiscord((GUILD,)).start()
    env = {
        **os.environ,
        "FLOORBOARD_DATABASE_URL": floor_url,
        "FLOORBOARD_DISCORD_TOKEN": "fake-token",
        "FLOORBOARD_DISCORD_DEV_GUILD_IDS": f"[{GUILD}]",
        "FLOORBOARD_DISCORD_API_BASE_URL": fake.api_url,
        "FLOORBOARD_DISCORD_GATEWAY_URL": fake.gateway_url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "run",
        "--port",
        "0",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await fake.wait_for(lambda: bool(fake.identify), timeout=30)
        payload = interaction(
            2, command_data("help", [], None, GUILD), user_id=JIM[0], name=JIM[1], guild_id=GUILD
        )
        await asyncio.sleep(0.5)  # READY and GUILD_CREATE reach the client before the interaction
        await fake.dispatch("INTERACTION_CREATE", payload)
        await fake.wait_for(
            lambda: any(payload["token"] in c.path and c.method == "PATCH" for c in fake.calls)
        )
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
        await fake.close()
    text = output.decode()
    assert "Discord: connecting; commands sync to guilds 1200000000000000001 (development)." in text
    assert "Stopped." in text
    [edit] = [c for c in fake.calls if payload["token"] in c.path and c.method == "PATCH"]
    assert "/adjust" in edit.body["embeds"][0]["description"]  # the first page of the help
    assert fake.invalid == []
    assert "Task was destroyed" not in text and "Traceback" not in text


@pytest.mark.postgres
async def test_kudos_and_profile_on_postgresql(postgres_url):
    martha = ("1800000000000000001", "martha.discord")
    app = make_app(postgres_url)
    seed(app)
    link(app, "Martha Jones", martha[0])
    link(app, "Jim Park", JIM[0])
    app.close()
    options = [
        {"name": "to", "type": 3, "value": f"<@{JIM[0]}> @Cara"},
        {"name": "reason", "type": 3, "value": "@here thanks"},
    ]
    async with running_client(postgres_url) as harness:
        kudos = await harness.command("kudos", options, user=martha)
        profile = await harness.command("me", [], user=JIM)
        console = console_says(harness, "/me", "Jim Park")
    [confirmation] = kudos.original
    assert confirmation.body["embeds"][0]["description"].startswith(
        f"Kudos sent to <@{JIM[0]}> and **Cara Diaz**"
    )
    assert all("@here" not in str(body) for body in kudos.bodies)
    [answer] = private_bodies(profile)
    assert numbers(embed_text(answer)) == numbers(console_blocks(console, "[private to Jim Park]"))


async def test_a_failing_handler_still_answers_once_and_privately(floor_url, caplog):
    def boom(_command: Command, _ctx: HandlerContext) -> list[Message]:
        raise RuntimeError("disk on fire")

    broken = Registry()
    for spec in default_registry():
        broken.add(replace(spec, handler=boom) if spec.name == "help" else spec)
    async with running_client(floor_url) as harness:
        harness.client.adapter.registry = broken
        exchange = await harness.command("help", [], user=JIM)
    assert [c.body for c in exchange.callbacks] == [{"type": 5, "data": {"flags": EPHEMERAL}}]
    [answer] = exchange.original
    assert answer.body["content"].startswith("Something went wrong on my side")
    assert exchange.followups == [] and exchange.posts == []
    assert any("disk on fire" in (record.exc_text or "") for record in caplog.records)


def visible_in_guild(fake: FakeDiscord) -> list[str]:
    """What a member of the guild sees: the global commands and the guild's own, together."""
    return [c["name"] for c in fake.commands.get("global", []) + fake.commands.get(GUILD, [])]


async def test_switching_between_development_and_production_never_lists_a_command_twice(floor_url):
    names = top_level_names()
    fake = await FakeDiscord((GUILD,)).start()
    try:
        async with running_client(floor_url, fake=fake):
            pass
        development = sorted(visible_in_guild(fake))
        assert fake.commands["global"] == [] and sorted(c["name"] for c in fake.commands[GUILD]) == names
        start = len(fake.calls)
        # Production, with the development guild still configured: global, and that guild's list emptied.
        async with running_client(floor_url, fake=fake, discord_global_commands=True):
            pass
        production = sorted(visible_in_guild(fake))
        puts = [(c.path, len(c.body)) for c in fake.calls[start:] if c.method == "PUT"]
        async with running_client(floor_url, fake=fake):  # and back to development
            pass
        back = sorted(visible_in_guild(fake))
    finally:
        await fake.close()
    assert development == production == back == names  # each command once, whichever way it synced
    assert sorted(c["name"] for c in fake.commands[GUILD]) == names and fake.commands["global"] == []
    assert puts == [
        (f"/applications/{APPLICATION_ID}/commands", len(names)),
        (f"/applications/{APPLICATION_ID}/guilds/{GUILD}/commands", 0),
    ]
