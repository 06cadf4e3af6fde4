"""`floorboard explain --agent NAME --day YYYY-MM-DD`: one sentence per points or coins change of that day."""

from __future__ import annotations

import typer

from bot.messages import explain as sentence_for
from bot.scoring.periods import day_span
from bot.services import badges, people, profiles, wallet
from bot.terminal.common import console, fail, opened_app, parse_day


def register(app: typer.Typer) -> None:
    @app.command("explain")
    def explain(
        agent: str = typer.Option(..., "--agent", help="the agent's display name"),
        day: str = typer.Option(..., "--day", help="the business day, YYYY-MM-DD"),
    ) -> None:
        """Why an agent's points and coins changed on a day, and the badges earned or revoked then: one
        sentence each."""
        when = parse_day(day, "--day")
        with opened_app() as fb, fb.engine.connect() as connection:
            try:
                person = people.by_display_name(connection, agent)
            except people.AmbiguousName as error:
                raise fail(str(error)) from None
            if person is None:
                raise fail(f"no agent named {agent!r}; names are as on the boards (floorboard leaderboard)")
            changes = profiles.changes(connection, person.id, when)
            earned = badges.earned(connection, person.id, day=when)
            taken = badges.revoked(connection, person.id, day=when)
            span = day_span(when, fb.program.zone, fb.program.day_start_minutes)
            coins = wallet.changes_between(connection, person.id, *span)
            inputs = [change.inputs for change in changes] + [coin.inputs for coin in coins]
            givers = {int(i[key]) for i in inputs for key in ("giver", "by") if isinstance(i.get(key), int)}
            names = people.names(connection, givers)
        for item in earned:
            text = sentence_for(item.template, item.inputs, "en")
            console.print(f"badge: {text}", highlight=False, markup=False, soft_wrap=True)
        for gone in taken:
            text = sentence_for(gone.template, gone.inputs, "en")
            console.print(f"badge revoked: {text}", highlight=False, markup=False, soft_wrap=True)
        for coin in coins:
            text = sentence_for(coin.template, coin.inputs, "en", names)
            console.print(
                f"{coin.amount / 100:+.2f} coins: {text}", highlight=False, markup=False, soft_wrap=True
            )
        if not changes:
            if not earned and not taken and not coins:
                console.print(
                    f"No points changes for {person.display_name} on {when.isoformat()}.", highlight=False
                )
            return
        for change in changes:
            text = sentence_for(change.template, change.inputs, "en", names)
            console.print(
                f"{change.amount / 100:+.2f} pts: {text}", highlight=False, markup=False, soft_wrap=True
            )
        net = sum(change.amount for change in changes)
        console.print(f"Net change on {when.isoformat()}: {net / 100:+.2f} pts.", highlight=False)
