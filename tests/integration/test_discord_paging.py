"""Paged answers on Discord whose buttons cannot carry a rerun in their custom_id, through the real client
against our fake Discord: a writing command's answer (`/floorboard help`, the group is marked writing)
is kept and redrawn, never run again; a read-only board whose arguments pass Discord's 100 characters is
rerun from a kept key. Both keep working after a restart."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.handlers.contract import Command, Message
from bot.handlers.registry import Registry
from bot.store.models import KeptReply, OutboxMessage, Person, Team, TeamMembership
from tests.conftest import make_app
from tests.discord_support import JIM, MARTHA, big_floor_db, build_teams_db, copy_of, program_of
from tests.fakes.discord_harness import (
    ADMIN_ROLE,
    EPHEMERAL,
    Exchange,
    Harness,
    console_says,
    embed_text,
    running_client,
)
from tests.integration.test_discord_client import board_rows

HELP = [{"name": "help", "type": 1, "options": []}]


@pytest.fixture(scope="module")
def teams_db(tmp_path_factory) -> Path:
    return build_teams_db(tmp_path_factory.mktemp("discord-paging"))


@pytest.fixture
def url(teams_db: Path, tmp_path: Path) -> str:
    return copy_of(teams_db, tmp_path)


def counting(registry: Registry, name: str, runs: list[str]) -> Registry:
    """`registry` with command `name` noting each run in `runs`."""
    counted = Registry()
    for spec in registry:
        if spec.name == name:
            handler = spec.handler

            def noted(command: Command, ctx: HandlerContext, handler: Any = handler) -> list[Message]:
                runs.append(command.delivery_id)
                return handler(command, ctx)

            spec = replace(spec, handler=noted)
        counted.add(spec)
    return counted


def buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [button for row in body.get("components") or [] for button in row["components"]]


def sent_original(harness: Harness, exchange: Exchange) -> dict[str, Any]:
    """The deferred answer as Discord holds it, to press its buttons."""
    [message] = [
        m for m in harness.fake.messages["webhook:" + exchange.payload["token"]] if m.get("original")
    ]
    return {**message, "flags": EPHEMERAL}


def plain(text: str) -> list[str]:
    """Markdown escapes and the zero-width spaces that keep an @ from mentioning undone; the lines with
    text, as both adapters write them."""
    unescaped = re.sub(r"\\(.)", r"\1", text).replace("\u200b", "")
    return [line for line in unescaped.splitlines() if line.strip()]


def labelled(body: dict[str, Any], label: str) -> dict[str, Any] | None:
    return next((button for button in buttons(body) if button["label"] == label), None)


async def test_floorboard_help_pages_are_kept_and_never_run_the_command_again(url):
    runs: list[str] = []
    registry = counting(default_registry(), "floorboard", runs)
    async with running_client(url, **program_of(url)) as harness:
        harness.client.adapter.registry = registry
        asked = await harness.command("floorboard", HELP, user=MARTHA)
        message = sent_original(harness, asked)
        [first] = asked.original
        bodies, presses = [first.body], []
        while (following := labelled(bodies[-1], "Next ▶")) is not None:  # to the last page, one by one
            shown = {**message, "components": bodies[-1]["components"]}
            presses.append(await harness.press(following["custom_id"], shown, user=MARTHA))
            [edit] = presses[-1].original
            bodies.append(edit.body)
        console = console_says(harness, "/floorboard help", "Martha")
        with harness.fb.engine.connect() as connection:
            kept = connection.execute(select(KeptReply.platform)).scalars().all()
            queued = connection.execute(select(OutboxMessage.id)).scalars().all()
    previous = labelled(bodies[-1], "◀ Previous")
    assert previous is not None
    last_page = {**message, "components": bodies[-1]["components"]}
    async with running_client(url, **program_of(url)) as restarted:  # no view of the first process remains
        restarted.client.adapter.registry = registry
        back = await restarted.press(previous["custom_id"], last_page, user=MARTHA)
    pages = len(bodies)
    assert pages >= 2
    assert [body["embeds"][0]["footer"]["text"] for body in bodies] == [
        f"Page {number} of {pages}" for number in range(1, pages + 1)
    ]
    ids = [button["custom_id"] for body in bodies for button in buttons(body)]
    assert len({re.fullmatch(r"fb:ps:\d+:(\d+)", custom_id)[1] for custom_id in ids}) == 1  # one kept reply
    for press in presses:
        assert [c.body for c in press.callbacks] == [{"type": 6}]  # a deferred update of the same message
    assert back.original[0].body["embeds"][0] == bodies[-2]["embeds"][0]  # as first drawn
    assert runs == [asked.payload["id"]]  # the command ran once: the buttons redraw what it answered
    assert kept == ["discord"]  # one kept reply, and nothing for the outbox to send
    assert queued == []
    # The pages together are the console's help, line for line.
    title = first.body["embeds"][0]["title"]
    shown_lines = plain("\n".join(body["embeds"][0]["description"] for body in bodies))
    assert plain(console) == [f"[private to Martha] {title}", *shown_lines]


LONG_TEAM = "blue-" + "night-shift-" * 7  # 89 characters: the board's arguments pass 100 in a custom_id


@pytest.fixture
def long_team_url(sqlite_url: str) -> str:
    """The big floor's 40 agents in the blue team, whose key is too long for a paging custom_id."""
    app = make_app(big_floor_db(sqlite_url))
    with app.engine.begin() as connection:
        team = connection.scalar(
            update(Team).where(Team.key == "blue").values(key=LONG_TEAM).returning(Team.id)
        )
        agents = connection.scalars(select(Person.id).where(Person.display_name.like("Agent %"))).all()
        connection.execute(
            insert(TeamMembership),
            [{"person_id": agent, "team_id": team, "valid_from": date(2021, 1, 1)} for agent in agents],
        )
    app.close()
    return sqlite_url


