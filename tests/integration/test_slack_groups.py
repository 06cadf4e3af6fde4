"""Roles from Slack user groups: a supervisors' group supervises the teams it is configured with (every team
when it lists none), the admins' group grants admin, group members are asked of Slack at most once per
group per cache period and kept through `ratelimited`, and group supervisors are asked to approve links."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.adapters.slack.identity import GroupMembers
from bot.settings import SettingsError, load_settings
from bot.store.models import Identity, LinkRequest
from tests.fakes.slack_api import Person
from tests.slack_support import TEAM, slack_server, text_of

NOT_YOUR_TEAM = "Greg Ory was not in a team you supervise"


def points_of(driver, who: str, user: str = "U1") -> str:
    _response, name = driver.command("/points", f'@"{who}"', user=user)
    return text_of(driver.replies(name)[0])


def group_calls(fake, group: str) -> int:
    return len([c for c in fake.of("usergroups.users.list") if c.args["usergroup"] == group])


def test_a_group_supervises_only_the_teams_it_maps_to(sqlite_url, fake):
    fake.groups["S0BLUE"] = ["U1"]  # Martha, an agent of blue on the roster
    with slack_server(sqlite_url, fake, slack_supervisor_groups="S0BLUE=blue") as (_fb, driver):
        assert "Points: Jim Beam" in points_of(driver, "Jim Beam")  # blue: hers now
        assert NOT_YOUR_TEAM in points_of(driver, "Greg Ory")  # red: not hers
        _response, name = driver.command("/leaderboard", "full", user="U1")
        assert "is for" not in " ".join(text_of(reply) for reply in driver.replies(name))


def test_a_group_without_teams_supervises_every_team(sqlite_url, fake):
    fake.groups["S0SUP"] = ["U1"]
    with slack_server(sqlite_url, fake, slack_supervisor_group="S0SUP") as (_fb, driver):
        assert "Points: Greg Ory" in points_of(driver, "Greg Ory")
        assert "Points: Jim Beam" in points_of(driver, "Jim Beam")
    assert group_calls(fake, "S0SUP") == 1


def test_without_a_group_an_agent_sees_only_themselves(served, fake):
    _fb, driver = served
    assert "You can only see your own points" in points_of(driver, "Greg Ory")
    assert fake.of("usergroups.users.list") == []  # no group configured: Slack is not asked


def test_the_admin_group_makes_an_agent_an_admin(sqlite_url, fake):
    fake.groups["S0ADM"] = ["U1"]
    with slack_server(sqlite_url, fake, slack_admin_group="S0ADM") as (_fb, driver):
        assert "Points: Greg Ory" in points_of(driver, "Greg Ory")  # admins see anyone
        _response, name = driver.command("/adjust", '@"Greg Ory" -1 duplicate survey', user="U1")
        adjusted = text_of(driver.replies(name)[0])
        assert "-1.00 pts for" in adjusted and "duplicate survey" in adjusted
    assert group_calls(fake, "S0ADM") == 1


def test_group_members_are_asked_once_per_group_per_cache_period(sqlite_url, fake):
    fake.groups |= {"S0BLUE": ["U1"], "S0ALL": ["U9"], "S0ADM": ["U7"]}
    settings = {
        "slack_supervisor_groups": "S0BLUE=blue,S0ALL",
        "slack_admin_group": "S0ADM",
        "slack_group_cache_seconds": 300,
    }
    with slack_server(sqlite_url, fake, **settings) as (_fb, driver):
        for user in ("U1", "U9", "U7", "U1", "U9", "U7", "U1"):
            _response, name = driver.command("/points", "", user=user)
            driver.replies(name)
        assert "Points: Jim Beam" in points_of(driver, "Jim Beam")
    assert {group: group_calls(fake, group) for group in ("S0BLUE", "S0ALL", "S0ADM")} == {
        "S0BLUE": 1,
        "S0ALL": 1,
        "S0ADM": 1,
    }


def test_a_ratelimited_answer_keeps_the_roles_and_waits_for_retry_after(sqlite_url, fake):
    fake.groups["S0ALL"] = ["U1"]
    with slack_server(sqlite_url, fake, slack_supervisor_groups="S0ALL", slack_group_cache_seconds=0) as (
        _fb,
        driver,
    ):
        assert "Points: Greg Ory" in points_of(driver, "Greg Ory")  # asked once: a supervisor of every team
        fake.fail("usergroups.users.list", "ratelimited", retry_after=120)
        assert "Points: Greg Ory" in points_of(
            driver, "Greg Ory"
        )  # asked again (no cache): ratelimited, kept
        assert "Points: Greg Ory" in points_of(driver, "Greg Ory")  # not asked: Retry-After is 120 s
    assert group_calls(fake, "S0ALL") == 2
    assert fake.failures[0].seen == 1


def test_group_supervisors_of_the_persons_team_are_asked_to_approve_a_link(sqlite_url, fake):
    fake.groups |= {"S0BLUE": ["U1"], "S0RED": ["U7"]}
    fake.users["U5"] = Person(None, "jimmy")  # no e-mail on Slack: links by agent key
    groups = "S0BLUE=blue,S0RED=red"
    with slack_server(sqlite_url, fake, slack_supervisor_groups=groups) as (fb, driver):
        _response, name = driver.command("/floorboard", "link pwc:Jim", user="U5")
        assert "request #1" in text_of(driver.replies(name)[0])
        asks = fake.wait_calls("chat.postMessage", 2)
        by_user = {call.args["channel"]: call.args for call in asks}
        assert sorted(by_user) == ["U1", "U9"]  # Sue from the roster, Martha from blue's group; not Ann (red)
        for ask in by_user.values():
            assert "asks to be linked to Jim Beam with the agent key pwc:Jim (request #1)" in text_of(ask)
            buttons = next(b for b in ask["blocks"] if b["type"] == "actions")["elements"]
            assert [b["text"]["text"] for b in buttons] == ["Approve", "Deny"]
        assert by_user["U1"]["blocks"] == by_user["U9"]["blocks"]  # the very request the roster's get
        with fb.engine.connect() as connection:
            assert connection.scalar(select(LinkRequest.status)) == "pending"


def test_a_link_request_to_a_team_no_group_covers_asks_no_group_member(sqlite_url, fake):
    fake.groups |= {"S0BLUE": ["U1"]}
    fake.users["U5"] = Person(None, "greg")
    with slack_server(sqlite_url, fake, slack_supervisor_groups="S0BLUE=blue") as (_fb, driver):
        _response, name = driver.command("/floorboard", "link pwc:Greg", user="U5")
        driver.replies(name)
        [ask] = fake.wait_calls("chat.postMessage")
        assert ask.args["channel"] == "U9"  # Greg is red: only Sue, from the roster
        _response, again = driver.command("/points", "", user="U1")
        driver.replies(again)
    assert [c.args["channel"] for c in fake.of("chat.postMessage")] == ["U9"]


def test_a_group_supervisor_approves_a_link_with_the_button(sqlite_url, fake):
    fake.groups["S0BLUE"] = ["U1"]
    fake.users["U5"] = Person(None, "jimmy")
    with slack_server(sqlite_url, fake, slack_supervisor_groups="S0BLUE=blue") as (fb, driver):
        _response, name = driver.command("/floorboard", "link pwc:Jim", user="U5")
        driver.replies(name)
        ask = fake.wait_for(lambda: [c for c in fake.of("chat.postMessage") if c.args["channel"] == "U1"])[0]
        approve = next(b for b in ask.args["blocks"] if b["type"] == "actions")["elements"][0]
        press = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "floor"},
            "user": {"id": "U1", "name": "martha"},
            "trigger_id": "31.31.press",
            "channel": {"id": "DMARTHA"},
            "response_url": fake.response_url("press"),
            "actions": [{"action_id": approve["action_id"], "value": approve["value"], "type": "button"}],
        }
        driver.interaction(press)
        [done] = driver.replies("press")
        assert "now linked to Jim Beam" in text_of(done)
        with fb.engine.connect() as connection:
            assert connection.scalar(select(Identity.key).where(Identity.key == "U5")) == "U5"


def test_the_supervisor_groups_setting_names_what_is_wrong():
    assert load_settings(slack_supervisor_groups="S0EAST=east;north, S0ALL").slack_supervisor_groups == {
        "S0EAST": ("east", "north"),
        "S0ALL": (),
    }
    with pytest.raises(SettingsError) as caught:
        load_settings(slack_supervisor_groups="east=S0EAST")
    assert (
        "FLOORBOARD_SLACK_SUPERVISOR_GROUPS: 'east=S0EAST' does not start with a Slack user group id"
        in str(caught.value)
    )


async def test_group_members_are_asked_again_after_the_cache_period_and_after_retry_after(fake):
    fake.groups["S0X"] = ["U1"]
    now = [1000.0]
    members = GroupMembers(300, lambda: now[0])
    client = AsyncWebClient(token="xoxb-test-token", base_url=fake.api_url)
    for _ in range(5):
        assert await members.of(client, "S0X") == {"U1"}
    now[0] += 299
    assert await members.of(client, "S0X") == {"U1"}
    assert group_calls(fake, "S0X") == 1
    fake.groups["S0X"] = ["U1", "U2"]
    now[0] += 2  # the cache period is over: Slack is asked again
    assert await members.of(client, "S0X") == {"U1", "U2"}
    assert group_calls(fake, "S0X") == 2
    fake.fail("usergroups.users.list", "ratelimited", retry_after=30)
    now[0] += 301
    assert await members.of(client, "S0X") == {"U1", "U2"}  # ratelimited: the members known stay
    now[0] += 29
    assert await members.of(client, "S0X") == {"U1", "U2"}  # within Retry-After: not asked
    assert group_calls(fake, "S0X") == 3
    now[0] += 2
    fake.groups["S0X"] = ["U2"]
    assert await members.of(client, "S0X") == {"U2"}
    assert group_calls(fake, "S0X") == 4
