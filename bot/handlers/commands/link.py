"""`/floorboard link <agent key>`: ask to link your chat account to a person; a supervisor approves.

The account is the actor's `platform` plus `platform_user_id` written as `WORKSPACE/USER` (Slack team id
and user id, Discord guild id and user id), the same form as the roster's `slack:T1/U2` keys.
"""

from __future__ import annotations

from bot.handlers.context import HandlerContext
from bot.handlers.contract import (
    Action,
    Actor,
    Command,
    Destination,
    DestinationKind,
    HandlerError,
    Message,
    Param,
    ParamKind,
    Role,
    UserText,
)
from bot.handlers.registry import CommandSpec, Registry
from bot.handlers.replies import message, private
from bot.messages import render
from bot.services import links, people

DECISIONS = ("approve", "deny")


def register(registry: Registry, locale: str = "en") -> None:
    registry.add(
        CommandSpec(
            name="link",
            help=render("link.help", locale),
            handler=link,
            params=(
                Param("decision", ParamKind.CHOICE, render("link.param.decision", locale), choices=DECISIONS),
                Param("key", ParamKind.TEXT, render("link.param.key", locale), required=True),
            ),
            writes=True,
            linked=False,
        )
    )


def link(command: Command, ctx: HandlerContext) -> list[Message]:
    if command.args.get("decision"):
        return _decide(command, ctx)
    return _request(command, ctx)


def account_of(command: Command) -> links.Account:
    actor = command.actor
    namespace, slash, user = actor.platform_user_id.rpartition("/")
    if not slash or not namespace or not user:
        raise HandlerError(render("link.refused.no_account", command.locale, platform=actor.platform))
    return links.Account(actor.platform, namespace, user)


def _request(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    actor = command.actor
    if actor.person_id is not None:
        raise HandlerError(render("link.refused.already", locale, name=actor.display_name))
    account = account_of(command)
    key = str(command.args["key"]).strip()
    found = links.person_by_agent_key(ctx.db, key)
    if not found:
        raise HandlerError(render("link.refused.unknown_key", locale, key=key))
    if len(found) > 1:
        names = ", ".join(person.display_name for person in found)
        raise HandlerError(render("link.refused.ambiguous_key", locale, key=key, names=names))
    person = found[0]
    asked = links.request(ctx.db, account, actor.display_name, person.id, key, ctx.clock())
    if asked.status == "approved":
        raise HandlerError(render("link.refused.already", locale, name=person.display_name))
    text = render(
        "link.ask_supervisor", locale, who=actor.display_name, name=person.display_name, key=key, id=asked.id
    )
    replies = [private(render("link.requested", locale, name=person.display_name, id=asked.id))]
    for supervisor in links.supervisors_of(ctx.db, person.id, ctx.today()):
        # the requester's chat name and the key are typed by them: user text, escaped by adapters
        replies.append(
            Message(
                Destination(DestinationKind.DM, person_id=supervisor),
                (UserText(text),),
                actions=_buttons(asked.id, locale),
            )
        )
    return replies


def _buttons(request_id: int, locale: str) -> tuple[Action, ...]:
    return (
        Action(
            render("link.button.approve", locale), "link", {"decision": "approve", "key": str(request_id)}
        ),
        Action(render("link.button.deny", locale), "link", {"decision": "deny", "key": str(request_id)}),
    )


def _decide(command: Command, ctx: HandlerContext) -> list[Message]:
    locale = command.locale
    actor = command.actor
    if actor.person_id is None or not actor.has(Role.SUPERVISOR):
        raise HandlerError(render("link.refused.not_supervisor", locale))
    raw = str(command.args["key"]).strip().lstrip("#")
    asked = links.get(ctx.db, int(raw)) if raw.isdigit() else None
    if asked is None:
        raise HandlerError(render("link.refused.unknown_request", locale, id=raw))
    person = people.get(ctx.db, asked.person_id)
    name = person.display_name if person else str(asked.person_id)
    if not _may_decide(ctx, actor, asked.person_id):
        raise HandlerError(render("link.refused.not_your_team", locale, name=name))
    decision: links.Decision = "approved" if command.args["decision"] == "approve" else "denied"
    decided = links.decide(
        ctx.db, asked.id, decision, by=actor.person_id, by_name=actor.display_name, now=ctx.clock()
    )
    if not decided:
        raise HandlerError(render("link.refused.decided", locale, id=asked.id, status=asked.status))
    replies = [private(render(f"link.{decision}.you", locale, name=name, id=asked.id))]
    if decision == "approved":
        them = Destination(DestinationKind.DM, person_id=asked.person_id)
        replies.append(message(them, render("link.approved.them", locale, name=name)))
    return replies


def _may_decide(ctx: HandlerContext, actor: Actor, person_id: int) -> bool:
    """Admins decide any request; a supervisor those of people in teams they supervise today, by the
    roster's supervisions or by the teams a chat group grants them."""
    if Role.ADMIN in actor.roles:
        return True
    today = ctx.today()
    if actor.person_id in links.supervisors_of(ctx.db, person_id, today):
        return True
    return people.in_teams(ctx.db, person_id, actor.supervised_team_ids, today, today)
