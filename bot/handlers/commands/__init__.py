"""The chat commands every adapter serves; `default_registry()` registers them all."""

from __future__ import annotations

from types import ModuleType

from bot.handlers.commands import (
    adjust,
    badges,
    challenge,
    kudos,
    leaderboard,
    link,
    me,
    points,
    privacy,
    rewards,
)
from bot.handlers.commands import help as help_
from bot.handlers.registry import Registry

MODULES: tuple[ModuleType, ...] = (
    leaderboard,
    points,
    me,
    badges,
    kudos,
    privacy,
    help_,
    link,
    challenge,
    rewards,
    adjust,
)


def default_registry(locale: str = "en") -> Registry:
    """A registry of every command, with help texts from the catalogue in `locale`."""
    registry = Registry()
    for module in MODULES:
        module.register(registry, locale)
    return registry
