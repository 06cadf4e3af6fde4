"""Zone rules over a week, month or quarter: points for the period's pooled value, written at its close.

A period zone rule scores Σnum / Σden over the agent's whole period (a total: its sum), with `min_samples`
and gates applied to the period. Its points are written when the period closes, `correction_window_days`
after it ends (the same moment as the period's badges), keyed in the ledger on the period's first day. A
record added, corrected or voided in a closed period afterwards rescores it at once: a reversal plus a
replacement, as for day rules, so the ledger does not depend on when or in which order records arrived.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from bot.program import GateSpec, Program, ZoneRule
from bot.scoring.badges import period_end, period_key
from bot.scoring.daily_points import Gate, RuleSpec, period_awards
from bot.scoring.periods import Period, window
from bot.services.ledger_rows import LEDGER_COLUMNS, RuleKey, reconciled
from bot.services.programs import ProgramHistory
from bot.store.bulk import insert_rows
from bot.store.models import PeriodClose, PointsEntry, Rollup, Subject, table_of

#: (period kind, first day of the period)
PeriodStart = tuple[Period, date]
Sums = dict[str, tuple[int, int]]


def gates_of(program: Program, gate: Mapping[str, GateSpec]) -> tuple[Gate, ...]:
    return tuple(
        Gate(metric, program.policy(metric).min_samples, spec.gte, spec.lte) for metric, spec in gate.items()
    )


def zone_spec(program: Program, rule: ZoneRule) -> RuleSpec:
    policy = program.policy(rule.metric)
    return RuleSpec(
        rule.rule_id,
        rule.metric,
        tuple(sorted((float(v), float(p)) for v, p in rule.zones)),
        policy.min_samples,
        policy.floor,
        policy.ceiling,
        policy.weight,
        gates_of(program, rule.gate),
        rule.cap,
    )


def period_specs(program: Program, kind: Period) -> list[RuleSpec]:
    """The program's zone rules over periods of `kind`, in program order."""
    return [
        zone_spec(program, rule)
        for rule in program.points
        if isinstance(rule, ZoneRule) and rule.period == kind.value
    ]


def kinds(history: ProgramHistory) -> frozenset[Period]:
    """The period kinds that some version scores with a zone rule."""
    return frozenset(kind for kind in _owned(history))


def metrics(program: Program) -> set[str]:
    """Metrics that period zone rules read (their own and their gates'): data in them makes a period close."""
    return {
        metric
        for rule in program.points
        if isinstance(rule, ZoneRule) and rule.period != "day"
        for metric in (rule.metric, *rule.gate)
    }


def rescore_touched(
    connection: Connection, person_days: Iterable[tuple[int, date]], history: ProgramHistory, now: Any
) -> None:
    """Rescore the closed periods that hold a just-scored (person, day); open ones wait for their close."""
    scored = kinds(history)
    if not scored:
        return
    closed = set(connection.scalars(select(PeriodClose.period_key)))
    wanted: dict[PeriodStart, set[int]] = defaultdict(set)
    for person_id, day in person_days:
        week_start = history.in_force(day).program.week_starts_on
        for kind in scored:
            if period_key(kind, day, week_start) in closed:
                wanted[(kind, window(kind, day, week_start)[0])].add(person_id)
    score(connection, wanted, history, now)


def score(
    connection: Connection,
    periods: Mapping[PeriodStart, Collection[int] | None],
    history: ProgramHistory,
    now: Any,
) -> None:
    """Bring the ledger of each period's people (None: everyone with data in it) to its period awards."""
    owned = _owned(history)
    rows: list[tuple[Any, ...]] = []
    for (kind, start), people in sorted(periods.items()):
        end = period_end(kind, start)
        versioned = history.in_force(end)
        specs = period_specs(versioned.program, kind)
        sums = person_sums(connection, start, end, people)
        held = _held(connection, start, owned[kind], people)
        for person_id in sorted(set(sums) | set(held)):
            awards = period_awards(specs, sums.get(person_id, {}), versioned.version, kind.value, start, end)
            desired = {(award.rule_id, versioned.version): award for award in awards}
            rows.extend(reconciled(person_id, start, desired, held.get(person_id), now))
    insert_rows(connection, table_of(PointsEntry), LEDGER_COLUMNS, rows)


def person_sums(
    connection: Connection, start: date, end: date, people: Collection[int] | None = None
) -> dict[int, Sums]:
    """Each agent's metric sums over [start, end], pooled over the period and the agent's subjects."""
    query = (
        select(Subject.person_id, Rollup.metric, func.sum(Rollup.num), func.sum(Rollup.den))
        .join(Subject, Subject.id == Rollup.subject_id)
        .where(
            Subject.kind == "agent", Subject.person_id.is_not(None), Rollup.business_day.between(start, end)
        )
        .group_by(Subject.person_id, Rollup.metric)
    )
    if people is not None:
        query = query.where(Subject.person_id.in_(sorted(people)))
    out: dict[int, Sums] = defaultdict(dict)
    for person_id, metric, num, den in connection.execute(query):
        if person_id is not None and (num or den):
            out[int(person_id)][metric] = (int(num), int(den))
    return out


def _owned(history: ProgramHistory) -> dict[Period, frozenset[RuleKey]]:
    """Per period kind, the (rule, version) pairs its zone rules write: nothing else on the day is touched."""
    owned: dict[Period, set[RuleKey]] = defaultdict(set)
    for v in history.versions:
        for rule in v.program.points:
            if isinstance(rule, ZoneRule) and rule.period != "day":
                owned[Period(rule.period)].add((rule.rule_id, v.version))
    return {kind: frozenset(keys) for kind, keys in owned.items()}


def _held(
    connection: Connection, start: date, owned: frozenset[RuleKey], people: Collection[int] | None
) -> dict[int, dict[RuleKey, tuple[int, int]]]:
    if not owned:
        return {}
    query = (
        select(
            PointsEntry.person_id,
            PointsEntry.rule,
            PointsEntry.program_version,
            func.sum(PointsEntry.amount),
            func.max(PointsEntry.revision),
        )
        .where(PointsEntry.business_day == start, PointsEntry.rule.in_(sorted({rule for rule, _ in owned})))
        .group_by(PointsEntry.person_id, PointsEntry.rule, PointsEntry.program_version)
    )
    if people is not None:
        query = query.where(PointsEntry.person_id.in_(sorted(people)))
    held: dict[int, dict[RuleKey, tuple[int, int]]] = defaultdict(dict)
    for person_id, rule, version, net, revision in connection.execute(query):
        if (rule, version) in owned:
            held[int(person_id)][(rule, int(version))] = (int(net), int(revision))
    return held
