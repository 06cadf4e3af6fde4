"""Slack beyond typed commands: the 3-second ack, App Home, the kudos shortcut and modal, buttons,
linking (e-mail, agent key approved by a supervisor), user-group roles and the Notifier."""

from __future__ import annotations

import threading
import time

from sqlalchemy import event, func, select

from bot.adapters.slack.app import create_slack
from bot.adapters.slack.home import HOME_COMMANDS
from bot.handlers.commands import default_registry
from bot.handlers.contract import Destination, DestinationKind, Mention, Message, Text, UserText
from bot.handlers.registry import CommandSpec
from bot.store.database import add_test_delay
from bot.store.models import Identity, Kudos, LinkRequest
from tests.fakes.slack_api import BROADCASTS, Person
from tests.slack_support import TEAM, kudos_submission, slack_server, text_of


def count(fb, model) -> int:
    with fb.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def test_the_ack_comes_within_3_seconds_while_the_database_stalls_5(served, fake):
    fb, driver = served
    _warm, name = driver.command("/me", "")  # auth.test and the first contact happen before the stall
    driver.replies(name)
    stalling = threading.Event()
    stalling.set()

    def stall(*_args: object) -> None:  # switched off rather than removed: a statement may be in it
        if stalling.is_set():
            time.sleep(5)

    event.listen(fb.engine, "before_cursor_execute", stall)
    started = time.monotonic()
    response, name = driver.command("/leaderboard", "")
    acked = time.monotonic() - started
    assert response.status_code == 200
    assert acked < 3.0, acked
    assert not [c for c in fake.of("respond") if c.args["_response_url"] == name]  # the work is still stalled
    stalling.clear()
    replies = driver.replies(name, timeout=60)
    assert text_of(replies[0]).startswith("Your Points rank")  # the answer itself, not an apology


def test_an_error_right_after_the_ack_keeps_the_ack_and_says_sorry(sqlite_url, fake):
    def broken(_command, _ctx):
        raise RuntimeError("the database went away")

    registry = default_registry()
    registry.add(CommandSpec(name="broken", help="fails", handler=broken))
    with slack_server(sqlite_url, fake, registry=registry) as (_fb, driver):
        started = time.monotonic()
        response, name = driver.command("/floorboard", "broken")
        assert response.status_code == 200
        assert time.monotonic() - started < 3.0
        [sorry] = driver.replies(name)
        assert sorry["response_type"] == "ephemeral"
        assert "something went wrong" in sorry["text"]


def test_app_home_shows_rank_points_and_level(served, fake):
    _fb, driver = served
    response = driver.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    assert response.status_code == 200
    [published] = fake.wait_calls("views.publish")
    assert published.args["user_id"] == "U1"
    home = text_of(published.args["view"])
    assert "Martha Jones" in home
    for field in ("Rank", "Level", "Coins"):
        assert field in home, field


def test_app_home_shows_the_open_challenges(served, fake):
    _fb, driver = served
    created, name = driver.command(
        "/challenge", 'create csat absolute 4.5 2021-04-01 2021-04-09 blue points=10 "Blue stars"', user="U9"
    )
    assert created.status_code == 200
    driver.replies(name)
    _cancelled, name = driver.command(
        "/challenge", 'create fcr top 1 2021-04-01 2021-04-09 red "Red cup"', user="U9"
    )
    driver.replies(name)
    _done, name = driver.command("/challenge", "cancel reason=typo Red cup", user="U9")
    driver.replies(name)
    driver.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    [published] = fake.wait_calls("views.publish")
    home = text_of(published.args["view"])
    assert "Open challenges" in home
    assert (
        "• Blue stars: individual challenge on CSAT, reach 4.50, 2021-04-01 to 2021-04-09; team blue" in home
    )
    assert "Red cup" not in home  # cancelled: no longer open


def test_every_app_home_section_is_a_registered_command():
    registry = default_registry()
    assert [name for name, _text in HOME_COMMANDS if registry.get(name) is None] == []


def test_app_home_of_an_unlinked_user_explains_linking(served, fake):
    _fb, driver = served
    driver.event({"type": "app_home_opened", "user": "U55", "channel": "D2", "tab": "home"})
    [published] = fake.wait_calls("views.publish")
    assert "/floorboard link" in text_of(published.args["view"])


