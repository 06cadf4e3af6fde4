"""Rescore pending business days into the append-only points ledger (reversal + replacement)."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, String, cast, delete, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.clock import Clock
from bot.program import ImprovementRule, Program
from bot.scoring.daily_points import ImprovementSpec, RuleSpec, day_awards
from bot.scoring.improvement import Window
from bot.services import audit, badges, period_points
from bot.services.baselines import DayBaselines, day_baselines, forward_days
from bot.services.ledger_rows import LEDGER_COLUMNS, reconciled
from bot.services.period_points import gates_of, zone_spec
from bot.services.programs import ProgramHistory
from bot.store.bulk import collector_paused, insert_rows
from bot.store.models import Person, PointsEntry, Rollup, ScoreQueue, Subject, table_of

DayKey = tuple[int, date]
_MAX_CONFLICTS = 20
log = logging.getLogger(__name__)


def rule_specs(program: Program) -> list[RuleSpec | ImprovementSpec]:
    """The rules scored per business day, in program order: day zone rules and improvement rules."""
    specs: list[RuleSpec | ImprovementSpec] = []
    for rule in program.points:
        if isinstance(rule, ImprovementRule):
            specs.append(_improvement_spec(program, rule, gates_of(program, rule.gate)))
        elif rule.period == "day":
            specs.append(zone_spec(program, rule))
    return specs


def _improvement_spec(program: Program, rule: ImprovementRule, gates: tuple[Any, ...]) -> ImprovementSpec:
    policy, spec = program.policy(rule.metric), rule.improvement
    return ImprovementSpec(
        rule.rule_id,
        rule.metric,
        spec.window,
        spec.per,
        spec.points,
        program.better(rule.metric),
        spec.min_samples or policy.min_samples,
        spec.baseline_min_samples or policy.min_samples,
        policy.floor,
        policy.ceiling,
        policy.weight,
        gates,
        spec.cap,
    )


def queue_for_scoring(connection: Connection, days: Iterable[DayKey]) -> None:
    """Mark (subject, business day) pairs for rescoring, in the caller's transaction."""
    rows = sorted(set(days))
    insert_rows(connection, table_of(ScoreQueue), ("subject_id", "business_day"), rows)


def score_pending(
    engine: Engine, programs: ProgramHistory, clock: Clock, *, subjects_per_pass: int = 1000
) -> int:
    """Score every queued (subject, day), a group of subjects per transaction; returns agent-days scored.

    Several scorers may run at once (replicas, concurrent webhooks). Queue rows are claimed with SKIP LOCKED
    where the database has it; if two scorers still rescore one agent-day, the ledger's unique key stops
    the second, which rolls back and tries again on the committed ledger.

    A subject whose days cannot be scored does not hold up the others: its group is retried one subject
    at a time, the failing subject's days stay queued (retried by the next run), and the failure is logged
    and written to the audit log (`scoring.failed`) with the agent, the days and the error.
    """
    scored = 0
    conflicts = 0
    touched: set[date] = set()  # days scored by this run: where late history may have arrived
    failed: set[int] = set()  # subjects that failed in this run: skipped until the next one
    alone: list[int] = []  # subjects of a failed group, scored one per transaction
    while True:
        try:
            with collector_paused():
                passed: int | None
                if alone:
                    passed = _score_one(engine, programs, clock, alone.pop(0), touched, failed)
                else:
                    passed = _score_pass(engine, programs, clock, subjects_per_pass, touched, failed)
            if passed is None:
                badges.close_due(engine, programs, clock, touched)
        except IntegrityError:
            conflicts += 1
            if conflicts > _MAX_CONFLICTS:
                raise
            time.sleep(0.01 * conflicts)
            continue
        except _GroupFailed as failure:
            alone = failure.subjects
            continue
        if passed is None:
            return scored
        scored += passed


class _GroupFailed(Exception):
    """A group's pass raised; its subjects are scored one at a time to find the failing ones."""

    def __init__(self, subjects: list[int]) -> None:
        super().__init__(subjects)
        self.subjects = subjects


def _score_one(
    engine: Engine,
    programs: ProgramHistory,
    clock: Clock,
    subject_id: int,
    touched: set[date],
    failed: set[int],
) -> int:
    try:
        return _score_pass(engine, programs, clock, 1, touched, failed, only=subject_id) or 0
    except DBAPIError:
        raise  # the database's own trouble (a conflict, an outage) is no one subject's
    except Exception as error:  # any other failure of one subject is reported, not propagated
        failed.add(subject_id)
        _report_failure(engine, clock, subject_id, error)
        return 0


