"""RollupDeltas.add_many (the columnar import's roll-up) gives the sums of `add` called record by record."""

import random
from datetime import date

import pytest

from bot.scoring.metrics import SCALE
from bot.services.rollup_deltas import RollupDeltas


def _records(rng: random.Random, count: int) -> tuple[list, list, list, list]:
    ids = [rng.randint(1, 3) for _ in range(count)]
    days = [date(2021, 1, rng.randint(1, 3)) for _ in range(count)]
    facts, metrics = [], []
    for _ in range(count):
        candidates = {
            "answered": rng.random() < 0.7,
            "abandoned": rng.random() < 0.2,
            "wait": rng.randint(0, 90) + rng.random(),
            "talk": float(rng.randint(0, 500)),
            "rating": rng.choice([None, 1.0, 4.5, 5.0]),
            "resolved": rng.random() < 0.5,
            "nps": float(rng.randint(0, 10)),
        }
        kept = {key: value for key, value in candidates.items() if rng.random() < 0.7}
        facts.append(kept or None)
        metrics.append({"csat": [rng.random() * 10, 2.0]} if rng.random() < 0.2 else None)
    return ids, days, facts, metrics


@pytest.mark.parametrize("seed", range(40))
def test_add_many_sums_exactly_what_add_sums(seed):
    rng = random.Random(seed)
    ids, days, facts, metrics = _records(rng, rng.randint(0, 80))
    one_by_one, at_once = RollupDeltas(20), RollupDeltas(20)
    for record in zip(ids, days, facts, metrics, strict=True):
        one_by_one.add(*record)
    at_once.add_many(ids, days, facts, metrics)
    assert sorted(at_once.rows()) == sorted(one_by_one.rows())
    assert at_once.days() == one_by_one.days()


def test_a_record_without_contributions_still_queues_its_day():
    deltas = RollupDeltas(20)
    deltas.add_many([7, 8], [date(2021, 1, 1), date(2021, 1, 2)], [None, {"answered": True}], [None, None])
    assert deltas.days() == [(7, date(2021, 1, 1)), (8, date(2021, 1, 2))]
    assert (8, date(2021, 1, 2), "handled", SCALE, SCALE) in deltas.rows()
    assert not [row for row in deltas.rows() if row[0] == 7]