def _shortcut(author: str, trigger: str) -> dict:
    return {
        "type": "message_action",
        "callback_id": "give_kudos",
        "trigger_id": trigger,
        "team": {"id": TEAM, "domain": "floor"},
        "user": {"id": "U1", "name": "martha"},
        "channel": {"id": "CFLOOR", "name": "floor"},
        "message": {
            "type": "message",
            "user": author,
            "text": "I took the escalation",
            "ts": "1617278000.000100",
        },
        "message_ts": "1617278000.000100",
        "response_url": "http://127.0.0.1:9/unused",
    }


def test_give_kudos_shortcut_opens_a_prefilled_modal_whose_submission_gives_once(served, fake):
    fb, driver = served
    assert driver.interaction(_shortcut("U9", "111.222.abc")).status_code == 200
    [opened] = fake.wait_calls("views.open")
    assert opened.args["trigger_id"] == "111.222.abc"
    view = opened.args["view"]
    assert view["callback_id"] == "fb_kudos"
    assert view["blocks"][0]["element"]["initial_users"] == ["U9"]
    submission = kudos_submission("V123", ["U9"], "took the escalation <!here>")
    assert driver.interaction(submission).status_code == 200
    assert driver.interaction(submission).status_code == 200  # Slack retried the same view
    fake.wait_calls("chat.postEphemeral", 2)  # one gives, the other (whichever claims second) says so
    assert count(fb, Kudos) == 1
    answers = sorted(text_of(c.args).split(" ")[0] for c in fake.of("chat.postEphemeral"))
    assert answers == ["Already", "Kudos"]
    confirm = next(c.args for c in fake.of("chat.postEphemeral") if "Kudos sent" in text_of(c.args))
    assert confirm["channel"] == "CFLOOR" and confirm["user"] == "U1"
    assert "Kudos sent to <@U9>" in text_of(confirm)
    for broadcast in BROADCASTS:
        assert broadcast not in fake.everything()


def test_a_bare_kudos_opens_the_modal_before_any_database_work(served, fake):
    fb, driver = served
    stall = add_test_delay(fb.engine, 5000)
    try:
        started = time.monotonic()
        response, _name = driver.command("/kudos", "", trigger="555.666.xyz")
        assert response.status_code == 200
        [opened] = fake.wait_calls("views.open", timeout=2.5)
        assert time.monotonic() - started < 3.0  # the trigger id was used within its 3 seconds
        assert opened.args["trigger_id"] == "555.666.xyz"
    finally:
        event.remove(fb.engine, "before_cursor_execute", stall)


def test_link_by_agent_key_approved_by_a_supervisor_button(served, fake):
    fb, driver = served
    fake.users["U5"] = Person(None, "greg")  # no e-mail on Slack: e-mail linking cannot work
    _response, name = driver.command("/floorboard", "link pwc:Greg", user="U5")
    assert "request #1" in text_of(driver.replies(name)[0])
    [ask] = fake.wait_calls("chat.postMessage")
    assert ask.args["channel"] == "U9"  # Sue supervises Greg's team
    buttons = next(b for b in ask.args["blocks"] if b["type"] == "actions")["elements"]
    approve = next(b for b in buttons if b["text"]["text"] == "Approve")
    press = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "floor"},
        "user": {"id": "U9", "name": "sue"},
        "trigger_id": "999.888.press",
        "channel": {"id": "DSUE", "name": "directmessage"},
        "response_url": fake.response_url("press"),
        "actions": [{"action_id": approve["action_id"], "value": approve["value"], "type": "button"}],
    }
    assert driver.interaction(press).status_code == 200
    [done] = driver.replies("press")
    assert "now linked to Greg Ory" in text_of(done)
    fake.wait_for(lambda: [c for c in fake.of("chat.postMessage") if c.args["channel"] == "U5"])
    with fb.engine.connect() as connection:
        status = connection.scalar(select(LinkRequest.status))
        linked = connection.scalar(select(Identity.key).where(Identity.kind == "slack", Identity.key == "U5"))
    assert (status, linked) == ("approved", "U5")
    _response, me = driver.command("/me", "", user="U5")
    assert "Greg Ory" in text_of(driver.replies(me)[0])


