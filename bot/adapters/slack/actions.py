"""Buttons: an Action's command and arguments come back in the button's value and run through the
registry as the person who pressed it (e.g. a supervisor approving a link request)."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import ACTION_PREFIX
from bot.adapters.slack.bridge import Bridge, Origin


def register(app: AsyncApp, bridge: Bridge) -> None:
    async def pressed(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        origin = _origin(body, respond)
        try:
            await run_button(bridge, body, origin, client)
        except Exception:
            await bridge.failed(client, origin, "a button")

    app.action(re.compile(f"^{ACTION_PREFIX}"))(pressed)


async def run_button(bridge: Bridge, body: dict[str, Any], origin: Origin, client: AsyncWebClient) -> None:
    """The delivery identity is the trigger id of the press: a retried press changes nothing twice."""
    action = body["actions"][0]
    value = json.loads(action.get("value") or "{}")
    actor = await bridge.actor(client, origin, body["user"].get("name") or "")
    if actor is None:
        return
    args = {str(key): item for key, item in dict(value.get("args") or {}).items()}
    await bridge.run_args(
        client, origin, actor, str(value.get("command", "")), args, f"action:{body['trigger_id']}"
    )


def _origin(body: dict[str, Any], respond: AsyncRespond) -> Origin:
    """The presser, where the button was, and the press's own response_url (a Home tab button has none)."""
    team = (body.get("team") or {}).get("id") or ""
    channel = (body.get("channel") or {}).get("id")
    return Origin.of(team, body["user"]["id"], channel, respond if body.get("response_url") else None)
