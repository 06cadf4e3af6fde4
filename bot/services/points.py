"""Rescore pending business days into the append-only points ledger (reversal + replacement)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select

from bot.clock import Clock
from bot.program import Program
from bot.scoring.daily_points import Award, RuleSpec, day_awards
from bot.services.programs import ProgramHistory
from bot.store.bulk import insert_rows
from bot.store.models import PointsEntry, Rollup, ScoreQueue, Subject

DayKey = tuple[int, date]


def rule_specs(program: Program) -> list[RuleSpec]:
    specs = []
    for rule in program.points:
        policy = program.policy(rule.metric)
        specs.append(
            RuleSpec(
                rule.rule_id,
                rule.metric,
                tuple(tuple(z) for z in rule.zones),
                policy.min_samples,
                policy.floor,
                policy.ceiling,
                policy.weight,
            )  # fmt: skip
        )
    return specs


def queue_for_scoring(connection: Connection, days: Iterable[DayKey]) -> None:
    """Mark (subject, business day) pairs for rescoring, in the caller's transaction."""
    rows = [{"subject_id": subject_id, "business_day": day} for subject_id, day in sorted(set(days))]
    if rows:
        insert_rows(connection, ScoreQueue.__table__, rows)  # type: ignore[arg-type]


def score_pending(
    engine: Engine, programs: ProgramHistory, clock: Clock, *, subjects_per_pass: int = 200
) -> int:
    """Score every queued (subject, day), a group of subjects per transaction; returns agent-days scored."""
    scored = 0
    while True:
        with engine.begin() as connection:
            group = connection.scalars(
                select(ScoreQueue.subject_id)
                .distinct()
                .order_by(ScoreQueue.subject_id)
                .limit(subjects_per_pass)
            ).all()
            if not group:
                return scored
            queued = connection.execute(
                select(ScoreQueue.id, ScoreQueue.subject_id, ScoreQueue.business_day, Subject.person_id)
                .join(Subject, Subject.id == ScoreQueue.subject_id)
                .where(ScoreQueue.subject_id.in_(group))
            ).all()
            agents = {(row.subject_id, row.business_day): row.person_id for row in queued if row.person_id}
            _score(connection, agents, programs, clock)
            ids = [row.id for row in queued]
            for start in range(0, len(ids), 5000):
                connection.execute(delete(ScoreQueue).where(ScoreQueue.id.in_(ids[start : start + 5000])))
            scored += len(agents)


def _score(connection: Connection, agents: dict[DayKey, int], programs: ProgramHistory, clock: Clock) -> None:
    if not agents:
        return
    sums = _rollups(connection, agents)
    ledger = _ledger(connection, agents)
    specs: dict[int, list[RuleSpec]] = {}
    now = clock()
    rows: list[dict[str, Any]] = []
    for (subject_id, day), person_id in agents.items():
        versioned = programs.in_force(day)
        if versioned.version not in specs:
            specs[versioned.version] = rule_specs(versioned.program)
        desired = {
            (award.rule_id, versioned.version): award
            for award in day_awards(
                specs[versioned.version], sums.get((subject_id, day), {}), versioned.version
            )
        }
        held = ledger.get((person_id, day), {})
        for key in sorted(set(desired) | set(held)):
            net, revision = held.get(key, (0, 0))
            award = desired.get(key)
            amount = award.amount if award else 0
            if amount == net:
                continue
            rows.extend(_correction(person_id, day, key, revision + 1, net, award, now))
    if rows:
        insert_rows(connection, PointsEntry.__table__, rows)  # type: ignore[arg-type]


def _correction(person_id: int, day: date, key: tuple[str, int], revision: int, net: int, award: Award | None,
                now: Any) -> list[dict[str, Any]]:  # fmt: skip
    rule, version = key
    base = {"person_id": person_id, "business_day": day, "rule": rule, "program_version": version,
            "revision": revision, "created_at": now}  # fmt: skip
    stem = f"{person_id}:{day.isoformat()}:{rule}:v{version}:r{revision}"
    rows = []
    if net:
        rows.append(base | {"entry": "reversal", "amount": -net, "template": "points.reversal",
                            "inputs": {"rule": rule, "version": version, "reversed": net / 100},
                            "idempotency_key": f"{stem}:reversal"})  # fmt: skip
    if award is not None:
        rows.append(base | {"entry": "award", "amount": award.amount, "template": award.template,
                            "inputs": award.inputs, "idempotency_key": f"{stem}:award"})  # fmt: skip
    return rows


def _rollups(connection: Connection, agents: dict[DayKey, int]) -> dict[DayKey, dict[str, tuple[int, int]]]:
    subjects = sorted({subject_id for subject_id, _ in agents})
    days = [day for _, day in agents]
    sums: dict[DayKey, dict[str, tuple[int, int]]] = defaultdict(dict)
    rows = connection.execute(
        select(Rollup.subject_id, Rollup.business_day, Rollup.metric, Rollup.num, Rollup.den).where(
            Rollup.subject_id.in_(subjects), Rollup.business_day.between(min(days), max(days))
        )
    )
    for subject_id, day, metric, num, den in rows:
        if (subject_id, day) in agents:
            sums[(subject_id, day)][metric] = (num, den)
    return sums


def _ledger(
    connection: Connection, agents: dict[DayKey, int]
) -> dict[DayKey, dict[tuple[str, int], tuple[int, int]]]:
    wanted = {(person_id, day) for (_, day), person_id in agents.items()}
    days = [day for _, day in wanted]
    held: dict[DayKey, dict[tuple[str, int], tuple[int, int]]] = defaultdict(dict)
    rows = connection.execute(
        select(
            PointsEntry.person_id, PointsEntry.business_day, PointsEntry.rule, PointsEntry.program_version,
            func.sum(PointsEntry.amount), func.max(PointsEntry.revision),
        )
        .where(PointsEntry.person_id.in_(sorted({p for p, _ in wanted})),
               PointsEntry.business_day.between(min(days), max(days)))
        .group_by(PointsEntry.person_id, PointsEntry.business_day, PointsEntry.rule, PointsEntry.program_version)
    )  # fmt: skip
    for person, day, rule, version, net, revision in rows:
        if (person, day) in wanted:
            held[(person, day)][(rule, version)] = (int(net), int(revision))
    return held