def test_link_is_refused_for_an_unknown_key_and_for_agents_deciding(served, fake):
    fb, driver = served
    _response, name = driver.command("/floorboard", "link pwc:Nobody", user="U6")
    assert "No one on the roster has the agent key pwc:Nobody" in text_of(driver.replies(name)[0])
    _response, name = driver.command("/floorboard", "link approve 1", user="U1")
    assert "Only supervisors" in text_of(driver.replies(name)[0])
    assert count(fb, LinkRequest) == 0


def test_link_by_roster_email_through_users_info(served, fake):
    _fb, driver = served
    fake.users["U2"] = Person("JIM@example.com", "jim")
    _response, name = driver.command("/points", "", user="U2")
    assert "Jim Beam" in text_of(driver.replies(name)[0])
    assert [c.args["user"] for c in fake.of("users.info")] == ["U2"]
    _response, again = driver.command("/points", "", user="U2")
    driver.replies(again)
    assert len(fake.of("users.info")) == 1  # linked now: no second lookup


def test_supervisor_role_from_a_slack_user_group(sqlite_url, fake):
    fake.groups["S0SUP"] = ["U1"]
    with slack_server(sqlite_url, fake, slack_supervisor_group="S0SUP") as (_fb, driver):
        _response, name = driver.command("/leaderboard", "full", user="U1")
        replies = driver.replies(name)
        assert "is for" not in " ".join(text_of(r) for r in replies)
        assert fake.of("usergroups.users.list")[0].args["usergroup"] == "S0SUP"


async def test_notifier_posts_dms_and_uploads(sqlite_url, fake):
    from tests.conftest import make_app
    from tests.slack_support import seed_roster, slack_settings

    fb = make_app(sqlite_url, **slack_settings(fake))
    try:
        seed_roster(fb)
        from bot.services import workspaces

        with fb.engine.begin() as connection:
            workspaces.bind(connection, "slack", TEAM, fb.clock())
        notifier = create_slack(fb, fb.settings, default_registry()).notifier
        message = Message(
            Destination(DestinationKind.TEAM_CHANNEL),
            (Mention(1, "Martha Jones"), Text(" earned a badge: "), UserText("<!channel> hi")),
            title="New badge",
        )
        ts = await notifier.post("CBLUE", message)
        assert ts
        await notifier.dm(1, Message(Destination(DestinationKind.DM, person_id=1), (Text("hello"),)))
        file_id = await notifier.upload("CBLUE", "board.png", b"\x89PNG-bytes", "Board")
        assert file_id
        post, dm = fake.of("chat.postMessage")
        assert post.args["channel"] == "CBLUE" and "<@U1> earned a badge" in text_of(post.args)
        assert dm.args["channel"] == "U1"
        assert fake.uploads[file_id] == b"\x89PNG-bytes"
        [complete] = fake.of("files.completeUploadExternal")
        assert complete.args["channel_id"] == "CBLUE"
        for broadcast in BROADCASTS:
            assert broadcast not in fake.everything()
    finally:
        fb.close()


def test_a_modal_confirmation_falls_back_to_a_dm_when_the_bot_is_not_in_the_channel(served, fake):
    fb, driver = served
    fake.errors["chat.postEphemeral"] = "not_in_channel"
    driver.interaction(kudos_submission("V777", ["U9"], "great escalation handling"))
    [dm] = fake.wait_for(lambda: [c for c in fake.of("chat.postMessage") if c.args["channel"] == "U1"])
    assert "Kudos sent to <@U9>" in text_of(dm.args)
    assert count(fb, Kudos) == 1


def test_the_events_url_answers_slacks_verification_challenge(served, fake):
    import json as json_module

    from tests.slack_support import signed_headers

    _fb, driver = served
    body = json_module.dumps(
        {
            "token": "legacy",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    headers = {"Content-Type": "application/json", **signed_headers(body)}
    response = driver.http.post(driver.url, content=body, headers=headers)
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text
    stale = signed_headers(body, timestamp=int(time.time()) - 600)  # a replay of an old signed request
    assert (
        driver.http.post(
            driver.url, content=body, headers={"Content-Type": "application/json", **stale}
        ).status_code
        == 401
    )
