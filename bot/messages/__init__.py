"""User-facing text: the message catalogue, number formats and explanations of ledger rows."""

from bot.messages.catalogue import DEFAULT_LOCALE, UnknownMessage, has, render, template
from bot.messages.explain import USER_TEXT_TEMPLATES, explain

__all__ = ["DEFAULT_LOCALE", "USER_TEXT_TEMPLATES", "UnknownMessage", "explain", "has", "render", "template"]
