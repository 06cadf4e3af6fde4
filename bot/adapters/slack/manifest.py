"""The Slack app manifest, generated from the command registry so every command is declared.

`floorboard slack manifest --url https://host` prints it; slack/manifest.yaml in the repository is
the same document for https://floorboard.example.com, ready to paste into "Create an app → From a
manifest" after changing the host.
"""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.bridge import ROOT
from bot.adapters.slack.modals import SHORTCUT
from bot.adapters.slack.serving import EVENTS_PATH
from bot.handlers.parsing import usage
from bot.handlers.registry import Registry

# Slack reserves /me for itself; `/floorboard me` reaches it. /help stays under the root command so it
# does not clash with other apps' help.
NOT_SHORT = frozenset({ROOT, "me", "help"})
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "files:write",
)
DESCRIPTION_CHARS = 100


def manifest(registry: Registry, *, url: str | None, name: str = "Floorboard") -> dict[str, Any]:
    """The manifest for HTTP mode at `url` (the server's base URL), or Socket Mode when `url` is None."""
    endpoint = f"{url.rstrip('/')}{EVENTS_PATH}" if url else None
    root = registry.get(ROOT)
    actions = [choice for param in (root.params if root else ()) for choice in param.choices]
    subs = sorted({_group(spec.name) for spec in registry if spec.name != ROOT} | set(actions))
    commands = [
        _command(
            f"/{ROOT}", "Floorboard: boards, points, kudos, linking and privacy", " | ".join(subs), endpoint
        )
    ]
    groups_declared: set[str] = set()
    for spec in registry:
        group = _group(spec.name)
        if group != spec.name:  # Slack commands are one word: `/challenge create …` is one command
            if group not in groups_declared:
                groups_declared.add(group)
                names = [sub.name.split(" ", 1)[1] for sub in registry.subcommands(group)]
                help_text = f"{group.capitalize()}s: {', '.join(names)}"
                commands.append(_command(f"/{group}", help_text, " | ".join(names), endpoint))
        elif spec.name not in NOT_SHORT:
            hint = usage(spec).removeprefix(f"/{spec.name}").strip()
            commands.append(_command(f"/{spec.name}", spec.help, hint, endpoint))
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": ["app_home_opened"]},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": endpoint is None,
        "token_rotation_enabled": False,
    }
    if endpoint:
        settings["event_subscriptions"]["request_url"] = endpoint
        settings["interactivity"]["request_url"] = endpoint
    return {
        "display_information": {
            "name": name,
            "description": "Fair, explainable gamification for contact centers",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": commands,
            "shortcuts": [
                {
                    "name": "Give kudos",
                    "type": "message",
                    "callback_id": SHORTCUT,
                    "description": "Thank the author of this message",
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": settings,
    }


def _group(name: str) -> str:
    return name.split(" ", 1)[0]


def _command(command: str, help_text: str, hint: str, endpoint: str | None) -> dict[str, Any]:
    declared: dict[str, Any] = {"command": command, "description": _first_sentence(help_text)}
    if endpoint:
        declared["url"] = endpoint
    if hint:
        declared["usage_hint"] = hint
    declared["should_escape"] = True  # mentions arrive as <@U123|name>
    return declared


def _first_sentence(text: str) -> str:
    sentence = text.split(". ")[0].split(": /")[0].strip().rstrip(".")
    return sentence if len(sentence) <= DESCRIPTION_CHARS else sentence[: DESCRIPTION_CHARS - 1] + "…"