async def test_a_board_whose_arguments_do_not_fit_a_custom_id_pages_from_a_kept_key(long_team_url):
    options = [
        {"name": "metric", "type": 3, "value": "csat"},
        {"name": "period", "type": 3, "value": "day"},
        {"name": "team", "type": 3, "value": LONG_TEAM},
        {"name": "full", "type": 3, "value": "full"},
    ]
    async with running_client(long_team_url) as harness:
        exchange = await harness.command("leaderboard", options, user=JIM, roles=(ADMIN_ROLE,))
        [board] = [c.body for c in exchange.followups if c.body.get("components")]
        [message] = [
            m for m in harness.fake.messages["webhook:" + exchange.payload["token"]] if m["components"]
        ]
    [following] = buttons(board)
    async with running_client(long_team_url) as restarted:
        no_role = await restarted.press(following["custom_id"], message, user=JIM)
        second = await restarted.press(following["custom_id"], message, user=JIM, roles=(ADMIN_ROLE,))
        again = await restarted.command("leaderboard", options, user=JIM, roles=(ADMIN_ROLE,))
    assert re.fullmatch(r"fb:ps:1:\d+", following["custom_id"])
    assert board["embeds"][0]["footer"]["text"] == "Page 1 of 3"
    [edit] = second.original
    assert edit.body["embeds"][0]["footer"]["text"] == "Page 2 of 3"
    shown = board_rows(board) + board_rows(edit.body)
    assert len(shown) == len(set(shown)) == 30  # 15 a page, no one twice
    # The kept key reruns the read-only board as the presser: without the admin role, the refusal.
    assert no_role.original == [] and "full board" in embed_text(no_role.followups[0].body)
    # The same board asked again reuses its key: one kept row per board, however often it is asked.
    [board_again] = [c.body for c in again.followups if c.body.get("components")]
    assert buttons(board_again)[0]["custom_id"] == following["custom_id"]
