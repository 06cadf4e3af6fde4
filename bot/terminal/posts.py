"""`floorboard posts preview`: what a scheduled post would say, printed through the console adapter."""

from __future__ import annotations

import asyncio
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TextIO

import typer

from bot.adapters.console import ConsoleAdapter
from bot.app import Floorboard
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.handlers.contract import Notifier
from bot.jobs.content import PostContent
from bot.jobs.preview import UnknownTeam, preview, team_for_preview
from bot.scoring.schedule import PostKind
from bot.services.leaderboard import UnknownBoard
from bot.terminal.common import console, fail, opened_app, parse_day


class PreviewKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    KUDOS = "kudos"


KINDS = {
    PreviewKind.DAILY: PostKind.DAILY_STANDINGS,
    PreviewKind.WEEKLY: PostKind.WEEKLY_RECAP,
    PreviewKind.KUDOS: PostKind.KUDOS_DIGEST,
}


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def console_notifier(fb: Floorboard, out: TextIO) -> ConsoleAdapter:
    return ConsoleAdapter(
        HandlerContext.of(fb), default_registry(), out, namespace=fb.settings.console_namespace
    )


def notifiers(fb: Floorboard, out: TextIO) -> dict[str, Notifier]:
    """Platform → Notifier for the outbox dispatcher: the console always; the Slack and Discord adapters
    add theirs here when they are configured."""
    return {"console": console_notifier(fb, out)}


def register(app: typer.Typer) -> None:
    posts = typer.Typer(help="Scheduled posts: standings, recaps, kudos digests.", no_args_is_help=True)
    app.add_typer(posts, name="posts")

    @posts.command("preview")
    def preview_command(
        team: str = typer.Option(..., "--team", help="the team's key"),
        kind: PreviewKind = typer.Option(PreviewKind.DAILY, "--kind"),
        at: str = typer.Option(..., "--at", help="the day of the post, YYYY-MM-DD"),
        output: OutputFormat = typer.Option(OutputFormat.TEXT, "--format", "-f"),
        chart: Path | None = typer.Option(None, "--chart", help="also write the recap's PNG chart here"),
    ) -> None:
        """Print what a scheduled post would say on a day (through the console adapter); sends nothing."""
        day = parse_day(at, "--at")
        with opened_app() as fb:
            try:
                with fb.engine.connect() as connection:
                    planned = team_for_preview(connection, fb.program, team)
                    content = preview(connection, fb.program, planned, KINDS[kind], day)
            except (UnknownTeam, UnknownBoard) as error:
                raise fail(str(error)) from None
            if chart is not None and content is not None and content.uploads:
                write_chart(chart, content.uploads[0].data)
            if output is OutputFormat.JSON:
                data = content.data if content else {"kind": KINDS[kind].value, "team": team, "empty": True}
                typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
                return
            if content is None:
                console.print(f"Nothing to post for team {team} on {day}.", highlight=False)
                return
            print_content(fb, content, planned.posts.channels[0].channel, sys.stdout)


def write_chart(path: Path, data: bytes) -> None:
    """Write the recap's PNG, or fail with one line naming the path and why it could not be written."""
    try:
        path.write_bytes(data)
    except FileNotFoundError:
        raise fail(
            f"cannot write the chart to {path}: the directory {path.parent} does not exist; "
            "create it or choose another --chart path"
        ) from None
    except OSError as error:
        raise fail(f"cannot write the chart to {path}: {error.strerror or error}") from None


def print_content(fb: Floorboard, content: PostContent, channel: str, out: TextIO) -> None:
    """Show a post as the console adapter sends it: the channel post, its uploads, then each DM."""
    adapter = console_notifier(fb, out)

    async def send() -> None:
        if content.public is not None:
            await adapter.post(channel, content.public)
        for upload in content.uploads:
            await adapter.upload(channel, upload.filename, upload.data, upload.title)
        for person_id, message in content.dms:
            await adapter.dm(person_id, message)

    asyncio.run(send())
