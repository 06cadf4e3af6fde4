"""User text made safe for mrkdwn: it can never mention, broadcast or link.

Escaping `&`, `<` and `>` stops `<!channel>` from being read as a control sequence, but Slack (and a
client given `link_names`) still turns a bare `@here` into a broadcast, so every `@` in user text is
followed by a zero-width joiner: the text reads the same and no word after an `@` is a mention.
Slack's own syntax that a user's text carried (`<@U123|jim>`, `<!here>`, `<#C1|floor>`) is shown as the
words it stands for, defused the same way.
"""

from __future__ import annotations

import re

ZWJ = "\u200d"
_SLACK_SYNTAX = re.compile(r"<([@#!])([^<>|]*)(?:\|([^<>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^<>|]*)(?:\|([^<>]*))?>")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


def user_text(text: str) -> str:
    """`text` as mrkdwn that shows what the user typed and notifies no one."""
    shown = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    shown = _SLACK_SYNTAX.sub(_words, shown)
    return defuse(mrkdwn_escape(shown))


def plain_text(text: str) -> str:
    """User text for a plain_text object: no control sequences are read there, but `@here` is defused."""
    return defuse(_SLACK_SYNTAX.sub(_words, text))


def mrkdwn_escape(text: str) -> str:
    """The three characters Slack's formatting reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def defuse(text: str) -> str:
    """A zero-width joiner after every `@`, and none of Slack's control sequences survive."""
    return text.replace("@", f"@{ZWJ}").replace("<!", f"<{ZWJ}!")


def unescape(text: str) -> str:
    """Slack escapes `&`, `<`, `>` that a user typed in a slash command; this gives them back."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _words(match: re.Match[str]) -> str:
    sigil, target, label = match.group(1), match.group(2), match.group(3)
    if sigil == "!":
        name = target.split("^", 1)[0]
        if name == "subteam":
            return label or "@group"
        return _SPECIAL.get(name) or label or f"@{name}"
    if sigil == "#":
        return f"#{label or target}"
    return f"@{label or target}"
