"""Benchmark: import a 1,000,000-row file in the PwC DD/MM layout into a fresh SQLite database.

Prints rows per second until the boards are ready (records stored, rollups built, every day scored), beside
the time sqlite3's own `.import` of the same file plus one GROUP BY per agent and day takes on this machine.
Both are given in wall-clock seconds and in CPU seconds: on a shared machine the wall-clock ratio moves with
everyone else's load, the CPU ratio much less.

    python bench/import_pwc.py [--rows 1000000] [--agents 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bot.app import build
from bot.feeds.mapping import load_mapping
from bot.feeds.tabular import parse_file
from bot.scoring.periods import Period
from bot.services.leaderboard import board
from bot.settings import load_settings
from bot.store.database import upgrade

TOPICS = ("Streaming", "Technical Support", "Payment related", "Contract related", "Admin Support")
CHUNK_ROWS = 100_000  # rows per transaction: each commit rewrites the rollup pages it touched
HEADER = (
    "call_id,agent,date,time,topic,answered (Y/N),resolved,speed_of_answer_in_seconds,"
    "AvgTalkDuration,SatisfactionRating"
)


def generate(path: Path, rows: int, agents: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    names = [f"Agent{n:04d}" for n in range(agents)]
    start = date(2021, 1, 1)
    with path.open("w", newline="") as out:
        out.write(HEADER + "\r\n")
        for i in range(rows):
            day = start + timedelta(days=i * 90 // rows)
            seconds = rng.randint(9 * 3600, 18 * 3600)
            clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            answered = rng.random() < 0.81
            if answered:
                talk = rng.randint(30, 420)
                resolved = "Y" if rng.random() < 0.9 else "N"
                duration = f"00:{talk // 60:02d}:{talk % 60:02d}"
                rest = f"Y,{resolved},{rng.randint(10, 125)},{duration},{rng.randint(1, 5)}"
            else:
                rest = "N,N,,,"
            out.write(f"ID{i:07d},{rng.choice(names)},{day:%d/%m/%Y},{clock},{rng.choice(TOPICS)},{rest}\r\n")


def sqlite_baseline(csv_path: Path, workdir: Path) -> tuple[float, float]:
    database = workdir / "baseline.db"
    script = (
        ".mode csv\n"
        f".import {csv_path} calls\n"
        "CREATE TABLE per_day AS SELECT agent, date, count(*), sum(speed_of_answer_in_seconds), "
        "avg(SatisfactionRating) FROM calls GROUP BY agent, date;\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(["sqlite3", str(database)], input=script, text=True, check=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def floorboard_import(csv_path: Path, workdir: Path) -> tuple[float, float, dict[str, int]]:
    url = f"sqlite:///{workdir / 'floorboard.db'}"
    upgrade(url)
    app = build(load_settings(database_url=url))
    mapping = load_mapping("pwc-ddmm")
    started, cpu_started = time.perf_counter(), time.process_time()
    chunks = parse_file(csv_path, mapping, default_tz=app.program.timezone, chunk_size=CHUNK_ROWS)
    _, counts, _ = app.ingest(
        chunks,
        source=mapping.source,
        origin="file",
        create_unknown=True,
        mapping=mapping.name,
        keep_outcomes=False,
    )
    with app.engine.connect() as connection:
        top = board(connection, app.program, metric="points", period=Period.QUARTER, at=date(2021, 2, 1))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert top.entries, "the boards must be ready"
    app.close()
    return elapsed, cpu, counts.as_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="floorboard-bench-"))
    try:
        csv_path = workdir / "pwc_ddmm_1m.csv"
        generate(csv_path, args.rows, args.agents)
        baseline, baseline_cpu = sqlite_baseline(csv_path, workdir)
        ours, ours_cpu, counts = floorboard_import(csv_path, workdir)
        print(f"rows: {args.rows:,}  agents: {args.agents:,}  counts: {counts}")
        print(
            f"sqlite3 .import + GROUP BY: {baseline:6.2f} s  ({args.rows / baseline:,.0f} rows/s)"
            f"  cpu {baseline_cpu:6.2f} s"
        )
        print(
            f"floorboard import to boards: {ours:6.2f} s  ({args.rows / ours:,.0f} rows/s)"
            f"  cpu {ours_cpu:6.2f} s"
        )
        print(f"ratio: {ours / baseline:.2f}x the sqlite3 limit (must be <= 5x, aim 3x)")
        print(f"cpu ratio: {ours_cpu / baseline_cpu:.2f}x")
        if args.keep:
            shutil.copytree(workdir, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
