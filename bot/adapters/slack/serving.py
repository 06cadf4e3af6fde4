"""Serving Slack next to the web API: `/slack/events` on the same FastAPI app (HTTP mode), or a Socket
Mode connection opened when the server starts and closed when it stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler

from bot.adapters.slack.app import Slack, create_slack, slack_mode
from bot.handlers.context import AppParts
from bot.handlers.registry import Registry
from bot.settings import Settings

EVENTS_PATH = "/slack/events"


def router(slack: Slack) -> APIRouter:
    """POST /slack/events: commands, events, shortcuts, modals and buttons, signature-verified by Bolt."""
    handler = AsyncSlackRequestHandler(slack.app)
    routes = APIRouter()

    @routes.post(EVENTS_PATH, include_in_schema=False)
    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return routes


def mount(web: FastAPI, slack: Slack) -> None:
    """HTTP mode adds the route; Socket Mode connects for as long as the web server runs."""
    if slack.mode == "http":
        web.include_router(router(slack))
        return
    inner = web.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        handler = AsyncSocketModeHandler(slack.app, slack.app_token)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        try:
            async with inner(app):
                yield
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]

    web.router.lifespan_context = lifespan


def attach(fb: AppParts, settings: Settings, web: FastAPI, registry: Registry) -> Slack | None:
    """Slack on the web server when the settings ask for it; None when no Slack setting is present."""
    if slack_mode(settings) is None:
        return None
    slack = create_slack(fb, settings, registry)
    mount(web, slack)
    return slack
