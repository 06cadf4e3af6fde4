"""The Discord adapter: app commands, embeds, paging buttons and the Notifier, on discord.py.

`build_client(fb, registry)` gives a client whose command tree holds one app command per registry command;
`client.notifier` is the Notifier the outbox dispatcher sends through.
"""

from bot.adapters.discord.client import FloorboardClient, build_client
from bot.adapters.discord.notifier import DeliveryFailed, DiscordNotifier, RetryLog

__all__ = ["DeliveryFailed", "DiscordNotifier", "FloorboardClient", "RetryLog", "build_client"]
