"""The chat commands every adapter serves; `default_registry()` registers them all."""

from __future__ import annotations

from types import ModuleType

from bot.handlers.commands import adjust, challenge, kudos, leaderboard, me, points, privacy, rewards
from bot.handlers.commands import help as help_
from bot.handlers.registry import Registry

# Challenges, the rewards store and adjustments (issue 7) come after the first six.
MODULES: tuple[ModuleType, ...] = (leaderboard, points, me, kudos, privacy, help_, challenge, rewards, adjust)


def default_registry(locale: str = "en") -> Registry:
    """A registry of every command, with help texts from the catalogue in `locale`."""
    registry = Registry()
    for module in MODULES:
        module.register(registry, locale)
    return registry
