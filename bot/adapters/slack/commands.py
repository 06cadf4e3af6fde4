"""Slash commands: `/floorboard <sub>` and every short command, acknowledged at once, then worked."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.bridge import Bridge, Origin, route_command
from bot.adapters.slack.challenge_modal import COMMAND as CHALLENGE_CREATE
from bot.adapters.slack.challenge_modal import challenge_modal
from bot.adapters.slack.modals import kudos_modal

ANY_COMMAND = re.compile(r"^/.+")


def register(app: AsyncApp, bridge: Bridge) -> None:
    async def slash(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        await run_slash(bridge, body, respond, client)

    app.command(ANY_COMMAND)(slash)


async def run_slash(
    bridge: Bridge, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
) -> None:
    """After the ack: a modal first when it needs the trigger id (it expires in 3 s), then the command.

    The delivery identity is the trigger id, the same on an HTTP retry and a Socket Mode replay.
    """
    origin = Origin.of(body["team_id"], body["user_id"], body.get("channel_id"), respond)
    name, text = route_command(body["command"], body.get("text") or "", bridge.registry)
    try:
        if name == "kudos" and not text.strip():
            modal = kudos_modal(origin.channel, None, bridge.locale)
            await client.views_open(trigger_id=body["trigger_id"], view=modal)
            return
        if name == CHALLENGE_CREATE and not text.strip():
            modal = challenge_modal(bridge, origin.channel)
            await client.views_open(trigger_id=body["trigger_id"], view=modal)
            return
        await bridge.run_text(client, origin, name, text, body["trigger_id"], body.get("user_name") or "")
    except Exception:
        await bridge.failed(client, origin, f"/{name}")
