"""The message catalogue: every user-facing sentence of the handlers, by id, per locale (English first)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from string import Formatter
from typing import Any

import yaml

DEFAULT_LOCALE = "en"


class UnknownMessage(KeyError):
    """A message id the catalogue does not define (a bug: every id used in code must exist in en.yaml)."""


def render(message_id: str, locale: str = DEFAULT_LOCALE, **inputs: Any) -> str:
    """The sentence `message_id` in `locale` with `inputs` filled in; plural forms pick by `count`."""
    return Formatter().vformat(template(message_id, locale, inputs.get("count")), (), inputs)


def has(message_id: str, locale: str = DEFAULT_LOCALE) -> bool:
    return message_id in _entries(locale) or message_id in _entries(DEFAULT_LOCALE)


def template(message_id: str, locale: str = DEFAULT_LOCALE, count: Any = None) -> str:
    """The raw template (with `{placeholders}`), falling back to English when a locale lacks it."""
    entry = _entries(locale).get(message_id)
    if entry is None:
        entry = _entries(DEFAULT_LOCALE).get(message_id)
    if entry is None:
        raise UnknownMessage(f"message {message_id!r} is not in the catalogue (bot/messages/en.yaml)")
    if isinstance(entry, Mapping):
        return str(entry["one"] if count == 1 else entry["other"])
    return str(entry)


def message_ids(locale: str = DEFAULT_LOCALE) -> set[str]:
    return set(_entries(locale))


@cache
def _entries(locale: str) -> dict[str, Any]:
    path = resources.files("bot.messages").joinpath(f"{locale}.yaml")
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(_flatten(data, ""))


def _flatten(node: Mapping[str, Any], prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and not _is_plural(value):
            out.extend(_flatten(value, f"{name}."))
        else:
            out.append((name, value))
    return out


def _is_plural(node: Mapping[str, Any]) -> bool:
    return set(node) == {"one", "other"}
