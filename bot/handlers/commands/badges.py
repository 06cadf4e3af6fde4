"""`/badges`: the badges you have earned, and how far you are from the next one or tier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.handlers.access import caller
from bot.handlers.context import HandlerContext
from bot.handlers.contract import Command, Message, Segment, Table, Text
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import private
from bot.messages import formats, render
from bot.messages.explain import badge_label
from bot.scoring.badges import Progress, parse_period_key, period_end
from bot.scoring.periods import Period
from bot.services import badges
from bot.services.badges import CHALLENGE_KEY, EarnedBadge


def register(registry: Registry, locale: str = "en") -> None:
    registry.add(CommandSpec(name="badges", help=render("help.badges", locale), handler=badges_command))


def badges_command(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    you = caller(command)
    title = render("badges.title", locale, name=you.display_name)
    earned = badges.earned(ctx.db, you.person_id)  # challenge-won badges may come without program badges
    if not ctx.program.badges and not earned:
        return [private(render("badges.none_defined", locale), title=title)]
    parts: list[Segment] = [Text(render("badges.earned_heading", locale) + "\n")]
    if earned:
        parts.append(
            Table(
                tuple(render(f"badges.column.{c}", locale) for c in ("badge", "period", "day")),
                tuple(_earned_row(item, locale) for item in reversed(earned)),
                ("left", "left", "left"),
            )
        )
    else:
        parts.append(Text(render("badges.none_earned", locale) + "\n"))
    standings = badges.standings(ctx.db, ctx.program, you.person_id, ctx.today())
    if standings:
        parts.append(Text(render("badges.progress_heading", locale) + "\n"))
        parts.append(
            Table(
                tuple(render(f"badges.column.{c}", locale) for c in ("badge", "now")),
                tuple((_next_label(item, locale), progress_text(item, locale)) for item in standings),
                ("left", "left"),
            )
        )
    return [private(*parts, title=title)]


def _earned_row(item: EarnedBadge, locale: str) -> tuple[str, str, str]:
    name = str(item.inputs.get("name") or item.badge)
    return (
        badge_label(name, item.tier, locale),
        period_text(item.period_key, locale, item.inputs),
        item.business_day.isoformat(),
    )


def period_text(key: str, locale: str, inputs: Mapping[str, Any] | None = None) -> str:
    """What an award is for: a period (`2021-01`, `all time`), or the challenge it was won in."""
    if key.startswith(CHALLENGE_KEY):
        name = (inputs or {}).get("challenge_name") or key.removeprefix(CHALLENGE_KEY)
        return render("badges.period_challenge", locale, name=name)
    period, start = parse_period_key(key)
    if start is None:
        return render("badges.period_all", locale)
    if period is Period.DAY:
        return start.isoformat()
    return formats.window(period, start, period_end(period, start), locale)


def _next_label(item: Progress, locale: str) -> str:
    return badge_label(item.name, item.tier or "", locale)


def progress_text(item: Progress, locale: str) -> str:
    """`3 of 5 working days in a row`, or that every tier is earned this period."""
    if item.current is None:
        return render("badges.progress.no_data", locale)
    if item.kind == "streak" and item.goal is None and item.current:
        return render("badges.progress.streak_running", locale, current=int(item.current))
    if item.kind == "personal_best" and item.goal is None and not item.earned:
        return render("badges.progress.first_mark", locale, current=_value(item, item.current))
    if item.goal is None and item.kind != "most_improved":
        return render("badges.done", locale)
    current = _value(item, item.current)
    goal = "–" if item.goal is None else _value(item, item.goal)
    if item.kind == "most_improved":
        unit = formats.unit_of(item.metric) if item.metric else "count"
        current = f"{item.current * 100:+.1f}%" if unit == "fraction" else f"{item.current:+.2f}"
    return render(f"badges.progress.{item.kind}", locale, current=current, goal=goal)


def _value(item: Progress, number: float) -> str:
    unit = "count" if item.kind in ("streak", "count") or not item.metric else formats.unit_of(item.metric)
    return formats.value(unit, number)
