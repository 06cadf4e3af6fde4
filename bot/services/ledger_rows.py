"""Rows of the points ledger written by the scorer: a change is a reversal of the old net plus a new award."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any

from bot.scoring.daily_points import Award

#: (rule, program version): what one scored (agent, day) nets per rule
RuleKey = tuple[str, int]

LEDGER_COLUMNS = (
    "person_id", "business_day", "rule", "program_version", "revision", "created_at",
    "entry", "amount", "template", "inputs", "idempotency_key",
)  # fmt: skip


def reconciled(
    person_id: int,
    day: date,
    desired: Mapping[RuleKey, Award],
    held: Mapping[RuleKey, tuple[int, int]] | None,
    now: Any,
) -> list[tuple[Any, ...]]:
    """The rows that bring what (person, day) holds, (net, last revision) per key, to the desired awards."""
    if not held:
        return [correction(person_id, day, key, 1, award, now) for key, award in desired.items()]
    rows = []
    for key in sorted(set(desired) | set(held)):
        net, revision = held.get(key, (0, 0))
        award = desired.get(key)
        amount = award.amount if award else 0
        if amount == net:
            continue
        if net:
            rows.append(reversal(person_id, day, key, revision + 1, net, now))
        if award is not None:
            rows.append(correction(person_id, day, key, revision + 1, award, now))
    return rows


def correction(
    person_id: int, day: date, key: RuleKey, revision: int, award: Award, now: Any
) -> tuple[Any, ...]:
    rule, version = key
    stem = f"{person_id}:{_iso(day)}:{rule}:v{version}:r{revision}"
    return (
        person_id, day, rule, version, revision, now,
        "award", award.amount, award.template, award.inputs, f"{stem}:award",
    )  # fmt: skip


def reversal(person_id: int, day: date, key: RuleKey, revision: int, net: int, now: Any) -> tuple[Any, ...]:
    rule, version = key
    stem = f"{person_id}:{_iso(day)}:{rule}:v{version}:r{revision}"
    inputs = {"rule": rule, "version": version, "reversed": net / 100}
    return (
        person_id, day, rule, version, revision, now,
        "reversal", -net, "points.reversal", inputs, f"{stem}:reversal",
    )  # fmt: skip


@lru_cache(maxsize=4096)
def _iso(day: date) -> str:
    return day.isoformat()
