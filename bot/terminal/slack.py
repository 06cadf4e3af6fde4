"""`floorboard slack manifest` (the Slack app manifest) and `floorboard slack channel` (a team's channel)."""

from __future__ import annotations

from urllib.parse import urlsplit

import typer
import yaml

from bot.adapters.slack.manifest import manifest
from bot.handlers.commands import default_registry
from bot.services import people
from bot.terminal.common import console, fail, opened_app


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Slack: the app manifest and team channels.", no_args_is_help=True)
    group.command("manifest")(print_manifest)
    group.command("channel")(team_channel)
    app.add_typer(group, name="slack")


def print_manifest(
    url: str = typer.Option(
        None, help="the public base URL of `floorboard run` (HTTP mode); leave out for Socket Mode"
    ),
    name: str = typer.Option("Floorboard", help="the app's name in Slack"),
) -> None:
    """Print the manifest YAML to paste into api.slack.com/apps → Create New App → From a manifest."""
    if url is not None and not _public_https(url):
        raise fail(
            f"--url must be the public https:// address of `floorboard run` (Slack needs HTTPS), got {url!r}"
        )
    typer.echo(
        yaml.safe_dump(manifest(default_registry(), url=url, name=name), sort_keys=False, allow_unicode=True)
    )


def _public_https(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


def team_channel(
    team: str = typer.Argument(..., help="the team key, as in the roster (e.g. blue)"),
    channel: str = typer.Argument(None, help="the Slack channel id (C0123…); leave out to remove it"),
) -> None:
    """Post a team's kudos and announcements to a Slack channel (invite the bot to it first)."""
    with opened_app() as fb, fb.engine.begin() as connection:
        if not people.set_team_channel(connection, team, "slack", channel):
            raise fail(f"no team {team!r}; the roster's team column names teams (floorboard roster import)")
    where = f"Slack channel {channel}" if channel else "the channel where each command was typed"
    console.print(f"Team {team} now posts to {where}.", highlight=False)
