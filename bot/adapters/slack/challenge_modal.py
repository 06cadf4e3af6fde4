"""The `/challenge create` modal: opened by a bare `/challenge create`, one input per typed option of the
registry's `challenge create`, and a submission that runs that same command keyed by the view id.

Slack wants a submission answered within 3 seconds, errors included. The checks that need no database
(types, window, goal, gate, who in form) come back on their fields, and so do a taken name or an unknown
team when the database answers within `REFERENCE_BUDGET`; the handler's own refusals (the caller's role,
a team they do not supervise, and the rest when the database was slow) arrive as a private reply, with
nothing written.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    InputInteractiveElement,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.bridge import Bridge, Origin
from bot.adapters.slack.identity import PLATFORM
from bot.adapters.slack.modals import submitter
from bot.handlers.commands.challenge import challenge_spec, refusal_text
from bot.handlers.contract import Param, ParamKind
from bot.handlers.replies import private
from bot.messages import formats, has, render
from bot.program import Program
from bot.services import challenges, deliveries
from bot.services.challenges import ChallengeRefused, ChallengeSpec
from bot.services.leaderboard import metric_names

log = logging.getLogger(__name__)

COMMAND = "challenge create"
CALLBACK = "fb_challenge_create"
ACTION = "value"
REFERENCE_BUDGET = 1.5  # seconds of the 3 Slack gives a submission's answer, for the database's checks
_FIRST = ("name",)  # typed last on a command line (it is free text), asked first in a form
# Which field a refusal of the service is about, by its code (challenge.refused.<code>).
_FIELD_OF = {
    "reward_too_large": "points",
    "name": "name",
    "taken": "name",
    "scope": "team",
    "unknown_team": "team",
    "not_your_team": "team",
    "unknown_league": "league",
    "not_your_agent": "agents",
    "metric": "metric",
    "kind": "type",
    "goal": "goal",
    "window": "end",
    "past": "end",
    "top": "target",
    "team_scope": "type",
    "head_to_head": "type",
    "gate_bound": "gate",
    "gate_metric": "gate",
    "gate_range": "gate",
    "reward": "points",
    "reward_too_small": "points",
    "target_range": "target",
    "baseline_days": "baseline",
}


@dataclass(frozen=True, slots=True)
class Form:
    """A submission read into the command's typed arguments, the Slack users named, and field errors."""

    args: dict[str, Any]
    users: list[str]
    errors: dict[str, str]


def challenge_modal(bridge: Bridge, channel: str | None) -> dict[str, Any]:
    """The modal, built from the registry's params and the program alone: no database before it opens."""
    locale = bridge.locale
    spec = bridge.registry.get(COMMAND)
    assert spec is not None, "challenge create is registered with the challenge commands"
    params = sorted(spec.params, key=lambda param: param.name not in _FIRST)
    blocks: list[Block] = []
    for param in params:
        element = _element(param, bridge.ctx.program, locale)
        if element is None:
            continue
        blocks.append(
            InputBlock(
                block_id=param.name,
                label=PlainTextObject(text=_label(param, locale)),
                element=element,
                hint=PlainTextObject(text=_hint(param, locale)[:2000]),
                optional=not param.required,
            )
        )
    view = View(
        type="modal",
        callback_id=CALLBACK,
        title=PlainTextObject(text=render("slack.challenge_modal.title", locale)),
        submit=PlainTextObject(text=render("slack.challenge_modal.submit", locale)),
        close=PlainTextObject(text=render("slack.challenge_modal.close", locale)),
        private_metadata=json.dumps({"channel": channel}),
        blocks=blocks,
    )
    return view.to_dict()


def read_form(bridge: Bridge, values: dict[str, Any], *, today: date) -> Form:
    """The submitted values as typed arguments; errors by block for what is wrong without a database."""
    spec = bridge.registry.get(COMMAND)
    assert spec is not None
    locale = bridge.locale
    args: dict[str, Any] = {}
    users: list[str] = []
    errors: dict[str, str] = {}
    for param in spec.params:
        state = (values.get(param.name) or {}).get(ACTION) or {}
        try:
            value = _typed(param, state)
        except ValueError:
            errors[param.name] = render("slack.challenge_modal.not_a_number", locale)
            continue
        if param.kind is ParamKind.PEOPLE:
            users = list(value or ())
            args[param.name] = ()
        else:
            args[param.name] = value
        if param.required and value in (None, "", ()):
            errors[param.name] = render("slack.challenge_modal.required", locale)
    if not errors:
        # the people are looked up after the ack; distinct stand-ins let the checks count them
        shape = challenge_spec(args)
        shape = _with_agents(shape, len(users))
        try:
            challenges.validate(shape, today=today)
        except ChallengeRefused as refused:
            errors[field_of(refused, shape.gate_metric)] = refusal_text(refused, locale)
    return Form(args, users, errors)


def field_of(refused: ChallengeRefused, gate_metric: str | None) -> str:
    """The block a refusal belongs on (an unknown gate metric is the gate's, not the challenge metric's)."""
    if refused.code == "metric" and gate_metric is not None and refused.inputs.get("metric") == gate_metric:
        return "gate"
    return _FIELD_OF.get(refused.code, "name")


