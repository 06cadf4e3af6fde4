"""Program versions: every distinct program text gets a version number and an effective date."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, insert, select

from bot.clock import Clock
from bot.program import ImprovementRule, LoadedProgram, Program, parse_program
from bot.scoring.improvement import Window
from bot.scoring.periods import business_day
from bot.store.models import ProgramVersion

FIRST_DAY = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class VersionedProgram:
    version: int
    effective_from: date
    program: Program


class ProgramHistory:
    """The versions in force over time; a day before the first version uses the first."""

    def __init__(self, versions: list[VersionedProgram]) -> None:
        if not versions:
            raise ValueError("no program version is registered")
        self._versions = sorted(versions, key=lambda v: (v.effective_from, v.version))
        self._starts = [v.effective_from for v in self._versions]

    def in_force(self, day: date) -> VersionedProgram:
        return self._versions[max(bisect_right(self._starts, day) - 1, 0)]

    @property
    def rule_ids(self) -> frozenset[str]:
        """Every points rule id of every version: the ledger rules the scorer owns and may reverse."""
        return frozenset(rule.rule_id for v in self._versions for rule in v.program.points)

    @property
    def versions(self) -> tuple[VersionedProgram, ...]:
        return tuple(self._versions)

    @property
    def daily_rule_keys(self) -> frozenset[tuple[str, int]]:
        """(rule id, version) of the rules scored per business day (not the zone rules over periods)."""
        return frozenset(
            (rule.rule_id, v.version)
            for v in self._versions
            for rule in v.program.points
            if getattr(rule, "period", "day") == "day"
        )

    @property
    def windows(self) -> frozenset[Window]:
        """The baseline windows of every improvement rule of every version."""
        return frozenset(
            rule.improvement.window
            for v in self._versions
            for rule in v.program.points
            if isinstance(rule, ImprovementRule)
        )


def register(engine: Engine, loaded: LoadedProgram, clock: Clock, effective_from: date | None = None) -> int:
    """Store the program text if it is new and return its version.

    The first program governs all history (nothing was scored before it); a later one is effective from
    today in the program's zone, unless `effective_from` says otherwise.
    """
    with engine.begin() as connection:
        known = connection.scalar(
            select(ProgramVersion.version).where(ProgramVersion.sha256 == loaded.sha256)
        )
        if known is not None:
            return int(known)
        version = (connection.scalar(select(func.max(ProgramVersion.version))) or 0) + 1
        now = clock()
        connection.execute(
            insert(ProgramVersion).values(
                version=version,
                effective_from=effective_from
                or (FIRST_DAY if version == 1 else business_day(now, loaded.program.zone)),
                sha256=loaded.sha256,
                content=loaded.text,
                created_at=now,
            )
        )
        return version


def history(engine: Engine) -> ProgramHistory:
    with engine.connect() as connection:
        rows = connection.execute(
            select(ProgramVersion.version, ProgramVersion.effective_from, ProgramVersion.content)
        ).all()
    return ProgramHistory(
        [
            VersionedProgram(r.version, r.effective_from, parse_program(r.content, f"v{r.version}").program)
            for r in rows
        ]
    )
