"""Every command through the real discord.py client, its gateway and REST served by our fake Discord, on
the PwC workbook: valid bodies, the console adapter's numbers, private answers ephemeral, no pings."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.store.models import Kudos
from tests.cli_support import cli
from tests.conftest import shared_file
from tests.fakes.discord_api import FakeDiscord, command_data, interaction
from tests.fakes.discord_harness import (
    EPHEMERAL,
    GUILD,
    SUPERVISOR_ROLE,
    Exchange,
    console_blocks,
    console_says,
    embed_text,
    numbers,
    private_bodies,
    public_bodies,
    running_client,
)
from tests.integration.test_real_data_pwc import XLSX, expected_from_workbook

MARTHA = ("1800000000000000001", "martha.discord")
JIM = ("1800000000000000002", "jim.discord")
BECKY = ("1800000000000000003", "becky.discord")
SAM = ("1800000000000000009", "sam.discord")
STRANGER = ("1800000000000000099", "stranger")
ROSTER = f"""name,role,supervises,keys
Martha,agent,,pwc:Martha;discord:{GUILD}/{MARTHA[0]}
Jim,agent,,pwc:Jim;discord:{GUILD}/{JIM[0]}
Becky,agent,,pwc:Becky;discord:{GUILD}/{BECKY[0]}
Sam Reed,supervisor,,discord:{GUILD}/{SAM[0]}
"""
JANUARY = date(2021, 1, 15)


@pytest.fixture(scope="module")
def pwc_db(tmp_path_factory) -> Path:
    """The workbook imported once, Discord accounts linked through the roster (discord:GUILD/USER keys)."""
    folder = tmp_path_factory.mktemp("pwc-discord")
    url = f"sqlite:///{folder / 'fb.db'}"
    cli(url, "db", "upgrade")
    cli(url, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx")
    roster = folder / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    cli(url, "roster", "import", str(roster))
    return folder / "fb.db"


@pytest.fixture
def pwc_url(pwc_db: Path, tmp_path: Path) -> str:
    copy = tmp_path / "fb.db"
    shutil.copy(pwc_db, copy)
    return f"sqlite:///{copy}"


def assert_deferred_ephemeral(exchange: Exchange) -> None:
    """Exactly one acknowledgement, first, and it is an ephemeral "thinking" defer."""
    assert len(exchange.callbacks) == 1
    assert exchange.calls[0] is exchange.callbacks[0]
    assert exchange.callbacks[0].body == {"type": 5, "data": {"flags": EPHEMERAL}}


def assert_no_pings(exchange: Exchange) -> None:
    for body in exchange.bodies:
        allowed = body["allowed_mentions"]
        assert allowed["parse"] == [] and not allowed.get("users") and not allowed.get("roles")
        assert not allowed.get("replied_user")


def assert_same_numbers(exchange: Exchange, console: str, as_name: str) -> None:
    private = "\n".join(embed_text(body) for body in private_bodies(exchange))
    public = "\n".join(embed_text(body) for body in public_bodies(exchange))
    assert numbers(private) == numbers(console_blocks(console, f"[private to {as_name}]")), (private, console)
    assert numbers(public) == numbers(console_blocks(console, "[#floor]"))


async def test_leaderboard_matches_the_workbook_and_the_console(pwc_url):
    expected = expected_from_workbook(shared_file(XLSX))[("csat", "month", "2021-01")]
    top = sorted(expected.items(), key=lambda item: -item[1][0])[:4]  # 8 agents: at most 8 // 2 public
    async with running_client(pwc_url) as harness:
        options = [
            {"name": "metric", "type": 3, "value": "csat"},
            {"name": "period", "type": 3, "value": "month"},
            {"name": "at", "type": 3, "value": JANUARY.isoformat()},
        ]
        exchange = await harness.command("leaderboard", options, user=MARTHA)
        console = console_says(harness, "/leaderboard csat month 2021-01-15", "Martha")
    assert_deferred_ephemeral(exchange)
    assert_no_pings(exchange)
    [public] = public_bodies(exchange)
    board = public["embeds"][0]["description"]
    rows = [line.split() for line in board.splitlines() if re.match(r"^\d+\s", line)]
    assert [(row[0], row[1]) for row in rows] == [(str(i), name) for i, (name, _) in enumerate(top, start=1)]
    for row, (_name, (value, samples)) in zip(rows, top, strict=True):
        assert row[2] == f"{value:.2f}" and row[3] == str(samples)
    [mine] = private_bodies(exchange)
    assert "1st of 8" in mine["embeds"][0]["description"]
    assert_same_numbers(exchange, console, "Martha")
    # The board's table is the console's, character for character, inside a code block.
    assert console_blocks(console, "[#floor]").split("\n")[0] in board


@pytest.mark.parametrize(
    ("command", "options", "line"),
    [
        ("me", [("period", "month"), ("at", "2021-01-15")], "/me month 2021-01-15"),
        ("points", [("at", "2021-01-15")], "/points 2021-01-15"),
        ("points", [("why", "why"), ("at", "2021-01-15")], "/points why 2021-01-15"),
    ],
)
async def test_private_answers_are_ephemeral_with_the_console_numbers(pwc_url, command, options, line):
    async with running_client(pwc_url) as harness:
        exchange = await harness.command(
            command, [{"name": name, "type": 3, "value": value} for name, value in options], user=MARTHA
        )
        console = console_says(harness, line, "Martha")
    assert_deferred_ephemeral(exchange)
    assert_no_pings(exchange)
    assert public_bodies(exchange) == []
    assert len(private_bodies(exchange)) >= 1
    assert_same_numbers(exchange, console, "Martha")


async def test_supervisor_sees_an_agents_points_by_user_option(pwc_url):
    async with running_client(pwc_url) as harness:
        exchange = await harness.command(
            "points",
            [
                {"name": "who", "type": 6, "value": MARTHA[0]},
                {"name": "at", "type": 3, "value": "2021-01-15"},
            ],
            user=SAM,
            users={MARTHA[0]: MARTHA[1]},
            roles=(SUPERVISOR_ROLE,),
        )
        refused = await harness.command(
            "points", [{"name": "who", "type": 6, "value": MARTHA[0]}], user=JIM, users={MARTHA[0]: MARTHA[1]}
        )
        console = console_says(harness, "/points @Martha 2021-01-15", "Sam Reed")
    # Sam supervises no team on the roster: the Discord supervisor role makes him one, the roster's
    # teams still decide whose points he may see, so both adapters give the same refusal.
    [answer] = private_bodies(exchange)
    assert numbers(embed_text(answer)) == numbers(console_blocks(console, "[private to Sam Reed]"))
    assert "Martha" in embed_text(answer)
    [no] = private_bodies(refused)
    assert "only see your own points" in embed_text(no)


async def test_kudos_cannot_ping_anyone(pwc_url):
    reason = "@everyone @here <@&1700000000000000001> <@1800000000000000003> **bold** great save"
    async with running_client(pwc_url) as harness:
        exchange = await harness.command(
            "kudos",
            [
                {"name": "to", "type": 3, "value": f"<@{JIM[0]}>"},
                {"name": "reason", "type": 3, "value": reason},
            ],
            user=MARTHA,
        )
        with harness.fb.engine.connect() as connection:
            given = connection.execute(select(Kudos.reason)).scalars().all()
    assert_deferred_ephemeral(exchange)
    assert_no_pings(exchange)
    assert given == [reason]
    texts = [embed_text(body) for body in exchange.bodies]
    assert any("great save" in text for text in texts)
    for text in texts:
        assert "@everyone" not in text and "@here" not in text
        assert "<@&" not in text and "<@1800000000000000003>" not in text
        assert "**bold**" not in text
    # The confirmation is private; the channel post and Jim's DM go out too.
    assert private_bodies(exchange) and public_bodies(exchange)
    dm_opened = [c for c in exchange.calls if c.template == "/users/@me/channels"]
    assert [c.body for c in dm_opened] == [{"recipient_id": JIM[0]}]
    assert len(exchange.posts) == 1 and "great save" in embed_text(exchange.posts[0].body)


async def test_kudos_replayed_delivery_counts_once(pwc_url):
    async with running_client(pwc_url) as harness:
        options = [
            {"name": "to", "type": 3, "value": f"<@{JIM[0]}>"},
            {"name": "reason", "type": 3, "value": "ty"},
        ]
        first = await harness.command("kudos", options, user=MARTHA)
        # Discord redelivers the same interaction (same id) after a gateway resume: acknowledging it
        # again would be refused (40060), so it is left alone.
        again = await harness.deliver(first.payload)
        with harness.fb.engine.connect() as connection:
            assert len(connection.execute(select(Kudos.id)).all()) == 1
    assert len(first.posts) == 1 and again.calls == []
    assert "Kudos sent to" in embed_text(private_bodies(first)[0])


async def test_two_replicas_receive_one_interaction_and_answer_it_once(pwc_url):
    """Two clients on one gateway (replicas without sharding) both get the interaction: the one whose
    acknowledgement Discord refuses (40060) does nothing, so the kudos is given and posted once."""
    fake = await FakeDiscord((GUILD,)).start()
    try:
        async with running_client(pwc_url, fake=fake) as one, running_client(pwc_url, fake=fake) as two:
            payload = interaction(
                2,
                command_data(
                    "kudos",
                    [
                        {"name": "to", "type": 3, "value": f"<@{JIM[0]}>"},
                        {"name": "reason", "type": 3, "value": "ty"},
                    ],
                    None,
                    GUILD,
                ),
                user_id=MARTHA[0],
                name=MARTHA[1],
                guild_id=GUILD,
            )
            done = [
                asyncio.ensure_future(
                    client.wait_for(
                        "app_command_completion", check=lambda i, _c: str(i.id) == payload["id"], timeout=20
                    )
                )
                for client in (one.client, two.client)
            ]
            await fake.dispatch("INTERACTION_CREATE", payload)
            await asyncio.gather(*done)
            refused = list(fake.invalid)
            fake.invalid.clear()  # the refusal this test expects; running_client asserts none other
            with one.fb.engine.connect() as connection:
                given = connection.execute(select(Kudos.reason)).scalars().all()
    finally:
        await fake.close()
    callbacks = [c for c in fake.calls if c.template.startswith("/interactions/")]
    assert [(c.status, c.code) for c in callbacks] == [(200, None), (400, 40060)]
    assert refused == callbacks[1:]
    assert given == ["ty"]
    edits = [c for c in fake.calls if c.template.endswith("/messages/@original")]
    assert len(edits) == 1 and "Kudos sent to" in embed_text(edits[0].body)
    dms = [c for c in fake.calls if c.template == "/channels/{channel_id}/messages"]
    assert len(dms) == 1  # Jim's notice, once


async def test_optout_and_unlinked_users(pwc_url):
    async with running_client(pwc_url) as harness:
        optout = await harness.command(
            "floorboard", [{"name": "optout", "type": 1, "options": []}], user=BECKY
        )
        stranger = await harness.command("me", [], user=STRANGER)
        helped = await harness.command("help", [], user=STRANGER)
    assert_deferred_ephemeral(optout)
    assert "no longer show you" in embed_text(private_bodies(optout)[0])
    assert "Discord account is not linked" in embed_text(private_bodies(stranger)[0])
    first_page = embed_text(private_bodies(helped)[0])
    assert "/adjust" in first_page and "Page 1 of " in first_page  # the long help is paged, not cut
    assert private_bodies(helped)[0]["components"][0]["components"][0]["label"] == "Next ▶"