def check_references(bridge: Bridge, form: Form, delivery_id: str) -> dict[str, str]:
    """A taken name, an unknown team or a window already over on every team's clock, on its field (a
    read, on a worker thread). A resubmitted view passes: the command answers it as the replay it is."""
    shape = challenge_spec(form.args)
    try:
        with bridge.ctx.engine.connect() as connection:
            if deliveries.seen(connection, platform=PLATFORM, key=delivery_id):
                return {}
            challenges.check_references(connection, shape)
            today = challenges.earliest_day_anywhere(connection, bridge.ctx.program, bridge.ctx.clock())
            challenges.validate(_with_agents(shape, len(form.users)), today=today)
    except ChallengeRefused as refused:
        return {field_of(refused, shape.gate_metric): refusal_text(refused, bridge.locale)}
    return {}


def register(app: AsyncApp, bridge: Bridge) -> None:
    async def submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        form = read_form(bridge, body["view"]["state"]["values"], today=_earliest_business_day(bridge))
        if not form.errors:
            form = await _with_reference_errors(bridge, form, _delivery_id(body))
        if form.errors:
            await ack(response_action="errors", errors=form.errors)
            return
        await ack()
        origin = submitter(body)
        try:
            await create(bridge, body, origin, client, form)
        except Exception:
            await bridge.failed(client, origin, "the challenge modal")

    app.view(CALLBACK)(submitted)


def _delivery_id(body: dict[str, Any]) -> str:
    return f"view:{body['view']['id']}"


async def _with_reference_errors(bridge: Bridge, form: Form, delivery_id: str) -> Form:
    """The form with its reference errors, when the database answers within the budget; else as it is
    (the command itself refuses them after the ack)."""
    checking = asyncio.to_thread(check_references, bridge, form, delivery_id)
    try:
        errors = await asyncio.wait_for(checking, REFERENCE_BUDGET)
    except TimeoutError:
        log.info("the challenge form's checks waited over %.1f s; the command will check", REFERENCE_BUDGET)
        return form
    return replace(form, errors=errors) if errors else form


async def create(
    bridge: Bridge, body: dict[str, Any], origin: Origin, client: AsyncWebClient, form: Form
) -> None:
    actor = await bridge.actor(client, origin, body["user"].get("name") or "")
    if actor is None:
        return
    args = dict(form.args)
    if form.users:
        found = await bridge.people_of(client, origin.team, form.users)
        if isinstance(found, str):
            await bridge.send(client, origin, [private(found)])
            return
        args["agents"] = tuple(found)
    await bridge.run_args(client, origin, actor, COMMAND, args, _delivery_id(body))


def _element(param: Param, program: Program, locale: str) -> InputInteractiveElement | None:
    kind = param.kind
    if kind is ParamKind.CHOICE and len(param.choices) == 1:  # a flag such as opt-in or badge
        return CheckboxesElement(
            action_id=ACTION, options=[Option(value=param.choices[0], label=_label(param, locale))]
        )
    if kind in (ParamKind.CHOICE, ParamKind.METRIC, ParamKind.LEAGUE):
        options = [Option(value=value, label=label[:75]) for value, label in _options(param, program, locale)]
        return StaticSelectElement(action_id=ACTION, options=options) if options else None
    if kind in (ParamKind.NUMBER, ParamKind.INTEGER):
        return NumberInputElement(action_id=ACTION, is_decimal_allowed=kind is ParamKind.NUMBER)
    if kind is ParamKind.DATE:
        return DatePickerElement(action_id=ACTION)
    if kind is ParamKind.PEOPLE:
        return UserMultiSelectElement(action_id=ACTION)
    if kind in (ParamKind.TEXT, ParamKind.TEAM):
        return PlainTextInputElement(action_id=ACTION, max_length=100)
    return None


def _options(param: Param, program: Program, locale: str) -> list[tuple[str, str]]:
    if param.kind is ParamKind.METRIC:
        return [
            (key, formats.metric_label(key, locale) if key != "points" else key) for key in metric_names()
        ]
    if param.kind is ParamKind.LEAGUE:
        return [(rule.id, rule.id) for rule in program.league_rules()]
    return [(choice, choice) for choice in param.choices]


def _typed(param: Param, state: dict[str, Any]) -> Any:
    """One input's value in the type the handler takes; ValueError when a number is not one."""
    kind = param.kind
    if kind is ParamKind.PEOPLE:
        return tuple(state.get("selected_users") or ())
    if kind is ParamKind.DATE:
        selected = state.get("selected_date")
        return date.fromisoformat(selected) if selected else None
    if kind is ParamKind.CHOICE and len(param.choices) == 1:
        chosen = [option["value"] for option in state.get("selected_options") or ()]
        return chosen[0] if chosen else None
    if "selected_option" in state:
        return (state["selected_option"] or {}).get("value")
    text = (state.get("value") or "").strip()
    if not text:
        return None
    if kind is ParamKind.NUMBER:
        return float(text)
    if kind is ParamKind.INTEGER:
        return int(text)
    return text


def _with_agents(spec: ChallengeSpec, count: int) -> ChallengeSpec:
    return replace(spec, agents=tuple(range(1, count + 1))) if count else spec


def _label(param: Param, locale: str) -> str:
    message_id = f"slack.challenge_modal.label.{param.name}"
    return render(message_id, locale) if has(message_id, locale) else param.name


def _hint(param: Param, locale: str) -> str:
    message_id = f"slack.challenge_modal.hint.{param.name}"
    return render(message_id, locale) if has(message_id, locale) else param.help


def _earliest_business_day(bridge: Bridge) -> date:
    """A day no team's business day is before, without the database: the form refuses only windows
    over everywhere; the reference check refines it with the teams' clocks, and the command checks the
    window against the participant teams' own clocks."""
    return (bridge.ctx.clock().astimezone(UTC) - timedelta(days=1)).date()
