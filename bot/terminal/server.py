"""`floorboard run` (the web server) and `floorboard demo` (a simulated contact center, end to end)."""

from __future__ import annotations

import math
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import typer
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from bot.adapters.console import ConsoleAdapter
from bot.adapters.slack.app import SlackNotConfigured
from bot.adapters.slack.serving import EVENTS_PATH
from bot.adapters.slack.serving import attach as attach_slack
from bot.app import Floorboard, build
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.jobs.preview import preview, team_for_preview
from bot.jobs.scheduler import Scheduler, lifespan_for
from bot.program import ProgramError
from bot.scoring.periods import business_day
from bot.scoring.schedule import PostKind
from bot.settings import SettingsError, load_settings
from bot.simulator import SOURCE, Percentiles, Simulation, simulate
from bot.store.database import DatabaseNotReady, upgrade
from bot.terminal.common import console, database_problem, fail, opened_app, settings
from bot.terminal.posts import notifiers, print_content
from bot.web.app import create_web_app
from bot.web.demo import (
    BATCH_SIZE,
    Delivery,
    fresh_database,
    new_token,
    points_leader,
    post_batch,
    post_records,
    seed_roster,
)
from bot.web.server import BackgroundServer, bind, serve, url_of

if TYPE_CHECKING:
    from bot.adapters.discord.runner import DiscordRunner

CHAT_LINES = ("/leaderboard", "/leaderboard csat day", "/points why")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("demo")(demo)


def run(
    host: str = typer.Option(None, help="interface to listen on [default: FLOORBOARD_WEB_HOST or 127.0.0.1]"),
    port: int = typer.Option(
        None, min=0, max=65535, help="port; 0 picks a free one [default: FLOORBOARD_WEB_PORT]"
    ),
) -> None:
    """Serve the webhook API, leaderboard JSON and /healthz until Ctrl-C or SIGTERM."""
    with opened_app() as fb:
        host = host or fb.settings.web_host
        port = fb.settings.web_port if port is None else port
        try:
            sock = bind(host, port)
        except OSError as error:
            raise fail(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
        url = url_of(sock)
        console.print(
            f"Floorboard listening on {url} (API docs: {url}/docs). Ctrl-C stops.",
            highlight=False,
            soft_wrap=True,
        )
        if not fb.settings.api_tokens:
            console.print(
                "No API tokens: webhook posts get 401. "
                'Set FLOORBOARD_API_TOKENS=\'{"<token>": "<source>"}\'.',
                highlight=False,
            )
        notifier_of = notifiers(fb, sys.stdout)
        scheduler = Scheduler(fb.engine, fb.program, fb.clock, notifier_of, program_version=fb.version)
        tick = fb.settings.schedule_tick_seconds
        if fb.program.teams and tick > 0:
            console.print(
                f"Scheduled posts for {len(fb.program.teams)} team(s), checked every {tick:g} s.",
                highlight=False,
            )
        web = create_web_app(fb, lifespan=lifespan_for(scheduler, tick))
        try:
            slack = attach_slack(fb, fb.settings, web, default_registry())
        except SlackNotConfigured as error:
            raise fail(str(error)) from None
        if slack is not None:
            where = f"(http mode): {url}{EVENTS_PATH}" if slack.mode == "http" else "over Socket Mode"
            console.print(f"Slack connected {where}", highlight=False, soft_wrap=True)
            notifier_of["slack"] = slack.notifier
        discord_bot = _start_discord(fb)
        if discord_bot is not None:
            notifier_of["discord"] = discord_bot.notifier
        try:
            serve(web, sock)
        finally:
            if discord_bot is not None:
                discord_bot.stop()
    console.print("Stopped.", highlight=False)


def _start_discord(fb: Floorboard) -> DiscordRunner | None:
    """The Discord client next to the web server when FLOORBOARD_DISCORD_TOKEN is set."""
    if not fb.settings.discord_token:
        return None
    from bot.adapters.discord.runner import DiscordRunner  # discord.py loads only when it is used

    guilds = ", ".join(map(str, fb.settings.discord_dev_guild_ids))
    if not guilds:
        where = "all guilds (global)"
    elif fb.settings.discord_global_commands:
        where = f"all guilds (global); the lists of guilds {guilds} are emptied"
    else:
        where = f"guilds {guilds} (development)"
    console.print(f"Discord: connecting; commands sync to {where}.", highlight=False)
    return DiscordRunner(fb, default_registry()).start()


def demo(
    serve_after: bool = typer.Option(False, "--serve", help="keep serving after the demo (Ctrl-C stops)"),
    port: int = typer.Option(0, min=0, max=65535, help="port for the web server; 0 picks a free one"),
    seed: int = typer.Option(7, help="the simulator's random seed: the same seed gives the same day"),
) -> None:
    """Simulate a contact-center day, post it to the real webhook over HTTP, and show the standings.

    Uses FLOORBOARD_DATABASE_URL when set; otherwise starts a fresh floorboard-demo.db here.
    """
    current = settings()
    url = current.database_url if "database_url" in current.model_fields_set else fresh_database(Path.cwd())
    token = new_token()
    try:
        demo_settings = load_settings(database_url=url, api_tokens={**current.api_tokens, token: SOURCE})
    except SettingsError as error:
        raise fail(str(error)) from None
    try:
        upgrade(url)
        fb = build(demo_settings)
    except (DatabaseNotReady, ProgramError) as error:
        raise fail(str(error)) from None
    except DBAPIError as error:
        raise fail(database_problem(url, error)) from None
    try:
        day = business_day(fb.clock(), fb.program.zone, fb.program.day_start_minutes)
        simulation = simulate(seed, day, zone=fb.program.zone)
        seed_roster(fb, simulation)
        try:
            server = BackgroundServer(create_web_app(fb), port=port).start()
        except OSError as error:
            raise fail(f"cannot listen on 127.0.0.1:{port}: {error.strerror or error}") from None
        console.print(
            f"Floorboard demo: database {url}, web server on {server.url}", highlight=False, soft_wrap=True
        )
        try:
            with httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
            ) as client:
                records = simulation.records()
                delivery = post_records(client, records)
                redelivered = post_batch(client, records[:BATCH_SIZE])["counts"]
            _print_simulation(simulation)
            _print_delivery(delivery, len(records), redelivered)
            _print_chat(fb, simulation, url)
            _print_posts(fb, simulation)
            if serve_after:
                _print_serving(server.url, token, day)
                server.wait()
        finally:
            server.stop()
    finally:
        fb.close()


