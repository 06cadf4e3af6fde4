"""An app command per registry command, built from its typed params.

Metric, period and fixed choices become option choices; teams and leagues (and any param naming an
`autocomplete` key, such as challenges or rewards) get autocomplete from a pluggable source; a person is a
user option, several people a text option where Discord writes mentions as <@id>.

`/floorboard` is a group, as the catalogue writes it (`/floorboard link pwc:Martha`): its `action`
choices (optout, optin, help) are subcommands, and so is `link`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Optional

import discord
from discord import app_commands
from sqlalchemy import Connection

from bot.adapters.discord.interactions import DiscordAdapter
from bot.handlers.contract import Param, ParamKind
from bot.handlers.registry import CommandSpec
from bot.messages import render
from bot.messages.formats import metric_label
from bot.program import Program
from bot.scoring.periods import Period
from bot.services import challenges, people, rewards
from bot.services.leaderboard import metric_names

log = logging.getLogger(__name__)
#: A source of autocomplete values: every candidate name (filtered by what was typed here).
AutocompleteSource = Callable[[Connection, Program], Sequence[str]]
DESCRIPTION_LIMIT = 100
CHOICE_LIMIT = 25
ROOT = "floorboard"
ROOT_ACTION = "action"
#: Registry commands that Discord shows as subcommands of /floorboard.
UNDER_ROOT = frozenset({"link"})

_OPTION_TYPES: dict[ParamKind, type] = {
    ParamKind.PERSON: discord.User,
    ParamKind.INTEGER: int,
    ParamKind.NUMBER: float,
}


def default_sources() -> dict[str, AutocompleteSource]:
    """Team keys and league ids; other features add theirs under the key their Param names."""
    return {
        "team": lambda connection, _program: people.team_keys(connection),
        "league": lambda _connection, program: [rule.id for rule in program.league_rules()],
        "challenge": lambda connection, _program: challenges.autocomplete(connection, ""),
        "reward": lambda connection, _program: [item.key for item in rewards.items(connection)],
    }


def app_commands_for(
    specs: Iterable[CommandSpec], adapter: DiscordAdapter, sources: dict[str, AutocompleteSource]
) -> list[app_commands.Command[Any, ..., None] | app_commands.Group]:
    """Top-level app commands: `challenge create`, `challenge end`… become subcommands of a `challenge`
    group, since Discord names are single words."""
    top: list[app_commands.Command[Any, ..., None] | app_commands.Group] = []
    groups: dict[str, app_commands.Group] = {}

    def group_of(name: str) -> app_commands.Group:
        group = groups.get(name)
        if group is None:
            group = groups[name] = app_commands.Group(name=name, description=name.title())
            top.append(group)
        return group

    for spec in specs:
        group_name, _, sub = spec.name.partition(" ")
        if spec.name == ROOT:
            for action in _root_actions(spec):
                bound = {ROOT_ACTION: action}
                described = render(f"discord.root.{action}", adapter.locale)
                group_of(ROOT).add_command(
                    app_command(spec, adapter, sources, name=action, bound=bound, description=described)
                )
        elif spec.name in UNDER_ROOT:
            group_of(ROOT).add_command(app_command(spec, adapter, sources))
        elif not sub:
            top.append(app_command(spec, adapter, sources))
        else:
            group_of(group_name).add_command(app_command(spec, adapter, sources, name=sub))
    return top


def _root_actions(spec: CommandSpec) -> tuple[str, ...]:
    return next((param.choices for param in spec.params if param.name == ROOT_ACTION), ())


def app_command(
    spec: CommandSpec,
    adapter: DiscordAdapter,
    sources: dict[str, AutocompleteSource],
    *,
    name: str | None = None,
    bound: dict[str, Any] | None = None,
    description: str | None = None,
) -> app_commands.Command[Any, ..., None]:
    """The app command of `spec`; `bound` fixes some of its params, which then are no options."""
    fixed_values = bound or {}

    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        await adapter.run(interaction, spec, {**values, **fixed_values})

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    descriptions: dict[str, str] = {}
    choices: dict[str, list[app_commands.Choice[str]]] = {}
    completers: dict[str, Any] = {}
    for param in spec.params:
        if param.name in fixed_values:
            continue
        option_type = _OPTION_TYPES.get(param.kind, str)
        parameters.append(
            inspect.Parameter(
                param.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=option_type if param.required else Optional[option_type],  # noqa: UP045
                default=inspect.Parameter.empty if param.required else None,
            )
        )
        descriptions[param.name] = short(param.help)
        fixed = _choices(param)
        source = sources.get(_source_key(param))
        if fixed:
            choices[param.name] = [
                app_commands.Choice(name=_choice_name(param, value, adapter.locale), value=value)
                for value in fixed
            ]
        elif source is not None:
            completers[param.name] = _completer(adapter, source)
        elif param.autocomplete:
            log.warning(
                "/%s %s: no autocomplete source %r; a plain text option",
                spec.name,
                param.name,
                param.autocomplete,
            )
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    decorated: Any = app_commands.describe(**descriptions)(callback)
    if choices:
        decorated = app_commands.choices(**choices)(decorated)
    if completers:
        decorated = app_commands.autocomplete(**completers)(decorated)
    return app_commands.Command(
        name=name or spec.name, description=short(description or spec.help), callback=decorated
    )


def short(text: str) -> str:
    """Discord's 100-character descriptions: the first sentence, clipped at a word when still too long."""
    sentence = text.split(". ")[0].strip().rstrip(".")
    if len(sentence) <= DESCRIPTION_LIMIT:
        return sentence
    return sentence[: DESCRIPTION_LIMIT - 1].rsplit(" ", 1)[0] + "…"