def _report_failure(engine: Engine, clock: Clock, subject_id: int, error: Exception) -> None:
    with engine.begin() as connection:
        queued = select(ScoreQueue.business_day).where(ScoreQueue.subject_id == subject_id)
        days = sorted(set(connection.scalars(queued)))
        subject = connection.execute(
            select(Subject.person_id, Subject.key, Person.display_name)
            .outerjoin(Person, Person.id == Subject.person_id)
            .where(Subject.id == subject_id)
        ).first()
        name = (subject.display_name or subject.key) if subject else None
        shown = ", ".join(day.isoformat() for day in days[:10]) + (" …" if len(days) > 10 else "")
        reason = f"{type(error).__name__}: {error}"
        log.error(
            "scoring failed for %s (subject %s) on %d day(s): %s: %s; those days stay queued and are "
            "retried by the next scoring run; the other agents were scored",
            name or "an unknown subject",
            subject_id,
            len(days),
            shown,
            reason,
            exc_info=error,
        )
        audit.record(
            connection,
            at=clock(),
            actor_id=None,
            actor="scorer",
            action="scoring.failed",
            target=f"subject:{subject_id}",
            details={
                "person_id": subject.person_id if subject else None,
                "agent": name,
                "days": [day.isoformat() for day in days],
                "error": reason,
            },
        )


def _score_pass(
    engine: Engine,
    programs: ProgramHistory,
    clock: Clock,
    subjects_per_pass: int,
    touched: set[date],
    failed: Collection[int] = (),
    *,
    only: int | None = None,
) -> int | None:
    try:
        return _score_group(engine, programs, clock, subjects_per_pass, touched, failed, only)
    except DBAPIError:
        raise
    except Exception:
        if only is not None:
            raise
        with engine.connect() as connection:  # the failed transaction rolled back: the same group
            group = _next_group(connection, subjects_per_pass, failed)
        if not group:
            raise
        raise _GroupFailed(group) from None


def _next_group(connection: Connection, size: int, failed: Collection[int]) -> list[int]:
    query = select(ScoreQueue.subject_id).distinct().order_by(ScoreQueue.subject_id).limit(size)
    if failed:
        query = query.where(ScoreQueue.subject_id.not_in(sorted(failed)))
    return list(connection.scalars(query).all())


def _score_group(
    engine: Engine,
    programs: ProgramHistory,
    clock: Clock,
    subjects_per_pass: int,
    touched: set[date],
    failed: Collection[int],
    only: int | None,
) -> int | None:
    with engine.begin() as connection:
        group = [only] if only is not None else _next_group(connection, subjects_per_pass, failed)
        if not group:
            return None
        queued = connection.execute(
            select(ScoreQueue.id, ScoreQueue.subject_id, ScoreQueue.business_day)
            .where(ScoreQueue.subject_id.in_(group))
            .with_for_update(skip_locked=True)
        ).all()
        if not queued:
            return None  # another scorer holds them all and will finish them
        people = dict(
            connection.execute(select(Subject.id, Subject.person_id).where(Subject.id.in_(group))).all()
        )
        agents: dict[DayKey, int] = {}
        agents_of: dict[int, int] = {}
        for row in queued:
            person_id = people.get(row.subject_id)
            if person_id is not None:
                agents[(row.subject_id, row.business_day)] = agents_of[row.subject_id] = person_id
        # a touched day moves the baselines of the days after it: they are rescored with it
        forward = forward_days(connection, agents, programs.windows)
        for subject_id, day in forward:
            agents.setdefault((subject_id, day), agents_of[subject_id])
        _score(connection, agents, programs, clock, forward)
        period_points.rescore_touched(
            connection, {(p, day) for (_, day), p in agents.items()}, programs, clock()
        )
        touched.update(day for _, day in agents)
        badges.record_arrivals(connection, {row.business_day for row in queued}, programs, clock)
        badges.refresh(connection, set(agents.values()), programs, clock)
        ids = [row.id for row in queued]
        for start in range(0, len(ids), 5000):
            connection.execute(delete(ScoreQueue).where(ScoreQueue.id.in_(ids[start : start + 5000])))
        return len(agents)


def _score(
    connection: Connection,
    agents: dict[DayKey, int],
    programs: ProgramHistory,
    clock: Clock,
    recompute: Collection[DayKey] = (),
) -> None:
    if not agents:
        return
    specs: dict[int, list[RuleSpec | ImprovementSpec]] = {}
    for day in {day for _, day in agents}:
        versioned = programs.in_force(day)
        if versioned.version not in specs:
            specs[versioned.version] = rule_specs(versioned.program)
    sums = _rollups(connection, agents, _metrics_read(specs.values()))
    ledger = _ledger(connection, agents, programs.daily_rule_keys)
    baselines = _baselines(connection, agents, sums, programs, specs, recompute)
    now = clock()
    rows: list[tuple[Any, ...]] = []
    for (subject_id, day), person_id in agents.items():
        versioned = programs.in_force(day)
        desired = {
            (award.rule_id, versioned.version): award
            for award in day_awards(
                specs[versioned.version],
                sums.get((subject_id, day), {}),
                versioned.version,
                versioned.program.daily_cap,
                baselines.get((subject_id, day)),
            )
        }
        held = ledger.get((person_id, day))
        rows.extend(reconciled(person_id, day, desired, held, now))
    insert_rows(connection, table_of(PointsEntry), LEDGER_COLUMNS, rows)


