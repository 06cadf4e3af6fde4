"""What a handler may use besides its Command: the database, the program, the clock and the registry."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Connection, Engine

from bot.clock import Clock, utc_now
from bot.program import Program
from bot.scoring.periods import business_day

if TYPE_CHECKING:
    from bot.handlers.registry import Registry


class AppParts(Protocol):
    """The parts of a Floorboard app a handler needs (bot.app.Floorboard has them)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def program(self) -> Program: ...

    @property
    def version(self) -> int: ...

    @property
    def clock(self) -> Clock: ...


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """Dependencies passed in; `dispatch` binds the transaction (`connection`) and the registry for a run."""

    engine: Engine
    program: Program
    program_version: int
    clock: Clock = utc_now
    connection: Connection | None = None
    registry: Registry | None = None

    @classmethod
    def of(cls, app: AppParts) -> HandlerContext:
        return cls(engine=app.engine, program=app.program, program_version=app.version, clock=app.clock)

    @property
    def db(self) -> Connection:
        """The transaction of this command; handlers run inside `dispatch`, which opens it."""
        if self.connection is None:
            raise RuntimeError(
                "handlers run through bot.handlers.dispatch.dispatch, which opens the transaction"
            )
        return self.connection

    def bound(self, connection: Connection, registry: Registry) -> HandlerContext:
        return replace(self, connection=connection, registry=registry)

    def today(self) -> date:
        """Today's business day in the program's zone and day start."""
        return business_day(self.clock(), self.program.zone, self.program.day_start_minutes)
