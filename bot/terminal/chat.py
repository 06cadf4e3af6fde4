"""`floorboard say` and `floorboard chat`: the chat commands in a terminal, through the console adapter."""

from __future__ import annotations

import sys

import typer

from bot.adapters.console import ConsoleAdapter
from bot.app import Floorboard
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.messages import render
from bot.services import people
from bot.terminal.common import fail, opened_app

_QUIT = {"quit", "exit", "/quit", "/exit"}


def register(app: typer.Typer) -> None:
    @app.command("say")
    def say(
        line: str = typer.Argument(..., help='the command as typed in chat, e.g. "/leaderboard csat month"'),
        as_name: str = typer.Option(..., "--as", help="who types it: a display name or console identity"),
        delivery_id: str | None = typer.Option(
            None, "--delivery-id", help="the delivery identity (default: a fresh one); repeat it to replay"
        ),
        channel: str = typer.Option("floor", "--channel", help="the channel the command is typed in"),
    ) -> None:
        """Run one chat command and print what each destination would receive.

        Exits 1 when --as names no one on the roster (or several people).
        """
        with opened_app() as fb:
            adapter = _adapter(fb, channel)
            _require_caller(adapter, as_name)
            adapter.say(line, as_name=as_name, delivery_id=delivery_id)

    @app.command("chat")
    def chat(
        as_name: str = typer.Option(..., "--as", help="who types: a display name or console identity"),
        channel: str = typer.Option("floor", "--channel", help="the channel the commands are typed in"),
    ) -> None:
        """Type chat commands one per line (/help lists them); quit or Ctrl-D ends."""
        with opened_app() as fb:
            adapter = _adapter(fb, channel)
            _require_caller(adapter, as_name)
            while True:
                try:
                    line = input(f"{as_name}> ")
                except (EOFError, KeyboardInterrupt):
                    typer.echo()
                    return
                if line.strip().lower() in _QUIT:
                    return
                if line.strip():
                    adapter.say(line, as_name=as_name)
                    typer.echo()


def _adapter(fb: Floorboard, channel: str) -> ConsoleAdapter:
    return ConsoleAdapter(
        HandlerContext.of(fb),
        default_registry(),
        sys.stdout,
        namespace=fb.settings.console_namespace,
        channel=channel,
    )


def _require_caller(adapter: ConsoleAdapter, as_name: str) -> None:
    """Refuse, exit 1, a --as that names no one on the roster, or several people."""
    try:
        actor = adapter.actor(as_name)
    except people.AmbiguousName as error:
        raise fail(
            render("console.ambiguous_caller", adapter.locale, name=error.name, count=len(error.candidates))
        ) from None
    if actor.person_id is None:
        raise fail(
            render("common.unlinked.console", adapter.locale, name=as_name.strip(), platform="console")
        )
