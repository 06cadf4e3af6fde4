"""Build the Slack side from settings: a Bolt AsyncApp with every listener, HTTP or Socket Mode."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import actions, challenge_modal, commands, home, modals
from bot.adapters.slack.bridge import Bridge
from bot.adapters.slack.identity import Groups, Identities
from bot.adapters.slack.notifier import SlackNotifier
from bot.handlers.context import AppParts, HandlerContext
from bot.handlers.registry import Registry
from bot.settings import Settings

log = logging.getLogger(__name__)

Mode = Literal["http", "socket"]


class SlackNotConfigured(ValueError):
    """Slack settings that cannot work together; the message says which variable to set."""


@dataclass(frozen=True, slots=True)
class Slack:
    """The Bolt app and what the rest of Floorboard uses of Slack."""

    app: AsyncApp
    mode: Mode
    bridge: Bridge
    notifier: SlackNotifier
    app_token: str | None = None


def slack_mode(settings: Settings) -> Mode | None:
    """Socket Mode with an app token; HTTP mode with a signing secret; None when Slack is not set up."""
    if not settings.slack_bot_token:
        if settings.slack_app_token or settings.slack_signing_secret:
            raise SlackNotConfigured(
                "FLOORBOARD_SLACK_BOT_TOKEN: set the bot token (xoxb-…) to connect to Slack"
            )
        return None
    if settings.slack_app_token:
        return "socket"
    if settings.slack_signing_secret:
        return "http"
    raise SlackNotConfigured(
        "FLOORBOARD_SLACK_SIGNING_SECRET (HTTP mode) or FLOORBOARD_SLACK_APP_TOKEN (Socket Mode): "
        "set one of them next to the bot token"
    )


def create_slack(fb: AppParts, settings: Settings, registry: Registry, *, locale: str = "en") -> Slack:
    """The Bolt AsyncApp wired to the registry. Nothing global: tests build as many as they like."""
    mode = slack_mode(settings)
    if mode is None:
        raise SlackNotConfigured("FLOORBOARD_SLACK_BOT_TOKEN is not set")
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=_with_slash(settings.slack_api_url))
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=mode == "http",
        process_before_response=False,  # ack first, work after: the 3-second rule
    )
    ctx = HandlerContext.of(fb)
    identities = Identities(
        ctx.engine, ctx.clock, Groups.of(settings), cache_seconds=settings.slack_group_cache_seconds
    )
    bridge = Bridge(ctx, registry, identities, locale)
    for listeners in (commands, modals, challenge_modal, actions, home):
        listeners.register(app, bridge)
    notifier = SlackNotifier(client, ctx.engine, locale, clock=ctx.clock)
    return Slack(app, mode, bridge, notifier, settings.slack_app_token if mode == "socket" else None)


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
