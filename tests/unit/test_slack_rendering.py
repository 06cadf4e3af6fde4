"""Slack rendering without a server: escaping, Block Kit limits and paging, routing, mode, manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from bot.adapters.slack.app import SlackNotConfigured, slack_mode
from bot.adapters.slack.blocks import BLOCKS_PER_MESSAGE, PAGE_CHARS, SECTION_CHARS, render_message
from bot.adapters.slack.bridge import route_command
from bot.adapters.slack.escape import ZWJ, user_text
from bot.adapters.slack.manifest import manifest
from bot.handlers.commands import default_registry
from bot.handlers.contract import CALLER, Action, Fields, Mention, Message, Table, Text, UserText
from bot.settings import load_settings
from tests.cli_support import cli

REPO = Path(__file__).resolve().parents[2]
NOTIFYING = re.compile(r"<[!@#]|(?<![\w\u200d])@(here|channel|everyone)\b")


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("<!channel> look", "@channel look"),
        ("<!here|here> and <!everyone>", "@here and @everyone"),
        ("raw @here and @channel and @everyone", "raw @here and @channel and @everyone"),
        ("thanks <@U123|jim> and <@W9>", "thanks @jim and @W9"),
        ("<!subteam^S1|@support> & <b>", "@support &amp; &lt;b&gt;"),
        ("see <https://x.example|the doc> in <#C1|floor>", "see the doc (https://x.example) in #floor"),
    ],
)
def test_user_text_reads_the_same_and_notifies_no_one(typed, shown):
    safe = user_text(typed)
    assert safe.replace(ZWJ, "") == shown
    assert not NOTIFYING.search(safe), safe


def test_a_mention_segment_is_a_real_mention_only_when_linked():
    message = Message(CALLER, (Mention(1, "Martha"), Text(" thanks "), Mention(2, "<!here> Jim")))
    [page] = render_message(message, {1: "U1"}.get)
    text = page.blocks[0]["text"]["text"]
    assert text.startswith("<@U1> thanks *")
    assert "<!here" not in text and "&lt;!" in text


def test_a_long_board_is_paged_within_slack_limits():
    rows = tuple(
        (str(rank), f"Agent number {rank}", f"{rank / 7:.2f}", str(rank * 3)) for rank in range(1, 3001)
    )
    board = Message(CALLER, (Table(("#", "Agent", "CSAT", "Surveys"), rows),), title="CSAT leaderboard")
    pages = render_message(board, lambda _person: None)
    assert len(pages) > 1
    shown_rows = []
    for number, page in enumerate(pages, start=1):
        assert len(page.blocks) <= BLOCKS_PER_MESSAGE
        assert len(json.dumps(page.blocks)) <= PAGE_CHARS + 200  # the page note rides on top
        assert page.blocks[-1]["elements"][0]["text"] == f"page {number} of {len(pages)}"
        for block in page.blocks:
            if block["type"] == "section":
                text = block["text"]["text"]
                assert len(text) <= SECTION_CHARS
                lines = text.strip("`\n").splitlines()
                assert lines[0].split() == ["#", "Agent", "CSAT", "Surveys"]  # the header repeats
                shown_rows.extend(lines[1:])
    assert len(shown_rows) == 3000  # every row, once
    assert shown_rows[-1].split() == ["3000", "Agent", "number", "3000", "428.57", "9000"]


def test_fields_and_buttons_become_sections_and_actions():
    fields = Fields(tuple((f"name {i}", f"value {i}") for i in range(12)))
    message = Message(CALLER, (fields, UserText("ok")), actions=(Action("Approve", "link", {"key": "3"}),))
    [page] = render_message(message, lambda _person: None)
    kinds = [block["type"] for block in page.blocks]
    assert kinds == ["section", "section", "section", "actions"]
    assert len(page.blocks[0]["fields"]) == 10 and len(page.blocks[1]["fields"]) == 2
    assert page.blocks[3]["elements"][0]["value"] == '{"command":"link","args":{"key":"3"}}'


def test_root_command_routes_to_registry_commands():
    registry = default_registry()
    assert route_command("/floorboard", "kudos <@U1> thanks", registry) == ("kudos", "<@U1> thanks")
    assert route_command("/floorboard", "optout", registry) == ("floorboard", "optout")
    assert route_command("/floorboard", "", registry) == ("floorboard", "help")
    assert route_command("/floorboard", "link pwc:Martha", registry) == ("link", "pwc:Martha")
    assert route_command("/leaderboard", "csat month", registry) == ("leaderboard", "csat month")
    assert route_command("/challenge", "create aht improvement x", registry) == (
        "challenge create",
        "aht improvement x",
    )
    assert route_command("/floorboard", "challenge list", registry) == ("challenge list", "")
    assert route_command("/challenge", "", registry) == ("challenge", "")


def test_mode_follows_the_settings():
    assert slack_mode(load_settings()) is None
    assert slack_mode(load_settings(slack_bot_token="xoxb-1", slack_signing_secret="s")) == "http"
    assert slack_mode(load_settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1")) == "socket"
    with pytest.raises(SlackNotConfigured, match="FLOORBOARD_SLACK_SIGNING_SECRET"):
        slack_mode(load_settings(slack_bot_token="xoxb-1"))
    with pytest.raises(SlackNotConfigured, match="FLOORBOARD_SLACK_BOT_TOKEN"):
        slack_mode(load_settings(slack_app_token="xapp-1"))


def test_the_manifest_in_the_repository_declares_every_command():
    stored = yaml.safe_load((REPO / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    registry = default_registry()
    assert stored == manifest(registry, url="https://floorboard.example.com")
    declared = {command["command"] for command in stored["features"]["slash_commands"]}
    assert declared == {f"/{spec.name.split(' ')[0]}" for spec in registry} - {"/me", "/help"}
    assert all(" " not in command for command in declared)
    challenge = next(c for c in stored["features"]["slash_commands"] if c["command"] == "/challenge")
    assert set(challenge["usage_hint"].split(" | ")) == {"create", "list", "join", "status", "end", "cancel"}
    hint = stored["features"]["slash_commands"][0]["usage_hint"]
    assert {"me", "help", "optout", "optin", "link"} <= set(hint.split(" | "))
    assert all(len(command["description"]) <= 100 for command in stored["features"]["slash_commands"])
    socket = manifest(registry, url=None)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in socket["features"]["slash_commands"][0]


def test_team_channel_from_the_command_line(tmp_path):
    from tests.cli_support import cli
    from tests.conftest import make_app
    from tests.slack_support import seed_roster

    url = f"sqlite:///{tmp_path / 'fb.db'}"
    fb = make_app(url)
    seed_roster(fb)
    fb.close()
    assert "Team red now posts to Slack channel CRED" in cli(url, "slack", "channel", "red", "CRED")
    assert "no team 'green'" in cli(url, "slack", "channel", "green", "CX", code=1)
    fb = make_app(url)
    with fb.engine.connect() as connection:
        from bot.services import people

        red = people.team_by_key(connection, "red")
        assert people.team_channel(connection, red.id, "slack") == "CRED"
    fb.close()


def test_the_manifest_command_wants_a_public_https_url():
    for url in ("http://floorboard.example.com", "javascript:alert(1)", "https://"):
        refused = cli("sqlite:///:memory:", "slack", "manifest", "--url", url, code=1)
        assert "--url must be the public https:// address" in refused, url
    printed = cli("sqlite:///:memory:", "slack", "manifest", "--url", "https://fb.example.com")
    assert "https://fb.example.com/slack/events" in printed