def _choices(param: Param) -> tuple[str, ...]:
    if param.kind is ParamKind.METRIC:
        return tuple(metric_names())[:CHOICE_LIMIT]
    if param.kind is ParamKind.PERIOD:
        return tuple(period.value for period in Period)
    if param.kind is ParamKind.CHOICE:
        return param.choices[:CHOICE_LIMIT]
    return ()


def _choice_name(param: Param, value: str, locale: str) -> str:
    """What the choice shows: a metric's label (`Talk time`), else the word itself."""
    return metric_label(value, locale)[:100] if param.kind is ParamKind.METRIC else value


def _source_key(param: Param) -> str:
    return param.autocomplete or param.kind.value


def _completer(adapter: DiscordAdapter, source: AutocompleteSource) -> Any:
    candidates = _Candidates(adapter, source)

    async def complete(
        _interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        values = await candidates.get()
        typed = current.strip().lower()
        matching = [value for value in values if typed in value.lower()]
        matching.sort(key=lambda value: (not value.lower().startswith(typed), value.lower()))
        return [app_commands.Choice(name=value[:100], value=value[:100]) for value in matching[:CHOICE_LIMIT]]

    return complete


class _Candidates:
    """Autocomplete values, read at most every `FRESH_SECONDS`. An autocomplete answer cannot be deferred
    and Discord drops it after 3 s, so a database slower than `WAIT_SECONDS` is answered from the last
    values read (none yet: no suggestions), while the read goes on and refreshes them for the next key."""

    FRESH_SECONDS = 5.0
    WAIT_SECONDS = 2.0

    def __init__(self, adapter: DiscordAdapter, source: AutocompleteSource) -> None:
        self.adapter = adapter
        self.source = source
        self.values: list[str] = []
        self.read_at = float("-inf")
        self.reading: asyncio.Future[list[str]] | None = None

    async def get(self) -> list[str]:
        loop = asyncio.get_running_loop()
        if loop.time() - self.read_at < self.FRESH_SECONDS:
            return self.values
        if self.reading is None or self.reading.done():
            self.reading = asyncio.ensure_future(asyncio.to_thread(self._read))
            self.reading.add_done_callback(self._keep)
        try:
            return await asyncio.wait_for(asyncio.shield(self.reading), self.WAIT_SECONDS)
        except TimeoutError:
            log.warning(
                "autocomplete: the database took over %g s; answered from earlier values", self.WAIT_SECONDS
            )
            return self.values

    def _read(self) -> list[str]:
        with self.adapter.ctx.engine.connect() as connection:
            return list(self.source(connection, self.adapter.ctx.program))

    def _keep(self, reading: asyncio.Future[list[str]]) -> None:
        if not reading.cancelled() and reading.exception() is None:
            self.values = reading.result()
            self.read_at = asyncio.get_running_loop().time()
