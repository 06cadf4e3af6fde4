"""Benchmark: score one business day for 10,000 agents x 8 metrics into committed ledger rows (SQLite).

The database holds 28 earlier days of rollups per agent and metric, and the program scores every metric
with a zone rule and an improvement rule against a trailing baseline. Prints the time from the queued day to
committed ledger rows: "warm" with the day's baselines already stored (as after the day's first scoring
pass), and "cold", where the scorer computes them from the 28 days of rollups first.

    python bench/score_day.py [--agents 10000] [--days 28] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.program import parse_program
from bot.scoring.metrics import SCALE
from bot.services import programs
from bot.services.baselines import day_baselines
from bot.services.points import queue_for_scoring, rule_specs, score_pending
from bot.store.bulk import insert_rows
from bot.store.database import make_engine, upgrade
from bot.store.models import Person, PointsEntry, Rollup, Subject, table_of

NOW = datetime(2021, 4, 1, 12, tzinfo=UTC)
SCORED_DAY = date(2021, 3, 29)
PROGRAM = """\
metrics:
  handled: {min_samples: 1}
  aht: {min_samples: 5, floor: 120}
  talk_time: {min_samples: 5, floor: 60}
  asa: {min_samples: 5}
  fcr: {min_samples: 5}
  csat: {min_samples: 3}
  adherence: {min_samples: 60}
  save_rate: {min_samples: 2}
points:
  - {id: handled-day, metric: handled, zones: [[0, 0], [40, 10], [80, 15]]}
  - {id: aht-day, metric: aht, zones: [[600, 0], [420, 10], [300, 15]], gate: {csat: {gte: 3.5}}}
  - {id: talk-day, metric: talk_time, zones: [[360, 0], [240, 10], [150, 15]]}
  - {id: asa-day, metric: asa, zones: [[60, 0], [20, 5]]}
  - {id: fcr-day, metric: fcr, zones: [[0.7, 0], [0.85, 10], [0.95, 15]]}
  - {id: csat-day, metric: csat, zones: [[3.5, 0], [4.2, 10], [4.8, 20]]}
  - {id: adherence-day, metric: adherence, zones: [[0.8, 0], [0.95, 10]]}
  - {id: save-day, metric: save_rate, zones: [[0.2, 0], [0.5, 10]]}
  - {metric: handled, improvement: {baseline_days: 28, per: 5, points: 1, cap: 10}}
  - {metric: aht, improvement: {baseline_days: 28, per: 10, points: 1, cap: 10}, gate: {csat: {gte: 3.5}}}
  - {metric: talk_time, improvement: {baseline_days: 28, baseline: calendar_days, per: 10, points: 1}}
  - {metric: asa, improvement: {baseline_days: 28, baseline: calendar_days, per: 5, points: 1}}
  - {metric: fcr, improvement: {baseline_days: 28, per: 0.01, points: 1, cap: 10}}
  - {metric: csat, improvement: {baseline_days: 28, per: 0.1, points: 1, cap: 10}}
  - {metric: adherence, improvement: {baseline_days: 28, per: 0.01, points: 0.5}}
  - {metric: save_rate, improvement: {baseline_days: 28, per: 0.05, points: 1}}
"""


def _day_cells(rng: random.Random) -> list[tuple[str, int, int]]:
    calls = rng.randint(20, 60)
    surveys = rng.randint(2, 12)
    attempts = rng.randint(1, 6)
    return [
        ("handled", calls * SCALE, calls * SCALE),
        ("aht", round(rng.uniform(250, 550) * calls * SCALE), calls * SCALE),
        ("talk_time", round(rng.uniform(150, 380) * calls * SCALE), calls * SCALE),
        ("asa", round(rng.uniform(5, 70) * calls * SCALE), calls * SCALE),
        ("fcr", rng.randint(calls * 6 // 10, calls) * SCALE, calls * SCALE),
        ("csat", sum(rng.randint(2, 5) for _ in range(surveys)) * SCALE, surveys * SCALE),
        ("adherence", rng.randint(380, 480) * SCALE, 480 * SCALE),
        ("save_rate", rng.randint(0, attempts) * SCALE, attempts * SCALE),
    ]


def build_database(url: str, agents: int, days: int, seed: int = 7) -> None:
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(seed)
    with engine.begin() as connection:
        insert_rows(
            connection,
            table_of(Person),
            ("id", "display_name", "role", "skills", "attributes", "public_boards", "created_at"),
            [(n, f"Agent {n:05d}", "agent", [], {}, True, NOW) for n in range(1, agents + 1)],
        )
        insert_rows(
            connection,
            table_of(Subject),
            ("id", "kind", "person_id", "namespace", "key"),
            [(n, "agent", n, "bench", f"a{n}") for n in range(1, agents + 1)],
        )
        first = SCORED_DAY - timedelta(days=days)
        for subject in range(1, agents + 1):
            rows = [
                (subject, first + timedelta(days=offset), metric, num, den)
                for offset in range(days + 1)
                if offset == days or rng.random() < 0.8  # agents do not work every day
                for metric, num, den in _day_cells(rng)
            ]
            insert_rows(
                connection, table_of(Rollup), ("subject_id", "business_day", "metric", "num", "den"), rows
            )
    engine.dispose()


def score(url: str, agents: int, *, warm: bool) -> tuple[float, float, int]:
    engine = make_engine(url)
    loaded = parse_program(PROGRAM, "bench program")
    programs.register(engine, loaded, lambda: NOW)
    history = programs.history(engine)
    days = [(subject, SCORED_DAY) for subject in range(1, agents + 1)]
    if warm:
        specs = rule_specs(loaded.program)
        needed = {key: {(s.metric, s.window) for s in specs if hasattr(s, "window")} for key in days}
        with engine.begin() as connection:
            day_baselines(connection, needed, recompute=())
    with engine.begin() as connection:
        queue_for_scoring(connection, days)
    started, cpu = time.perf_counter(), time.process_time()
    scored = score_pending(engine, history, lambda: NOW)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    with engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(PointsEntry)) or 0
    engine.dispose()
    assert scored == agents
    return elapsed, cpu, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=28, help="days of rollups before the scored day")
    parser.add_argument("--keep", type=Path, default=None, help="keep the databases in this folder")
    parser.add_argument("--template", type=Path, default=None, help="reuse a kept template.db")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="floorboard-score-"))
    try:
        template = workdir / "template.db"
        if args.template:
            shutil.copy(args.template, template)
        else:
            build_database(f"sqlite:///{template}", args.agents, args.days)
        results = {}
        for mode in ("warm", "cold"):
            copy = workdir / f"{mode}.db"
            shutil.copy(template, copy)
            results[mode] = score(f"sqlite:///{copy}", args.agents, warm=mode == "warm")
        print(
            f"agents: {args.agents:,}  metrics: 8  rules: 8 zone + 8 improvement  baseline days: {args.days}"
        )
        for mode, (elapsed, cpu, rows) in results.items():
            label = "baselines stored" if mode == "warm" else "baselines computed from rollups"
            print(f"{mode}: {elapsed:6.2f} s ({cpu:.2f} s CPU) to {rows:,} committed ledger rows ({label})")
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"target: warm < 2 s on SQLite; load average while measured: {load} on {os.cpu_count()} cores")
        if args.keep:
            shutil.copytree(workdir, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
