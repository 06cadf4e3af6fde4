"""Replay and arrival order never change the ledger (DESIGN.md §5), on SQLite and PostgreSQL."""

import random
from datetime import UTC, datetime, timedelta

from bot.feeds.records import KpiRecord, SubjectRef
from bot.services.ledger import net_points, rollup_sums
from bot.services.rollups import rebuild
from tests.conftest import make_app


def _records(seed: int) -> list[KpiRecord]:
    rng = random.Random(seed)
    agents = ["Ana", "Ben", "Cy", "Dee"]
    records = []
    start = datetime(2021, 1, 4, 9, tzinfo=UTC)
    for i in range(240):
        agent = rng.choice(agents)
        answered = rng.random() > 0.1
        facts = {"answered": answered, "abandoned": not answered}
        if answered:
            facts |= {
                "wait": rng.randint(0, 90),
                "talk": rng.randint(60, 500),
                "resolved": rng.random() > 0.2,
            }
            if rng.random() < 0.6:
                facts["rating"] = rng.randint(1, 5)
        subject = SubjectRef("agent", agent) if answered else SubjectRef("queue", "billing")
        when = start + timedelta(days=i % 5, minutes=i)
        records.append(KpiRecord("acd", f"c{i}", subject, when, facts=facts))
    # corrections: newer versions of a few contacts, and a void
    for i in (3, 8, 21):
        old = records[i]
        records.append(
            KpiRecord(
                "acd",
                old.external_id,
                old.subject,
                old.occurred_at,
                version=2,
                facts=old.facts | {"rating": 5},
            )
        )
    records.append(KpiRecord("acd", "c5", records[5].subject, records[5].occurred_at, version=3, void=True))
    return records


def _run(url: str, records: list[KpiRecord], chunk: int) -> tuple[dict, dict]:
    app = make_app(url)
    chunks = [records[i : i + chunk] for i in range(0, len(records), chunk)]
    app.ingest(chunks, source="acd", origin="test", create_unknown=True)
    result = net_points(app.engine), rollup_sums(app.engine)
    report = rebuild(app.engine, app.program)
    assert report.changed == 0
    app.close()
    return result


def test_arrival_order_and_replay_give_an_equal_ledger(database_url, tmp_path):
    records = _records(7)
    in_order = _run(database_url, records, chunk=50)
    shuffled = records[:]
    random.Random(1).shuffle(shuffled)
    other_url = f"sqlite:///{tmp_path / 'shuffled.db'}"
    assert _run(other_url, shuffled, chunk=37) == in_order
    reverse_url = f"sqlite:///{tmp_path / 'reverse.db'}"
    assert _run(reverse_url, list(reversed(records)) * 2, chunk=1000) == in_order
    assert in_order[0], "the data set must earn some points"
