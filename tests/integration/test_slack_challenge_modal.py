"""The `/challenge create` modal through the real Bolt app: it opens with the trigger id before any
database work, its fields come from the registry's typed options, and a submission creates the challenge
once (keyed by the view id), refuses agents, and puts form errors on the right block."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.handlers.commands import default_registry
from bot.store.database import add_test_delay
from bot.store.models import AuditEntry, Challenge, ChallengeParticipant
from bot.store.models import Person as Person_
from tests.fakes.slack_api import Person
from tests.slack_support import text_of, view_submission


def _text(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def _number(value: str) -> dict[str, Any]:
    return {"value": {"type": "number_input", "value": value}}


def _select(value: str) -> dict[str, Any]:
    return {"value": {"type": "static_select", "selected_option": {"value": value}}}


def _day(value: str) -> dict[str, Any]:
    return {"value": {"type": "datepicker", "selected_date": value}}


def _checked(value: str) -> dict[str, Any]:
    return {"value": {"type": "checkboxes", "selected_options": [{"value": value}]}}


AHT_SPRINT = {
    "name": _text("AHT sprint"),
    "metric": _select("aht"),
    "type": _select("individual"),
    "goal": _select("absolute"),
    "target": _number("300"),
    "start": _day("2021-04-05"),
    "end": _day("2021-04-16"),
    "team": _text("blue"),
    "gate": _select("csat"),
    "gate_min": _number("3.5"),
    "points": _number("40"),
    "coins": _number("7.5"),
    "badge": _checked("badge"),
}


def _submission(view_id: str, values: dict[str, Any], user: str = "U9") -> dict[str, Any]:
    return view_submission(view_id, "fb_challenge_create", values, user)


def _challenges(fb) -> list[Any]:
    with fb.engine.connect() as connection:
        return list(connection.execute(select(Challenge.__table__)).all())


def test_a_bare_challenge_create_opens_the_modal_with_the_trigger_id_before_database_work(served, fake):
    fb, driver = served
    stall = add_test_delay(fb.engine, 5000)
    try:
        started = time.monotonic()
        response, _name = driver.command("/challenge", "create", user="U9", trigger="777.888.abc")
        assert response.status_code == 200
        [opened] = fake.wait_calls("views.open", timeout=2.5)
        assert time.monotonic() - started < 3.0
    finally:
        event.remove(fb.engine, "before_cursor_execute", stall)
    assert opened.args["trigger_id"] == "777.888.abc"
    view = opened.args["view"]
    assert view["callback_id"] == "fb_challenge_create"
    blocks = {block["block_id"]: block for block in view["blocks"]}
    # one input per typed option of the registry's `challenge create` (leagues: the program has none)
    params = default_registry().get("challenge create").params
    assert set(blocks) == {param.name for param in params} - {"league"}
    assert view["blocks"][0]["block_id"] == "name"
    required = {param.name for param in params if param.required}
    assert required == {"name", "metric", "goal", "target", "start", "end"}
    assert {key for key, block in blocks.items() if not block.get("optional")} == required
    assert blocks["start"]["element"]["type"] == "datepicker"
    assert blocks["target"]["element"] == {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": True,
    }
    assert blocks["baseline"]["element"]["is_decimal_allowed"] is False
    assert blocks["agents"]["element"]["type"] == "multi_users_select"
    assert blocks["optin"]["element"]["type"] == "checkboxes"
    assert [o["value"] for o in blocks["type"]["element"]["options"]] == [
        "individual",
        "team",
        "head-to-head",
    ]
    metrics = [o["value"] for o in blocks["metric"]["element"]["options"]]
    assert metrics[0] == "points" and {"aht", "csat", "fcr"} <= set(metrics)


def test_a_submission_creates_one_challenge_with_the_typed_values_and_a_replay_creates_nothing(served, fake):
    fb, driver = served
    submission = _submission("V500", AHT_SPRINT)
    first = driver.interaction(submission)
    assert first.status_code == 200
    assert not first.content or "errors" not in first.json()
    [announced] = fake.wait_calls("chat.postMessage")
    assert announced.args["channel"] == "CFLOOR"
    assert "AHT sprint" in text_of(announced.args)
    assert driver.interaction(submission).status_code == 200  # Slack retried the same view
    [replayed] = fake.wait_calls("chat.postEphemeral")
    assert replayed.args["user"] == "U9"
    assert "Already" in text_of(replayed.args)
    [challenge] = _challenges(fb)
    assert (challenge.key, challenge.name, challenge.metric) == ("aht-sprint", "AHT sprint", "aht")
    assert (challenge.kind, challenge.goal, challenge.target) == ("individual", "absolute", 300.0)
    assert (challenge.start_day, challenge.end_day) == (date(2021, 4, 5), date(2021, 4, 16))
    assert (challenge.scope, challenge.scope_ref) == ("team", ["blue"])
    assert (challenge.gate_metric, challenge.gate_min, challenge.gate_max) == ("csat", 3.5, None)
    assert (challenge.reward_points, challenge.reward_coins, challenge.reward_badge) == (4000, 750, True)
    with fb.engine.connect() as connection:
        created = list(
            connection.scalars(select(AuditEntry.actor).where(AuditEntry.action == "challenge.create"))
        )
    assert created == ["Sue Boss"]


def test_named_agents_from_the_user_picker_take_part(served, fake):
    fb, driver = served
    values = {key: value for key, value in AHT_SPRINT.items() if key != "team"}
    values |= {
        "name": _text("Duel"),
        "type": _select("head-to-head"),
        "agents": {"value": {"type": "multi_users_select", "selected_users": ["U1", "U2"]}},
    }
    fake.users["U2"] = Person("jim@example.com", "Jim Beam")  # linked by the roster e-mail
    driver.interaction(_submission("V501", values))
    fake.wait_calls("chat.postMessage")
    [challenge] = _challenges(fb)
    assert (challenge.kind, challenge.scope) == ("head-to-head", "agents")
    with fb.engine.connect() as connection:
        taking_part = set(
            connection.scalars(
                select(ChallengeParticipant.person_id).where(
                    ChallengeParticipant.challenge_id == challenge.id
                )
            )
        )
    with fb.engine.connect() as connection:
        names = set(connection.scalars(select(Person_.display_name).where(Person_.id.in_(taking_part))))
    assert names == {"Martha Jones", "Jim Beam"}


def test_an_agent_who_submits_is_refused_and_nothing_is_written(served, fake):
    fb, driver = served
    driver.interaction(_submission("V502", AHT_SPRINT, user="U1"))
    [refused] = fake.wait_calls("chat.postEphemeral")
    assert refused.args["user"] == "U1"
    assert "supervisor" in text_of(refused.args).lower()
    assert _challenges(fb) == []
    assert not fake.of("chat.postMessage")


@pytest.mark.parametrize(
    ("change", "block", "words"),
    [
        ({"end": _day("2021-04-02"), "start": _day("2021-04-09")}, "end", "before it starts"),
        ({"end": _day("2021-03-31"), "start": _day("2021-03-01")}, "end", "before today"),
        ({"goal": _select("top"), "target": _number("2.5")}, "target", "whole number"),
        ({"name": _text("<!channel> cup")}, "name", "needs a name"),
        ({"gate_min": {"value": {"type": "number_input", "value": None}}}, "gate", "gate_min"),
        ({"type": _select("head-to-head")}, "type", "exactly two"),
        ({"optin": _checked("opt-in")}, "team", "exactly one"),
        ({"target": {"value": {"type": "number_input", "value": None}}}, "target", "Fill this in"),
    ],
)
def test_form_errors_come_back_on_their_block_and_nothing_is_written(served, fake, change, block, words):
    fb, driver = served
    response = driver.interaction(_submission("V503", AHT_SPRINT | change))
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block]
    assert words in answer["errors"][block]
    assert _challenges(fb) == []


def test_a_taken_name_and_an_unknown_team_come_back_on_their_blocks(served, fake):
    fb, driver = served
    driver.interaction(_submission("V600", AHT_SPRINT))
    fake.wait_calls("chat.postMessage")
    taken = driver.interaction(_submission("V601", AHT_SPRINT)).json()
    assert taken == {
        "response_action": "errors",
        "errors": {
            "name": "There is already a challenge called AHT sprint; pick another name. Nothing was created."
        },
    }
    unknown = driver.interaction(
        _submission("V602", AHT_SPRINT | {"name": _text("Purple"), "team": _text("purple")})
    )
    assert unknown.json() == {
        "response_action": "errors",
        "errors": {"team": "There is no team purple. Nothing was created."},
    }
    assert [row.name for row in _challenges(fb)] == ["AHT sprint"]


def test_a_stalled_database_still_gets_the_submission_its_ack_in_3_seconds(served, fake):
    fb, driver = served
    _warm, name = driver.command("/me", "", user="U9")  # the first contact happens before the stall
    driver.replies(name)
    released = threading.Event()

    def stall(*_args: Any) -> None:  # released rather than removed: statements are waiting in it
        released.wait(20)

    event.listen(fb.engine, "before_cursor_execute", stall)
    try:
        started = time.monotonic()
        response = driver.interaction(_submission("V603", AHT_SPRINT))
        assert time.monotonic() - started < 3.0
        assert response.status_code == 200
        assert not response.content or "errors" not in response.json()
        assert not fake.of("chat.postMessage")
        released.set()
        [announced] = fake.wait_calls("chat.postMessage", timeout=60)
    finally:
        released.set()
        event.remove(fb.engine, "before_cursor_execute", stall)
    assert "AHT sprint" in text_of(announced.args)
    assert [row.name for row in _challenges(fb)] == ["AHT sprint"]
