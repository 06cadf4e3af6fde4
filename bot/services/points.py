"""Rescore pending business days into the append-only points ledger (reversal + replacement)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, tuple_

from bot.clock import Clock
from bot.program import Program
from bot.scoring.daily_points import Award, RuleSpec, day_awards
from bot.services.programs import ProgramHistory
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


def score_pending(engine: Engine, programs: ProgramHistory, clock: Clock, *, chunk: int = 2000) -> int:
    """Score every queued (subject, day); returns how many agent-days were scored."""
    scored = 0
    while True:
        with engine.begin() as connection:
            queued = connection.execute(
                select(ScoreQueue.subject_id, ScoreQueue.business_day, Subject.person_id)
                .join(Subject, Subject.id == ScoreQueue.subject_id)
                .order_by(ScoreQueue.subject_id, ScoreQueue.business_day)
                .limit(chunk)
            ).all()
            if not queued:
                return scored
            pairs = [(row.subject_id, row.business_day) for row in queued]
            agents = {(row.subject_id, row.business_day): row.person_id for row in queued if row.person_id}
            _score(connection, agents, programs, clock)
            for start in range(0, len(pairs), 400):
                connection.execute(
                    delete(ScoreQueue).where(
                        tuple_(ScoreQueue.subject_id, ScoreQueue.business_day).in_(pairs[start : start + 400])
                    )
                )
            scored += len(agents)


def _score(connection: Connection, agents: dict[DayKey, int], programs: ProgramHistory, clock: Clock) -> None:
    if not agents:
        return
    sums = _rollups(connection, list(agents))
    ledger = _ledger(connection, [(person, day) for (_, day), person in agents.items()])
    specs: dict[int, list[RuleSpec]] = {}
    now = clock()
    rows: list[dict[str, Any]] = []
    for (subject_id, day), person_id in agents.items():
        versioned = programs.in_force(day)
        rules = specs.setdefault(versioned.version, rule_specs(versioned.program))
        desired = {
            (award.rule_id, versioned.version): award
            for award in day_awards(rules, sums.get((subject_id, day), {}), versioned.version)
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
        connection.execute(insert(PointsEntry), rows)


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


def _rollups(connection: Connection, keys: list[DayKey]) -> dict[DayKey, dict[str, tuple[int, int]]]:
    sums: dict[DayKey, dict[str, tuple[int, int]]] = defaultdict(dict)
    for start in range(0, len(keys), 400):
        rows = connection.execute(
            select(Rollup.subject_id, Rollup.business_day, Rollup.metric, Rollup.num, Rollup.den).where(
                tuple_(Rollup.subject_id, Rollup.business_day).in_(keys[start : start + 400])
            )
        )
        for row in rows:
            sums[(row.subject_id, row.business_day)][row.metric] = (row.num, row.den)
    return sums


def _ledger(
    connection: Connection, keys: list[DayKey]
) -> dict[DayKey, dict[tuple[str, int], tuple[int, int]]]:
    held: dict[DayKey, dict[tuple[str, int], tuple[int, int]]] = defaultdict(dict)
    for start in range(0, len(keys), 400):
        rows = connection.execute(
            select(
                PointsEntry.person_id,
                PointsEntry.business_day,
                PointsEntry.rule,
                PointsEntry.program_version,
                func.sum(PointsEntry.amount),
                func.max(PointsEntry.revision),
            )
            .where(tuple_(PointsEntry.person_id, PointsEntry.business_day).in_(keys[start : start + 400]))
            .group_by(
                PointsEntry.person_id, PointsEntry.business_day, PointsEntry.rule, PointsEntry.program_version
            )  # fmt: skip
        )
        for person, day, rule, version, net, revision in rows:
            held[(person, day)][(rule, version)] = (int(net), int(revision))
    return held
