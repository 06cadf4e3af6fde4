"""Program versions: each program applied gets a version number and an effective date.

A version is one application of a program text from a day on. Points and badges record the version that
made them. Returning to an earlier text is a new version (same text, new number, its own date), so the
version in force on a day is always the one applied last among those effective by then.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

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
    """The versions in force over time.

    On a day, the version in force is the latest applied (highest number) among those effective by then:
    a later version wins from its effective date on, even over an earlier one dated after it. A day
    before every effective date uses the version in force on the earliest.
    """

    def __init__(self, versions: list[VersionedProgram]) -> None:
        if not versions:
            raise ValueError("no program version is registered")
        self._versions = sorted(versions, key=lambda v: v.version)
        self._starts = sorted({v.effective_from for v in self._versions})
        self._in_force = [
            max((v for v in self._versions if v.effective_from <= start), key=lambda v: v.version)
            for start in self._starts
        ]

    def in_force(self, day: date) -> VersionedProgram:
        return self._in_force[max(bisect_right(self._starts, day) - 1, 0)]

    def timeline(self) -> list[tuple[date, int]]:
        """(first day, version) of each stretch of days one version is in force, oldest first."""
        out: list[tuple[date, int]] = []
        for start, versioned in zip(self._starts, self._in_force, strict=True):
            if not out or out[-1][1] != versioned.version:
                out.append((start, versioned.version))
        return out

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
    """Apply the program and return the number of the version it is.

    The effective date is `effective_from`, else the file's own `effective_from`, else today in the
    program's zone (the very first version governs all history: nothing was scored before it). The same
    text as the latest version, asked from no other date, is that version: a restart applies nothing.
    Any other text, including an earlier one returning, becomes a new version in force from its date.
    """
    asked = effective_from or loaded.program.effective_from
    for attempt in range(3):
        try:
            with engine.begin() as connection:
                latest = connection.execute(
                    select(ProgramVersion.version, ProgramVersion.sha256, ProgramVersion.effective_from)
                    .order_by(ProgramVersion.version.desc())
                    .limit(1)
                ).first()
                if (
                    latest is not None
                    and latest.sha256 == loaded.sha256
                    and asked in (None, latest.effective_from)
                ):
                    return int(latest.version)
                now = clock()
                today = business_day(now, loaded.program.zone, loaded.program.day_start_minutes)
                version = (latest.version if latest else 0) + 1
                connection.execute(
                    insert(ProgramVersion).values(
                        version=version,
                        effective_from=asked or (FIRST_DAY if latest is None else today),
                        sha256=loaded.sha256,
                        content=loaded.text,
                        created_at=now,
                    )
                )
                return version
        except IntegrityError:  # another process applied a version at the same moment: read it again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def history(engine: Engine) -> ProgramHistory:
    with engine.connect() as connection:
        rows = connection.execute(
            select(ProgramVersion.version, ProgramVersion.effective_from, ProgramVersion.content)
        ).all()
    return ProgramHistory(
        [
            VersionedProgram(
                r.version, r.effective_from, parse_program(r.content, f"v{r.version}", stored=True).program
            )
            for r in rows
        ]
    )
