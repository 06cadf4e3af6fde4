"""Kudos racing on PostgreSQL through the chat dispatcher: people thanking each other at the same moment
never deadlock, every request gets its answer, and the per-pair weekly cap holds exactly."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bot.app import Floorboard
from bot.store.models import Kudos, PointsEntry
from tests.conftest import make_app
from tests.unit.test_handlers_world import say, seed, text

CAP = 3
PROGRAM = f"""
kudos:
  daily_allowance: 20
  max_per_pair_per_week: {CAP}
  points: 5
"""
PAIRS = (("Martha Jones", "Jim Park"), ("Ann Lee", "Ben Cole"), ("Cara Diaz", "Dan Fox"))
TRIES = 7  # per direction of each pair: 3 pairs x 2 directions x 7 = 42 racing requests


def _app(url: str, tmp_path: Path) -> Floorboard:
    path = tmp_path / "program.yaml"
    path.write_text(PROGRAM, encoding="utf-8")
    return make_app(url, program_file=path)


def test_reciprocal_kudos_race_without_deadlocks_and_the_pair_cap_holds(
    postgres_url: str, tmp_path: Path
) -> None:
    app = _app(postgres_url, tmp_path)
    ids = seed(app)
    names = {name for pair in PAIRS for name in pair}
    for name in names:
        say(app, name, "/points")  # links each console identity before the race
    requests = [(a, b) for a, b in PAIRS for _ in range(TRIES)] + [
        (b, a) for a, b in PAIRS for _ in range(TRIES)
    ]
    barrier = threading.Barrier(len(requests))
    answers: list[str | None] = [None] * len(requests)
    errors: list[BaseException] = []

    def send(index: int, giver: str, receiver: str) -> None:
        barrier.wait()
        try:
            [first, *_] = say(app, giver, f'/kudos @"{receiver}" thanks for the cover')
            answers[index] = text(first)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=send, args=(i, *pair)) for i, pair in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert all(answer is not None for answer in answers)
    sent = [a for a in answers if a is not None and a.startswith("Kudos sent to")]
    capped = [a for a in answers if a is not None and "already exchanged 3 kudos this week" in a]
    assert len(sent) == CAP * len(PAIRS)
    assert len(capped) == len(requests) - CAP * len(PAIRS)
    with app.engine.connect() as connection:
        rows = connection.execute(select(Kudos.giver_id, Kudos.receiver_id)).all()
        points = connection.scalar(
            select(func.count()).select_from(PointsEntry).where(PointsEntry.rule == "kudos")
        )
    per_pair = Counter(frozenset(row) for row in rows)
    assert per_pair == {frozenset((ids[a], ids[b])): CAP for a, b in PAIRS}
    assert points == CAP * len(PAIRS)
    app.close()
