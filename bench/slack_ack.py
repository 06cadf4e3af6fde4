"""Benchmark: how fast `floorboard run` acknowledges Slack slash commands while the database stalls.

Starts `floorboard run` in HTTP mode against a recording fake of the Slack Web API, with every database
call delayed by --delay-ms (FLOORBOARD_TEST_DB_DELAY_MS), sends --count signed slash commands and prints
the acknowledgement times. Slack's limit is 3,000 ms.

    python bench/slack_ack.py [--delay-ms 5000] [--count 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.app import build  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store.database import upgrade  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.slack_support import SECRET, SlackDriver, seed_roster  # noqa: E402

COMMANDS = (("/leaderboard", ""), ("/kudos", "<@U9> thanks for the cover"), ("/points", "why"), ("/me", ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=int, default=5000)
    parser.add_argument("--count", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as fake:
        url = f"sqlite:///{Path(folder) / 'fb.db'}"
        upgrade(url)
        fb = build(load_settings(database_url=url))
        seed_roster(fb)
        fb.close()
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "FLOORBOARD_DATABASE_URL": url,
            "FLOORBOARD_SLACK_BOT_TOKEN": "xoxb-bench",
            "FLOORBOARD_SLACK_SIGNING_SECRET": SECRET,
            "FLOORBOARD_SLACK_API_URL": fake.api_url,
            "FLOORBOARD_TEST_DB_DELAY_MS": str(options.delay_ms),
        }
        command = [str(Path(sys.executable).parent / "floorboard"), "run", "--port", "0"]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            base = ""
            while not base:
                line = process.stdout.readline() if process.stdout else ""
                if not line:
                    raise SystemExit("floorboard run did not start")
                if "listening on " in line:
                    base = line.split("listening on ")[1].split()[0]
            driver = SlackDriver(base, fake)
            times = []
            for index in range(options.count):
                name, text = COMMANDS[index % len(COMMANDS)]
                started = time.perf_counter()
                response, _reply = driver.command(name, text)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            driver.close()
        finally:
            process.kill()
            process.wait()
    print(
        f"{options.count} slash commands, database stalled {options.delay_ms} ms per call: "
        f"ack median {statistics.median(times):.0f} ms, max {max(times):.0f} ms (Slack allows 3000 ms)"
    )


if __name__ == "__main__":
    main()
