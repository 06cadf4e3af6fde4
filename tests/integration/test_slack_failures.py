"""After the ack: a failure in the kudos modal, a button or App Home is logged once and the user is told
privately; kudos refuse bots and unknown users picked in the modal, and nothing is written."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from bot.handlers.commands import default_registry
from bot.handlers.registry import CommandSpec, Registry
from bot.store.models import Kudos
from tests.fakes.slack_api import BROADCASTS, Person
from tests.slack_support import TEAM, kudos_submission, slack_server, text_of

SORRY = "Sorry, something went wrong while working on that; nothing more will happen."


def broken(_command, _ctx):
    raise RuntimeError("the database went away")


def registry_with(name: str) -> Registry:
    """The default registry, with `name` failing (an unknown name is added as a failing command)."""
    registry = default_registry()
    spec = registry.get(name)
    if spec is None:
        registry.add(CommandSpec(name=name, help="fails", handler=broken))
    else:
        registry.commands[name] = replace(spec, handler=broken)
    return registry


def kudos_count(fb) -> int:
    with fb.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Kudos)) or 0)


def press(value: str, *, response_url: str | None) -> dict:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "floor"},
        "user": {"id": "U9", "name": "sue"},
        "trigger_id": "818.818.press",
        "channel": {"id": "DSUE", "name": "directmessage"},
        "actions": [{"action_id": "fb_action_0", "value": value, "type": "button"}],
    }
    if response_url:
        payload["response_url"] = response_url
    return payload


def failures_logged(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_failing_kudos_submission_is_answered_privately_and_logged_once(sqlite_url, fake, caplog):
    caplog.set_level(logging.WARNING)
    with slack_server(sqlite_url, fake, registry=registry_with("kudos")) as (fb, driver):
        assert driver.interaction(kudos_submission("V1", ["U9"], "great escalation")).status_code == 200
        [sorry] = fake.wait_calls("chat.postEphemeral")
        assert (sorry.args["channel"], sorry.args["user"]) == ("CFLOOR", "U1")
        assert SORRY in text_of(sorry.args)
        assert kudos_count(fb) == 0
    [logged] = failures_logged(caplog)
    assert logged.getMessage() == "the kudos modal failed after its ack"
    assert "the database went away" in str(logged.exc_info[1])


def test_a_failing_button_is_answered_through_its_response_url_and_logged_once(sqlite_url, fake, caplog):
    caplog.set_level(logging.WARNING)
    with slack_server(sqlite_url, fake, registry=registry_with("boom")) as (_fb, driver):
        value = '{"command":"boom","args":{}}'
        assert driver.interaction(press(value, response_url=fake.response_url("pressed"))).status_code == 200
        [sorry] = driver.replies("pressed")
        assert sorry["response_type"] == "ephemeral" and sorry["replace_original"] is False
        assert SORRY in text_of(sorry)
    [logged] = failures_logged(caplog)
    assert logged.getMessage() == "a button failed after its ack"


def test_a_failing_home_tab_button_without_a_response_url_is_answered_ephemerally(sqlite_url, fake, caplog):
    caplog.set_level(logging.WARNING)
    with slack_server(sqlite_url, fake, registry=registry_with("boom")) as (_fb, driver):
        driver.interaction(press('{"command":"boom","args":{}}', response_url=None))
        [sorry] = fake.wait_calls("chat.postEphemeral")
        assert sorry.args["channel"] == "DSUE" and SORRY in text_of(sorry.args)
    assert len(failures_logged(caplog)) == 1


def test_a_failing_app_home_shows_an_error_section_and_is_logged_once(sqlite_url, fake, caplog):
    caplog.set_level(logging.WARNING)
    with slack_server(sqlite_url, fake, registry=registry_with("me")) as (_fb, driver):
        driver.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
        [published] = fake.wait_calls("views.publish")
        assert published.args["user_id"] == "U1"
        view = published.args["view"]
        assert view["type"] == "home"
        assert [block["type"] for block in view["blocks"]] == ["header", "section"]
        assert view["blocks"][0]["text"]["text"] == "Floorboard"
        assert view["blocks"][1]["text"]["text"].startswith(SORRY)
    [logged] = failures_logged(caplog)
    assert logged.getMessage() == "App Home for U1 failed after its ack"


def test_a_failing_shortcut_says_so_by_dm(sqlite_url, fake, caplog):
    caplog.set_level(logging.WARNING)
    fake.errors["views.open"] = "expired_trigger_id"
    with slack_server(sqlite_url, fake) as (_fb, driver):
        shortcut = {
            "type": "message_action",
            "callback_id": "give_kudos",
            "trigger_id": "1.2.late",
            "team": {"id": TEAM},
            "user": {"id": "U1", "name": "martha"},
            "channel": {"id": "CFLOOR"},
            "message": {"type": "message", "user": "U9", "text": "hi", "ts": "1617278000.000100"},
        }
        driver.interaction(shortcut)
        [sorry] = fake.wait_calls("chat.postEphemeral")
        assert (sorry.args["channel"], sorry.args["user"]) == ("CFLOOR", "U1")
        assert SORRY in text_of(sorry.args)
    assert [r.getMessage() for r in failures_logged(caplog)] == ["the kudos shortcut failed after its ack"]


@pytest.mark.parametrize("bot", [Person(None, "Polly", bot=True), Person(None, "Slackbot")])
def test_kudos_to_a_bot_user_are_refused_and_nothing_is_written(served, fake, bot):
    fb, driver = served
    user = "UPOLLY" if bot.bot else "USLACKBOT"  # Slackbot: users.info does not say is_bot
    fake.users[user] = bot
    fake.users["U2"] = Person("jim@example.com", "jim")
    _response, name = driver.command("/kudos", f"<@U2> <@{user}|{bot.name.lower()}> thanks for the help")
    [refusal] = driver.replies(name)
    assert refusal["response_type"] == "ephemeral"
    assert f"{bot.name} is a bot account; kudos are for people. Nothing was sent." in text_of(refusal)
    assert kudos_count(fb) == 0
    assert fake.of("chat.postMessage") == []


def test_a_bot_named_in_the_reason_is_only_words(served, fake):
    fb, driver = served
    fake.users["UPOLLY"] = Person(None, "Polly", bot=True)
    _response, name = driver.command("/kudos", "<@U9> fixed what <@UPOLLY> flagged")
    assert "Kudos sent to <@U9>" in text_of(driver.replies(name)[0])
    assert kudos_count(fb) == 1


def test_a_bot_picked_in_the_kudos_modal_is_refused_and_nothing_is_written(served, fake):
    fb, driver = served
    fake.users["UPOLLY"] = Person(None, "Polly", bot=True)
    driver.interaction(kudos_submission("V2", ["U9", "UPOLLY"], "thanks"))
    [refusal] = fake.wait_calls("chat.postEphemeral")
    assert "Polly is a bot account; kudos are for people. Nothing was sent." in text_of(refusal.args)
    assert kudos_count(fb) == 0
    assert fake.of("chat.postMessage") == []


def test_an_unknown_user_picked_in_the_kudos_modal_is_refused_and_nothing_is_written(served, fake):
    fb, driver = served
    fake.users["U404"] = Person("nobody@elsewhere.example", "ghost")  # on Slack, not on the roster
    driver.interaction(kudos_submission("V3", ["U9", "U404"], "thanks for the cover <!here>"))
    [refusal] = fake.wait_calls("chat.postEphemeral")
    assert (refusal.args["channel"], refusal.args["user"]) == ("CFLOOR", "U1")
    assert "I don't know anyone called" in text_of(refusal.args)
    assert "<@U404" not in fake.everything()  # named, never mentioned
    assert kudos_count(fb) == 0
    assert fake.of("chat.postMessage") == []
    for broadcast in BROADCASTS:
        assert broadcast not in fake.everything()