def _print_simulation(simulation: Simulation) -> None:
    summary = simulation.summary()
    console.print(
        f"\nSimulated {summary.contacts} contacts on {simulation.day:%A %Y-%m-%d} "
        f"for {len(simulation.agents)} agents in {len(simulation.teams)} teams: {summary.answered} answered, "
        f"{summary.abandoned} abandoned (kept on their queue), {summary.surveys} CSAT surveys.",
        highlight=False,
    )
    table = Table(title="What the simulator generated", title_justify="left")
    for header in ("", "p10", "p50", "p90"):
        table.add_column(header, justify="left" if not header else "right")
    table.add_row("Handle time (s)", *_cells(summary.handle))
    table.add_row("Wait before answer (s)", *_cells(summary.wait))
    table.add_row("CSAT (1-5)", *_cells(summary.csat))
    console.print(table)


def _cells(values: Percentiles) -> tuple[str, str, str]:
    def cell(value: float) -> str:
        return "-" if math.isnan(value) else f"{value:g}" if value == int(value) else f"{value:.1f}"

    return cell(values.p10), cell(values.p50), cell(values.p90)


def _print_delivery(delivery: Delivery, records: int, redelivered: dict[str, int]) -> None:
    counts = delivery.counts
    console.print(
        f"Import: posted {records} records in {delivery.batches} batch(es) to /api/v1/events: "
        f"{counts['accepted']} accepted, {counts['duplicate']} duplicate, {counts['parked']} parked, "
        f"{counts['rejected']} rejected.",
        highlight=False,
    )
    for reason in delivery.rejected[:5]:
        console.print(f"  rejected {reason}", highlight=False)
    console.print(
        f"Redelivered the first batch: {redelivered['duplicate']} duplicate, "
        f"{redelivered['accepted']} accepted (nothing counts twice).",
        highlight=False,
    )


def _print_chat(fb: Floorboard, simulation: Simulation, url: str) -> None:
    """The standings as agents see them in chat, through the console adapter."""
    who = points_leader(fb, simulation.day) or simulation.agents[0].name
    adapter = ConsoleAdapter(
        HandlerContext.of(fb), default_registry(), sys.stdout, namespace=fb.settings.console_namespace
    )
    console.print(f"\n[bold]Standings in chat[/] (console adapter), typed by today's points leader {who}:")
    for line in CHAT_LINES:
        console.print(f"\n[bold]{who}> {line}[/]", highlight=False)
        adapter.say(line, as_name=who)
    console.print(
        f"\nThe data stays in {url}; try: FLOORBOARD_DATABASE_URL={url} floorboard say --as '{who}' /me",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def _print_posts(fb: Floorboard, simulation: Simulation) -> None:
    """The scheduled posts of the first team, as `floorboard posts preview` shows them."""
    team = simulation.teams[0].key
    console.print(
        f"\n[bold]Scheduled posts[/] for team {team} (console adapter; "
        f"floorboard posts preview --team {team} --kind daily|weekly --at {simulation.day}):",
        highlight=False,
    )
    with fb.engine.connect() as connection:
        planned = team_for_preview(connection, fb.program, team)
        for kind in (PostKind.DAILY_STANDINGS, PostKind.WEEKLY_RECAP):
            content = preview(connection, fb.program, planned, kind, simulation.day)
            if content is not None:
                print_content(fb, content, planned.posts.channels[0].channel, sys.stdout)


def _print_serving(url: str, token: str, day: date) -> None:
    console.print(
        f"\nServing on {url} (API docs: {url}/docs). Ctrl-C stops. Try:", highlight=False, soft_wrap=True
    )
    console.print(
        f"  curl -H 'Authorization: Bearer {token}' '{url}/api/v1/leaderboard?metric=csat&period=day'\n"
        f"  curl -X POST {url}/api/v1/events -H 'Authorization: Bearer {token}' "
        '-H \'Content-Type: application/json\' -d \'{"records": [{"source": "demo-acd", "external_id": '
        f'"manual-1", "subject": {{"kind": "agent", "key": "acd-101"}}, '
        f'"occurred_at": "{day.isoformat()}T15:00:00Z", '
        '"facts": {"answered": true, "talk": 240, "hold": 0, "acw": 30, "rating": 5}}]}\'',
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