def _baselines(
    connection: Connection,
    agents: dict[DayKey, int],
    sums: dict[DayKey, dict[str, tuple[int, int]]],
    programs: ProgramHistory,
    specs: dict[int, list[RuleSpec | ImprovementSpec]],
    recompute: Collection[DayKey],
) -> dict[DayKey, DayBaselines]:
    """The baselines of each agent-day's improvement rules whose metric has data that day.

    A metric whose records were all voided leaves a (0, 0) rollup: no data, so no baseline is kept for
    it (a kept one could go stale, as the day is no longer a working day that later changes reach).
    """
    if not programs.windows:
        return {}
    improving = {
        version: [(spec.metric, spec.window) for spec in rules if isinstance(spec, ImprovementSpec)]
        for version, rules in specs.items()
    }
    needed: dict[DayKey, frozenset[tuple[str, Window]]] = {}
    # agent-days mostly share a version and the metrics they have data for: one collection serves them
    shared: dict[tuple[int, frozenset[str]], frozenset[tuple[str, Window]]] = {}
    empty: dict[str, tuple[int, int]] = {}
    for key in agents:
        version = programs.in_force(key[1]).version
        present = frozenset(metric for metric, (num, den) in sums.get(key, empty).items() if num or den)
        wanted = shared.get((version, present))
        if wanted is None:
            wanted = shared[(version, present)] = frozenset(
                (metric, window) for metric, window in improving[version] if metric in present
            )
        needed[key] = wanted
    return day_baselines(connection, needed, recompute)


def _metrics_read(versions: Iterable[list[RuleSpec | ImprovementSpec]]) -> frozenset[str]:
    """The metrics the day rules score or gate on: the only rollups scoring keeps. (Filtering them in
    the query would lead SQLite to the (metric, day) index, scanning every subject's day per group.)"""
    return frozenset(
        {spec.metric for rules in versions for spec in rules}
        | {gate.metric for rules in versions for spec in rules for gate in spec.gates}
    )


def _rollups(
    connection: Connection, agents: dict[DayKey, int], metrics: frozenset[str]
) -> dict[DayKey, dict[str, tuple[int, int]]]:
    subjects = sorted({subject_id for subject_id, _ in agents})
    days = [day for _, day in agents]
    sums: dict[DayKey, dict[str, tuple[int, int]]] = defaultdict(dict)
    # days come back as ISO text and are parsed once per distinct day: the Date type's per-row
    # conversion cost more than the query on a quarter of a thousand agents
    # and the rows come straight from the DBAPI cursor: every column is an int or text already
    result = connection.execute(
        select(
            Rollup.subject_id, cast(Rollup.business_day, String), Rollup.metric, Rollup.num, Rollup.den
        ).where(Rollup.subject_id.in_(subjects), Rollup.business_day.between(min(days), max(days)))
    )
    rows = result.cursor.fetchall()
    result.close()
    parsed: dict[str, date] = {}
    for subject_id, text, metric, num, den in rows:
        day = parsed.get(text) or parsed.setdefault(text, date.fromisoformat(text))
        if metric in metrics and (subject_id, day) in agents:
            sums[(subject_id, day)][metric] = (num, den)
    return sums


def _ledger(
    connection: Connection, agents: dict[DayKey, int], owned: frozenset[tuple[str, int]]
) -> dict[DayKey, dict[tuple[str, int], tuple[int, int]]]:
    wanted = {(person_id, day) for (_, day), person_id in agents.items()}
    days = [day for _, day in wanted]
    held: dict[DayKey, dict[tuple[str, int], tuple[int, int]]] = defaultdict(dict)
    rows = connection.execute(
        select(
            PointsEntry.person_id,
            PointsEntry.business_day,
            PointsEntry.rule,
            PointsEntry.program_version,
            func.sum(PointsEntry.amount),
            func.max(PointsEntry.revision),
        )
        .where(
            PointsEntry.person_id.in_(sorted({p for p, _ in wanted})),
            PointsEntry.business_day.between(min(days), max(days)),
            PointsEntry.rule.in_(sorted({rule for rule, _ in owned})),
        )
        .group_by(
            PointsEntry.person_id, PointsEntry.business_day, PointsEntry.rule, PointsEntry.program_version
        )
    )
    for person, day, rule, version, net, revision in rows:
        if (person, day) in wanted and (rule, version) in owned:
            held[(person, day)][(rule, version)] = (int(net), int(revision))
    return held
