"""Slash commands through the real Bolt app over HTTP, answered to a fake Slack Web API of ours."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.store.models import Kudos
from tests.fakes.slack_api import BROADCASTS, Person
from tests.slack_support import slack_server, text_of


@pytest.fixture
def served_any(database_url, fake):
    """SQLite and PostgreSQL: the delivery claim is a unique key on both."""
    with slack_server(database_url, fake) as (fb, driver):
        yield fb, driver


def kudos_count(fb) -> int:
    with fb.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Kudos)) or 0)


def test_help_through_the_root_command_is_ephemeral(served, fake):
    _fb, driver = served
    response, name = driver.command("/floorboard", "help")
    assert response.status_code == 200
    [reply] = driver.replies(name)
    assert reply["response_type"] == "ephemeral"
    text = text_of(reply)
    assert "/leaderboard" in text and "/link" in text and "/kudos" in text


def test_kudos_mentions_post_to_the_team_channel_and_dm_each_recipient(served, fake):
    fb, driver = served
    fake.users["U2"] = Person("jim@example.com", "jim")  # Jim is linked through users.info by e-mail
    response, name = driver.command("/kudos", "<@U2|jim> great save on a hard call")
    assert response.status_code == 200
    [confirm] = driver.replies(name)
    assert confirm["response_type"] == "ephemeral"
    assert "Kudos sent to <@U2>" in text_of(confirm)
    posts = fake.wait_calls("chat.postMessage", 2)
    by_channel = {call.args["channel"]: text_of(call.args) for call in posts}
    assert "<@U1> gave kudos to <@U2>: great save on a hard call" in by_channel["CBLUE"]
    assert "<@U1> gave you kudos: great save on a hard call" in by_channel["U2"]
    assert kudos_count(fb) == 1


def test_several_people_in_one_command_and_the_root_form(served, fake):
    fb, driver = served
    fake.users["U2"] = Person("jim@example.com", "jim")
    _response, name = driver.command("/floorboard", "kudos <@U2|jim> <@U9> thanks for covering")
    [confirm] = [reply for reply in driver.replies(name) if reply["response_type"] == "ephemeral"]
    assert "Kudos sent to <@U2> and <@U9>" in text_of(confirm)
    assert kudos_count(fb) == 2


def test_an_unresolved_handle_is_refused_and_nothing_is_written(served, fake):
    fb, driver = served
    _response, name = driver.command("/kudos", "<@U1> <@U404|ghost> thanks")
    [refusal] = driver.replies(name)
    assert refusal["response_type"] == "ephemeral"
    assert "I don't know anyone called" in text_of(refusal)
    assert "<@U404" not in fake.everything()  # the unknown user is named, never mentioned
    assert kudos_count(fb) == 0
    assert fake.of("chat.postMessage") == []


def test_user_text_never_broadcasts_or_mentions(served, fake):
    fb, driver = served
    fake.users["U2"] = Person("jim@example.com", "jim")
    reason = (
        "&lt;wow&gt; <!channel> <!here> <!everyone> @here @channel @everyone <@U9|sue> <!subteam^S1|@team> ok"
    )
    _response, name = driver.command("/kudos", f"<@U2> {reason}")
    driver.replies(name)
    fake.wait_calls("chat.postMessage", 2)
    _response, why = driver.command("/points", "why", user="U1")
    driver.replies(why)
    recorded = fake.everything()
    for broadcast in BROADCASTS:
        assert broadcast not in recorded, broadcast
    assert "<@U9" not in recorded  # a user mention inside the reason notifies no one
    post = next(call for call in fake.of("chat.postMessage") if call.args["channel"] == "CBLUE")
    shown = text_of(post.args).replace("\u200d", "")
    assert "&lt;wow&gt; @channel @here @everyone @here @channel @everyone @sue @team ok" in shown
    assert kudos_count(fb) == 1


def test_a_retried_command_applies_once(served_any, fake):
    fb, driver = served_any
    trigger = "13345224609.738474920.8088930838d88f008e0"
    first, name = driver.command("/kudos", "<@U9> thanks for the cover", trigger=trigger)
    again, replay = driver.command("/kudos", "<@U9> thanks for the cover", trigger=trigger, retry=1)
    assert first.status_code == again.status_code == 200
    # the two run at once; whichever claims the trigger id first gives the kudos, the other says so
    answers = sorted(text_of(driver.replies(key)[0]).split(" ")[0] for key in (name, replay))
    assert answers == ["Already", "Kudos"]
    assert kudos_count(fb) == 1
    # the same words under a new delivery are new kudos: the key is the delivery, not the content
    _response, other = driver.command("/kudos", "<@U9> thanks for the cover")
    assert "Kudos sent" in text_of(driver.replies(other)[0])
    assert kudos_count(fb) == 2


def test_every_short_command_and_the_root_form_answer(served, fake):
    _fb, driver = served
    for command, text, private in [
        ("/leaderboard", "", False),
        ("/floorboard", "leaderboard points month", False),
        ("/points", "", True),
        ("/floorboard", "points why", True),
        ("/me", "", True),
        ("/floorboard", "me", True),
        ("/help", "", True),
        ("/floorboard", "optout", True),
        ("/floorboard", "optin", True),
        ("/badges", "", True),
        ("/challenge", "list", True),
        ("/floorboard", "challenge list", True),
        ("/rewards", "", True),
        ("/redemptions", "", True),
    ]:
        response, name = driver.command(command, text)
        assert response.status_code == 200, (command, text)
        replies = driver.replies(name)
        types = {reply["response_type"] for reply in replies}
        assert types == {"ephemeral"} if private else "ephemeral" in types or "in_channel" in types
    assert not [c.args for c in fake.of("respond") if "There is no command" in text_of(c.args)]
    [hidden] = [c.args for c in fake.of("respond") if "no longer show you" in text_of(c.args)]
    assert hidden["response_type"] == "ephemeral"


def test_supervisor_sees_an_agents_points_but_an_agent_does_not(served, fake):
    _fb, driver = served
    _response, sue = driver.command("/points", '@"Martha Jones"', user="U9")
    assert "Martha Jones" in text_of(driver.replies(sue)[0])
    _response, martha = driver.command("/points", "<@U9>", user="U1")
    assert "You can only see your own points" in text_of(driver.replies(martha)[0])


def test_a_stranger_workspace_is_refused_after_the_first_contact_binds(served, fake):
    _fb, driver = served
    _response, first = driver.command("/me", "", user="U1")
    driver.replies(first)
    response, other = driver.command("/me", "", user="U1", team="T2")
    assert response.status_code == 200
    assert "another Slack workspace" in text_of(driver.replies(other)[0])
