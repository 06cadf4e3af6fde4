"""The "Give kudos" modal: opened by the message shortcut (prefilled with the author) or a bare /kudos;
its submission gives kudos through the registry, keyed by the view id against replays."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject, UserMultiSelectElement
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.bridge import Bridge, Origin
from bot.handlers.replies import private
from bot.messages import render
from bot.services.kudos import MAX_REASON

SHORTCUT = "give_kudos"
CALLBACK = "fb_kudos"


def kudos_modal(channel: str | None, author: str | None, locale: str) -> dict[str, Any]:
    receivers = UserMultiSelectElement(
        action_id="users",
        placeholder=PlainTextObject(text=render("slack.kudos_modal.to_placeholder", locale)),
        initial_users=[author] if author else None,
    )
    reason = PlainTextInputElement(action_id="text", multiline=True, max_length=MAX_REASON)
    view = View(
        type="modal",
        callback_id=CALLBACK,
        title=PlainTextObject(text=render("slack.kudos_modal.title", locale)),
        submit=PlainTextObject(text=render("slack.kudos_modal.submit", locale)),
        close=PlainTextObject(text=render("slack.kudos_modal.close", locale)),
        private_metadata=json.dumps({"channel": channel}),
        blocks=[
            InputBlock(
                block_id="to",
                label=PlainTextObject(text=render("slack.kudos_modal.to", locale)),
                element=receivers,
            ),
            InputBlock(
                block_id="reason",
                label=PlainTextObject(text=render("slack.kudos_modal.reason", locale)),
                element=reason,
            ),
        ],
    )
    return view.to_dict()


def register(app: AsyncApp, bridge: Bridge) -> None:
    async def shortcut(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        author = (body.get("message") or {}).get("user")
        channel = (body.get("channel") or {}).get("id")
        try:
            await client.views_open(
                trigger_id=body["trigger_id"], view=kudos_modal(channel, author, bridge.locale)
            )
        except Exception:
            await bridge.failed(
                client, Origin(_team(body), body["user"]["id"], channel), "the kudos shortcut"
            )

    async def submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        origin = submitter(body)
        try:
            await give(bridge, body, origin, client)
        except Exception:
            await bridge.failed(client, origin, "the kudos modal")

    app.shortcut(SHORTCUT)(shortcut)
    app.view(CALLBACK)(submitted)


def submitter(body: dict[str, Any]) -> Origin:
    """Who submitted a modal, and the channel it was opened from (kept in its private_metadata)."""
    view = body["view"]
    channel = json.loads(view.get("private_metadata") or "{}").get("channel")
    return Origin(_team(body) or view.get("team_id") or "", body["user"]["id"], channel)


def _team(body: dict[str, Any]) -> str:
    return str((body.get("team") or {}).get("id") or "")


async def give(bridge: Bridge, body: dict[str, Any], origin: Origin, client: AsyncWebClient) -> None:
    """Kudos to the picked users; a bot or a user who is no one on the roster is refused, nothing written."""
    view = body["view"]
    actor = await bridge.actor(client, origin, body["user"].get("name") or "")
    if actor is None:
        return
    values = view["state"]["values"]
    users = list(values["to"]["users"].get("selected_users") or [])
    reason = values["reason"]["text"].get("value") or ""
    found = await bridge.people_of(client, origin.team, users, no_bots=True)
    if isinstance(found, str):
        await bridge.send(client, origin, [private(found)])
        return
    await bridge.run_args(
        client, origin, actor, "kudos", {"to": tuple(found), "reason": reason}, f"view:{view['id']}"
    )
