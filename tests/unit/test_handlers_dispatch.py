"""`dispatch`: unknown commands and callers, central role checks, delivery claims, refusals that roll back."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError

from bot.app import Floorboard
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.handlers.contract import (
    CALLER,
    Actor,
    Command,
    DestinationKind,
    HandlerError,
    Message,
    PersonRef,
    Role,
    Text,
)
from bot.handlers.dispatch import ATTEMPTS, dispatch, fingerprint
from bot.handlers.registry import CommandSpec, Registry
from bot.scoring.periods import Period
from bot.store.models import AuditEntry, Delivery
from tests.unit.test_handlers_world import text

AGENT = Actor(1, "Agent A", frozenset({Role.AGENT}), platform="slack", platform_user_id="U1")
SUPERVISOR = Actor(
    2, "Sup S", frozenset({Role.AGENT, Role.SUPERVISOR}), platform="slack", platform_user_id="U2"
)
ADMIN = Actor(3, "Admin Z", frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN}), platform="slack")
NOBODY = Actor(None, "U999", frozenset(), platform="slack", platform_user_id="U999")


def _audit(command: Command, ctx: HandlerContext) -> list[Message]:
    ctx.db.execute(
        insert(AuditEntry).values(at=ctx.clock(), actor=command.actor.display_name, action="test", details={})
    )
    if command.args.get("fail"):
        raise HandlerError("refused on purpose")
    if command.args.get("crash"):
        raise RuntimeError("a bug")
    return [Message(CALLER, (Text("done"),))]


def _registry() -> Registry:
    registry = Registry()
    registry.add(CommandSpec("audit", "writes an audit row", _audit, writes=True))
    registry.add(CommandSpec("coach", "supervisors only", _audit, roles=frozenset({Role.SUPERVISOR})))
    return registry


def _run(app: Floorboard, name: str, actor: Actor, delivery: str = "d1", **args: object) -> list[Message]:
    return dispatch(_registry(), Command(name, actor, dict(args), delivery), HandlerContext.of(app))


def _rows(app: Floorboard) -> tuple[int, int]:
    with app.engine.connect() as connection:
        audits = connection.scalar(select(func.count()).select_from(AuditEntry)) or 0
        deliveries = connection.scalar(select(func.count()).select_from(Delivery)) or 0
    return int(audits), int(deliveries)


def test_unknown_command_and_unlinked_caller_get_private_help(app: Floorboard) -> None:
    [reply] = _run(app, "nope", AGENT)
    assert reply.destination.kind is DestinationKind.CALLER
    assert text(reply) == "There is no command /nope. Type /help to see what I can do."
    [reply] = _run(app, "audit", NOBODY)
    assert "Your slack account is not linked to anyone on the roster yet" in text(reply)
    assert "/floorboard link" in text(reply)
    assert _rows(app) == (0, 0)


def test_help_works_for_unlinked_callers(app: Floorboard) -> None:
    [reply] = dispatch(default_registry(), Command("help", NOBODY, {}, "h1"), HandlerContext.of(app))
    assert "/leaderboard [metric] [period] [team] [league] [at] [full]" in text(reply)


def test_roles_are_checked_centrally(app: Floorboard) -> None:
    [reply] = _run(app, "coach", AGENT)
    assert text(reply) == "/coach is for supervisors only."
    assert _rows(app) == (0, 0)
    assert text(_run(app, "coach", SUPERVISOR)[0]) == "done"
    assert text(_run(app, "coach", ADMIN)[0]) == "done"


def test_a_replayed_delivery_runs_once(any_app: Floorboard) -> None:
    assert text(_run(any_app, "audit", AGENT, "evt-1")[0]) == "done"
    [again] = _run(any_app, "audit", AGENT, "evt-1")
    assert again.destination.kind is DestinationKind.CALLER
    assert "Already done" in text(again)
    assert _rows(any_app) == (1, 1)
    console = Actor(1, "Agent A", frozenset({Role.AGENT}), platform="console")
    assert text(_run(any_app, "audit", console, "evt-1")[0]) == "done"
    assert _rows(any_app) == (2, 2)


def test_a_delivery_id_reused_for_another_command_does_nothing_and_says_so(any_app: Floorboard) -> None:
    assert text(_run(any_app, "audit", AGENT, "evt-9", note="first")[0]) == "done"

    [reused] = _run(any_app, "audit", AGENT, "evt-9", note="second")

    assert reused.destination.kind is DestinationKind.CALLER
    assert text(reused) == "This delivery id was already used for a different command; nothing was done."
    assert _rows(any_app) == (1, 1)
    assert "Already done" in text(_run(any_app, "audit", AGENT, "evt-9", note="  first ")[0])
    assert _rows(any_app) == (1, 1)
    with any_app.engine.connect() as connection:
        stored = connection.scalar(select(Delivery.fingerprint).where(Delivery.key == "evt-9"))
    assert stored == hashlib.sha256(b'audit\n{"note":"first"}').hexdigest()


def test_the_fingerprint_normalizes_arguments() -> None:
    def command(name: str, **args: object) -> Command:
        return Command(name, AGENT, dict(args), "d")

    kudos = command("kudos", to=(PersonRef(7, "Jim Park"),), reason="great   save\n#empathy", value=None)
    assert (
        fingerprint(kudos)
        == hashlib.sha256(
            b'kudos\n{"reason":"great save #empathy","to":[{"person":7}],"value":null}'
        ).hexdigest()
    )
    board = command("leaderboard", at=date(2021, 1, 15), period=Period.MONTH, metric="csat")
    assert (
        fingerprint(board)
        == hashlib.sha256(b'leaderboard\n{"at":"2021-01-15","metric":"csat","period":"month"}').hexdigest()
    )
    assert fingerprint(
        command("kudos", to=(PersonRef(7, "Jim"),), reason="great save #empathy", value=None)
    ) == (fingerprint(kudos))
    assert fingerprint(
        command("kudos", to=(PersonRef(8, "Ann"),), reason="great save #empathy", value=None)
    ) != (fingerprint(kudos))


def test_a_refusal_rolls_back_the_effect_and_the_claim(any_app: Floorboard) -> None:
    [reply] = _run(any_app, "audit", AGENT, "evt-2", fail=True)
    assert reply.destination.kind is DestinationKind.CALLER
    assert text(reply) == "refused on purpose"
    assert _rows(any_app) == (0, 0)
    with pytest.raises(RuntimeError):
        _run(any_app, "audit", AGENT, "evt-2", crash=True)
    assert _rows(any_app) == (0, 0)
    assert text(_run(any_app, "audit", AGENT, "evt-2")[0]) == "done"


def test_context_today_is_the_business_day_in_the_program_zone(app: Floorboard) -> None:
    ctx = HandlerContext.of(app)
    assert ctx.today().isoformat() == "2021-04-01"
    assert ctx.program_version == app.version
    with pytest.raises(RuntimeError, match="dispatch"):
        _ = ctx.db
    late = HandlerContext(app.engine, app.program, 1, lambda: datetime(2021, 4, 1, 23, 59, tzinfo=UTC))
    assert late.today().isoformat() == "2021-04-01"


class _Deadlock(Exception):
    """What psycopg raises when PostgreSQL breaks a deadlock (only its sqlstate matters here)."""

    sqlstate = "40P01"


class _Broken(Exception):
    sqlstate = "42P01"  # undefined_table: a bug, not a race


def _flaky(failures: list[Exception]) -> Registry:
    """A writing command that writes an audit row, then fails with each of `failures` in turn."""
    attempts: list[int] = []

    def handler(command: Command, ctx: HandlerContext) -> list[Message]:
        _audit(command, ctx)
        attempts.append(1)
        if failures:
            raise OperationalError("SELECT 1", {}, failures.pop(0))
        return [Message(CALLER, (Text(f"done after {len(attempts)}"),))]

    registry = Registry()
    registry.add(CommandSpec("flaky", "fails, then works", handler, writes=True))
    return registry


def test_a_deadlock_rolls_back_and_the_command_runs_again(app: Floorboard) -> None:
    registry = _flaky([_Deadlock(), _Deadlock()])
    [reply] = dispatch(registry, Command("flaky", AGENT, {}, "d1"), HandlerContext.of(app))
    assert text(reply) == "done after 3"
    assert _rows(app) == (1, 1)  # the rolled-back attempts left neither their audit row nor their claim


def test_retries_stop_after_the_last_attempt_and_other_errors_are_not_retried(app: Floorboard) -> None:
    registry = _flaky([_Deadlock()] * ATTEMPTS)
    with pytest.raises(OperationalError):
        dispatch(registry, Command("flaky", AGENT, {}, "d1"), HandlerContext.of(app))
    broken = _flaky([_Broken()])
    with pytest.raises(OperationalError) as raised:
        dispatch(broken, Command("flaky", AGENT, {}, "d2"), HandlerContext.of(app))
    assert isinstance(raised.value.orig, _Broken)
    assert _rows(app) == (0, 0)
