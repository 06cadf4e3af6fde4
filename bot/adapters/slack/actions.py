"""Buttons: an Action's command and arguments come back in the button's value and run through the
registry as the person who pressed it (e.g. a supervisor approving a link request)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import ACTION_PREFIX
from bot.adapters.slack.bridge import Bridge, Origin

log = logging.getLogger(__name__)


def register(app: AsyncApp, bridge: Bridge) -> None:
    async def pressed(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        try:
            await run_button(bridge, body, respond, client)
        except Exception:
            log.exception("a button failed after its ack")

    app.action(re.compile(f"^{ACTION_PREFIX}"))(pressed)


async def run_button(
    bridge: Bridge, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
) -> None:
    """The delivery identity is the trigger id of the press: a retried press changes nothing twice."""
    action = body["actions"][0]
    value = json.loads(action.get("value") or "{}")
    team = (body.get("team") or {}).get("id") or ""
    origin = Origin(team, body["user"]["id"], (body.get("channel") or {}).get("id"), respond)
    actor = await bridge.actor(client, origin, body["user"].get("name") or "")
    if actor is None:
        return
    args = {str(key): item for key, item in dict(value.get("args") or {}).items()}
    await bridge.run_args(
        client, origin, actor, str(value.get("command", "")), args, f"action:{body['trigger_id']}"
    )
