"""App Home: a personal dashboard published on app_home_opened, built from the registry's own replies.

`HOME_COMMANDS` is the hook: each entry is a command and its text; the dashboard shows the replies of
those that are registered, so `/badges` and a challenge list appear as soon as their commands exist.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.models.blocks import DividerBlock
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import render_message
from bot.adapters.slack.bridge import Bridge, Origin
from bot.adapters.slack.identity import PLATFORM
from bot.handlers.contract import Actor, Command, DestinationKind, Message
from bot.handlers.dispatch import dispatch
from bot.handlers.parsing import ParseError, parse_args, vocabulary
from bot.handlers.replies import private
from bot.messages import render
from bot.services import links

log = logging.getLogger(__name__)

# registry names: a subcommand is its two-word entry ("challenge list"), not the group
HOME_COMMANDS: tuple[tuple[str, str], ...] = (("me", ""), ("badges", ""), ("challenge list", ""))
MAX_BLOCKS = 100


def register(app: AsyncApp, bridge: Bridge) -> None:
    async def opened(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        origin = Origin(body.get("team_id") or event.get("view", {}).get("team_id", ""), event["user"])
        try:
            await publish(bridge, origin, client, body.get("event_id") or "")
        except Exception:
            log.exception("App Home for %s failed after its ack", origin.user)
            await publish_failure(bridge, origin, client)

    app.event("app_home_opened")(opened)


async def publish_failure(bridge: Bridge, origin: Origin, client: AsyncWebClient) -> None:
    """The Home tab says that something went wrong (without the database, which may be what failed)."""
    locale = bridge.locale
    sorry = private(render("slack.failed", locale), title=render("slack.home.title", locale))
    blocks = [block for page in render_message(sorry, lambda _person: None, locale) for block in page.blocks]
    try:
        await client.views_publish(user_id=origin.user, view=View(type="home", blocks=blocks).to_dict())
    except Exception as error:  # the failure itself is logged already; this was only the apology
        log.warning("could not tell %s that App Home failed: %s", origin.user, error)


async def publish(bridge: Bridge, origin: Origin, client: AsyncWebClient, event_id: str) -> None:
    actor = await bridge.actor(client, origin)
    if actor is None:
        return
    view = await asyncio.to_thread(home_view, bridge, origin, actor, event_id)
    await client.views_publish(user_id=origin.user, view=view)


def home_view(bridge: Bridge, origin: Origin, actor: Actor, event_id: str) -> dict[str, Any]:
    locale = bridge.locale
    replies: list[Message] = []
    if actor.person_id is None:
        replies.append(
            private(render("slack.home.unlinked", locale), title=render("slack.home.title", locale))
        )
    else:
        for name, text in HOME_COMMANDS:
            replies.extend(_replies(bridge, origin, actor, name, text, event_id))
    blocks: list[dict[str, Any]] = []
    with bridge.ctx.engine.connect() as connection:

        def user_of(person_id: int) -> str | None:
            return links.user_of(connection, person_id, PLATFORM, origin.team)

        for reply in replies:
            if reply.destination.kind not in (DestinationKind.CALLER, DestinationKind.ORIGIN):
                continue
            section = [block for page in render_message(reply, user_of, locale) for block in page.blocks]
            if blocks:
                section.insert(0, DividerBlock().to_dict())
            if len(blocks) + len(section) > MAX_BLOCKS:
                break
            blocks.extend(section)
    return View(type="home", blocks=blocks).to_dict()


def _replies(
    bridge: Bridge, origin: Origin, actor: Actor, name: str, text: str, event_id: str
) -> list[Message]:
    spec = bridge.registry.get(name)
    if spec is None or spec.writes:
        return []
    try:
        with bridge.ctx.engine.connect() as connection:
            vocab = vocabulary(connection, lambda _handle: None, bridge.locale)
            args = parse_args(spec, text, vocab)
    except ParseError:
        log.warning("App Home: /%s %s does not parse; left out", name, text)
        return []
    command = Command(name, actor, args, f"home:{event_id}:{name}", locale=bridge.locale)
    return dispatch(bridge.registry, command, bridge.ctx)
